//! The destination: where the table and trailpq's bookkeeping live, and how a run's files become
//! part of the table without ever leaving it half-written, duplicated or blocked.
//!
//! ```text
//! DEST/cloudtrail/<partitions>/part-<run>-<n>.parquet      the table; readers look only here
//! DEST/cloudtrail/_delta_log/<version>.json                a Delta table's log (delta.rs)
//! DEST/_trailpq/table.json                                 partition columns, schema and layout
//! DEST/_trailpq/lease/<name>.json (object stores)          who may write now (lease.rs)
//! DEST/_trailpq/lease/<name>.lock (local folders)
//! DEST/_trailpq/work/<lease>/staging/<run>/<checkpoint>/…  files being written, invisible
//! DEST/_trailpq/work/<lease>/journal/<run>-<checkpoint>.json   a commit decided, not yet complete
//! DEST/_trailpq/state/<scope>/<run>-<checkpoint>.json     sources converted, per delivery folder
//! DEST/_trailpq/commits/<run>-<checkpoint>.json           completed commits: history, never read
//! ```
//!
//! A run holds a lease ([`lease`]) while it writes. It converts in checkpoints: each writes its
//! files to staging, then commits them ([`commit`]): a journal names the moves and the sources,
//! the files are moved into the table, the sources are recorded ([`state`]) and the journal is
//! retired. Once a journal exists the commit is decided and only ever rolled forward, by this run
//! or the next; nothing it needs is deleted before it is complete.
//!
//! This file is the table's face: its layout, [`Dest`] (a DEST opened for one run) and the reads
//! of the table that queries share. The object operations the bookkeeping is built from (JSON
//! reads and writes, listings, deletes) are in `io` (io.rs).

pub mod commit;
pub mod delta;
mod io;
pub mod lease;
mod migrate;
pub mod state;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use futures::TryStreamExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::store::{Location, StoreError, describe};
use io::{delete_all, get_json, meta_path, put_json, set_aside};
use lease::{Lease, LeaseOptions};

/// The table's folder under DEST.
pub const TABLE_DIR: &str = "cloudtrail";
/// The folder name of a partition whose value is missing (Hive's name for NULL).
pub const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";
/// trailpq's bookkeeping folder under DEST.
pub const META_DIR: &str = "_trailpq";
/// The version of the bookkeeping layout this build writes (1: one record per run, read whole).
pub const LAYOUT_VERSION: u32 = 2;
/// The layout of Delta tables: the same bookkeeping, numbered past what trailpq knew before Delta
/// tables, so that such a build refuses to write into one (it would take it for Hive folders, and
/// its compaction would delete files the Delta log still names).
pub const DELTA_LAYOUT: u32 = 3;
/// The lease of an ordinary (unsharded) convert.
pub const MAIN_LEASE: &str = "main";

/// Facts about the table that every run must agree on (`_trailpq/table.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMeta {
    pub partition_by: Vec<String>,
    pub schema_version: String,
    /// Bookkeeping layout; absent (1) in destinations written before checkpoints.
    #[serde(default = "layout_v1")]
    pub layout: u32,
    /// How readers find the table's files; absent (Hive) in destinations written before Delta.
    #[serde(default)]
    pub format: TableFormat,
}

/// How readers find the table's files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// Every Parquet file under `cloudtrail/`, partition values in the folder names.
    #[default]
    Hive,
    /// The files a Delta log (`cloudtrail/_delta_log/`) names at a version ([`delta`]).
    Delta,
}

impl TableFormat {
    pub fn name(self) -> &'static str {
        match self {
            TableFormat::Hive => "hive",
            TableFormat::Delta => "delta",
        }
    }

    /// The bookkeeping layout this build writes for a table of this format.
    pub fn layout(self) -> u32 {
        match self {
            TableFormat::Hive => LAYOUT_VERSION,
            TableFormat::Delta => DELTA_LAYOUT,
        }
    }
}

impl std::str::FromStr for TableFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "hive" => Ok(TableFormat::Hive),
            "delta" => Ok(TableFormat::Delta),
            other => Err(format!("unknown table format {other}; use hive or delta")),
        }
    }
}

fn layout_v1() -> u32 {
    1
}

/// Reads `table.json` at a DEST, if there is one.
pub async fn read_meta(loc: &Location) -> Result<Option<TableMeta>, CommitError> {
    get_json(loc, &meta_path(loc, "table.json")).await
}

/// The table's Parquet files, relative to DEST (`cloudtrail/…/part-….parquet`), as listed.
pub fn parquet_files(
    loc: &Location,
) -> impl futures::Stream<Item = Result<String, StoreError>> + '_ {
    loc.store
        .list(Some(&loc.child(&[TABLE_DIR])))
        .try_filter(|m| std::future::ready(m.location.as_ref().ends_with(".parquet")))
        .map_ok(|m| loc.relative(&m.location))
        .map_err(|e| StoreError::Access {
            location: loc.given.clone(),
            message: describe(&e),
        })
}

/// The partition columns of the table, outermost first, read from the folder names of its first
/// file (`cloudtrail/account_id=…/event_date=…/part-….parquet`); `None` for an empty table.
pub async fn partition_columns(loc: &Location) -> Result<Option<Vec<String>>, StoreError> {
    let first = std::pin::pin!(parquet_files(loc)).try_next().await?;
    Ok(first.map(|rel| {
        rel.split('/')
            .skip(1)
            .filter_map(|segment| segment.split_once('=').map(|(name, _)| name.to_string()))
            .filter(|name| {
                crate::schema::PARTITION_COLUMNS
                    .iter()
                    .any(|p| p.name == name)
            })
            .collect()
    }))
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error("{dest} is in use by {holder}; {advice}")]
    Busy {
        dest: String,
        holder: String,
        advice: String,
    },
    #[error(
        "this run lost its lease on {dest} ({why}); it stopped before committing more, and the next run converts what it did not commit"
    )]
    LeaseLost { dest: String, why: String },
    #[error("cannot write to {location}: {message}")]
    Store { location: String, message: String },
    #[error("{0}")]
    Corrupt(String),
    #[error(
        "could not finish committing run {run_id} (checkpoint {checkpoint}): {source}; nothing is lost: fix that and run convert again to finish it"
    )]
    Unfinished {
        run_id: String,
        checkpoint: u32,
        source: Box<CommitError>,
    },
}

/// How a run opens DEST.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub run_id: String,
    pub lease: LeaseOptions,
}

/// What opening DEST found and did before the run's own work.
#[derive(Debug, Default)]
pub struct Opened {
    /// Informational: interrupted commits finished, leftovers removed, a lease taken over.
    pub notes: Vec<String>,
    /// Needs attention: files lost outside trailpq, an unlocked run.
    pub warnings: Vec<String>,
    /// Sources whose earlier conversion was undone because its files were lost; converted again.
    pub sources_forgotten: u64,
}

/// DEST, opened for one run: the lease is held and earlier commits are complete.
pub struct Dest {
    pub loc: Location,
    pub run_id: String,
    lease: Lease,
    meta: Mutex<Option<TableMeta>>,
    /// Checkpoints whose journal this run has started to write: their staging is never discarded.
    decided: Mutex<HashSet<u32>>,
    /// Output files numbered across the run's checkpoints.
    next_file: AtomicU64,
    /// Where this lease's incremental listings resume.
    watermarks: Mutex<state::Watermarks>,
    /// The last Delta transaction number of this lease's commits (Delta tables).
    delta_txn: AtomicI64,
}

impl Dest {
    /// Takes the lease, finishes what earlier runs left (rolling commits forward), and migrates a
    /// destination written by an earlier version.
    pub async fn open(loc: Location, options: OpenOptions) -> Result<(Self, Opened), CommitError> {
        let mut opened = Opened::default();
        let lease = Lease::acquire(&loc, &options.lease, &options.run_id, &mut opened).await?;
        let dest = Dest {
            loc,
            run_id: options.run_id,
            lease,
            meta: Mutex::new(None),
            decided: Mutex::new(HashSet::new()),
            next_file: AtomicU64::new(0),
            watermarks: Mutex::new(state::Watermarks::default()),
            delta_txn: AtomicI64::new(0),
        };
        let others = lease::conflicting_holders(&dest.loc, &options.lease.name).await;
        let others = match others {
            Ok(others) => others,
            Err(e) => {
                dest.release().await;
                return Err(e);
            }
        };
        if !others.is_empty() {
            dest.release().await;
            return Err(CommitError::Busy {
                dest: dest.loc.given.clone(),
                holder: others.join(", "),
                advice: "runs with --shard I/N, runs with another N and runs without --shard must not write to one DEST at the same time; wait for it to end, or use its --shard N".into(),
            });
        }
        if let Err(e) = dest.prepare(&options.lease, &mut opened).await {
            dest.release().await;
            return Err(e);
        }
        Ok((dest, opened))
    }

    async fn prepare(&self, lease: &LeaseOptions, opened: &mut Opened) -> Result<(), CommitError> {
        let meta = match read_meta(&self.loc).await {
            Err(CommitError::Corrupt(why)) => Some(self.rewrite_meta(&why, opened).await?),
            other => other?,
        };
        let meta = match meta {
            Some(meta) if meta.layout < LAYOUT_VERSION => {
                Some(migrate::run(self, meta, opened).await?)
            }
            Some(meta) if meta.layout > meta.format.layout() => {
                return Err(CommitError::Corrupt(format!(
                    "{} was written by a newer trailpq (layout {}); upgrade trailpq to convert into it",
                    self.loc.given, meta.layout
                )));
            }
            other => other,
        };
        *self.meta.lock().unwrap() = meta;
        *self.watermarks.lock().unwrap() = state::read_watermarks(&self.loc, &lease.name).await?;
        commit::recover(&self.loc, &lease.name, opened).await?;
        commit::recover_others(self, lease, opened).await?;
        // Every journal of this lease is committed now: its next commit follows the log's last.
        if self.format() == TableFormat::Delta {
            let last = delta::txn_version(&self.loc, &lease.name).await?;
            self.delta_txn.store(last, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The table's format (Hive for a table not yet written).
    pub fn format(&self) -> TableFormat {
        self.meta
            .lock()
            .unwrap()
            .as_ref()
            .map_or(TableFormat::Hive, |m| m.format)
    }

    /// The Delta transaction of this lease's next commit.
    fn next_delta_txn(&self) -> delta::DeltaTxn {
        delta::DeltaTxn {
            app_id: delta::app_id(self.lease.name()),
            version: self.delta_txn.fetch_add(1, Ordering::SeqCst) + 1,
        }
    }

    /// Replaces a `table.json` damaged outside trailpq by one read from the table's folders.
    async fn rewrite_meta(&self, why: &str, opened: &mut Opened) -> Result<TableMeta, CommitError> {
        let path = meta_path(&self.loc, "table.json");
        let warning = set_aside(&self.loc, &path, why).await?;
        let partition_by = partition_columns(&self.loc)
            .await
            .map_err(|e| CommitError::Corrupt(e.to_string()))?
            .unwrap_or_else(|| vec!["event_date".to_string()]);
        let format = match delta::exists(&self.loc).await? {
            true => TableFormat::Delta,
            false => TableFormat::Hive,
        };
        let meta = TableMeta {
            partition_by,
            schema_version: crate::schema::SCHEMA_VERSION.into(),
            layout: format.layout(),
            format,
        };
        put_json(&self.loc, &path, &meta).await?;
        opened.warnings.push(format!(
            "{warning}; it was written again from the table's folders (partitioned by {})",
            meta.partition_by.join(",")
        ));
        Ok(meta)
    }

    /// The table's settings, if a run has committed before.
    pub fn table_meta(&self) -> Option<TableMeta> {
        self.meta.lock().unwrap().clone()
    }

    /// Fails once the lease can no longer be trusted (taken over, or not renewed in time).
    pub fn check_lease(&self) -> Result<(), CommitError> {
        self.lease.check().map_err(|why| CommitError::LeaseLost {
            dest: self.loc.given.clone(),
            why,
        })
    }

    /// Records that every delivery this lease listed in these region folders, up to these days,
    /// is converted (after a commit): the next incremental listing starts there.
    pub async fn advance_watermarks(
        &self,
        days: &std::collections::BTreeMap<String, chrono::NaiveDate>,
    ) -> Result<(), CommitError> {
        let marks = {
            let mut marks = self.watermarks.lock().unwrap();
            if !marks.advance(days) {
                return Ok(());
            }
            marks.clone()
        };
        state::write_watermarks(&self.loc, self.lease.name(), &marks).await
    }

    /// Where checkpoint `checkpoint` of this run writes its files.
    pub fn staging(&self, checkpoint: u32) -> Staging {
        Staging {
            loc: self.loc.clone(),
            prefix: self.staging_rel(checkpoint),
        }
    }

    fn staging_rel(&self, checkpoint: u32) -> String {
        format!(
            "{META_DIR}/work/{}/staging/{}/{checkpoint:04}",
            self.lease.name(),
            self.run_id
        )
    }

    /// The number of the next output file of this run.
    pub fn next_file_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Forgets a checkpoint that will not be committed: deletes its staged files, unless its
    /// journal may have been written (then the next run rolls it forward).
    pub async fn abandon(&self, checkpoint: u32) {
        if self.decided.lock().unwrap().contains(&checkpoint) {
            return;
        }
        let prefix = self.loc.child(&[&self.staging_rel(checkpoint)]);
        let _ = delete_all(&self.loc, &prefix).await;
    }

    /// Ends the run: gives the lease back. Errors are ignored: an unreleased lease expires.
    pub async fn release(&self) {
        self.lease.release().await;
    }
}

/// Where one checkpoint's files are written before its commit.
#[derive(Debug, Clone)]
pub struct Staging {
    pub loc: Location,
    /// `_trailpq/work/<lease>/staging/<run>/<checkpoint>`
    prefix: String,
}

impl Staging {
    /// The staged path of `rel` (`<partitions>/<name>`).
    pub fn path(&self, rel: &str) -> Path {
        self.loc.child(&[&self.prefix, rel])
    }

    /// `rel` as a path relative to DEST.
    fn rel(&self, rel: &str) -> String {
        format!("{}/{rel}", self.prefix)
    }
}
