//! Listing sources: walking the CloudTrail delivery layout with delimiter listings, and streaming
//! what is found to the converters while the listing goes on.
//!
//! Under any SOURCE, folders are read one level at a time until the layout shows:
//! `[prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail[-Insight]/REGION/YYYY/MM/DD/NAME`. Accounts and
//! regions are discovered with delimiter listings (and filtered by `--accounts`/`--regions`);
//! `CloudTrail-Digest/` folders are not listed. Within a region, keys come in day order, so only
//! the days asked for are listed: from `--since` (or, on an object store, from the day before the
//! newest day already converted there, when the run is incremental) to `--until`. Anything that
//! is not in the layout is listed completely. Memory does not grow with the number of objects:
//! what is found goes through a bounded channel.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use futures::StreamExt;
use object_store::list::PaginatedListOptions;
use object_store::path::Path;
use object_store::{ListResult, ObjectMeta};
use tokio::sync::{Semaphore, mpsc};

use crate::sources::{Kind, TrailKey, folder_key};
use crate::store::{Location, StoreError, describe};

/// Listing requests in flight at once, over all sources.
const CONCURRENCY: usize = 16;
/// Objects found and not yet taken by the run.
const BUFFERED: usize = 4096;
/// Days before the newest converted day that an incremental listing starts at: deliveries are
/// late by minutes, rarely by hours.
pub const MARGIN_DAYS: u64 = 1;

/// What to list.
#[derive(Debug, Clone, Default)]
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

/// Counts of the listing, for the report.
#[derive(Debug, Default)]
pub struct ListStats {
    pub requests: AtomicU64,
    pub keys: AtomicU64,
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
}

/// An object found under a SOURCE.
#[derive(Debug)]
pub struct Found {
    pub loc: Arc<Location>,
    pub meta: ObjectMeta,
}

/// Where a folder sits in the layout, which decides how it is listed.
#[derive(Debug, Clone)]
enum Level {
    /// Above `AWSLogs`, this many folders down from the SOURCE.
    Top(u8),
    AwsLogs,
    Org,
    Account,
    Kind,
    /// A region's folder: its days, in order.
    Region {
        root: String,
        account: String,
        kind: Kind,
        region: String,
    },
    /// Not in the layout, or deeper than the region: everything under it.
    Everything,
}

/// Folders above `AWSLogs` searched for it; deeper, a folder is listed whole.
const TOP_DEPTH: u8 = 2;

/// Lists several SOURCEs. The first listing of each happens before this returns, so a SOURCE
/// that does not exist or cannot be read stops the run before anything is written; the rest
/// streams into the returned channel while the run goes on.
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
        let level = level_of(&loc);
        match single_file(&loc, &walker.stats).await? {
            Some(meta) => files.push(Found { loc, meta }),
            None => {
                let first = walker.first(&loc, &level).await?;
                folders.push((loc, level, first));
            }
        }
    }
    for (loc, level, first) in folders {
        let walker = walker.clone();
        let prefix = loc.prefix.clone();
        tokio::spawn(async move { walker.continue_with(loc, prefix, level, first).await });
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

/// A SOURCE that names one object (a local file, or an S3 key that is no folder).
async fn single_file(loc: &Location, stats: &ListStats) -> Result<Option<ObjectMeta>, StoreError> {
    let access = |e: object_store::Error| StoreError::Access {
        location: loc.given.clone(),
        message: describe(&e),
    };
    if loc.is_local() {
        let path = std::path::PathBuf::from(loc.display(&loc.prefix));
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound(loc.given.clone()),
            _ => StoreError::Access {
                location: loc.given.clone(),
                message: e.to_string(),
            },
        })?;
        if meta.is_file() {
            use object_store::ObjectStoreExt;
            return Ok(Some(loc.store.head(&loc.prefix).await.map_err(access)?));
        }
        std::fs::read_dir(&path).map_err(|e| StoreError::Access {
            location: loc.given.clone(),
            message: e.to_string(),
        })?;
        return Ok(None);
    }
    if loc.given.ends_with('/') || loc.prefix.as_ref().is_empty() {
        return Ok(None);
    }
    use object_store::ObjectStoreExt;
    stats.count(1, 0);
    match loc.store.head(&loc.prefix).await {
        Ok(meta) => {
            stats.count(0, 1);
            Ok(Some(meta))
        }
        Err(object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(access(e)),
    }
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
    match rest {
        [] if org => Level::Org,
        [] => Level::AwsLogs,
        [_account] => Level::Account,
        [_, kind] if matches!(*kind, "CloudTrail" | "CloudTrail-Insight") => Level::Kind,
        [_, kind, _] if matches!(*kind, "CloudTrail" | "CloudTrail-Insight") => {
            region_level(&loc.display(&loc.prefix))
        }
        _ => Level::Everything,
    }
}

/// The level of a region's folder (`…/AWSLogs/[o-ORG/]ACCOUNT/KIND/REGION`), named as keys are.
fn region_level(folder: &str) -> Level {
    let key = format!("{}/2000/01/01/x", folder.trim_end_matches('/'));
    match TrailKey::parse(&key) {
        Some(t) => Level::Region {
            root: t.root.to_string(),
            account: t.account.to_string(),
            kind: t.kind,
            region: t.region.to_string(),
        },
        None => Level::Everything,
    }
}

#[derive(Clone)]
struct Walker {
    options: Arc<ListOptions>,
    stats: Arc<ListStats>,
    permits: Arc<Semaphore>,
    tx: mpsc::Sender<Result<Found, StoreError>>,
}

/// The first page of a SOURCE's listing, read before the run starts.
enum First {
    Folders(ListResult),
    Objects(Vec<ObjectMeta>, Option<String>),
}

impl Walker {
    fn error(loc: &Location, e: object_store::Error) -> StoreError {
        StoreError::Access {
            location: loc.given.clone(),
            message: describe(&e),
        }
    }

    /// Reads the first page of a SOURCE: an error here means the SOURCE is unusable. An object
    /// store prefix with nothing at all under it does not exist.
    async fn first(&self, loc: &Location, level: &Level) -> Result<First, StoreError> {
        let first = match level {
            Level::Everything | Level::Region { .. } => {
                let (objects, token) = self.page(loc, &loc.prefix, None, None).await?;
                First::Objects(objects, token)
            }
            _ => First::Folders(self.folders(loc, &loc.prefix).await?),
        };
        let empty = match &first {
            First::Folders(list) => list.objects.is_empty() && list.common_prefixes.is_empty(),
            First::Objects(objects, _) => objects.is_empty(),
        };
        if empty && !loc.is_local() {
            return Err(StoreError::NotFound(loc.given.clone()));
        }
        Ok(first)
    }

    async fn continue_with(self, loc: Arc<Location>, prefix: Path, level: Level, first: First) {
        let result = match (first, &level) {
            (First::Folders(list), _) => self.descend(&loc, level, list).await,
            (First::Objects(objects, token), Level::Region { .. })
                if self.range(&loc, &level).is_none() =>
            {
                self.emit(&loc, objects).await;
                self.rest(&loc, &prefix, None, token).await
            }
            (First::Objects(_, _), Level::Region { .. }) => {
                // The first page was a probe; list the days asked for.
                self.region(&loc, &prefix, &level).await
            }
            (First::Objects(objects, token), _) => {
                self.emit(&loc, objects).await;
                self.rest(&loc, &prefix, None, token).await
            }
        };
        if let Err(e) = result {
            let _ = self.tx.send(Err(e)).await;
        }
    }

    /// Lists one folder level and goes on below it.
    fn walk(&self, loc: Arc<Location>, prefix: Path, level: Level) {
        let walker = self.clone();
        tokio::spawn(async move {
            let result = match &level {
                Level::Region { .. } => walker.region(&loc, &prefix, &level).await,
                Level::Everything => walker.rest(&loc, &prefix, None, None).await,
                _ => match walker.folders(&loc, &prefix).await {
                    Ok(list) => walker.descend(&loc, level, list).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = result {
                let _ = walker.tx.send(Err(e)).await;
            }
        });
    }

    /// Hands on the objects of a folder level and walks its subfolders.
    async fn descend(
        &self,
        loc: &Arc<Location>,
        level: Level,
        list: ListResult,
    ) -> Result<(), StoreError> {
        self.emit(loc, list.objects).await;
        for folder in list.common_prefixes {
            let name = folder.filename().unwrap_or_default().to_string();
            let next = match &level {
                Level::Top(_) if name == "AWSLogs" => Some(Level::AwsLogs),
                Level::Top(depth) if *depth < TOP_DEPTH => Some(Level::Top(depth + 1)),
                Level::AwsLogs if name.starts_with("o-") => Some(Level::Org),
                Level::AwsLogs | Level::Org if is_account(&name) => {
                    self.options.account_wanted(&name).then_some(Level::Account)
                }
                Level::Account => match name.as_str() {
                    "CloudTrail" | "CloudTrail-Insight" => Some(Level::Kind),
                    // Digests hold hashes of the logs, no records: not even listed.
                    "CloudTrail-Digest" => None,
                    _ => Some(Level::Everything),
                },
                Level::Kind if is_region(&name) => self
                    .options
                    .region_wanted(&name)
                    .then(|| region_level(&loc.display(&folder))),
                _ => Some(Level::Everything),
            };
            if let Some(next) = next {
                self.walk(loc.clone(), folder, next);
            }
        }
        Ok(())
    }

    /// The days to list in a region's folder: `None` for all of them. Only object stores list in
    /// key order, which an incremental listing needs (a day is done once a later day's file has
    /// been listed); local folders are always listed whole, which is cheap.
    fn range(
        &self,
        loc: &Location,
        level: &Level,
    ) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
        let Level::Region {
            root,
            account,
            kind,
            region,
        } = level
        else {
            return None;
        };
        let since = self.options.since.or_else(|| {
            (!self.options.full_scan && loc.pager.is_some())
                .then(|| {
                    self.options
                        .complete
                        .get(&folder_key(root, account, *kind, region))
                        .and_then(|d| d.checked_sub_days(chrono::Days::new(MARGIN_DAYS)))
                })
                .flatten()
        });
        let until = self.options.until;
        (since.is_some() || until.is_some()).then_some((since, until))
    }

    /// Lists a region's folder from the first day asked for, in key (day) order, and stops after
    /// the last. Local folders are listed whole (their listing is cheap and unordered).
    async fn region(
        &self,
        loc: &Arc<Location>,
        prefix: &Path,
        level: &Level,
    ) -> Result<(), StoreError> {
        let Some((since, until)) = self.range(loc, level) else {
            return self.rest(loc, prefix, None, None).await;
        };
        let offset = since.map(|d| format!("{}/{}", prefix.as_ref(), d.format("%Y/%m/%d")));
        let stop = until.map(|d| format!("{}/{}/~", prefix.as_ref(), d.format("%Y/%m/%d")));
        let mut token = None;
        loop {
            let (objects, next) = self
                .page(loc, prefix, offset.as_deref(), token.take())
                .await?;
            let past = stop.as_ref().is_some_and(|stop| {
                !loc.is_local()
                    && objects
                        .last()
                        .is_some_and(|o| o.location.as_ref() > stop.as_str())
            });
            self.emit(loc, objects).await;
            match next {
                Some(next) if !past => token = Some(next),
                _ => return Ok(()),
            }
        }
    }

    /// Lists everything under a prefix, page by page.
    async fn rest(
        &self,
        loc: &Arc<Location>,
        prefix: &Path,
        offset: Option<&str>,
        mut token: Option<String>,
    ) -> Result<(), StoreError> {
        if token.is_none() && loc.pager.is_none() {
            // Local folders: one walk.
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
        }
        loop {
            let (objects, next) = self.page(loc, prefix, offset, token.take()).await?;
            self.emit(loc, objects).await;
            match next {
                Some(next) => token = Some(next),
                None => return Ok(()),
            }
        }
    }

    /// One listing request for the objects under a prefix (all of them, on a local disk).
    async fn page(
        &self,
        loc: &Location,
        prefix: &Path,
        offset: Option<&str>,
        token: Option<String>,
    ) -> Result<(Vec<ObjectMeta>, Option<String>), StoreError> {
        let _permit = self.permits.acquire().await.expect("never closed");
        self.stats.count(1, 0);
        let Some(pager) = &loc.pager else {
            let objects: Vec<ObjectMeta> = match offset {
                Some(offset) => {
                    let offset = Path::from(offset);
                    futures::TryStreamExt::try_collect(
                        loc.store.list_with_offset(Some(prefix), &offset),
                    )
                    .await
                }
                None => futures::TryStreamExt::try_collect(loc.store.list(Some(prefix))).await,
            }
            .map_err(|e| Self::error(loc, e))?;
            self.stats.count(0, objects.len() as u64);
            return Ok((objects, None));
        };
        let folder = folder_prefix(prefix);
        let page = pager
            .list_paginated(
                folder.as_deref(),
                PaginatedListOptions {
                    offset: offset.map(str::to_string),
                    page_token: token,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Self::error(loc, e))?;
        self.stats.count(0, page.result.objects.len() as u64);
        Ok((page.result.objects, page.page_token))
    }

    /// One level of a folder: its objects and subfolders (every page of them).
    async fn folders(&self, loc: &Location, prefix: &Path) -> Result<ListResult, StoreError> {
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
            self.stats.count(1, 0);
            let page = pager
                .list_paginated(
                    folder.as_deref(),
                    PaginatedListOptions {
                        delimiter: Some("/".into()),
                        page_token: token,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| Self::error(loc, e))?;
            self.stats.count(0, page.result.objects.len() as u64);
            all.objects.extend(page.result.objects);
            all.common_prefixes.extend(page.result.common_prefixes);
            match page.page_token {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
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

/// The prefix of a folder as a paginated listing wants it: with its trailing `/`.
fn folder_prefix(prefix: &Path) -> Option<String> {
    (!prefix.as_ref().is_empty()).then(|| format!("{}/", prefix.as_ref()))
}

fn is_account(name: &str) -> bool {
    name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit())
}

fn is_region(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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
    fn a_source_inside_the_layout_starts_at_its_level() {
        let level = |s: &str| level_of(&Location::parse(s).unwrap());
        assert!(matches!(level("s3://b/"), Level::Top(0)));
        assert!(matches!(level("s3://b/x/AWSLogs/"), Level::AwsLogs));
        assert!(matches!(level("s3://b/AWSLogs/o-abc/"), Level::Org));
        assert!(matches!(
            level("s3://b/AWSLogs/o-abc/111111111111/"),
            Level::Account
        ));
        assert!(matches!(
            level("s3://b/AWSLogs/111111111111/CloudTrail/"),
            Level::Kind
        ));
        let Level::Region {
            root,
            account,
            kind,
            region,
        } = level("s3://b/AWSLogs/o-abc/111111111111/CloudTrail-Insight/eu-west-1/")
        else {
            panic!("a region folder");
        };
        assert_eq!(
            (root.as_str(), account.as_str(), kind, region.as_str()),
            (
                "s3://b/AWSLogs/o-abc",
                "111111111111",
                Kind::Insight,
                "eu-west-1"
            )
        );
        assert!(matches!(
            level("s3://b/AWSLogs/111111111111/CloudTrail/eu-west-1/2024/"),
            Level::Everything
        ));
    }
}
