//! `trailpq compact`: each partition's files rewritten into as few as the writer's file size
//! allows, in time order, with duplicate deliveries removed.
//!
//! CloudTrail delivers at least once: an event may come twice, with the same `eventID` and the
//! same content, in two objects. Compaction keeps one row per (`eventID`, record content): the
//! first in the table's order. Where the rows came from (`source_key`, `source_index`,
//! `source_envelope`) is not content. Each partition is one commit under the table's lease
//! ([`crate::table::commit`]): its new files are staged, then moved in, then the old ones deleted,
//! so a crash anywhere leaves the partition as before or as after, never with rows lost.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use arrow::array::{ArrayRef, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::row::{RowConverter, SortField};
use chrono::NaiveDate;
use futures::TryStreamExt;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::schema::{self, COLUMNS, Origin};
use crate::store::{Location, describe};
use crate::table::commit::Checkpoint;
use crate::table::lease::LeaseOptions;
use crate::table::{self, Dest, MAIN_LEASE, OpenOptions, TABLE_DIR, TableFormat};
use crate::writer::WriterConfig;

/// What to compact.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    pub data: String,
    /// Only partitions of these days (UTC; needs an `event_date` partition).
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    /// Wait this long for a busy table instead of failing.
    pub wait: Option<Duration>,
    /// How long the lease lasts without renewal.
    pub lease_ttl: Duration,
    pub writer: WriterConfig,
    /// Memory for merging a partition's files (`None`: the default of queries).
    pub memory_limit: Option<usize>,
}

/// What compaction did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompactReport {
    pub run_id: String,
    pub partitions: u64,
    /// Partitions rewritten (the others were one file without duplicates already).
    pub partitions_rewritten: u64,
    pub files_before: u64,
    pub files_after: u64,
    pub rows_in: u64,
    pub rows_out: u64,
    pub duplicates_removed: u64,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Compacts the table at `options.data`.
pub async fn run(options: &CompactOptions) -> Result<CompactReport> {
    let loc = Location::parse(&options.data)?;
    let Some(meta) = table::read_meta(&loc).await? else {
        return Err(Error::Failed(format!(
            "{} holds no converted table (no _trailpq/table.json); nothing to compact",
            options.data
        )));
    };
    let run_id = crate::convert::new_run_id();
    let lease = LeaseOptions {
        wait: options.wait,
        ttl: options.lease_ttl,
        ..LeaseOptions::new(MAIN_LEASE)
    };
    let (dest, opened) = Dest::open(
        loc.clone(),
        OpenOptions {
            run_id: run_id.clone(),
            lease,
        },
    )
    .await?;
    let mut report = CompactReport {
        run_id,
        notes: opened.notes,
        warnings: opened.warnings,
        ..Default::default()
    };
    let result = compact(&dest, &meta, options, &mut report).await;
    if result.is_err() {
        for checkpoint in 0..report.partitions as u32 + 1 {
            dest.abandon(checkpoint).await;
        }
    }
    dest.release().await;
    result.map(|()| report)
}

async fn compact(
    dest: &Dest,
    meta: &table::TableMeta,
    options: &CompactOptions,
    report: &mut CompactReport,
) -> Result<()> {
    let delta = meta.format == TableFormat::Delta;
    let folders = folders(dest, options).await?;
    // A Hive table commits each partition on its own; a Delta table's compaction is one commit
    // (every partition staged in checkpoint 0), so readers see all of it or none of it.
    let mut whole = Checkpoint::default();
    for (number, (folder, old)) in folders.into_iter().enumerate() {
        report.partitions += 1;
        report.files_before += old.len() as u64;
        let number = if delta { 0 } else { number as u32 };
        let rewritten = rewrite(dest, number, &folder, &old, options).await?;
        let (rows_in, rows_out) = (rewritten.rows_in, rewritten.rows_out);
        report.rows_in += rows_in;
        report.rows_out += rows_out;
        report.duplicates_removed += rows_in - rows_out;
        if old.len() == 1 && rows_in == rows_out && !rewritten.computed {
            // Already one file without duplicates, with every computed column: leave it.
            match delta {
                true => discard(dest, &rewritten.files).await,
                false => dest.abandon(number).await,
            }
            report.files_after += 1;
            continue;
        }
        report.files_after += rewritten.files.len() as u64;
        report.partitions_rewritten += 1;
        let checkpoint = Checkpoint {
            number,
            files: rewritten.files,
            sources: BTreeMap::new(),
            records: rows_out,
            removes: old,
        };
        match delta {
            true => {
                whole.files.extend(checkpoint.files);
                whole.records += checkpoint.records;
                whole.removes.extend(checkpoint.removes);
            }
            false => {
                dest.commit(checkpoint, meta, &HashMap::new()).await?;
            }
        }
    }
    if !whole.removes.is_empty() {
        dest.commit(whole, meta, &HashMap::new()).await?;
    }
    Ok(())
}

/// Deletes staged files that will not be committed (a partition left as it was).
async fn discard(dest: &Dest, files: &[String]) {
    let staging = dest.staging(0);
    for rel in files {
        let _ = object_store::ObjectStoreExt::delete(&dest.loc.store, &staging.path(rel)).await;
    }
}

/// The table's files by partition folder (`event_date=2024-05-01`, `account_id=…/event_date=…`),
/// of the days asked for: a Delta table's as its latest snapshot names them, a Hive table's as
/// listed.
async fn folders(dest: &Dest, options: &CompactOptions) -> Result<BTreeMap<String, Vec<String>>> {
    let files: Vec<String> = match dest.format() {
        TableFormat::Delta => table::delta::files(&dest.loc).await?,
        TableFormat::Hive => table::parquet_files(&dest.loc).try_collect().await?,
    };
    let mut folders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for rel in files {
        let inside = rel.strip_prefix(&format!("{TABLE_DIR}/")).unwrap_or(&rel);
        let folder = inside
            .rsplit_once('/')
            .map_or("", |(dir, _)| dir)
            .to_string();
        if in_days(&folder, options) {
            folders.entry(folder).or_default().push(rel);
        }
    }
    Ok(folders)
}

/// A partition folder merged into new files in the staging of checkpoint `number`.
struct Rewritten {
    /// The new files, relative to the table.
    files: Vec<String>,
    rows_in: u64,
    rows_out: u64,
    /// Whether computed columns were filled in that the old files lacked.
    computed: bool,
}

/// Merges a folder's files (`old`, relative to DEST) in the table's order, keeping the first copy of each event,
/// into files of the writer's size in the staging of checkpoint `number`.
async fn rewrite(
    dest: &Dest,
    number: u32,
    folder: &str,
    old: &[String],
    options: &CompactOptions,
) -> Result<Rewritten> {
    let limit = options
        .memory_limit
        .unwrap_or_else(crate::sql::memory::default_limit);
    let mut stream = crate::sql::session::merged_files(&dest.loc, old, limit).await?;
    let staging = dest.staging(number);
    let properties = crate::writer::parquet::properties(options.writer.row_group_rows);
    let mut distinct = Distinct::new()?;
    let mut buffer: Vec<RecordBatch> = Vec::new();
    let (mut buffered_rows, mut buffered_bytes) = (0usize, 0usize);
    let mut out = Rewritten {
        files: Vec::new(),
        rows_in: 0,
        rows_out: 0,
        computed: false,
    };
    let flush = async |buffer: &mut Vec<RecordBatch>, out: &mut Rewritten| -> Result<()> {
        if buffer.is_empty() {
            return Ok(());
        }
        let (bytes, _) = crate::writer::parquet::encode(buffer, &properties)
            .map_err(|e| Error::Failed(format!("cannot encode Parquet: {e}")))?;
        buffer.clear();
        let name = format!(
            "part-{}-{:05}.parquet",
            dest.run_id,
            dest.next_file_number()
        );
        let rel = match folder.is_empty() {
            true => name,
            false => format!("{folder}/{name}"),
        };
        put(&staging, &rel, bytes).await?;
        out.files.push(rel);
        Ok(())
    };
    while let Some(batch) = stream.try_next().await? {
        let batch = crate::sql::session::as_stored(&batch)?;
        // Files written before a computed column existed get it here.
        let (batch, changed) =
            crate::computed::refill(&batch).map_err(|e| Error::Failed(e.to_string()))?;
        out.computed |= changed;
        out.rows_in += batch.num_rows() as u64;
        let keep = distinct.first_of_each(&batch)?;
        let batch = filter_record_batch(&batch, &keep).map_err(|e| Error::Failed(e.to_string()))?;
        out.rows_out += batch.num_rows() as u64;
        buffered_rows += batch.num_rows();
        buffered_bytes += batch.get_array_memory_size();
        buffer.push(batch);
        // One partition at a time, so a file may take the whole buffer.
        if buffered_rows >= options.writer.file_rows
            || buffered_bytes >= options.writer.buffer_bytes
        {
            flush(&mut buffer, &mut out).await?;
            (buffered_rows, buffered_bytes) = (0, 0);
        }
    }
    flush(&mut buffer, &mut out).await?;
    Ok(out)
}

async fn put(staging: &table::Staging, rel: &str, bytes: bytes::Bytes) -> Result<()> {
    let path = staging.path(rel);
    staging.loc.put_bytes(&path, bytes).await.map_err(|e| {
        Error::Failed(format!(
            "cannot write {}: {}",
            staging.loc.display(&path),
            describe(&e)
        ))
    })
}

/// Whether a partition folder is among the days asked for (folders without a day always are).
fn in_days(folder: &str, options: &CompactOptions) -> bool {
    let day = folder
        .split('/')
        .find_map(|s| s.strip_prefix("event_date="))
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    match day {
        None => options.since.is_none() && options.until.is_none(),
        Some(day) => {
            options.since.is_none_or(|s| day >= s) && options.until.is_none_or(|u| day <= u)
        }
    }
}

/// Finds the first row of each (`eventID`, record content) in one partition: every stored column
/// but where the row came from. Holds a 128-bit hash of each content seen.
struct Distinct {
    /// The content columns, by index in the schema.
    content: Vec<usize>,
    converter: RowConverter,
    seen: HashSet<[u8; 16]>,
}

impl Distinct {
    fn new() -> Result<Self> {
        let schema = schema::arrow_schema();
        let content: Vec<usize> = COLUMNS
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                !matches!(
                    c.origin,
                    Origin::SourceKey | Origin::SourceIndex | Origin::SourceEnvelope
                )
            })
            .map(|(i, _)| i)
            .collect();
        let fields = content
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect();
        let converter = RowConverter::new(fields).map_err(|e| Error::Failed(e.to_string()))?;
        Ok(Distinct {
            content,
            converter,
            seen: HashSet::new(),
        })
    }

    /// Which rows of a batch (columns as stored) are the first with their content.
    fn first_of_each(&mut self, batch: &RecordBatch) -> Result<BooleanArray> {
        let columns: Vec<ArrayRef> = self
            .content
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        let rows = self
            .converter
            .convert_columns(&columns)
            .map_err(|e| Error::Failed(e.to_string()))?;
        Ok((0..batch.num_rows())
            .map(|i| {
                let hash = crate::digest::sha256(rows.row(i).as_ref());
                let mut key = [0u8; 16];
                key.copy_from_slice(&hash[..16]);
                Some(self.seen.insert(key))
            })
            .collect())
    }
}
