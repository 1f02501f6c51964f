//! Deciding what to read, file by file as the listing streams in: not the destination itself,
//! not digests, only this shard's share, and not what an earlier run converted (looked up in the
//! state of the file's delivery folder, read once per folder and only where state exists).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use object_store::ObjectMeta;
use tokio::sync::OnceCell;

use crate::error::{Error, Result};
use crate::listing::Found;
use crate::sources::{self, Kind, TrailKey};
use crate::store::Location;
use crate::table::state::{self, ScopeState, SourceEntry};

/// Folders and scopes whose state is kept in memory at once; beyond, the cache starts again.
const CACHED: usize = 4096;

/// One input file, with what is recorded of its scope.
#[derive(Debug, Clone)]
pub(super) struct SourceFile {
    pub loc: Arc<Location>,
    pub meta: ObjectMeta,
    /// File path or URL, as recorded in `source_key`.
    pub key: String,
    /// Where its conversion is recorded ([`sources::scope`]).
    pub scope: String,
    /// What was recorded there when the file was planned (for merging segments at commit).
    pub state: Arc<ScopeState>,
}

impl SourceFile {
    pub fn entry(&self) -> SourceEntry {
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

/// A share of the work: shard `index` of `count` (from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether a file is this shard's: by delivery folder (trail, account, region, day) for keys
    /// in the CloudTrail layout, so a day's files stay together; by key for any other file.
    pub fn owns(&self, key: &str) -> bool {
        let hash = match TrailKey::parse(key) {
            Some(t) => sources::fnv64(&format!(
                "{}|{}|{}|{}|{}",
                t.root,
                t.account,
                t.kind.dir(),
                t.region,
                t.day
            )),
            None => sources::fnv64(key),
        };
        hash % u64::from(self.count) == u64::from(self.index)
    }

    /// The lease of this shard: shards of one count work side by side.
    pub fn lease_name(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `I/N` (I from 0 to N-1), or `auto/N` to take I from the environment of a Kubernetes
    /// Indexed Job (`JOB_COMPLETION_INDEX`) or an AWS Batch array job
    /// (`AWS_BATCH_JOB_ARRAY_INDEX`).
    fn from_str(text: &str) -> Result<Self, String> {
        let usage = || format!("'{text}' is not a shard: write I/N (0 <= I < N) or auto/N");
        let (index, count) = text.split_once('/').ok_or_else(usage)?;
        let count: u32 = count.trim().parse().map_err(|_| usage())?;
        let index: u32 = match index.trim() {
            "auto" => {
                let (var, value) = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
                    .iter()
                    .find_map(|v| Some((*v, std::env::var(v).ok()?)))
                    .ok_or_else(|| {
                        "--shard auto/N needs JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or \
                         AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job) in the environment; \
                         elsewhere give the index: --shard I/N"
                            .to_string()
                    })?;
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("{var}='{value}' is not a shard index"))?
            }
            index => index.parse().map_err(|_| usage())?,
        };
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

/// What the planner decided for one listed file.
pub(super) enum Decision {
    /// Read and convert it; `changed` when an earlier run converted an earlier version.
    Convert { file: SourceFile, changed: bool },
    /// Not read (a reason for the report).
    Skip { key: String, reason: String },
    /// Converted before and not changed since.
    Unchanged,
    /// Another shard's.
    OtherShard,
}

/// Decides, for each listed file, whether to read it.
pub(super) struct Planner {
    dest: Location,
    /// `DEST/` as keys are written, to keep the table out of its own input.
    dest_prefix: String,
    shard: Option<Shard>,
    /// Days of each region folder that have recorded state.
    days: Cache<BTreeSet<NaiveDate>>,
    scopes: Cache<ScopeState>,
    empty: Arc<ScopeState>,
}

impl Planner {
    pub fn new(dest: Location, shard: Option<Shard>) -> Self {
        let dest_prefix = format!("{}/", dest.display(&dest.prefix).trim_end_matches('/'));
        Planner {
            dest,
            dest_prefix,
            shard,
            days: Mutex::new(HashMap::new()),
            scopes: Mutex::new(HashMap::new()),
            empty: Arc::new(ScopeState::default()),
        }
    }

    pub async fn decide(&self, found: Found) -> Result<Decision> {
        let key = found.loc.display(&found.meta.location);
        let trail = TrailKey::parse(&key);
        if key.starts_with(&self.dest_prefix) {
            return Ok(Decision::Skip {
                key,
                reason: "part of the destination".into(),
            });
        }
        if key.contains("/CloudTrail-Digest/")
            || trail.as_ref().is_some_and(|t| t.kind == Kind::Digest)
        {
            return Ok(Decision::Skip {
                key,
                reason: "CloudTrail digest file".into(),
            });
        }
        if self.shard.is_some_and(|s| !s.owns(&key)) {
            return Ok(Decision::OtherShard);
        }
        let scope = sources::scope(&key);
        let state = self.state(&scope).await?;
        let file = SourceFile {
            loc: found.loc,
            meta: found.meta,
            key,
            scope,
            state,
        };
        Ok(match file.state.sources.get(&file.key) {
            Some(entry) if *entry == file.entry() => Decision::Unchanged,
            Some(_) => Decision::Convert {
                file,
                changed: true,
            },
            None => Decision::Convert {
                file,
                changed: false,
            },
        })
    }

    /// What is recorded for a scope: read once (concurrent callers share the read), and not at
    /// all for a delivery day whose folder has no state.
    async fn state(&self, scope: &str) -> Result<Arc<ScopeState>> {
        if let Some((folder, day)) = sources::split_scope(scope) {
            let days = cached(&self.days, folder, || async {
                state::days_with_state(&self.dest, folder)
                    .await
                    .map(Arc::new)
            })
            .await?;
            if !days.contains(&day) {
                return Ok(self.empty.clone());
            }
        }
        cached(&self.scopes, scope, || async {
            state::load(&self.dest, scope).await.map(Arc::new)
        })
        .await
    }
}

/// Values read once per key and shared by concurrent readers.
type Cache<T> = Mutex<HashMap<String, Arc<OnceCell<Arc<T>>>>>;

/// A value computed once per key, shared by concurrent callers; the cache starts again when it
/// holds too many.
async fn cached<T, F, Fut>(cache: &Cache<T>, key: &str, load: F) -> Result<Arc<T>>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Arc<T>, crate::table::CommitError>>,
{
    let cell = {
        let mut cache = cache.lock().unwrap();
        if cache.len() >= CACHED && !cache.contains_key(key) {
            cache.clear();
        }
        cache.entry(key.to_string()).or_default().clone()
    };
    cell.get_or_try_init(load)
        .await
        .cloned()
        .map_err(Error::from)
}

/// Which files are still being read, per region folder and day, so that a folder's watermark
/// never passes a day with a file in flight or one the store would not give.
#[derive(Debug, Default)]
pub(super) struct Outstanding {
    folders: Mutex<HashMap<String, Folder>>,
}

#[derive(Debug, Default)]
struct Folder {
    pending: BTreeMap<NaiveDate, usize>,
    newest: Option<NaiveDate>,
}

impl Outstanding {
    /// A file of this scope is being read.
    pub fn started(&self, scope: &str) {
        if let Some((folder, day)) = sources::split_scope(scope) {
            let mut folders = self.folders.lock().unwrap();
            let folder = folders.entry(folder.to_string()).or_default();
            *folder.pending.entry(day).or_default() += 1;
            folder.newest = folder.newest.max(Some(day));
        }
    }

    /// A file of this scope is done (converted, skipped or quarantined).
    pub fn finished(&self, scope: &str) {
        if let Some((folder, day)) = sources::split_scope(scope) {
            let mut folders = self.folders.lock().unwrap();
            if let Some(folder) = folders.get_mut(folder)
                && let Some(n) = folder.pending.get_mut(&day)
            {
                *n -= 1;
                if *n == 0 {
                    folder.pending.remove(&day);
                }
            }
        }
    }

    /// Per region folder: the day up to which every file started is finished.
    pub fn complete(&self) -> BTreeMap<String, NaiveDate> {
        let folders = self.folders.lock().unwrap();
        folders
            .iter()
            .filter_map(|(key, folder)| {
                let day = match folder.pending.keys().next() {
                    Some(oldest) => oldest.pred_opt()?,
                    None => folder.newest?,
                };
                Some((key.clone(), day))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_by_delivery_folder_and_take_auto_indexes() {
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        let key = |acct: &str, day: u32, name: &str| {
            format!("s3://b/AWSLogs/{acct}/CloudTrail/us-east-1/2024/05/{day:02}/{name}")
        };
        for day in 1..=20 {
            for acct in ["111122223333", "444455556666"] {
                let owners: Vec<u32> = shards
                    .iter()
                    .filter(|s| s.owns(&key(acct, day, "a.json.gz")))
                    .map(|s| s.index)
                    .collect();
                assert_eq!(owners.len(), 1, "exactly one shard owns each file");
                // A day's folder stays with one shard.
                assert!(shards[owners[0] as usize].owns(&key(acct, day, "b.json.gz")));
            }
        }
        let spread: BTreeSet<u32> = (1..=30)
            .map(|d| {
                shards
                    .iter()
                    .find(|s| s.owns(&key("111122223333", d, "x")))
                    .unwrap()
                    .index
            })
            .collect();
        assert_eq!(spread.len(), 3, "days spread over the shards");
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().unwrap_err().contains("I/N"));
        assert_eq!(Shard { index: 2, count: 4 }.lease_name(), "shard-2-of-4");
    }

    #[test]
    fn the_watermark_stops_before_a_day_still_in_flight() {
        let scope = |d: u32| {
            sources::scope(&format!(
                "s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/{d:02}/f.json.gz"
            ))
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2024, 5, d).unwrap();
        let out = Outstanding::default();
        for d in [3, 4, 5] {
            out.started(&scope(d));
        }
        out.finished(&scope(3));
        out.finished(&scope(5));
        let complete = out.complete();
        assert_eq!(complete.values().copied().collect::<Vec<_>>(), [day(3)]);
        out.finished(&scope(4));
        assert_eq!(
            out.complete().values().copied().collect::<Vec<_>>(),
            [day(5)]
        );
        // Plain folders have no watermark.
        out.started(&sources::scope("/in/a.json"));
        assert_eq!(out.complete().len(), 1);
    }
}
