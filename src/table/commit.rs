//! Committing a checkpoint, and finishing what earlier runs left.
//!
//! A checkpoint's files are first written to staging. Its commit then:
//! 1. writes a journal naming each move (staged → table) and the sources converted: from here the
//!    commit is decided, and nothing it needs is deleted until it is complete;
//! 2. moves each file into the table (each file appears whole; the checkpoint appears file by
//!    file);
//! 3. deletes the files it replaces, for a compaction (never before every move is done);
//! 4. records the sources ([`super::state`]);
//! 5. retires the journal into `_trailpq/commits/`.
//!
//! A run that stops anywhere leaves either staged files without a journal (deleted by the next
//! run: the sources were not recorded, so they are converted again) or a journal, which the next
//! run rolls forward. Rolling forward is safe to repeat: a file already moved is found in the
//! table. If a file the journal names is neither staged nor in the table (lost outside trailpq),
//! the commit is undone instead: its files leave the table and its sources are forgotten, so they
//! are converted again; the table never holds a record twice or loses one.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::delta::{self, DeltaTxn};
use super::io::{
    CONCURRENCY, delete, delete_all, files_in, get_json, meta_path, now, put_json, set_aside,
    store_error, subfolders, tidy_local,
};
use super::lease::{Lease, LeaseOptions};
use super::state::{self, ScopeState, SourceEntry};
use super::{CommitError, Dest, Opened, TABLE_DIR, TableFormat, TableMeta};
use crate::hooks::crash_point;
use crate::store::Location;

/// A decided commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    pub format: u32,
    pub lease: String,
    pub run_id: String,
    pub checkpoint: u32,
    pub created: String,
    pub trailpq_version: String,
    pub records: u64,
    /// (staged, final) paths relative to DEST.
    pub moves: Vec<(String, String)>,
    /// The sources converted, by state scope.
    pub sources: BTreeMap<String, Vec<SourceEntry>>,
    /// Table files the commit replaces (compaction), relative to DEST: deleted once every move is
    /// done, so the rows are never missing (a reader may see them twice for that moment).
    #[serde(default)]
    pub removes: Vec<String>,
    /// A Delta table's commit: the application transaction that marks it in the Delta log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<DeltaTxn>,
}

/// A checkpoint ready to commit.
#[derive(Debug, Default)]
pub struct Checkpoint {
    pub number: u32,
    /// Files in this checkpoint's staging, as `<partitions>/<name>`.
    pub files: Vec<String>,
    /// The sources converted, by state scope.
    pub sources: BTreeMap<String, Vec<SourceEntry>>,
    pub records: u64,
    /// Table files the staged ones replace (compaction), relative to DEST.
    pub removes: Vec<String>,
}

/// How finishing a journal ended.
enum Finished {
    Done,
    /// Some files were lost: the commit was undone.
    Undone {
        missing: usize,
        sources: u64,
    },
}

fn journal_dir(loc: &Location, lease: &str) -> Path {
    meta_path(loc, &format!("work/{lease}/journal"))
}

fn journal_name(run_id: &str, checkpoint: u32) -> String {
    format!("{run_id}-{checkpoint:04}.json")
}

impl Dest {
    /// Commits a checkpoint: makes its staged files visible and records its sources. `meta` is
    /// written first when the table is new. `known` is what the run read of the checkpoint's
    /// scopes (for merging their segments). Returns the files' paths in the table, relative to
    /// DEST.
    pub async fn commit(
        &self,
        checkpoint: Checkpoint,
        meta: &TableMeta,
        known: &HashMap<String, Arc<ScopeState>>,
    ) -> Result<Vec<String>, CommitError> {
        self.check_lease()?;
        crash_point("before-journal");
        if self.table_meta().is_none() {
            if meta.format == TableFormat::Delta {
                delta::create(&self.loc, meta, Vec::new()).await?;
            }
            put_json(&self.loc, &meta_path(&self.loc, "table.json"), meta).await?;
            *self.meta.lock().unwrap() = Some(meta.clone());
        }
        let staging = self.staging(checkpoint.number);
        let moves: Vec<(String, String)> = checkpoint
            .files
            .iter()
            .map(|rel| (staging.rel(rel), format!("{TABLE_DIR}/{rel}")))
            .collect();
        let files = moves.iter().map(|(_, to)| to.clone()).collect();
        let journal = Journal {
            format: 2,
            lease: self.lease.name().to_string(),
            run_id: self.run_id.clone(),
            checkpoint: checkpoint.number,
            created: now(),
            trailpq_version: env!("CARGO_PKG_VERSION").into(),
            records: checkpoint.records,
            moves,
            sources: checkpoint.sources,
            removes: checkpoint.removes,
            delta: (meta.format == TableFormat::Delta).then(|| self.next_delta_txn()),
        };
        let path = journal_dir(&self.loc, self.lease.name())
            .join(journal_name(&self.run_id, checkpoint.number).as_str());
        self.decided.lock().unwrap().insert(checkpoint.number);
        put_json(&self.loc, &path, &journal).await?;
        crash_point("after-journal");

        let (segments, merged) = state::plan_segments(&journal.sources, known);
        let unfinished = |e| CommitError::Unfinished {
            run_id: self.run_id.clone(),
            checkpoint: checkpoint.number,
            source: Box::new(e),
        };
        match finish(&self.loc, &journal, &path, &segments)
            .await
            .map_err(unfinished)?
        {
            Finished::Done => {}
            Finished::Undone { missing, .. } => {
                return Err(CommitError::Corrupt(format!(
                    "{missing} staged file(s) of this run disappeared before they reached the table; \
                     nothing was committed for them, and the next run converts their sources again"
                )));
            }
        }
        // Merged segments go only once the commit that holds their union is complete.
        state::delete_segments(&self.loc, &merged).await?;
        Ok(files)
    }
}

/// Finishes a decided commit: moves, sources, retirement. Safe to repeat.
async fn finish(
    loc: &Location,
    journal: &Journal,
    path: &Path,
    segments: &BTreeMap<String, Vec<SourceEntry>>,
) -> Result<Finished, CommitError> {
    let first = std::sync::Once::new();
    let results: Vec<Result<bool, CommitError>> = futures::stream::iter(&journal.moves)
        .map(|(from, to)| {
            let first = &first;
            async move {
                let moved = move_in(loc, from, to).await?;
                first.call_once(|| crash_point("after-first-move"));
                Ok(moved)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut missing = 0;
    for result in results {
        if !result? {
            missing += 1;
        }
    }
    let in_log = match (&journal.delta, missing) {
        // Files lost after their Delta commit are the log's business (a reader says which).
        (Some(txn), 1..) => delta::committed_txn(loc, txn).await?,
        _ => false,
    };
    if missing > 0 && !in_log {
        // A compaction can be undone only while every file it replaces is still there.
        for old in &journal.removes {
            if let Err(object_store::Error::NotFound { .. }) =
                loc.store.head(&loc.child(&[old])).await
            {
                return Err(CommitError::Corrupt(format!(
                    "compaction {} lost {missing} new file(s) outside trailpq after it had removed {old}; \
                     restore the table from a backup or convert its sources again",
                    journal.run_id
                )));
            }
        }
        undo(loc, journal, path).await?;
        let sources = journal.sources.values().map(|s| s.len() as u64).sum();
        return Ok(Finished::Undone { missing, sources });
    }
    match &journal.delta {
        // Readers of older snapshots may still read the files a compaction replaced: `vacuum`
        // deletes them once they are older than the retention period.
        Some(txn) => {
            crash_point("before-delta-commit");
            let adds: Vec<String> = journal.moves.iter().map(|(_, to)| to.clone()).collect();
            delta::commit(loc, txn, &adds, &journal.removes, journal.records).await?;
            crash_point("after-delta-commit");
        }
        None => {
            crash_point("before-removes");
            futures::stream::iter(&journal.removes)
                .map(|old| async move { delete(loc, &loc.child(&[old])).await })
                .buffer_unordered(CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await?;
        }
    }
    state::write(loc, &journal.run_id, journal.checkpoint, segments).await?;
    crash_point("before-retire");
    let retired =
        meta_path(loc, "commits").join(journal_name(&journal.run_id, journal.checkpoint).as_str());
    match loc.store.rename(path, &retired).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(store_error(loc, path, &e)),
    }
    tidy_local(loc, &staging_dir(loc, journal));
    Ok(Finished::Done)
}

/// Moves one staged file (`from`, relative to DEST) into the table (`to`): whether it is there
/// now. A file already moved (before an interruption) is there; `false`: it was lost.
async fn move_in(loc: &Location, from: &str, to: &str) -> Result<bool, CommitError> {
    let (from, to) = (loc.child(&[from]), loc.child(&[to]));
    match loc.store.rename(&from, &to).await {
        Ok(()) => Ok(true),
        Err(object_store::Error::NotFound { .. }) => match loc.store.head(&to).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(store_error(loc, &to, &e)),
        },
        Err(e) => Err(store_error(loc, &to, &e)),
    }
}

fn staging_dir(loc: &Location, journal: &Journal) -> Path {
    meta_path(
        loc,
        &format!(
            "work/{}/staging/{}/{:04}",
            journal.lease, journal.run_id, journal.checkpoint
        ),
    )
}

/// Takes a commit back out: its files leave the table and staging, its sources are forgotten.
async fn undo(loc: &Location, journal: &Journal, path: &Path) -> Result<(), CommitError> {
    let files: Vec<Path> = journal
        .moves
        .iter()
        .flat_map(|(from, to)| [loc.child(&[from]), loc.child(&[to])])
        .collect();
    let segments: Vec<Path> = journal
        .sources
        .keys()
        .map(|scope| state::segment_path(loc, scope, &journal.run_id, journal.checkpoint))
        .collect();
    futures::stream::iter(files.iter().chain(&segments))
        .map(|p| delete(loc, p))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    delete(loc, path).await
}

/// Finishes the commits of earlier runs under one lease (held by this run) and deletes their
/// uncommitted files.
pub(super) async fn recover(
    loc: &Location,
    lease: &str,
    opened: &mut Opened,
) -> Result<(), CommitError> {
    for path in files_in(loc, &journal_dir(loc, lease)).await? {
        let journal = match get_json::<Journal>(loc, &path).await {
            Ok(Some(journal)) => journal,
            Ok(None) => continue,
            Err(CommitError::Corrupt(why)) => {
                let warning = set_aside(loc, &path, &why).await?;
                opened.warnings.push(format!(
                    "{warning}; if its files had reached the table, their records may appear twice"
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        finish_journal(loc, &journal, &path, opened).await?;
    }
    let staging = meta_path(loc, &format!("work/{lease}/staging"));
    let mut removed = 0;
    for run in subfolders(loc, &staging).await? {
        removed += delete_all(loc, &staging.clone().join(run.as_str())).await?;
    }
    if removed > 0 {
        opened.notes.push(format!(
            "removed {removed} uncommitted file(s) left by an interrupted run; their sources are converted again"
        ));
    }
    Ok(())
}

/// Rolls one journal forward (or, if its files were lost, undoes it), saying what happened.
pub(super) async fn finish_journal(
    loc: &Location,
    journal: &Journal,
    path: &Path,
    opened: &mut Opened,
) -> Result<(), CommitError> {
    let unfinished = |e| CommitError::Unfinished {
        run_id: journal.run_id.clone(),
        checkpoint: journal.checkpoint,
        source: Box::new(e),
    };
    match finish(loc, journal, path, &journal.sources)
        .await
        .map_err(unfinished)?
    {
        Finished::Done => opened.notes.push(format!(
            "finished committing interrupted run {} (checkpoint {}: {} file(s))",
            journal.run_id,
            journal.checkpoint,
            journal.moves.len()
        )),
        Finished::Undone { missing, sources } => {
            opened.sources_forgotten += sources;
            opened.warnings.push(format!(
                "run {} (checkpoint {}) committed {} file(s), of which {missing} are neither staged nor in the table \
                 (removed outside trailpq?): its commit was undone and its {sources} source file(s) are converted again",
                journal.run_id,
                journal.checkpoint,
                journal.moves.len()
            ));
        }
    }
    Ok(())
}

/// Finishes what runs under other leases (shards) left, where their lease has expired.
pub(super) async fn recover_others(
    dest: &Dest,
    ours: &LeaseOptions,
    opened: &mut Opened,
) -> Result<(), CommitError> {
    let work = meta_path(&dest.loc, "work");
    for name in subfolders(&dest.loc, &work).await? {
        if name == ours.name {
            continue;
        }
        let taken = Lease::try_acquire(&dest.loc, &name, ours.ttl, &dest.run_id, opened).await?;
        if let Some(lease) = taken {
            let result = recover(&dest.loc, &name, opened).await;
            if result.is_ok() {
                tidy_local(&dest.loc, &work.clone().join(name.as_str()));
            }
            lease.release().await;
            result?;
        }
    }
    Ok(())
}
