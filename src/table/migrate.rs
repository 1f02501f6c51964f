//! Upgrading a destination written by trailpq before checkpoints (layout 1).
//!
//! Layout 1 kept `_trailpq/lock` (a lock file trusted by host and pid), `_trailpq/staging/<run>/`,
//! `_trailpq/journal/<run>.json` and one record per run, `_trailpq/runs/<run>.json`, which every
//! run read whole. The upgrade, under the new lease, finishes layout-1 journals with the roll-forward
//! rules of layout 2, deletes their leftovers, copies the runs' sources into the scoped state,
//! marks `table.json` as layout 2 and only then deletes the run records. Every step is safe to
//! repeat if the upgrade is interrupted.

use std::collections::BTreeMap;

use object_store::ObjectStoreExt;
use serde::Deserialize;

use super::commit::{Journal, finish_journal};
use super::io::{delete, delete_all, get_json, list, meta_path, now, put_json};
use super::state::{self, SourceEntry};
use super::{CommitError, Dest, LAYOUT_VERSION, MAIN_LEASE, Opened, TableMeta};
use crate::sources;

/// Sources held in memory before they are written out as segments.
const FLUSH_AT: usize = 200_000;

#[derive(Deserialize)]
struct RunV1 {
    run_id: String,
    #[serde(default)]
    sources: Vec<SourceEntry>,
}

#[derive(Deserialize)]
struct JournalV1 {
    record: RunV1,
    moves: Vec<(String, String)>,
}

pub(super) async fn run(
    dest: &Dest,
    meta: TableMeta,
    opened: &mut Opened,
) -> Result<TableMeta, CommitError> {
    let loc = &dest.loc;
    for path in list(loc, &meta_path(loc, "journal")).await? {
        let Some(old) = get_json::<JournalV1>(loc, &path).await? else {
            continue;
        };
        let journal = Journal {
            format: 1,
            lease: MAIN_LEASE.into(),
            run_id: old.record.run_id,
            checkpoint: 0,
            created: now(),
            trailpq_version: String::new(),
            records: 0,
            moves: old.moves,
            sources: by_scope(old.record.sources),
            removes: Vec::new(),
            delta: None,
        };
        finish_journal(loc, &journal, &path, opened).await?;
    }
    delete_all(loc, &meta_path(loc, "staging")).await?;
    delete_all(loc, &meta_path(loc, "journal")).await?;

    let records = list(loc, &meta_path(loc, "runs")).await?;
    let mut pending: Vec<SourceEntry> = Vec::new();
    let mut flushes = 0u32;
    let mut total = 0usize;
    for path in &records {
        if let Some(run) = get_json::<RunV1>(loc, path).await? {
            total += run.sources.len();
            pending.extend(run.sources);
        }
        if pending.len() >= FLUSH_AT {
            flush(dest, std::mem::take(&mut pending), &mut flushes).await?;
        }
    }
    flush(dest, pending, &mut flushes).await?;

    let upgraded = TableMeta {
        layout: LAYOUT_VERSION,
        ..meta
    };
    put_json(loc, &meta_path(loc, "table.json"), &upgraded).await?;
    for path in &records {
        delete(loc, path).await?;
    }
    let lock = meta_path(loc, "lock");
    if loc.store.head(&lock).await.is_ok() {
        delete(loc, &lock).await?;
        opened
            .notes
            .push("removed the lock file of an earlier trailpq version".into());
    }
    opened.notes.push(format!(
        "upgraded the bookkeeping of {} to layout {LAYOUT_VERSION}: {} run record(s), {total} source(s)",
        loc.given,
        records.len()
    ));
    Ok(upgraded)
}

fn by_scope(sources: Vec<SourceEntry>) -> BTreeMap<String, Vec<SourceEntry>> {
    let mut scopes: BTreeMap<String, Vec<SourceEntry>> = BTreeMap::new();
    for source in sources {
        scopes
            .entry(sources::scope(&source.key))
            .or_default()
            .push(source);
    }
    scopes
}

/// Writes migrated sources as segments `v1-migrated-<n>` in their scopes.
async fn flush(
    dest: &Dest,
    sources: Vec<SourceEntry>,
    flushes: &mut u32,
) -> Result<(), CommitError> {
    if sources.is_empty() {
        return Ok(());
    }
    *flushes += 1;
    state::write(&dest.loc, "v1-migrated", *flushes, &by_scope(sources)).await
}
