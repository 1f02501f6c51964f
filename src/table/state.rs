//! What was converted: the sources committed into the table, recorded per delivery folder.
//!
//! `_trailpq/state/<scope>/<run>-<checkpoint>.json` lists the sources of one committed checkpoint
//! that fall in one scope ([`crate::sources::scope`]: one CloudTrail delivery folder, such as
//! one account, region and day, or one plain folder). A run reads the segments of the scopes it
//! lists and nothing else, so a rerun costs what its own sources cost, however long the history.
//!
//! A scope's segments form a set union: a source is converted once any segment names it, and a
//! segment written twice, or merged into another, changes nothing. That makes every write safe to
//! repeat and lets concurrent writers (shards) share a scope. When a scope has [`MERGE_AT`]
//! segments, the next commit into it writes the union as its own segment and then deletes the
//! segments it merged.
//!
//! `_trailpq/watermarks/<lease>.json` keeps, per region folder of the CloudTrail layout, the newest
//! delivery day any segment records (raised before a commit's journal is written, so it is never
//! below what the state holds: days after it need no state read), and the day up to which every
//! delivery the lease listed is converted (where its next incremental listing starts). It grows
//! with the accounts and regions, not with the history.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use serde::{Deserialize, Serialize};

use super::CommitError;
use super::io::{
    CONCURRENCY, delete, files_in, get_json, meta_path, put_json, set_aside, subfolders,
};
use crate::store::Location;

/// Where a lease's incremental listing resumes: per region folder of the CloudTrail layout
/// ([`crate::sources::folder_key`]), the delivery day up to which everything the lease listed
/// there was converted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermarks {
    pub complete: BTreeMap<String, NaiveDate>,
}

impl Watermarks {
    /// Moves days forward (never back); whether anything changed.
    pub fn advance(&mut self, days: &BTreeMap<String, NaiveDate>) -> bool {
        let mut changed = false;
        for (folder, day) in days {
            match self.complete.get_mut(folder) {
                Some(mark) if *mark >= *day => {}
                Some(mark) => {
                    *mark = *day;
                    changed = true;
                }
                None => {
                    self.complete.insert(folder.clone(), *day);
                    changed = true;
                }
            }
        }
        changed
    }
}

fn watermarks_path(loc: &Location, lease: &str) -> Path {
    meta_path(loc, &format!("watermarks/{lease}.json"))
}

/// A lease's watermarks (none yet: empty). A damaged file only means listing more.
pub async fn read_watermarks(loc: &Location, lease: &str) -> Result<Watermarks, CommitError> {
    match get_json(loc, &watermarks_path(loc, lease)).await {
        Ok(marks) => Ok(marks.unwrap_or_default()),
        Err(CommitError::Corrupt(_)) => Ok(Watermarks::default()),
        Err(e) => Err(e),
    }
}

pub async fn write_watermarks(
    loc: &Location,
    lease: &str,
    marks: &Watermarks,
) -> Result<(), CommitError> {
    put_json(loc, &watermarks_path(loc, lease), marks).await
}

/// The delivery days of a region folder that have recorded state (one delimiter listing): the
/// scopes of other days need no reading.
pub async fn days_with_state(
    loc: &Location,
    folder: &str,
) -> Result<std::collections::BTreeSet<NaiveDate>, CommitError> {
    let dir = scope_dir(loc, folder);
    Ok(subfolders(loc, &dir)
        .await?
        .iter()
        .filter_map(|name| NaiveDate::parse_from_str(name, "%Y-%m-%d").ok())
        .collect())
}

/// Segments a scope may have before a commit merges them.
pub const MERGE_AT: usize = 8;

/// A source file as converted: identity and version, to recognise it next time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    pub key: String,
    pub size: u64,
    /// The object's ETag, or its modification time when the store has none.
    pub version: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Segment {
    sources: Vec<SourceEntry>,
}

/// What is recorded for one scope.
#[derive(Debug, Default)]
pub struct ScopeState {
    /// Converted sources, by key.
    pub sources: HashMap<String, SourceEntry>,
    /// The segments they were read from.
    segments: Vec<Path>,
    /// Segments that could not be read and were set aside: what to warn about.
    pub damaged: Vec<String>,
}

impl ScopeState {
    /// Whether the next commit into this scope should merge its segments.
    pub fn wants_merge(&self) -> bool {
        self.segments.len() >= MERGE_AT
    }
}

/// The folder of a scope's segments.
fn scope_dir(loc: &Location, scope: &str) -> Path {
    meta_path(loc, &format!("state/{scope}"))
}

/// The segment a checkpoint writes into a scope.
pub fn segment_path(loc: &Location, scope: &str, run_id: &str, checkpoint: u32) -> Path {
    meta_path(loc, &format!("state/{scope}/{run_id}-{checkpoint:04}.json"))
}

/// Reads what is recorded for one scope.
pub async fn load(loc: &Location, scope: &str) -> Result<ScopeState, CommitError> {
    let segments = files_in(loc, &scope_dir(loc, scope)).await?;
    let read: Vec<Result<Option<Segment>, CommitError>> = futures::stream::iter(segments.clone())
        .map(|path| async move { get_json::<Segment>(loc, &path).await })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    let mut state = ScopeState::default();
    for (path, segment) in segments.into_iter().zip(read) {
        match segment {
            Ok(Some(segment)) => state
                .sources
                .extend(segment.sources.into_iter().map(|s| (s.key.clone(), s))),
            Ok(None) => continue,
            // Damaged outside trailpq: set it aside rather than fail every run from now on.
            Err(CommitError::Corrupt(why)) => {
                let warning = set_aside(loc, &path, &why).await?;
                state.damaged.push(format!(
                    "{warning}; the sources it recorded are converted again, so their records may appear twice"
                ));
                continue;
            }
            Err(e) => return Err(e),
        }
        state.segments.push(path);
    }
    Ok(state)
}

/// Writes the segments of one checkpoint (`run_id`, `checkpoint`): `segments` maps each scope to
/// the sources to list in it.
pub async fn write(
    loc: &Location,
    run_id: &str,
    checkpoint: u32,
    segments: &BTreeMap<String, Vec<SourceEntry>>,
) -> Result<(), CommitError> {
    futures::stream::iter(segments)
        .map(|(scope, sources)| async move {
            let path = segment_path(loc, scope, run_id, checkpoint);
            let segment = Segment {
                sources: sources.clone(),
            };
            put_json(loc, &path, &segment).await
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Deletes segments (after a merge, or when a commit is undone).
pub async fn delete_segments(loc: &Location, paths: &[Path]) -> Result<(), CommitError> {
    futures::stream::iter(paths)
        .map(|path| delete(loc, path))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// What a commit writes into each scope, given what the run knows of it: the new sources, or,
/// where the scope has many segments, everything recorded there plus the new sources. Returns the
/// segments to delete once the commit is complete.
pub fn plan_segments(
    new: &BTreeMap<String, Vec<SourceEntry>>,
    known: &HashMap<String, Arc<ScopeState>>,
) -> (BTreeMap<String, Vec<SourceEntry>>, Vec<Path>) {
    let mut segments = BTreeMap::new();
    let mut merged = Vec::new();
    for (scope, sources) in new {
        match known.get(scope).filter(|s| s.wants_merge()) {
            Some(state) => {
                let mut all: BTreeMap<&str, &SourceEntry> = state
                    .sources
                    .values()
                    .map(|s| (s.key.as_str(), s))
                    .collect();
                all.extend(sources.iter().map(|s| (s.key.as_str(), s)));
                segments.insert(scope.clone(), all.into_values().cloned().collect());
                merged.extend(state.segments.iter().cloned());
            }
            None => {
                segments.insert(scope.clone(), sources.clone());
            }
        }
    }
    (segments, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> SourceEntry {
        SourceEntry {
            key: key.into(),
            size: 1,
            version: "v".into(),
        }
    }

    #[tokio::test]
    async fn segments_are_a_union_and_merge_when_many() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(dir.path().to_str().unwrap()).unwrap();
        for run in 0..(MERGE_AT + 3) {
            let run_id = format!("r{run:03}");
            let known = HashMap::from([(
                "dir/x".to_string(),
                Arc::new(load(&loc, "dir/x").await.unwrap()),
            )]);
            let new = BTreeMap::from([("dir/x".to_string(), vec![entry(&format!("k{run}"))])]);
            let (segments, merged) = plan_segments(&new, &known);
            write(&loc, &run_id, 0, &segments).await.unwrap();
            delete_segments(&loc, &merged).await.unwrap();
            let on_disk = load(&loc, "dir/x").await.unwrap();
            assert_eq!(on_disk.sources.len(), run + 1, "after run {run}");
            assert!(on_disk.segments.len() <= MERGE_AT, "{:?}", on_disk.segments);
        }
        // The same segment twice changes nothing.
        let new = BTreeMap::from([("dir/x".to_string(), vec![entry("k0")])]);
        write(&loc, "again", 0, &new).await.unwrap();
        assert_eq!(
            load(&loc, "dir/x").await.unwrap().sources.len(),
            MERGE_AT + 3
        );
        assert!(load(&loc, "dir/none").await.unwrap().sources.is_empty());
    }

    #[test]
    fn watermarks_only_move_forward() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
        let mut marks = Watermarks::default();
        assert!(marks.advance(&BTreeMap::from([("a".to_string(), day(3))])));
        assert!(!marks.advance(&BTreeMap::from([("a".to_string(), day(2))])));
        assert!(!marks.advance(&BTreeMap::from([("a".to_string(), day(3))])));
        assert!(marks.advance(&BTreeMap::from([("a".to_string(), day(4))])));
        assert_eq!(marks.complete["a"], day(4));
    }
}
