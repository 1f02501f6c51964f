//! The partitioned Parquet writer.
//!
//! Rows arrive already split by partition ([`partition::PartitionSpec::split`]). Each partition
//! buffers its rows until it holds a file's worth, or until all buffers together pass the memory
//! budget, when the largest is written out. Writing a file (sort by time, encode, upload to the
//! checkpoint's staging area) runs on the CPU pool while rows keep arriving. The checkpoint's
//! commit ([`crate::table::commit`]) then makes the staged files visible.

pub mod parquet;
pub mod partition;

use std::collections::HashMap;
use std::sync::Arc;

use ::parquet::file::properties::WriterProperties;
use arrow::array::RecordBatch;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::store::describe;
use crate::table::{Dest, Staging};

/// Sizing of output files and of the memory spent on buffering.
#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Most rows in one file.
    pub file_rows: usize,
    /// Most Arrow bytes buffered (and being written) at once, over all partitions.
    pub buffer_bytes: usize,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
}

/// The default of [`WriterConfig::buffer_bytes`], in MiB. Peak memory of a convert is about
/// 250 MiB plus 1.1 times this (measured on two million generated events: 16 MiB → 271 MiB peak,
/// 128 → 394, 256 → 538), and the output barely depends on it (128 MiB: 1% more bytes than 256,
/// in twice as many files, which `compact` merges); 128 keeps a run inside a 512 MiB container.
pub const DEFAULT_BUFFER_MIB: usize = 128;

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            file_rows: 1_000_000,
            buffer_bytes: DEFAULT_BUFFER_MIB << 20,
            row_group_rows: 128 * 1024,
        }
    }
}

/// A file written to staging.
#[derive(Debug, Clone)]
pub struct WrittenFile {
    /// `<partitions>/<name>`
    pub rel: String,
    pub rows: usize,
    pub bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot encode Parquet: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    #[error("cannot write {location}: {message}")]
    Store { location: String, message: String },
    #[error("writer task failed: {0}")]
    Task(String),
}

#[derive(Default)]
struct Buffer {
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
}

pub struct PartitionWriter {
    dest: Arc<Dest>,
    staging: Staging,
    config: WriterConfig,
    properties: Arc<WriterProperties>,
    cpu: Arc<Semaphore>,
    /// Most files being written at once.
    max_writing: usize,
    buffers: HashMap<String, Buffer>,
    /// Bytes in buffers and in files being written.
    held: usize,
    writing: JoinSet<Result<(WrittenFile, usize), WriteError>>,
    written: Vec<WrittenFile>,
}

impl PartitionWriter {
    /// A writer for one checkpoint of the run.
    pub fn new(
        dest: Arc<Dest>,
        checkpoint: u32,
        config: WriterConfig,
        cpu: Arc<Semaphore>,
        threads: usize,
    ) -> Self {
        let properties = Arc::new(parquet::properties(config.row_group_rows));
        PartitionWriter {
            staging: dest.staging(checkpoint),
            dest,
            config,
            properties,
            cpu,
            max_writing: threads.max(1),
            buffers: HashMap::new(),
            held: 0,
            writing: JoinSet::new(),
            written: Vec::new(),
        }
    }

    /// Adds rows of one partition.
    pub async fn add(&mut self, partition: String, batch: RecordBatch) -> Result<(), WriteError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let bytes = batch.get_array_memory_size();
        let buffer = self.buffers.entry(partition.clone()).or_default();
        buffer.rows += batch.num_rows();
        buffer.bytes += bytes;
        buffer.batches.push(batch);
        self.held += bytes;
        if buffer.rows >= self.config.file_rows {
            self.write(&partition).await?;
        }
        while self.held > self.config.buffer_bytes {
            let largest = self
                .buffers
                .iter()
                .max_by_key(|(_, b)| b.bytes)
                .map(|(k, _)| k.clone());
            match largest {
                Some(partition) => self.write(&partition).await?,
                // Everything held is being written: wait for a file to finish.
                None => self.collect_one().await?,
            }
        }
        Ok(())
    }

    /// Writes the rest and waits for every file. Returns the files in staging.
    pub async fn finish(mut self) -> Result<Vec<WrittenFile>, WriteError> {
        let partitions: Vec<String> = self.buffers.keys().cloned().collect();
        for partition in partitions {
            self.write(&partition).await?;
        }
        while !self.writing.is_empty() {
            self.collect_one().await?;
        }
        self.written.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(self.written)
    }

    /// Starts writing one partition's buffer as a file.
    async fn write(&mut self, partition: &str) -> Result<(), WriteError> {
        let Some(buffer) = self.buffers.remove(partition) else {
            return Ok(());
        };
        // Bound the files in flight; each holds its rows until it is written.
        while self.writing.len() >= self.max_writing {
            self.collect_one().await?;
        }
        let rel = format!(
            "{partition}/part-{}-{:05}.parquet",
            self.dest.run_id,
            self.dest.next_file_number()
        );
        let staging = self.staging.clone();
        let properties = self.properties.clone();
        let cpu = self.cpu.clone();
        self.writing.spawn(async move {
            let permit = cpu
                .acquire_owned()
                .await
                .expect("the CPU pool is never closed");
            let batches = buffer.batches;
            let encoded =
                tokio::task::spawn_blocking(move || parquet::encode(&batches, &properties))
                    .await
                    .map_err(|e| WriteError::Task(e.to_string()))?;
            drop(permit);
            let (bytes, rows) = encoded?;
            let size = bytes.len();
            let path = staging.path(&rel);
            staging
                .loc
                .put_bytes(&path, bytes)
                .await
                .map_err(|e| WriteError::Store {
                    location: staging.loc.display(&path),
                    message: describe(&e),
                })?;
            Ok((
                WrittenFile {
                    rel,
                    rows,
                    bytes: size,
                },
                buffer.bytes,
            ))
        });
        Ok(())
    }

    async fn collect_one(&mut self) -> Result<(), WriteError> {
        if let Some(result) = self.writing.join_next().await {
            let (file, held) = result.map_err(|e| WriteError::Task(e.to_string()))??;
            self.held -= held;
            self.written.push(file);
        }
        Ok(())
    }
}
