//! The commit protocol: a run's files become visible in the table once, and only whole.
//!
//! Layout under DEST:
//!
//! ```text
//! cloudtrail/<partitions>/part-<run>-<n>.parquet   the table; readers look only here
//! _trailpq/table.json                              partition columns and schema version
//! _trailpq/lock                                    held by the convert that is running
//! _trailpq/staging/<run>/<partitions>/…            files being written, invisible to readers
//! _trailpq/journal/<run>.json                      a commit in progress: the moves to make
//! _trailpq/runs/<run>.json                         a committed run: its sources and files
//! ```
//!
//! A run writes its files into staging (each put is atomic). To commit, it writes a journal,
//! moves each file into the table, writes its run record and deletes the journal. A run that
//! stops before the journal leaves only staging files, which the next run deletes; one that stops
//! after it leaves a journal, which the next run finishes. Sources named in run records are not
//! converted again, so a rerun over the same input adds no rows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::store::{Location, describe};

/// The table's folder under DEST.
pub const TABLE_DIR: &str = "cloudtrail";
/// trailpq's bookkeeping folder under DEST.
pub const META_DIR: &str = "_trailpq";

/// A source file as converted: identity and version, to recognise it next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub key: String,
    pub size: u64,
    /// The object's ETag, or its modification time when the store has none.
    pub version: String,
}

/// What a committed run converted and wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub trailpq_version: String,
    pub started: String,
    pub finished: String,
    pub partition_by: Vec<String>,
    pub records_written: u64,
    pub sources: Vec<SourceEntry>,
    /// Files in the table, relative to DEST.
    pub files: Vec<String>,
}

/// Facts about the table that every run must agree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableMeta {
    pub partition_by: Vec<String>,
    pub schema_version: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    record: RunRecord,
    /// (staged, final) paths relative to DEST.
    moves: Vec<(String, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Lock {
    run_id: String,
    host: String,
    pid: u32,
    started: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(
        "{dest} is in use by trailpq run {run_id} (host {host}, pid {pid}, since {started}); \
         if no convert is running there, delete {lock} and retry"
    )]
    Busy {
        dest: String,
        run_id: String,
        host: String,
        pid: u32,
        started: String,
        lock: String,
    },
    #[error("cannot write to {location}: {message}")]
    Store { location: String, message: String },
    #[error("{0}")]
    Corrupt(String),
}

/// DEST, opened for one run.
pub struct Dest {
    pub loc: Location,
    pub run_id: String,
    locked: AtomicBool,
}

impl Dest {
    /// Takes the lock and brings DEST back to a committed state. Returns what recovery did.
    pub async fn open(loc: Location, run_id: String) -> Result<(Self, Vec<String>), CommitError> {
        let dest = Dest {
            loc,
            run_id,
            locked: AtomicBool::new(false),
        };
        let mut notes = Vec::new();
        dest.lock(&mut notes).await?;
        if let Err(e) = dest.recover(&mut notes).await {
            dest.release().await;
            return Err(e);
        }
        Ok((dest, notes))
    }

    fn path(&self, rel: &str) -> Path {
        self.loc.child(&[rel])
    }

    fn meta(&self, rel: &str) -> Path {
        self.loc.child(&[META_DIR, rel])
    }

    fn store_error(&self, path: &Path, e: &object_store::Error) -> CommitError {
        CommitError::Store {
            location: self.loc.display(path),
            message: describe(e),
        }
    }

    async fn get_json<T: for<'de> Deserialize<'de>>(
        &self,
        path: &Path,
    ) -> Result<Option<T>, CommitError> {
        match self.loc.get_bytes(path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                CommitError::Corrupt(format!("{} is not valid: {e}", self.loc.display(path)))
            }),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_error(path, &e)),
        }
    }

    async fn put_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), CommitError> {
        let bytes = serde_json::to_vec_pretty(value).expect("bookkeeping serializes");
        self.loc
            .put_bytes(path, Bytes::from(bytes))
            .await
            .map_err(|e| self.store_error(path, &e))
    }

    async fn list(&self, rel: &str) -> Result<Vec<Path>, CommitError> {
        let prefix = self.meta(rel);
        let mut paths: Vec<Path> = self
            .loc
            .store
            .list(Some(&prefix))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| self.store_error(&prefix, &e))?;
        paths.sort();
        Ok(paths)
    }

    async fn delete(&self, path: &Path) -> Result<(), CommitError> {
        match self.loc.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.store_error(path, &e)),
        }
    }

    async fn lock(&self, notes: &mut Vec<String>) -> Result<(), CommitError> {
        let path = self.meta("lock");
        let lock = Lock {
            run_id: self.run_id.clone(),
            host: hostname(),
            pid: std::process::id(),
            started: now(),
        };
        let payload = || PutPayload::from(serde_json::to_vec(&lock).expect("lock serializes"));
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.loc.store.put_opts(&path, payload(), create).await {
            Ok(_) => self.locked.store(true, Ordering::SeqCst),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {
                let held: Option<Lock> = self.get_json(&path).await?;
                match held {
                    Some(held) if held.host == lock.host && !process_alive(held.pid) => {
                        notes.push(format!(
                            "took over the lock of run {}, whose process has ended",
                            held.run_id
                        ));
                        self.loc
                            .store
                            .put(&path, payload())
                            .await
                            .map_err(|e| self.store_error(&path, &e))?;
                        self.locked.store(true, Ordering::SeqCst);
                    }
                    Some(held) => {
                        return Err(CommitError::Busy {
                            dest: self.loc.given.clone(),
                            run_id: held.run_id,
                            host: held.host,
                            pid: held.pid,
                            started: held.started,
                            lock: self.loc.display(&path),
                        });
                    }
                    None => return Box::pin(self.lock(notes)).await,
                }
            }
            // Stores without conditional writes: run unlocked.
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) => {}
            Err(e) => return Err(self.store_error(&path, &e)),
        }
        Ok(())
    }

    /// Releases the lock. Errors are ignored: a stale lock is detected by the next run.
    pub async fn release(&self) {
        if self.locked.swap(false, Ordering::SeqCst) {
            let _ = self.loc.store.delete(&self.meta("lock")).await;
        }
    }

    async fn recover(&self, notes: &mut Vec<String>) -> Result<(), CommitError> {
        for path in self.list("journal").await? {
            let Some(journal) = self.get_json::<Journal>(&path).await? else {
                continue;
            };
            self.finish_commit(&journal).await?;
            self.delete(&path).await?;
            notes.push(format!(
                "finished committing interrupted run {}",
                journal.record.run_id
            ));
        }
        let leftovers = self.list("staging").await?;
        if !leftovers.is_empty() {
            for path in &leftovers {
                self.delete(path).await?;
            }
            self.tidy_local("staging");
            notes.push(format!(
                "removed {} uncommitted file(s) left by an interrupted run",
                leftovers.len()
            ));
        }
        Ok(())
    }

    /// Moves a journal's files into the table and records the run. Safe to repeat.
    async fn finish_commit(&self, journal: &Journal) -> Result<(), CommitError> {
        for (i, (from, to)) in journal.moves.iter().enumerate() {
            let (from, to) = (self.path(from), self.path(to));
            match self.loc.store.rename(&from, &to).await {
                Ok(()) => {}
                Err(object_store::Error::NotFound { .. }) => {
                    // Moved before an interruption; it must be in the table now.
                    self.loc.store.head(&to).await.map_err(|_| {
                        CommitError::Corrupt(format!(
                            "{} of run {} is neither staged nor in the table",
                            self.loc.display(&to),
                            journal.record.run_id
                        ))
                    })?;
                }
                Err(e) => return Err(self.store_error(&to, &e)),
            }
            if i == 0 {
                crash_point("after-first-move");
            }
        }
        let record = self.meta(&format!("runs/{}.json", journal.record.run_id));
        self.put_json(&record, &journal.record).await
    }

    /// The table's settings, if a run has committed before.
    pub async fn table_meta(&self) -> Result<Option<TableMeta>, CommitError> {
        self.get_json(&self.meta("table.json")).await
    }

    /// Sources converted by committed runs, by key.
    pub async fn converted_sources(&self) -> Result<HashMap<String, SourceEntry>, CommitError> {
        let mut sources = HashMap::new();
        for path in self.list("runs").await? {
            if let Some(record) = self.get_json::<RunRecord>(&path).await? {
                sources.extend(record.sources.into_iter().map(|s| (s.key.clone(), s)));
            }
        }
        Ok(sources)
    }

    /// Where a file of this run is written before the commit (`rel` is `<partitions>/<name>`).
    pub fn staging_path(&self, rel: &str) -> Path {
        self.loc.child(&[META_DIR, "staging", &self.run_id, rel])
    }

    /// Makes the run's staged files (`<partitions>/<name>`) visible and records the run.
    /// `new_table` is the table's settings when it has none yet (see [`Dest::table_meta`]).
    /// Returns the paths of the files in the table, relative to DEST.
    pub async fn commit(
        &self,
        mut record: RunRecord,
        staged: &[String],
        new_table: Option<&TableMeta>,
    ) -> Result<Vec<String>, CommitError> {
        crash_point("before-journal");
        if let Some(meta) = new_table {
            self.put_json(&self.meta("table.json"), meta).await?;
        }
        let moves: Vec<(String, String)> = staged
            .iter()
            .map(|rel| {
                (
                    format!("{META_DIR}/staging/{}/{rel}", self.run_id),
                    format!("{TABLE_DIR}/{rel}"),
                )
            })
            .collect();
        record.files = moves.iter().map(|(_, to)| to.clone()).collect();
        let files = record.files.clone();
        let journal = Journal { record, moves };
        let journal_path = self.meta(&format!("journal/{}.json", self.run_id));
        self.put_json(&journal_path, &journal).await?;
        crash_point("after-journal");
        self.finish_commit(&journal).await?;
        self.delete(&journal_path).await?;
        self.tidy_local(&format!("staging/{}", self.run_id));
        Ok(files)
    }

    /// On a local disk, moving files out leaves empty folders behind; remove them.
    fn tidy_local(&self, rel: &str) {
        if self.loc.is_local() {
            let dir = self.loc.display(&self.meta(rel));
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// Deletes this run's staged files (after a failure).
    pub async fn discard(&self) {
        let staging = format!("staging/{}", self.run_id);
        for path in self.list(&staging).await.unwrap_or_default() {
            let _ = self.delete(&path).await;
        }
        self.tidy_local(&staging);
    }
}

/// For tests of crash safety: `TRAILPQ_TEST_CRASH=<point>` ends the process abruptly there.
fn crash_point(point: &str) {
    if std::env::var("TRAILPQ_TEST_CRASH").is_ok_and(|p| p == point) {
        eprintln!("trailpq: simulated crash at {point}");
        std::process::abort();
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    // Without /proc we cannot tell; assume it is alive.
    !proc.exists() || proc.join(pid.to_string()).exists()
}
