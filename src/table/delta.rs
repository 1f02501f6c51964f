//! Delta Lake tables (`convert --table-format delta`): the same files in the same folders, with a
//! Delta log at `cloudtrail/_delta_log/` saying which of them make up the table.
//!
//! A Delta table's readers (trailpq, Spark, DuckDB, Athena, Python `deltalake`) read a snapshot:
//! the files the log names at one version. So a file in the folders is not in the table until a
//! commit adds it, and a file a compaction replaced stays readable for readers of older snapshots
//! until `vacuum` deletes it after the retention period.
//!
//! trailpq's own commit protocol ([`super::commit`]) is unchanged; its step "the files are in the
//! table" becomes "moved into the folders, then one Delta commit adds them (and removes what a
//! compaction replaced)". Each journal carries a Delta application transaction: the lease's app
//! id (`trailpq-<lease>`) and a number that grows with every commit under that lease. A journal
//! rolled forward after a crash commits only if the log's transaction for its app id is older, so
//! no checkpoint is ever committed twice, whether the crash came before or after the Delta commit.
//! Shards hold different leases, so they have different app ids and append concurrently: the
//! Delta commit itself is an object created only if absent (`_delta_log/<version>.json`), and a
//! commit that loses the race is retried on the next version (appends never conflict).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Add, Remove, StructField, StructType, Transaction};
use deltalake::logstore::{LogStoreRef, StorageConfig, default_logstore};
use deltalake::operations::create::CreateBuilder;
use deltalake::protocol::{DeltaOperation, SaveMode};
use futures::StreamExt;
use object_store::ObjectStore;
use object_store::prefix::PrefixStore;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;
use serde::{Deserialize, Serialize};
use url::Url;

use super::io::CONCURRENCY;
use super::{CommitError, NULL_VALUE, TABLE_DIR, TableMeta};
use crate::schema;
use crate::store::Location;

/// The Delta log folder, inside the table's folder.
pub const LOG_DIR: &str = "_delta_log";

/// Columns whose minimum, maximum and null count each add action carries (besides the row
/// count): what incident queries filter on. Kept short: every commit and snapshot holds them.
pub const STATS_COLUMNS: &[&str] = &[
    "event_time",
    "event_source",
    "event_name",
    "aws_region",
    "recipient_account_id",
    "error_code",
];

/// The Delta side of one journal: the application transaction it commits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeltaTxn {
    pub app_id: String,
    pub version: i64,
}

/// The application id of a lease's commits.
pub fn app_id(lease: &str) -> String {
    format!("trailpq-{lease}")
}

/// An error of the Delta log (reading or committing), naming it.
fn delta_error(loc: &Location, e: impl std::fmt::Display) -> CommitError {
    CommitError::Corrupt(format!(
        "the Delta log {}/{TABLE_DIR}/{LOG_DIR}/: {e}",
        loc.given.trim_end_matches('/')
    ))
}

/// The URL of the table's folder, as the Delta log knows it.
fn table_url(loc: &Location) -> Result<Url, CommitError> {
    let root = loc.child(&[TABLE_DIR]);
    let url = match &loc.base_url {
        Some(base) => Url::parse(&format!(
            "{}/{}/",
            base.as_str().trim_end_matches('/'),
            root.as_ref()
        )),
        None => Url::from_directory_path(format!("/{}", root.as_ref()))
            .map_err(|()| url::ParseError::RelativeUrlWithoutBase),
    };
    url.map_err(|e| delta_error(loc, e))
}

/// The table's Delta log, over DEST's own store (its credentials, retries and timeouts).
pub fn log_store(loc: &Location) -> Result<LogStoreRef, CommitError> {
    let prefixed: Arc<dyn ObjectStore> =
        Arc::new(PrefixStore::new(loc.store.clone(), loc.child(&[TABLE_DIR])));
    Ok(default_logstore(
        prefixed,
        loc.store.clone(),
        &table_url(loc)?,
        &StorageConfig::default(),
    ))
}

/// Whether DEST's table has a Delta log.
pub async fn exists(loc: &Location) -> Result<bool, CommitError> {
    let log = loc.child(&[TABLE_DIR, LOG_DIR]);
    let mut listing = loc.store.list(Some(&log));
    match listing.next().await {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) => Err(delta_error(loc, e)),
    }
}

/// Which snapshot to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsOf {
    Version(u64),
    Time(DateTime<Utc>),
}

impl std::str::FromStr for AsOf {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Ok(version) = s.parse::<i64>() {
            return u64::try_from(version)
                .map(AsOf::Version)
                .map_err(|_| format!("{s} is not a table version (0 or more)"));
        }
        let instant = DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                let day = crate::time::parse_day(s).ok()?;
                Some(day.and_hms_opt(0, 0, 0)?.and_utc())
            });
        instant.map(AsOf::Time).ok_or_else(|| {
            format!(
                "{s} is neither a table version (a number) nor a time (2024-05-01, 2024-05-01T12:00:00Z)"
            )
        })
    }
}

/// Loads the table's snapshot: the latest, or the one `as_of` names.
pub async fn load(loc: &Location, as_of: Option<&AsOf>) -> Result<DeltaTable, CommitError> {
    let mut table = DeltaTable::new(log_store(loc)?);
    let loaded = match as_of {
        None => table.load().await,
        Some(AsOf::Version(v)) => table.load_version(*v).await,
        Some(AsOf::Time(t)) => table.load_with_datetime(*t).await,
    };
    loaded.map_err(|e| match (as_of, &e) {
        (Some(as_of), _) => CommitError::Corrupt(format!(
            "{} has no snapshot {}: {e}; --as-of takes a version from 0 to the latest, or a time \
             after the table's first commit (log entries go after 30 days)",
            loc.given,
            match as_of {
                AsOf::Version(v) => format!("version {v}"),
                AsOf::Time(t) => format!("at {}", t.to_rfc3339()),
            },
        )),
        _ => delta_error(loc, e),
    })?;
    Ok(table)
}

/// The latest transaction number of `lease`'s commits (0 before the first, or without a log).
pub async fn txn_version(loc: &Location, lease: &str) -> Result<i64, CommitError> {
    if !exists(loc).await? {
        return Ok(0);
    }
    let table = load(loc, None).await?;
    Ok(last_txn(loc, &table, &app_id(lease)).await?.unwrap_or(0))
}

/// The last transaction number of `app_id` in a snapshot.
async fn last_txn(
    loc: &Location,
    table: &DeltaTable,
    app_id: &str,
) -> Result<Option<i64>, CommitError> {
    let snapshot = table.snapshot().map_err(|e| delta_error(loc, e))?;
    snapshot
        .transaction_version(table.log_store().as_ref(), app_id)
        .await
        .map_err(|e| delta_error(loc, e))
}

/// The table's files in the latest snapshot, relative to DEST (`cloudtrail/…/part-….parquet`).
pub async fn files(loc: &Location) -> Result<Vec<String>, CommitError> {
    snapshot_files(loc, &load(loc, None).await?)
}

/// The files of a loaded snapshot, relative to DEST.
pub fn snapshot_files(loc: &Location, table: &DeltaTable) -> Result<Vec<String>, CommitError> {
    let snapshot = table.snapshot().map_err(|e| delta_error(loc, e))?;
    Ok(snapshot
        .log_data()
        .into_iter()
        .map(|file| format!("{TABLE_DIR}/{}", file.object_store_path().as_ref()))
        .collect())
}

/// The Delta schema of the table: the stored columns, then the partition columns (Delta keeps
/// them in the schema and their values in the log, not in the files).
fn delta_schema(partition_by: &[String]) -> Result<Vec<StructField>, String> {
    use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
    let stored = schema::arrow_schema();
    let mut fields: Vec<arrow::datatypes::Field> = stored
        .fields()
        .iter()
        .map(|f| {
            f.as_ref()
                .clone()
                .with_data_type(as_delta_type(f.data_type()))
        })
        .collect();
    for name in partition_by {
        let column = schema::PARTITION_COLUMNS
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("unknown partition column {name}"))?;
        fields.push(arrow::datatypes::Field::new(
            column.name,
            column.data_type.clone(),
            true,
        ));
    }
    let schema = arrow::datatypes::Schema::new(fields);
    let delta: StructType = (&schema).try_into_kernel().map_err(|e| e.to_string())?;
    Ok(delta.fields().cloned().collect())
}

/// Delta has one timestamp type, in microseconds: the files keep milliseconds (readers widen).
fn as_delta_type(t: &arrow::datatypes::DataType) -> arrow::datatypes::DataType {
    use arrow::datatypes::{DataType, Field, TimeUnit};
    match t {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        DataType::List(item) => DataType::List(Arc::new(Field::new(
            item.name(),
            as_delta_type(item.data_type()),
            item.is_nullable(),
        ))),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    f.as_ref()
                        .clone()
                        .with_data_type(as_delta_type(f.data_type()))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Creates the table's Delta log (version 0: protocol, schema, partition columns, properties and
/// `adds`), unless another run created it first.
pub async fn create(loc: &Location, meta: &TableMeta, adds: Vec<Add>) -> Result<(), CommitError> {
    if exists(loc).await? {
        return Ok(());
    }
    let columns = delta_schema(&meta.partition_by).map_err(|e| delta_error(loc, e))?;
    let created = CreateBuilder::new()
        .with_log_store(log_store(loc)?)
        .with_table_name("cloudtrail")
        .with_comment("AWS CloudTrail records, written by trailpq")
        .with_columns(columns)
        .with_partition_columns(meta.partition_by.clone())
        .with_save_mode(SaveMode::ErrorIfExists)
        .with_configuration_property(
            deltalake::TableProperty::DataSkippingStatsColumns,
            Some(STATS_COLUMNS.join(",")),
        )
        .with_actions(adds.into_iter().map(Action::Add))
        .await;
    match created {
        Ok(_) => Ok(()),
        // Another shard created it between the look and the create.
        Err(_) if exists(loc).await? => Ok(()),
        Err(e) => Err(delta_error(loc, e)),
    }
}

/// Commits a journal's files into the Delta log, unless its transaction is there already.
/// `adds` and `removes` are relative to DEST; a journal that removes files is a compaction
/// (`dataChange` false: the same rows, rewritten).
pub async fn commit(
    loc: &Location,
    txn: &DeltaTxn,
    adds: &[String],
    removes: &[String],
    records: u64,
) -> Result<(), CommitError> {
    let mut table = load(loc, None).await?;
    if committed(loc, &table, txn).await? {
        return Ok(());
    }
    let data_change = removes.is_empty();
    let now = Utc::now().timestamp_millis();
    let mut actions: Vec<Action> = futures::stream::iter(adds)
        .map(|rel| add_action(loc, rel, data_change))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .map(|add| add.map(Action::Add))
        .collect::<Result<_, _>>()?;
    for rel in removes {
        let inside = in_table(rel);
        actions.push(Action::Remove(Remove {
            path: inside.to_string(),
            data_change,
            deletion_timestamp: Some(now),
            extended_file_metadata: Some(false),
            partition_values: Some(partition_values(inside)),
            size: None,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
        }));
    }
    let operation = match data_change {
        true => DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: None,
            predicate: None,
        },
        false => DeltaOperation::Optimize {
            predicate: None,
            target_size: 0,
        },
    };
    let metadata = [
        (
            "trailpq_version".to_string(),
            env!("CARGO_PKG_VERSION").into(),
        ),
        ("records".to_string(), records.into()),
    ];
    // Shards append at the same time: a commit that loses the race for a version retries on
    // the next (appends do not conflict), as often as it takes.
    let properties = CommitProperties::default()
        .with_application_transaction(Transaction::new(&txn.app_id, txn.version))
        .with_max_retries(1000);
    let builder = CommitBuilder::from(properties)
        .with_actions(actions)
        .with_app_metadata(HashMap::from(metadata));
    let snapshot = table.snapshot().map_err(|e| delta_error(loc, e))?.clone();
    let result = builder
        .build(Some(&snapshot), table.log_store(), operation)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) => {
            // A commit that may have landed before the error (a timeout after the write):
            // the log says.
            table
                .update_state()
                .await
                .map_err(|e| delta_error(loc, e))?;
            match committed(loc, &table, txn).await? {
                true => Ok(()),
                false => Err(delta_error(loc, e)),
            }
        }
    }
}

/// Whether the latest snapshot holds `txn` (or a later transaction of its app id).
pub async fn committed_txn(loc: &Location, txn: &DeltaTxn) -> Result<bool, CommitError> {
    match exists(loc).await? {
        true => committed(loc, &load(loc, None).await?, txn).await,
        false => Ok(false),
    }
}

/// Whether the log holds `txn` (or a later transaction of its app id).
async fn committed(
    loc: &Location,
    table: &DeltaTable,
    txn: &DeltaTxn,
) -> Result<bool, CommitError> {
    let version = last_txn(loc, table, &txn.app_id).await?;
    Ok(version.is_some_and(|v| v >= txn.version))
}

/// `cloudtrail/<partitions>/<name>` → `<partitions>/<name>`, as the log names files.
fn in_table(rel: &str) -> &str {
    rel.strip_prefix(TABLE_DIR)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(rel)
}

/// A file's partition values, read from its folder names (Hive's NULL folder: null).
fn partition_values(inside: &str) -> HashMap<String, Option<String>> {
    let folders = inside.rsplit_once('/').map_or("", |(dir, _)| dir);
    folders
        .split('/')
        .filter_map(|segment| segment.split_once('='))
        .map(|(name, value)| {
            let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            let value = (value != NULL_VALUE).then(|| value.into_owned());
            (name.to_string(), value)
        })
        .collect()
}

/// The add action of a file in the table (`rel` relative to DEST): its size, partition values and
/// statistics, read from its Parquet footer.
pub async fn add_action(loc: &Location, rel: &str, data_change: bool) -> Result<Add, CommitError> {
    let path = loc.child(&[rel]);
    let (size, modified, footer) = footer(loc, &path).await?;
    let inside = in_table(rel);
    Ok(Add {
        path: inside.to_string(),
        partition_values: partition_values(inside),
        size: size as i64,
        modification_time: modified,
        data_change,
        stats: Some(stats(&footer).to_string()),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    })
}

/// A Parquet file's size, modification time (ms) and footer, in two reads at most.
async fn footer(
    loc: &Location,
    path: &object_store::path::Path,
) -> Result<(u64, i64, ParquetMetaData), CommitError> {
    use object_store::ObjectStoreExt;
    use parquet::file::metadata::{FooterTail, ParquetMetaDataReader};
    const GUESS: u64 = 64 << 10;
    let store_error = |e: object_store::Error| super::io::store_error(loc, path, &e);
    let corrupt =
        |e: String| CommitError::Corrupt(format!("cannot read {}: {e}", loc.display(path)));
    let meta = loc.store.head(path).await.map_err(store_error)?;
    let size = meta.size;
    if size < 12 {
        return Err(corrupt("too short for Parquet".into()));
    }
    let start = size.saturating_sub(GUESS);
    let mut tail = loc
        .store
        .get_range(path, start..size)
        .await
        .map_err(store_error)?;
    let last: &[u8; 8] = tail[tail.len() - 8..].try_into().expect("8 bytes");
    let length = FooterTail::try_new(last)
        .map_err(|e| corrupt(e.to_string()))?
        .metadata_length() as u64;
    if length + 8 > size {
        return Err(corrupt("its footer is longer than the file".into()));
    }
    if length + 8 > tail.len() as u64 {
        tail = loc
            .store
            .get_range(path, size - length - 8..size)
            .await
            .map_err(store_error)?;
    }
    let body = &tail[tail.len() - 8 - length as usize..tail.len() - 8];
    let footer =
        ParquetMetaDataReader::decode_metadata(body).map_err(|e| corrupt(e.to_string()))?;
    Ok((size, meta.last_modified.timestamp_millis(), footer))
}

/// Delta statistics of a file: its row count, and minimum, maximum and null count of each of
/// [`STATS_COLUMNS`], from the row groups' Parquet statistics (absent where a row group has none).
fn stats(footer: &ParquetMetaData) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let descr = footer.file_metadata().schema_descr();
    let (mut mins, mut maxes, mut nulls) = (Map::new(), Map::new(), Map::new());
    for name in STATS_COLUMNS {
        let Some(index) =
            (0..descr.num_columns()).find(|&i| descr.column(i).path().string() == *name)
        else {
            continue;
        };
        let mut bounds: Option<(Value, Value)> = None;
        let mut null_count = Some(0u64);
        let mut complete = true;
        for group in footer.row_groups() {
            let Some(s) = group.column(index).statistics() else {
                complete = false;
                null_count = None;
                continue;
            };
            null_count = null_count.zip(s.null_count_opt()).map(|(a, b)| a + b);
            let pair = match s {
                Statistics::Int64(v) => v
                    .min_opt()
                    .zip(v.max_opt())
                    .map(|(lo, hi)| (millis(*lo), millis(*hi))),
                Statistics::ByteArray(v) => v.min_opt().zip(v.max_opt()).and_then(|(lo, hi)| {
                    Some((
                        Value::from(lo.as_utf8().ok()?),
                        Value::from(hi.as_utf8().ok()?),
                    ))
                }),
                _ => None,
            };
            let all_null = s.null_count_opt() == Some(group.num_rows() as u64);
            match pair {
                Some((lo, hi)) => {
                    bounds = Some(match bounds {
                        None => (lo, hi),
                        Some((a, b)) => (lesser(a, lo), greater(b, hi)),
                    })
                }
                None if all_null => {}
                None => complete = false,
            }
        }
        if let (true, Some((lo, hi))) = (complete, bounds) {
            mins.insert(name.to_string(), lo);
            maxes.insert(name.to_string(), hi);
        }
        if let Some(n) = null_count {
            nulls.insert(name.to_string(), n.into());
        }
    }
    json!({
        "numRecords": footer.file_metadata().num_rows(),
        "minValues": mins,
        "maxValues": maxes,
        "nullCount": nulls,
    })
}

/// A millisecond timestamp as Delta statistics write it.
fn millis(ms: i64) -> serde_json::Value {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .into()
}

fn lesser(a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    match a.as_str() <= b.as_str() {
        true => a,
        false => b,
    }
}

fn greater(a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    match a.as_str() >= b.as_str() {
        true => a,
        false => b,
    }
}

/// What `vacuum` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Vacuumed {
    pub dry_run: bool,
    pub retention_hours: f64,
    /// Files deleted (or, in a dry run, that would be), relative to the table's folder.
    pub files: Vec<String>,
}

/// Deletes the files that commits removed (compactions) longer than `retention` ago: a reader
/// of a snapshot younger than that still finds every file it names. Files the log never named
/// (a run's files between their move and their commit) are left alone.
pub async fn vacuum(
    loc: &Location,
    retention: Duration,
    dry_run: bool,
) -> Result<Vacuumed, CommitError> {
    let table = load(loc, None).await?;
    let retention_chrono =
        chrono::Duration::from_std(retention).map_err(|e| delta_error(loc, e))?;
    let (_, metrics) = table
        .vacuum()
        .with_retention_period(retention_chrono)
        .with_enforce_retention_duration(false)
        .with_mode(deltalake::operations::vacuum::VacuumMode::Lite)
        .with_dry_run(dry_run)
        .await
        .map_err(|e| delta_error(loc, e))?;
    Ok(Vacuumed {
        dry_run,
        retention_hours: retention.as_secs_f64() / 3600.0,
        files: metrics.files_deleted,
    })
}

/// Makes a Hive table a Delta table in place: a first Delta commit that adds every file there
/// is, with its statistics; no data is rewritten. A log left by an interrupted migration is
/// replaced (the table was not yet Delta: nothing read it as such).
pub async fn convert_hive(
    loc: &Location,
    meta: &TableMeta,
    files: &[String],
) -> Result<(), CommitError> {
    if exists(loc).await? {
        super::io::delete_all(loc, &loc.child(&[TABLE_DIR, LOG_DIR])).await?;
    }
    let adds: Vec<Add> = futures::stream::iter(files)
        .map(|rel| add_action(loc, rel, true))
        .buffered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    create(loc, meta, adds).await
}

/// What `migrate --to delta` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Migrated {
    /// The table was a Delta table already.
    pub already: bool,
    /// Files the first Delta commit added.
    pub files: usize,
}

/// Turns DEST's Hive table into a Delta table, under DEST's lease (so no convert or compact runs
/// meanwhile): the Delta log first, then `table.json` says Delta. Interrupted, it starts again.
pub async fn migrate(
    loc: Location,
    lease: super::lease::LeaseOptions,
) -> Result<Migrated, CommitError> {
    let Some(meta) = super::read_meta(&loc).await? else {
        return Err(CommitError::Corrupt(format!(
            "{} holds no converted table (no _trailpq/table.json); convert into it with --table-format delta instead",
            loc.given
        )));
    };
    if meta.format == super::TableFormat::Delta {
        return Ok(Migrated {
            already: true,
            files: 0,
        });
    }
    let open = super::OpenOptions {
        run_id: crate::convert::new_run_id(),
        lease,
    };
    let (dest, _) = super::Dest::open(loc.clone(), open).await?;
    let result = async {
        let files: Vec<String> = futures::TryStreamExt::try_collect(super::parquet_files(&loc))
            .await
            .map_err(|e| CommitError::Corrupt(e.to_string()))?;
        crate::hooks::crash_point("before-delta-migrate");
        let meta = TableMeta {
            format: super::TableFormat::Delta,
            layout: super::DELTA_LAYOUT,
            ..meta
        };
        convert_hive(&loc, &meta, &files).await?;
        crate::hooks::crash_point("after-delta-migrate");
        super::io::put_json(&loc, &super::io::meta_path(&loc, "table.json"), &meta).await?;
        Ok(Migrated {
            already: false,
            files: files.len(),
        })
    }
    .await;
    dest.release().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_come_from_the_folders() {
        let inside = in_table(
            "cloudtrail/account_id=012345678901/event_date=__HIVE_DEFAULT_PARTITION__/part-1.parquet",
        );
        assert_eq!(
            inside,
            "account_id=012345678901/event_date=__HIVE_DEFAULT_PARTITION__/part-1.parquet"
        );
        let values = partition_values(inside);
        assert_eq!(values["account_id"].as_deref(), Some("012345678901"));
        assert_eq!(values["event_date"], None);
        // Hive escapes are undone: the log holds the value itself.
        let values = partition_values("region=a%2Fb/part-1.parquet");
        assert_eq!(values["region"].as_deref(), Some("a/b"));
        assert!(partition_values("part-1.parquet").is_empty());
    }

    #[test]
    fn as_of_takes_versions_and_times() {
        assert_eq!("12".parse::<AsOf>(), Ok(AsOf::Version(12)));
        assert!("-1".parse::<AsOf>().is_err());
        let at = |s: &str| match s.parse::<AsOf>() {
            Ok(AsOf::Time(t)) => t.to_rfc3339(),
            other => panic!("{other:?}"),
        };
        assert_eq!(at("2024-05-01T12:00:00Z"), "2024-05-01T12:00:00+00:00");
        assert_eq!(at("2024-05-01"), "2024-05-01T00:00:00+00:00");
        let wrong = "yesterday-ish".parse::<AsOf>().unwrap_err();
        assert!(wrong.contains("neither a table version"), "{wrong}");
    }

    #[test]
    fn statistics_bound_every_row_group() {
        use arrow::array::{StringArray, TimestampMillisecondArray};
        use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "event_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("event_name", DataType::Utf8, true),
        ]));
        let mut bytes = Vec::new();
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let mut writer =
            ArrowWriter::try_new(&mut bytes, schema.clone(), Some(properties)).unwrap();
        let batch = arrow::array::RecordBatch::try_new(
            schema,
            vec![
                Arc::new(
                    TimestampMillisecondArray::from(vec![
                        Some(1_714_521_600_000),
                        None,
                        Some(1_714_521_600_123),
                    ])
                    .with_timezone("UTC"),
                ),
                Arc::new(StringArray::from(vec![Some("B"), Some("A"), None])),
            ],
        )
        .unwrap();
        writer.write(&batch).unwrap();
        let footer = writer.close().unwrap();
        let reader =
            parquet::file::serialized_reader::SerializedFileReader::new(bytes::Bytes::from(bytes))
                .unwrap();
        let metadata = parquet::file::reader::FileReader::metadata(&reader).clone();
        let _ = footer;
        let stats = stats(&metadata);
        assert_eq!(stats["numRecords"], 3);
        assert_eq!(stats["minValues"]["event_time"], "2024-05-01T00:00:00.000Z");
        assert_eq!(stats["maxValues"]["event_time"], "2024-05-01T00:00:00.123Z");
        assert_eq!(stats["minValues"]["event_name"], "A");
        assert_eq!(stats["maxValues"]["event_name"], "B");
        assert_eq!(stats["nullCount"]["event_time"], 1);
        assert_eq!(stats["nullCount"]["event_name"], 1);
        // Columns the file does not have get no statistics.
        assert!(stats["minValues"].get("error_code").is_none());
    }
}
