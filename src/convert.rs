//! The `convert` command: sources in, partitioned Parquet out, with a report.
//!
//! Files are fetched concurrently (object stores are latency-bound) and converted on a pool of
//! `--threads` CPU workers; the writer buffers rows by partition and encodes files on the same
//! pool. A file's rows reach the writer only once the whole file has been read without a
//! problem, so a broken file never contributes rows. Files too large to hold are read twice:
//! first to check them, then to stream their rows.

use std::collections::HashMap;
use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use tokio::sync::{Semaphore, mpsc};

use crate::error::{Error, Result};
use crate::flatten::{BatchBuilder, Provenance, RecordError};
use crate::progress::{CountingReader, Progress};
use crate::report::{Output, Report};
use crate::shape::{self, Item, Limits, Quarantine, Verdict};
use crate::store::{Location, describe};
use crate::writer::commit::{self, Dest, RunRecord, SourceEntry, TableMeta};
use crate::writer::partition::PartitionSpec;
use crate::writer::{PartitionWriter, WriterConfig};

#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub sources: Vec<String>,
    pub dest: String,
    pub partition_by: PartitionSpec,
    pub threads: usize,
    pub limits: Limits,
    pub writer: WriterConfig,
    /// Largest file whose rows are held in memory until it is fully read; larger files are
    /// read twice. Measured in JSON bytes.
    pub hold_bytes: usize,
    pub progress: bool,
}

impl ConvertOptions {
    pub fn new(sources: Vec<String>, dest: String) -> Self {
        ConvertOptions {
            sources,
            dest,
            partition_by: PartitionSpec::default(),
            threads: default_threads(),
            limits: Limits::default(),
            writer: WriterConfig::default(),
            hold_bytes: 64 << 20,
            progress: true,
        }
    }
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Rows per batch handed from a converter to the writer.
const BATCH_ROWS: usize = 16 * 1024;
/// Object-store files up to this size are fetched whole, concurrently; larger ones are streamed.
const PREFETCH_MAX: u64 = 16 << 20;
/// Bytes of prefetched files held at once, in KiB permits.
const PREFETCH_BUDGET_KIB: usize = 128 * 1024;

/// One input file.
#[derive(Debug, Clone)]
struct SourceFile {
    loc: Arc<Location>,
    meta: ObjectMeta,
    /// File path or URL, as recorded in `source_key`.
    key: String,
}

impl SourceFile {
    fn entry(&self) -> SourceEntry {
        SourceEntry {
            key: self.key.clone(),
            size: self.meta.size,
            version: self
                .meta
                .e_tag
                .clone()
                .unwrap_or_else(|| self.meta.last_modified.to_rfc3339()),
        }
    }
}

/// What became of one file.
enum Outcome {
    Converted {
        parts: Vec<(String, RecordBatch)>,
        written: u64,
        bad: Vec<(u64, String)>,
        json_bytes: u64,
    },
    Skipped(String),
    Quarantined(String),
}

/// Messages from converters to the run loop.
enum Msg {
    /// Rows of a file being streamed (too large to hold).
    Rows(String, RecordBatch),
    /// A file is done.
    Done(SourceFile, Outcome, u64),
    /// The run cannot go on.
    Fatal(Error),
}

/// Runs `convert`. Returns the report; an `Err` means the run could not be done at all.
pub async fn run(options: ConvertOptions) -> Result<Report> {
    let started = Instant::now();
    let run_id = new_run_id();
    let dest_loc = Location::parse(&options.dest)?;
    let mut report = Report {
        run_id: run_id.clone(),
        trailpq_version: env!("CARGO_PKG_VERSION").into(),
        sources: options.sources.clone(),
        dest: options.dest.clone(),
        partition_by: options
            .partition_by
            .names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..Report::default()
    };

    // Sources first: an unreadable SOURCE stops the run before DEST is touched.
    let mut files = Vec::new();
    for given in &options.sources {
        let loc = Arc::new(Location::parse(given)?);
        for meta in loc.list_files().await? {
            let key = loc.display(&meta.location);
            files.push(SourceFile {
                loc: loc.clone(),
                meta,
                key,
            });
        }
    }

    let (dest, notes) = Dest::open(dest_loc, run_id).await?;
    let dest = Arc::new(dest);
    report.notes = notes;
    let result = convert(&mut report, &dest, files, &options, commit::now()).await;
    if result.is_err() {
        dest.discard().await;
    }
    dest.release().await;
    result?;
    report.sort();
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn convert(
    report: &mut Report,
    dest: &Arc<Dest>,
    files: Vec<SourceFile>,
    options: &ConvertOptions,
    started: String,
) -> Result<()> {
    let spec = &options.partition_by;
    let meta = TableMeta {
        partition_by: report.partition_by.clone(),
        schema_version: crate::schema::SCHEMA_VERSION.into(),
    };
    let existing = dest.table_meta().await?;
    if let Some(existing) = &existing
        && existing.partition_by != meta.partition_by
    {
        return Err(Error::Usage(format!(
            "{} holds a table partitioned by {}; convert into it with --partition-by {1}, or use a new DEST",
            options.dest,
            existing.partition_by.join(",")
        )));
    }

    let todo = plan(report, files, dest, &dest.converted_sources().await?);
    let threads = options.threads.max(1);
    let cpu = Arc::new(Semaphore::new(threads));
    let progress = Progress::new(todo.iter().map(|f| f.meta.size).sum(), options.progress);

    // Each message may hold a whole file's rows: keep few in flight.
    let (tx, mut rx) = mpsc::channel::<Msg>(threads);
    let job = Arc::new(Job {
        spec: spec.clone(),
        limits: options.limits,
        hold_bytes: options.hold_bytes,
        cpu: cpu.clone(),
        prefetch: Arc::new(Semaphore::new(PREFETCH_BUDGET_KIB)),
        progress: progress.clone(),
        runtime: tokio::runtime::Handle::current(),
    });
    let fetchers = (threads * 4).max(16);
    let feeder = tokio::spawn(async move {
        futures::stream::iter(todo)
            .for_each_concurrent(fetchers, |file| {
                let (job, tx) = (job.clone(), tx.clone());
                async move { job.process(file, tx).await }
            })
            .await;
    });

    let mut collector = Collector {
        report,
        writer: PartitionWriter::new(dest.clone(), options.writer, cpu, threads),
        progress: progress.clone(),
        converted: Vec::new(),
    };
    while let Some(msg) = rx.recv().await {
        if let Err(e) = collector.take(msg).await {
            feeder.abort();
            progress.finish();
            return Err(e);
        }
    }
    feeder
        .await
        .map_err(|e| Error::Failed(format!("a converter stopped: {e}")))?;
    let Collector {
        report,
        writer,
        converted,
        ..
    } = collector;
    let written = writer.finish().await;
    progress.finish();
    let written = written?;

    if converted.is_empty() && written.is_empty() {
        return Ok(());
    }
    let record = RunRecord {
        run_id: dest.run_id.clone(),
        trailpq_version: env!("CARGO_PKG_VERSION").into(),
        started,
        finished: commit::now(),
        partition_by: meta.partition_by.clone(),
        records_written: report.records_written,
        sources: converted,
        files: Vec::new(),
    };
    let rels: Vec<String> = written.iter().map(|f| f.rel.clone()).collect();
    let new_table = existing.is_none().then_some(&meta);
    let finals = dest.commit(record, &rels, new_table).await?;
    for (file, path) in written.iter().zip(finals) {
        report.output_bytes += file.bytes as u64;
        report.outputs.push(Output {
            path: dest.loc.display(&dest.loc.child(&[&path])),
            rows: file.rows,
            bytes: file.bytes,
        });
    }
    Ok(())
}

/// Decides which files to read: each file once, not the output itself, not digests, and not what
/// an earlier run converted. Orders them so that one day's deliveries come together, and a day's
/// partition fills up before the next one starts.
fn plan(
    report: &mut Report,
    mut files: Vec<SourceFile>,
    dest: &Dest,
    converted_before: &HashMap<String, SourceEntry>,
) -> Vec<SourceFile> {
    let dest_prefix = format!(
        "{}/",
        dest.loc.display(&dest.loc.prefix).trim_end_matches('/')
    );
    files.sort_by(|a, b| a.key.cmp(&b.key));
    files.dedup_by(|a, b| a.key == b.key);
    report.files_found = files.len() as u64;
    let mut todo = Vec::new();
    for file in files {
        if file.key.starts_with(&dest_prefix) {
            report.skip(&file.key, "part of the destination".into());
        } else if file.key.contains("/CloudTrail-Digest/") {
            report.skip(&file.key, "CloudTrail digest file".into());
        } else if converted_before.get(&file.key) == Some(&file.entry()) {
            report.files_unchanged += 1;
        } else {
            if converted_before.contains_key(&file.key) {
                report.notes.push(format!(
                    "{} changed since an earlier run converted it; its earlier rows remain in the table",
                    file.key
                ));
            }
            todo.push(file);
        }
    }
    todo.sort_by_cached_key(|f| (delivery_date(&f.key), f.key.clone()));
    todo
}

/// The run loop's side: takes each file's outcome into the report and its rows into the writer.
struct Collector<'r> {
    report: &'r mut Report,
    writer: PartitionWriter,
    progress: Progress,
    converted: Vec<SourceEntry>,
}

impl Collector<'_> {
    async fn take(&mut self, msg: Msg) -> Result<()> {
        match msg {
            Msg::Rows(partition, batch) => self.writer.add(partition, batch).await?,
            Msg::Done(file, outcome, bytes_read) => {
                self.report.bytes_read += bytes_read;
                match outcome {
                    Outcome::Converted {
                        parts,
                        written,
                        bad,
                        json_bytes,
                    } => {
                        self.report.converted(written, json_bytes);
                        self.progress.add_records(written + bad.len() as u64);
                        for (index, reason) in bad {
                            self.report.quarantine_record(&file.key, index, reason);
                        }
                        self.converted.push(file.entry());
                        for (partition, batch) in parts {
                            self.writer.add(partition, batch).await?;
                        }
                    }
                    Outcome::Skipped(reason) => self.report.skip(&file.key, reason),
                    Outcome::Quarantined(reason) => self.report.quarantine_file(&file.key, reason),
                }
            }
            Msg::Fatal(e) => return Err(e),
        }
        Ok(())
    }
}

/// Shared state of the converters.
struct Job {
    spec: PartitionSpec,
    limits: Limits,
    hold_bytes: usize,
    cpu: Arc<Semaphore>,
    prefetch: Arc<Semaphore>,
    progress: Progress,
    runtime: tokio::runtime::Handle,
}

/// How a file's rows leave the converter.
enum Mode {
    /// Held until the file is done (or dropped when it grows past the limit).
    Hold,
    /// Sent to the writer as they come (second pass over a large file).
    Stream(mpsc::Sender<Msg>),
}

/// Result of one pass over a file.
enum Pass {
    Done(Outcome, u64),
    /// Valid, but too large to hold: stream it.
    TooLarge(u64),
}

impl Job {
    async fn process(self: Arc<Self>, file: SourceFile, tx: mpsc::Sender<Msg>) {
        let msg = match self.clone().pass(&file, Mode::Hold).await {
            Ok(Pass::Done(outcome, bytes)) => Msg::Done(file, outcome, bytes),
            Ok(Pass::TooLarge(first_bytes)) => {
                match self.clone().pass(&file, Mode::Stream(tx.clone())).await {
                    Ok(Pass::Done(
                        Outcome::Converted {
                            written,
                            bad,
                            json_bytes,
                            ..
                        },
                        bytes,
                    )) => Msg::Done(
                        file,
                        Outcome::Converted {
                            parts: Vec::new(),
                            written,
                            bad,
                            json_bytes,
                        },
                        first_bytes + bytes,
                    ),
                    // Rows of this file were already sent: the run cannot finish cleanly.
                    Ok(Pass::Done(Outcome::Quarantined(reason) | Outcome::Skipped(reason), _)) => {
                        Msg::Fatal(Error::Failed(format!(
                            "{} changed while it was read ({reason}); run convert again",
                            file.key
                        )))
                    }
                    Ok(Pass::TooLarge(_)) => unreachable!("streaming never holds rows"),
                    Err(e) => Msg::Fatal(e),
                }
            }
            Err(e) => Msg::Fatal(e),
        };
        let _ = tx.send(msg).await;
    }

    /// One pass over a file: open it, then read and convert it on the CPU pool.
    async fn pass(self: Arc<Self>, file: &SourceFile, mode: Mode) -> Result<Pass> {
        let input = match self.open(file).await {
            Ok(input) => input,
            Err(reason) => return Ok(Pass::Done(Outcome::Quarantined(reason), 0)),
        };
        let permit = self
            .cpu
            .clone()
            .acquire_owned()
            .await
            .expect("the CPU pool is never closed");
        let (job, file) = (self.clone(), file.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let pass = job.read(input, &file, mode);
            drop(permit);
            pass
        })
        .await
        .map_err(|e| Error::Failed(format!("a converter stopped: {e}")))?;
        Ok(pass)
    }

    /// Opens a file for reading. Small object-store files are fetched whole here, concurrently;
    /// local files and large objects are read as streams by the converter.
    async fn open(&self, file: &SourceFile) -> std::result::Result<Input, String> {
        let cannot = |e: &dyn std::fmt::Display| format!("cannot read: {e}");
        if file.loc.is_local() {
            return std::fs::File::open(&file.key)
                .map(Input::File)
                .map_err(|e| cannot(&e));
        }
        if file.meta.size <= PREFETCH_MAX {
            let kib = (file.meta.size / 1024 + 1).min(PREFETCH_BUDGET_KIB as u64) as u32;
            let permit = self
                .prefetch
                .clone()
                .acquire_many_owned(kib)
                .await
                .expect("never closed");
            let bytes = file
                .loc
                .get_bytes(&file.meta.location)
                .await
                .map_err(|e| cannot(&describe(&e)))?;
            return Ok(Input::Bytes(bytes, permit));
        }
        let get = file
            .loc
            .store
            .get(&file.meta.location)
            .await
            .map_err(|e| cannot(&describe(&e)))?;
        let stream = get
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Input::Stream(Box::new(
            tokio_util::io::SyncIoBridge::new_with_handle(reader, self.runtime.clone()),
        )))
    }

    /// Reads and converts one file (blocking).
    fn read(&self, input: Input, file: &SourceFile, mode: Mode) -> Pass {
        let streaming = matches!(mode, Mode::Stream(_));
        // The second pass over a large file does not move the progress bar again.
        let progress = (!streaming).then(|| self.progress.clone());
        let mut reader = CountingReader {
            inner: input.reader(),
            progress,
            count: 0,
        };
        let mut builder = BatchBuilder::new();
        let mut parts: Vec<(String, RecordBatch)> = Vec::new();
        let mut held = 0usize;
        let mut too_large = false;
        let mut written = 0u64;
        let mut bad = Vec::new();

        let name = file
            .meta
            .location
            .filename()
            .unwrap_or_default()
            .to_string();
        let result = shape::read_file(&mut reader, &name, self.limits, |item| {
            match item {
                Item::Record { index, text, .. } if too_large => {
                    // Only checking, so that no row is streamed from a broken file.
                    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                        return ControlFlow::Break(Quarantine(format!(
                            "invalid JSON in record {index}: {e}"
                        )));
                    }
                }
                Item::Record {
                    index,
                    text,
                    envelope,
                } => {
                    let provenance = Provenance {
                        source_key: &file.key,
                        index,
                        envelope: envelope.as_deref(),
                    };
                    match builder.push(&text, provenance) {
                        Ok(()) => written += 1,
                        Err(RecordError::InvalidJson(e)) => {
                            return ControlFlow::Break(Quarantine(format!(
                                "invalid JSON in record {index}: {e}"
                            )));
                        }
                        Err(RecordError::Unusable(reason)) => bad.push((index, reason)),
                    }
                    if builder.len() >= BATCH_ROWS || builder.input_bytes() >= (8 << 20) {
                        held += self.emit(&mode, builder.finish(), &mut parts)?;
                        if !streaming && held > self.hold_bytes {
                            too_large = true;
                            parts.clear();
                        }
                    }
                }
                Item::Bad { index, reason } if !too_large => bad.push((index, reason)),
                Item::Bad { .. } => {}
            }
            ControlFlow::Continue(())
        });
        let bytes_read = reader.count;
        let outcome = match result {
            Ok((Verdict::Log, _)) if too_large => return Pass::TooLarge(bytes_read),
            Ok((Verdict::Log, json_bytes)) => {
                if !builder.is_empty()
                    && let ControlFlow::Break(q) = self.emit(&mode, builder.finish(), &mut parts)
                {
                    return Pass::Done(Outcome::Quarantined(q.0), bytes_read);
                }
                Outcome::Converted {
                    parts,
                    written,
                    bad,
                    json_bytes,
                }
            }
            Ok((Verdict::Skip(reason), _)) => Outcome::Skipped(reason),
            Err(Quarantine(reason)) => Outcome::Quarantined(reason),
        };
        Pass::Done(outcome, bytes_read)
    }
}

impl Job {
    /// Hands a batch on: held in `parts`, or sent to the writer. Returns the bytes now held.
    fn emit(
        &self,
        mode: &Mode,
        batch: RecordBatch,
        parts: &mut Vec<(String, RecordBatch)>,
    ) -> ControlFlow<Quarantine, usize> {
        match mode {
            Mode::Hold => {
                let bytes = batch.get_array_memory_size();
                parts.extend(self.spec.split(&batch));
                ControlFlow::Continue(bytes)
            }
            Mode::Stream(tx) => {
                for (partition, rows) in self.spec.split(&batch) {
                    if tx.blocking_send(Msg::Rows(partition, rows)).is_err() {
                        return ControlFlow::Break(Quarantine("the run stopped".into()));
                    }
                }
                ControlFlow::Continue(0)
            }
        }
    }
}

/// An opened file.
enum Input {
    File(std::fs::File),
    Bytes(bytes::Bytes, tokio::sync::OwnedSemaphorePermit),
    Stream(Box<dyn Read + Send>),
}

impl Input {
    fn reader(self) -> Box<dyn Read + Send> {
        match self {
            Input::File(f) => Box::new(f),
            Input::Bytes(bytes, permit) => Box::new(HeldBytes {
                cursor: std::io::Cursor::new(bytes),
                _permit: permit,
            }),
            Input::Stream(r) => r,
        }
    }
}

/// Prefetched bytes, holding their share of the prefetch budget until dropped.
struct HeldBytes {
    cursor: std::io::Cursor<bytes::Bytes>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Read for HeldBytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.cursor.read(buf)
    }
}

/// The `YYYY/MM/DD` delivery folder of a CloudTrail key, if it has one.
fn delivery_date(key: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    parts
        .windows(3)
        .rev()
        .find(|w| {
            w[0].len() == 4
                && w[1].len() == 2
                && w[2].len() == 2
                && w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|w| w.join("/"))
        .unwrap_or_default()
}

/// A sortable, unique run id: UTC time and a random suffix.
fn new_run_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::process::id()) as u32;
    format!(
        "{}-{random:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_dates_come_from_cloudtrail_keys() {
        assert_eq!(
            delivery_date(
                "s3://b/AWSLogs/o-1/111/CloudTrail/us-east-1/2020/09/30/111_CloudTrail_x.json.gz"
            ),
            "2020/09/30"
        );
        assert_eq!(delivery_date("/data/x.json"), "");
    }

    #[test]
    fn run_ids_sort_by_time() {
        let id = new_run_id();
        assert_eq!(id.len(), 16 + 1 + 8);
        assert!(id.ends_with(|c: char| c.is_ascii_hexdigit()));
    }
}
