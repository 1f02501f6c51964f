//! Listing sources: walking the CloudTrail delivery layout with delimiter listings, and streaming
//! what is found to the converters while the listing goes on. `convert` and `verify` list here.
//!
//! A SOURCE is first resolved: one object, or a folder (on an object store by a listing, never by
//! the error code of a HEAD, so a folder means the same with or without its trailing `/` on
//! every store). Under a folder, levels are read one at a time until the layout shows:
//! `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Insight|-Digest]/REGION/YYYY/MM/DD/NAME`.
//! Accounts and regions are discovered with delimiter listings (and filtered by
//! `--accounts`/`--regions`); only the delivery folders asked for are entered (logs and Insights
//! for `convert`, digests for `verify`). Within a region, keys come in day order, so only the
//! days asked for are listed: from `--since` (or, on an object store, from the day before the
//! newest day already converted there, when the run is incremental) to `--until`. Anything that
//! is not in the layout is listed completely. Every object under a SOURCE is listed once, and
//! memory does not grow with the number of objects: what is found goes through a bounded channel.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use futures::StreamExt;
use object_store::list::{PaginatedListOptions, PaginatedListResult, PaginatedListStore};
use object_store::path::Path;
use object_store::{ListResult, ObjectMeta};
use tokio::sync::{Semaphore, mpsc};

use crate::sources::{Kind, TrailKey, folder_key, is_account, is_region};
use crate::store::{Location, StoreError, describe};

/// Listing requests in flight at once, over all sources.
const CONCURRENCY: usize = 16;
/// Objects found and not yet taken by the run.
const BUFFERED: usize = 4096;
/// Days before the newest converted day that an incremental listing starts at: deliveries are
/// late by minutes, rarely by hours.
pub const MARGIN_DAYS: u64 = 1;

/// What to list.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Delivery days, inclusive.
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
    pub accounts: Option<BTreeSet<String>>,
    pub regions: Option<BTreeSet<String>>,
    /// Ignore where earlier runs got to: list every day (within since/until).
    pub full_scan: bool,
    /// Per region folder ([`folder_key`]): the day up to which every delivery this lease listed
    /// was converted. An incremental listing starts a day before it.
    pub complete: HashMap<String, NaiveDate>,
    /// The delivery folders entered below an account: logs and Insights unless told otherwise.
    pub kinds: Vec<Kind>,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            since: None,
            until: None,
            accounts: None,
            regions: None,
            full_scan: false,
            complete: HashMap::new(),
            kinds: vec![Kind::Logs, Kind::Insight],
        }
    }
}

impl ListOptions {
    /// Whether a key in the layout is one the run asked for (by account, region and day).
    pub fn wants(&self, key: &TrailKey<'_>) -> bool {
        self.since.is_none_or(|d| key.day >= d)
            && self.until.is_none_or(|d| key.day <= d)
            && self.account_wanted(key.account)
            && self.region_wanted(key.region)
    }

    fn account_wanted(&self, account: &str) -> bool {
        self.accounts.as_ref().is_none_or(|a| a.contains(account))
    }

    fn region_wanted(&self, region: &str) -> bool {
        self.regions.as_ref().is_none_or(|r| r.contains(region))
    }
}

/// Counts of the listing, for the report; and which region folders were listed without a gap
/// since what the lease had converted there (only those may move their watermark).
#[derive(Debug, Default)]
pub struct ListStats {
    pub requests: AtomicU64,
    pub keys: AtomicU64,
    unbroken: Mutex<HashSet<String>>,
}

impl ListStats {
    fn count(&self, requests: u64, keys: u64) {
        self.requests.fetch_add(requests, Ordering::Relaxed);
        self.keys.fetch_add(keys, Ordering::Relaxed);
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn keys(&self) -> u64 {
        self.keys.load(Ordering::Relaxed)
    }

    /// Whether the region folder ([`folder_key`]) was listed from its first day, or from no later
    /// than the day after its watermark: only then does "every day up to D was converted" hold
    /// for the days this run converts.
    pub fn unbroken(&self, folder: &str) -> bool {
        self.unbroken.lock().unwrap().contains(folder)
    }
}

/// An object found under a SOURCE.
#[derive(Debug)]
pub struct Found {
    pub loc: Arc<Location>,
    pub meta: ObjectMeta,
}

/// A region's delivery folder: `…/AWSLogs/[o-ORG/]ACCOUNT/KIND/REGION`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Region {
    /// Its path in the store.
    path: Path,
    /// Its key among watermarks ([`folder_key`]).
    key: String,
}

/// Where a folder sits in the layout, which decides how it is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    /// Above `AWSLogs`, this many folders down from the SOURCE.
    Top(u8),
    AwsLogs,
    Org,
    Account,
    Kind,
    /// A region's folder, or a year, month or day folder in it: its keys, in day order.
    Days(Region),
    /// Not in the layout: everything under it.
    Everything,
}

/// Folders above `AWSLogs` searched for it; deeper, a folder is listed whole.
const TOP_DEPTH: u8 = 2;

/// What a SOURCE names.
enum Resolved {
    Object(ObjectMeta),
    Folder,
}

/// Lists several SOURCEs (each once: see `distinct_sources` in convert). Each SOURCE is resolved
/// before this returns, so one that does not exist or cannot be read stops the run before
/// anything is written; the rest streams into the returned channel while the run goes on.
pub async fn list(
    sources: Vec<Arc<Location>>,
    options: Arc<ListOptions>,
    stats: Arc<ListStats>,
) -> Result<mpsc::Receiver<Result<Found, StoreError>>, StoreError> {
    let (tx, rx) = mpsc::channel(BUFFERED);
    let walker = Walker {
        options,
        stats,
        permits: Arc::new(Semaphore::new(CONCURRENCY)),
        tx,
    };
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for loc in sources {
        match walker.resolve(&loc).await? {
            Resolved::Object(meta) => files.push(Found { loc, meta }),
            Resolved::Folder => folders.push(loc),
        }
    }
    for loc in folders {
        let level = level_of(&loc);
        let prefix = loc.prefix.clone();
        walker.spawn(loc, prefix, level);
    }
    // Sent from a task: the channel is bounded, and nobody reads it before this returns.
    tokio::spawn(async move {
        for found in files {
            if walker.tx.send(Ok(found)).await.is_err() {
                return;
            }
        }
    });
    Ok(rx)
}

/// One object as a listing describes it, or `None` when it is not there. The watcher looks up
/// the objects it is told of this way: a listing's size, ETag and time are what `convert` records
/// for the same object, which a HEAD's need not be on every store (s3s-fs lists no ETags).
pub async fn object(loc: &Location, path: &Path) -> Result<Option<ObjectMeta>, String> {
    let Some(pager) = &loc.pager else {
        return match object_store::ObjectStoreExt::head(&loc.store, path).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(describe(&e)),
        };
    };
    let key = path.as_ref();
    // Keys come in order, and the key itself sorts before every longer key it begins.
    let options = PaginatedListOptions {
        max_keys: Some(1),
        ..Default::default()
    };
    let page = pager
        .list_paginated(Some(key), options)
        .await
        .map_err(|e| describe(&e))?;
    Ok(page
        .result
        .objects
        .into_iter()
        .find(|o| o.location.as_ref() == key))
}

/// The SOURCE arguments, each once: one inside another (a file in a folder also given, the same
/// folder twice) is read as part of the outer one.
pub fn distinct_sources(given: &[String]) -> Result<Vec<Arc<Location>>, StoreError> {
    let mut locations: Vec<Location> = Vec::new();
    for text in given {
        locations.push(Location::parse(text)?);
    }
    let base = |l: &Location| l.base_url.as_ref().map(|u| u.to_string());
    let inside = |inner: &Location, outer: &Location| {
        let (i, o) = (inner.prefix.as_ref(), outer.prefix.as_ref());
        base(inner) == base(outer)
            && (o.is_empty() || i.strip_prefix(o).is_some_and(|r| r.starts_with('/')))
    };
    let mut kept: Vec<Location> = Vec::new();
    for loc in locations {
        if kept
            .iter()
            .any(|k| inside(&loc, k) || (base(&loc) == base(k) && loc.prefix == k.prefix))
        {
            continue;
        }
        kept.retain(|k| !inside(k, &loc));
        kept.push(loc);
    }
    Ok(kept.into_iter().map(Arc::new).collect())
}

/// Where the SOURCE itself sits in the layout, from its path.
fn level_of(loc: &Location) -> Level {
    let parts: Vec<&str> = loc
        .prefix
        .as_ref()
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let Some(at) = parts.iter().rposition(|p| *p == "AWSLogs") else {
        return Level::Top(0);
    };
    let mut rest = &parts[at + 1..];
    let org = rest.first().is_some_and(|p| p.starts_with("o-"));
    if org {
        rest = &rest[1..];
    }
    let kind = |name: &str| Kind::parse(name).is_some();
    let date = |parts: &[&str]| {
        parts
            .iter()
            .zip([4, 2, 2])
            .all(|(p, len)| p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
    };
    match rest {
        [] if org => Level::Org,
        [] => Level::AwsLogs,
        [_account] => Level::Account,
        [_, k] if kind(k) => Level::Kind,
        [_, k, _, days @ ..] if kind(k) && days.len() <= 3 && date(days) => {
            let region_parts = parts.len() - days.len();
            let path = Path::from_iter(parts[..region_parts].iter().copied());
            region_of(loc, path).map_or(Level::Everything, Level::Days)
        }
        _ => Level::Everything,
    }
}

/// The region folder at `path`, if it is one in the layout.
fn region_of(loc: &Location, path: Path) -> Option<Region> {
    let key = format!("{}/2000/01/01/x", loc.display(&path));
    let t = TrailKey::parse(&key)?;
    Some(Region {
        key: folder_key(t.root, t.account, t.kind, t.region),
        path,
    })
}

#[derive(Clone)]
struct Walker {
    options: Arc<ListOptions>,
    stats: Arc<ListStats>,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<Result<Found, StoreError>>,
}

impl Walker {
    fn error(loc: &Location, e: object_store::Error) -> StoreError {
        StoreError::Access {
            location: loc.given.clone(),
            message: describe(&e),
        }
    }

    /// Whether a SOURCE names one object or a folder; an error if it is neither or cannot be
    /// read. On an object store, by a listing: a HEAD of a folder fails differently on each
    /// store (S3 404, others 500), a listing says what is there.
    async fn resolve(&self, loc: &Location) -> Result<Resolved, StoreError> {
        let Some(pager) = &loc.pager else {
            return local(loc).await;
        };
        let key = loc.prefix.as_ref();
        let _permit = self.permits.acquire().await.expect("never closed");
        if key.is_empty() || loc.given.ends_with('/') {
            // A folder by its spelling: it exists if anything is under it.
            let options = PaginatedListOptions {
                delimiter: Some("/".into()),
                max_keys: Some(1),
                ..Default::default()
            };
            let page = self
                .page(loc, pager, folder_prefix(&loc.prefix).as_deref(), options)
                .await?;
            return match page.result.objects.is_empty() && page.result.common_prefixes.is_empty() {
                true => Err(StoreError::NotFound(loc.given.clone())),
                false => Ok(Resolved::Folder),
            };
        }
        // `KEY` as an object, or `KEY/` as a folder: both sort among the keys starting with KEY,
        // before anything after `KEY/`.
        let folder = format!("{key}/");
        let mut token = None;
        loop {
            let options = PaginatedListOptions {
                delimiter: Some("/".into()),
                page_token: token.take(),
                ..Default::default()
            };
            let page = self.page(loc, pager, Some(key), options).await?;
            if let Some(meta) = page
                .result
                .objects
                .into_iter()
                .find(|o| o.location.as_ref() == key)
            {
                return Ok(Resolved::Object(meta));
            }
            let prefixes = &page.result.common_prefixes;
            if prefixes.iter().any(|p| p.as_ref() == key) {
                return Ok(Resolved::Folder);
            }
            // Keys come in order: once one sorts after `KEY/`, neither is there.
            let past = prefixes
                .iter()
                .map(|p| format!("{}/", p.as_ref()))
                .any(|p| p > folder);
            match page.page_token {
                Some(next) if !past => token = Some(next),
                _ => return Err(StoreError::NotFound(loc.given.clone())),
            }
        }
    }

    /// Lists a folder at its level, in a task of its own; a failure goes down the channel.
    fn spawn(&self, loc: Arc<Location>, prefix: Path, level: Level) {
        let walker = self.clone();
        tokio::spawn(async move {
            if let Err(e) = walker.walk(&loc, &prefix, level).await {
                let _ = walker.tx.send(Err(e)).await;
            }
        });
    }

    /// Lists one folder: a region's days as far as asked for, anything outside the layout whole,
    /// and any level above the region one level down, walking on into the subfolders.
    async fn walk(
        &self,
        loc: &Arc<Location>,
        prefix: &Path,
        level: Level,
    ) -> Result<(), StoreError> {
        match level {
            Level::Days(region) => {
                let (from, stop) = self.days(loc, prefix, &region);
                self.objects(loc, prefix, from, stop).await
            }
            Level::Everything => self.objects(loc, prefix, None, None).await,
            level => {
                let list = self.folder(loc, prefix).await?;
                self.emit(loc, list.objects).await;
                for sub in list.common_prefixes {
                    if let Some(next) = self.below(loc, &level, &sub) {
                        self.spawn(loc.clone(), sub, next);
                    }
                }
                Ok(())
            }
        }
    }

    /// The level of subfolder `sub` of a folder at `level`; `None` to leave it unlisted.
    fn below(&self, loc: &Location, level: &Level, sub: &Path) -> Option<Level> {
        let name = sub.filename().unwrap_or_default();
        match level {
            Level::Top(_) if name == "AWSLogs" => Some(Level::AwsLogs),
            Level::Top(depth) if *depth < TOP_DEPTH => Some(Level::Top(depth + 1)),
            Level::AwsLogs if name.starts_with("o-") => Some(Level::Org),
            Level::AwsLogs | Level::Org if is_account(name) => {
                self.options.account_wanted(name).then_some(Level::Account)
            }
            Level::Account => match Kind::parse(name) {
                // Only the delivery folders asked for (digests hold no records).
                Some(kind) => self.options.kinds.contains(&kind).then_some(Level::Kind),
                None => Some(Level::Everything),
            },
            Level::Kind if is_region(name) => match self.options.region_wanted(name) {
                true => Some(region_of(loc, sub.clone()).map_or(Level::Everything, Level::Days)),
                false => None,
            },
            _ => Some(Level::Everything),
        }
    }

    /// Where to start and stop listing (a key to start after, a key past the last day) in a
    /// region's folder, listing `prefix` (the region's folder or one inside it). Notes whether
    /// the listing leaves no gap after what the lease converted there before.
    fn days(
        &self,
        loc: &Location,
        prefix: &Path,
        region: &Region,
    ) -> (Option<String>, Option<String>) {
        let options = &self.options;
        let watermark = options.complete.get(&region.key).copied();
        let whole_region = *prefix == region.path;
        // An incremental listing resumes a day before the watermark; only object stores list in
        // key order, which that needs (a day is done once a later day's file has been listed).
        let resume = (!options.full_scan && loc.pager.is_some())
            .then(|| watermark?.checked_sub_days(chrono::Days::new(MARGIN_DAYS)))
            .flatten();
        let since = options.since.or(resume);
        let unbroken = whole_region
            && match (since, watermark) {
                (None, _) => true,
                (Some(since), Some(mark)) => since <= mark.succ_opt().unwrap_or(mark),
                (Some(_), None) => false,
            };
        if unbroken {
            self.stats
                .unbroken
                .lock()
                .unwrap()
                .insert(region.key.clone());
        }
        let region_path = region.path.as_ref();
        let from = since.map(|d| format!("{region_path}/{}", d.format("%Y/%m/%d")));
        let stop = options
            .until
            .map(|d| format!("{region_path}/{}/~", d.format("%Y/%m/%d")));
        (from, stop)
    }

    /// Every object under `prefix`, page by page, from the first key after `from` and up to the
    /// page that passes `stop` (keys beyond it are dropped by [`Self::send`]'s day filter). A
    /// local folder is one walk, in no order, wholly filtered by day.
    async fn objects(
        &self,
        loc: &Arc<Location>,
        prefix: &Path,
        from: Option<String>,
        stop: Option<String>,
    ) -> Result<(), StoreError> {
        let Some(pager) = &loc.pager else {
            let _permit = self.permits.acquire().await.expect("never closed");
            self.stats.count(1, 0);
            let mut stream = loc.store.list(Some(prefix));
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(|e| Self::error(loc, e))?;
                self.stats.count(0, 1);
                if self.send(loc, meta).await.is_err() {
                    return Ok(());
                }
            }
            return Ok(());
        };
        let folder = folder_prefix(prefix);
        let mut token = None;
        loop {
            let options = PaginatedListOptions {
                offset: from.clone(),
                page_token: token.take(),
                ..Default::default()
            };
            let page = {
                let _permit = self.permits.acquire().await.expect("never closed");
                self.page(loc, pager, folder.as_deref(), options).await?
            };
            let objects = page.result.objects;
            let past = stop.as_ref().is_some_and(|stop| {
                objects
                    .last()
                    .is_some_and(|o| o.location.as_ref() > stop.as_str())
            });
            self.emit(loc, objects).await;
            match page.page_token {
                Some(next) if !past => token = Some(next),
                _ => return Ok(()),
            }
        }
    }

    /// One level of a folder: its objects and subfolders (every page of them).
    async fn folder(&self, loc: &Location, prefix: &Path) -> Result<ListResult, StoreError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        let Some(pager) = &loc.pager else {
            self.stats.count(1, 0);
            let list = loc
                .store
                .list_with_delimiter(Some(prefix))
                .await
                .map_err(|e| Self::error(loc, e))?;
            self.stats.count(0, list.objects.len() as u64);
            return Ok(list);
        };
        let folder = folder_prefix(prefix);
        let mut all = ListResult {
            common_prefixes: Vec::new(),
            objects: Vec::new(),
        };
        let mut token = None;
        loop {
            let options = PaginatedListOptions {
                delimiter: Some("/".into()),
                page_token: token.take(),
                ..Default::default()
            };
            let page = self.page(loc, pager, folder.as_deref(), options).await?;
            all.objects.extend(page.result.objects);
            all.common_prefixes.extend(page.result.common_prefixes);
            match page.page_token {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// One listing request of an object store, counted.
    async fn page(
        &self,
        loc: &Location,
        pager: &Arc<dyn PaginatedListStore>,
        prefix: Option<&str>,
        options: PaginatedListOptions,
    ) -> Result<PaginatedListResult, StoreError> {
        self.stats.count(1, 0);
        let page = pager
            .list_paginated(prefix, options)
            .await
            .map_err(|e| Self::error(loc, e))?;
        self.stats.count(0, page.result.objects.len() as u64);
        Ok(page)
    }

    /// Hands objects on, keeping only the ones asked for.
    async fn emit(&self, loc: &Arc<Location>, objects: Vec<ObjectMeta>) {
        for meta in objects {
            if self.send(loc, meta).await.is_err() {
                return;
            }
        }
    }

    async fn send(&self, loc: &Arc<Location>, meta: ObjectMeta) -> Result<(), ()> {
        let key = loc.display(&meta.location);
        if TrailKey::parse(&key).is_some_and(|t| !self.options.wants(&t)) {
            return Ok(());
        }
        self.tx
            .send(Ok(Found {
                loc: loc.clone(),
                meta,
            }))
            .await
            .map_err(|_| ())
    }
}

/// A local SOURCE: a file, or a folder that can be read.
async fn local(loc: &Location) -> Result<Resolved, StoreError> {
    let path = std::path::PathBuf::from(loc.display(&loc.prefix));
    let access = |message: String| StoreError::Access {
        location: loc.given.clone(),
        message,
    };
    let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => StoreError::NotFound(loc.given.clone()),
        _ => access(e.to_string()),
    })?;
    if meta.is_file() {
        use object_store::ObjectStoreExt;
        let meta = loc
            .store
            .head(&loc.prefix)
            .await
            .map_err(|e| access(describe(&e)))?;
        return Ok(Resolved::Object(meta));
    }
    std::fs::read_dir(&path).map_err(|e| access(e.to_string()))?;
    Ok(Resolved::Folder)
}

/// The prefix of a folder as a paginated listing wants it: with its trailing `/`.
fn folder_prefix(prefix: &Path) -> Option<String> {
    (!prefix.as_ref().is_empty()).then(|| format!("{}/", prefix.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn found(root: &Path, options: ListOptions) -> Vec<String> {
        let loc = Arc::new(Location::parse(&format!("/{}", root.as_ref())).unwrap());
        let stats = Arc::new(ListStats::default());
        let mut rx = list(vec![loc.clone()], Arc::new(options), stats)
            .await
            .unwrap();
        let mut keys = Vec::new();
        while let Some(found) = rx.recv().await {
            keys.push(loc.relative(&found.unwrap().meta.location));
        }
        keys.sort();
        keys
    }

    #[tokio::test]
    async fn a_layout_is_walked_by_account_region_and_day() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/01/a.json",
            "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/02/b.json",
            "AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2024/05/02/d.json",
            "AWSLogs/222222222222/CloudTrail/eu-west-1/2024/05/02/c.json",
            "AWSLogs/222222222222/elsewhere/e.json",
            "other/deep/er/x.json",
            "README.md",
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "{}").unwrap();
        }
        let root = Path::from_absolute_path(dir.path()).unwrap();
        let everything = found(&root, ListOptions::default()).await;
        assert_eq!(
            everything,
            [
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/01/a.json",
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/02/b.json",
                "AWSLogs/222222222222/CloudTrail/eu-west-1/2024/05/02/c.json",
                "AWSLogs/222222222222/elsewhere/e.json",
                "README.md",
                "other/deep/er/x.json",
            ],
            "digest folders are not listed"
        );
        let day = NaiveDate::from_ymd_opt(2024, 5, 2).unwrap();
        let some = found(
            &root,
            ListOptions {
                since: Some(day),
                accounts: Some(BTreeSet::from(["111111111111".to_string()])),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(
            some,
            [
                "AWSLogs/111111111111/CloudTrail/us-east-1/2024/05/02/b.json",
                "README.md",
                "other/deep/er/x.json",
            ],
            "filters select layout files only"
        );
    }

    #[test]
    fn sources_inside_others_are_read_once() {
        let kept = distinct_sources(&[
            "/data".into(),
            "/data/a.json".into(),
            "/data".into(),
            "/database".into(),
            "s3://b/x/".into(),
            "s3://b/x/y/".into(),
            "s3://c/x/".into(),
        ])
        .unwrap();
        let shown: Vec<String> = kept.iter().map(|l| l.display(&l.prefix)).collect();
        assert_eq!(shown, ["/data", "/database", "s3://b/x", "s3://c/x"]);
    }

    #[test]
    fn a_source_inside_the_layout_starts_at_its_level() {
        let level = |s: &str| level_of(&Location::parse(s).unwrap());
        assert_eq!(level("s3://b/"), Level::Top(0));
        assert_eq!(level("s3://b/x/AWSLogs/"), Level::AwsLogs);
        assert_eq!(level("s3://b/AWSLogs/o-abc/"), Level::Org);
        assert_eq!(level("s3://b/AWSLogs/o-abc/111111111111"), Level::Account);
        assert_eq!(
            level("s3://b/AWSLogs/111111111111/CloudTrail/"),
            Level::Kind
        );
        let region = Region {
            path: Path::from("AWSLogs/o-abc/111111111111/CloudTrail-Insight/eu-west-1"),
            key: folder_key(
                "s3://b/AWSLogs/o-abc",
                "111111111111",
                Kind::Insight,
                "eu-west-1",
            ),
        };
        // The region's folder and the year, month and day folders in it, with or without `/`.
        for tail in ["", "/", "/2024", "/2024/05/", "/2024/05/01", "/2024/05/01/"] {
            assert_eq!(
                level(&format!(
                    "s3://b/AWSLogs/o-abc/111111111111/CloudTrail-Insight/eu-west-1{tail}"
                )),
                Level::Days(region.clone()),
                "{tail}"
            );
        }
        assert_eq!(
            level("s3://b/AWSLogs/111111111111/CloudTrail/eu-west-1/2024/x/"),
            Level::Everything
        );
        assert_eq!(
            level("s3://b/AWSLogs/111111111111/Other/eu-west-1/"),
            Level::Everything
        );
    }
}
