//! The lease: at most one writer per lease name and DEST at a time, wherever trailpq runs.
//!
//! - On object stores the lease is an object, `_trailpq/lease/<name>.json`, written only with
//!   conditional writes: created with `PutMode::Create`, then renewed, taken over and released
//!   with `PutMode::Update` on the version last seen. Two runs can never both succeed in the same
//!   step. The holder renews it while it runs; a lease not renewed for its length (by the store's
//!   clock, or by the waiter's own watch of an unchanging version) may be taken over by one
//!   waiting run. Host names and process ids are only shown to people, never trusted: containers
//!   get a new host name each run and are often pid 1.
//! - In a local folder the lease is an OS file lock (`flock` on Unix, `LockFileEx` on Windows) on
//!   `_trailpq/lease/<name>.lock`, which the kernel releases when the process ends, however it
//!   ends. The file also says who holds it, for the message a waiting run prints.
//! - A store without conditional writes (S3 with conditional put disabled) cannot be locked: the
//!   run says so in one warning and goes on.
//!
//! Both kinds wait the same way: one loop (`wait_for`) looks at the lease until it is taken or
//! the run's `--wait` is over, and each kind (a `Claim`) only says what one look found.

use std::io::{Read, Seek, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::io::{files_in, meta_path, now, store_error};
use super::{CommitError, Opened};
use crate::store::Location;

/// How a run takes its lease.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// `main` for an ordinary convert.
    pub name: String,
    /// How long the lease lasts without renewal.
    pub ttl: Duration,
    /// How long to wait for a busy lease; `None`: fail at once.
    pub wait: Option<Duration>,
    /// Shows a line to the user (used once, when starting to wait).
    pub say: fn(&str),
}

impl LeaseOptions {
    pub const DEFAULT_TTL: Duration = Duration::from_secs(120);

    pub fn new(name: &str) -> Self {
        LeaseOptions {
            name: name.to_string(),
            ttl: Self::DEFAULT_TTL,
            wait: None,
            say: |_| {},
        }
    }
}

/// What the lease object (or lock file) says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    /// When this run took the lease.
    pub since: String,
    /// When it last renewed it (the holder's clock; the store's clock decides).
    pub renewed: String,
    pub ttl_ms: u64,
    /// Given back: free for anyone.
    #[serde(default)]
    pub released: bool,
    /// Unique per write: recognises a write of ours whose response was lost.
    #[serde(default)]
    pub nonce: String,
}

impl Holder {
    fn new(run_id: &str, ttl: Duration) -> Self {
        let now = now();
        Holder {
            run_id: run_id.to_string(),
            host: hostname(),
            pid: std::process::id(),
            since: now.clone(),
            renewed: now,
            ttl_ms: ttl.as_millis() as u64,
            released: false,
            nonce: nonce(),
        }
    }

    fn payload(&self) -> PutPayload {
        PutPayload::from(serde_json::to_vec(self).expect("the lease serializes"))
    }

    fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms)
    }

    fn describe(&self) -> String {
        format!(
            "trailpq run {} (host {}, pid {}, since {})",
            self.run_id, self.host, self.pid, self.since
        )
    }
}

/// A held lease (or none, on a store that cannot lock).
pub struct Lease {
    name: String,
    kind: Kind,
}

enum Kind {
    /// An OS lock, held as long as the file is open.
    File(Mutex<Option<std::fs::File>>),
    /// A lease object, renewed by a background task.
    Object {
        shared: Arc<Shared>,
        renewer: Mutex<Option<JoinHandle<()>>>,
    },
    Unlocked,
}

/// A lease object, shared between the run and its renewal task.
struct Shared {
    loc: Location,
    path: Path,
    ttl: Duration,
    state: Mutex<State>,
}

impl Shared {
    /// Marks the lease object released, so a waiting run need not wait for it to expire; not if
    /// the lease is lost (the object is another run's now).
    async fn give_back(&self) {
        let (version, holder) = {
            let state = self.state.lock().unwrap();
            if state.lost.is_some() {
                return;
            }
            let mut holder = state.holder.clone();
            holder.released = true;
            holder.renewed = now();
            holder.nonce = nonce();
            (state.version.clone(), holder)
        };
        let put = self
            .loc
            .store
            .put_opts(&self.path, holder.payload(), update(version));
        let _ = tokio::time::timeout(Duration::from_secs(10), put).await;
    }
}

struct State {
    /// The version of our last write.
    version: UpdateVersion,
    holder: Holder,
    /// Until when no other run can have taken the lease over, by this process's clock.
    trusted_until: Instant,
    /// Why the lease is known to be lost.
    lost: Option<String>,
}

/// What stands in the way of taking a lease.
struct Busy {
    holder: String,
    advice: String,
}

/// How taking a lease ended, short of an error: the caller decides whether busy is a failure.
enum Attempt<T> {
    Taken(T),
    Busy(Busy),
}

impl<T> Attempt<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Attempt<U> {
        match self {
            Attempt::Taken(taken) => Attempt::Taken(f(taken)),
            Attempt::Busy(busy) => Attempt::Busy(busy),
        }
    }
}

impl Lease {
    /// Takes the lease, waiting for it as the options say.
    pub async fn acquire(
        loc: &Location,
        options: &LeaseOptions,
        run_id: &str,
        opened: &mut Opened,
    ) -> Result<Self, CommitError> {
        match Self::take(loc, options, run_id, opened).await? {
            Attempt::Taken(lease) => Ok(lease),
            Attempt::Busy(busy) => Err(CommitError::Busy {
                dest: loc.given.clone(),
                holder: busy.holder,
                advice: busy.advice,
            }),
        }
    }

    /// Takes the lease if it is free (or expired) now; `None` if another run holds it.
    pub async fn try_acquire(
        loc: &Location,
        name: &str,
        ttl: Duration,
        run_id: &str,
        opened: &mut Opened,
    ) -> Result<Option<Self>, CommitError> {
        let options = LeaseOptions {
            ttl,
            ..LeaseOptions::new(name)
        };
        match Self::take(loc, &options, run_id, opened).await? {
            Attempt::Taken(lease) => Ok(Some(lease)),
            Attempt::Busy(_) => Ok(None),
        }
    }

    async fn take(
        loc: &Location,
        options: &LeaseOptions,
        run_id: &str,
        opened: &mut Opened,
    ) -> Result<Attempt<Self>, CommitError> {
        let kind = if loc.is_local() {
            lock_file(loc, options, run_id, opened).await?
        } else {
            lease_object(loc, options, run_id, opened).await?
        };
        Ok(kind.map(|kind| Lease {
            name: options.name.clone(),
            kind,
        }))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the lease still holds: `Err` says why not.
    pub fn check(&self) -> Result<(), String> {
        let Kind::Object { shared, .. } = &self.kind else {
            return Ok(());
        };
        let state = shared.state.lock().unwrap();
        if let Some(why) = &state.lost {
            return Err(why.clone());
        }
        if Instant::now() > state.trusted_until {
            return Err(format!(
                "it could not be renewed for {}s, so another run may have taken it over",
                (shared.ttl * 3 / 4).as_secs()
            ));
        }
        Ok(())
    }

    /// Gives the lease back. Errors are ignored: a lease not given back expires.
    pub async fn release(&self) {
        match &self.kind {
            Kind::File(file) => {
                if let Some(file) = file.lock().unwrap().take() {
                    // Say nobody holds it; closing the file releases the lock.
                    let _ = file.set_len(0);
                }
            }
            Kind::Object { shared, renewer } => {
                if let Some(task) = renewer.lock().unwrap().take() {
                    task.abort();
                }
                shared.give_back().await;
            }
            Kind::Unlocked => {}
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Kind::Object { renewer, .. } = &self.kind
            && let Some(task) = renewer.lock().unwrap().take()
        {
            task.abort();
        }
    }
}

/// Whether two leases must not be held at once: every lease but the shards of one count (which
/// split the work between them) excludes the others.
pub fn conflicts(a: &str, b: &str) -> bool {
    let count = |name: &str| {
        name.strip_prefix("shard-")?
            .split_once("-of-")
            .map(|(_, n)| n.to_string())
    };
    a != b && !matches!((count(a), count(b)), (Some(x), Some(y)) if x == y)
}

/// The holders of other leases on DEST that conflict with `ours` and are held now.
pub async fn conflicting_holders(loc: &Location, ours: &str) -> Result<Vec<String>, CommitError> {
    let mut held = Vec::new();
    for path in files_in(loc, &meta_path(loc, "lease")).await? {
        let Some(name) = lease_name(&path) else {
            continue;
        };
        if !conflicts(ours, name) {
            continue;
        }
        let holder = match loc.is_local() {
            true => file_holder(&loc.display(&path)),
            false => object_holder(loc, &path).await?,
        };
        if let Some(holder) = holder {
            held.push(format!("{holder} (lease {name})"));
        }
    }
    Ok(held)
}

/// The lease an object under `_trailpq/lease/` belongs to: `<name>.json` or `<name>.lock`.
fn lease_name(path: &Path) -> Option<&str> {
    let file = path.filename()?;
    file.strip_suffix(".json")
        .or_else(|| file.strip_suffix(".lock"))
}

/// Who holds a lock file now, if anyone: a lock this process can take is not held.
fn file_holder(os_path: &str) -> Option<String> {
    let mut file = std::fs::OpenOptions::new().read(true).open(os_path).ok()?;
    match file.try_lock() {
        Ok(()) => None,
        Err(_) => Some(lock_holder(&mut file)),
    }
}

/// Who holds a lease object now, if anyone: one released, or not renewed for its length, is free.
async fn object_holder(loc: &Location, path: &Path) -> Result<Option<String>, CommitError> {
    let got = match loc.store.get(path).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_error(loc, path, &e)),
    };
    let modified = got.meta.last_modified;
    let bytes = got.bytes().await.map_err(|e| store_error(loc, path, &e))?;
    let age = age_of(modified);
    Ok(serde_json::from_slice::<Holder>(&bytes)
        .ok()
        .filter(|h| !h.released && age < h.ttl())
        .map(|h| h.describe()))
}

/// How long ago an object was written: its modification time (the store's clock) against ours.
fn age_of(modified: chrono::DateTime<chrono::Utc>) -> Duration {
    (chrono::Utc::now() - modified)
        .to_std()
        .unwrap_or(Duration::ZERO)
}

fn update(version: UpdateVersion) -> PutOptions {
    PutOptions {
        mode: PutMode::Update(version),
        ..Default::default()
    }
}

fn unlocked_warning(loc: &Location, why: &str) -> String {
    format!(
        "{} cannot be locked ({why}): make sure only one convert writes to it at a time",
        loc.given
    )
}

// The wait loop, shared by lease objects and lock files: each kind only says what one look at its
// lease found.

/// What one look at a lease found.
enum Look<T> {
    Taken(T),
    /// Another run holds it.
    Held(Held),
    /// It changed while we looked (another run wrote or deleted it): look again at once.
    Raced,
}

/// A lease held by another run, as one look found it.
struct Held {
    /// Who holds it, for people.
    holder: String,
    /// Why it is held and when to retry, for the message of a run that gives up; the advice
    /// about `--wait` is added to it.
    why: String,
    /// How long to wait before the next look.
    poll: Duration,
}

impl Held {
    fn busy(self, wait: Option<Duration>) -> Busy {
        Busy {
            holder: self.holder,
            advice: format!("{}{}, or {}", waited_for(wait), self.why, wait_advice(wait)),
        }
    }
}

/// A kind of lease as the wait loop sees it: something to look at until it is taken.
trait Claim {
    type Taken;

    /// One look at the lease: takes it if it is free.
    async fn look(&mut self) -> Result<Look<Self::Taken>, CommitError>;
}

/// Looks at a lease until it is taken, or it is held and the options' wait is over (at once
/// without `--wait`). Says once that it is waiting, so a run that seems stuck explains itself.
async fn wait_for<C: Claim>(
    loc: &Location,
    options: &LeaseOptions,
    claim: &mut C,
) -> Result<Attempt<C::Taken>, CommitError> {
    let started = Instant::now();
    let mut announced = false;
    loop {
        let held = match claim.look().await? {
            Look::Taken(taken) => return Ok(Attempt::Taken(taken)),
            Look::Raced => continue,
            Look::Held(held) => held,
        };
        let waited = started.elapsed();
        let Some(wait) = options.wait.filter(|&wait| waited < wait) else {
            return Ok(Attempt::Busy(held.busy(options.wait)));
        };
        if !announced {
            announced = true;
            (options.say)(&format!(
                "{} is in use by {}; waiting up to {}",
                loc.given,
                held.holder,
                humantime::format_duration(wait)
            ));
        }
        tokio::time::sleep(held.poll.min(wait - waited)).await;
    }
}

/// How often a waiting run looks at a busy lease object.
fn poll_interval(ttl: Duration) -> Duration {
    (ttl / 10).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

/// How often a waiting run tries a busy lock file: taking it is a local system call.
const LOCK_POLL: Duration = Duration::from_millis(100);

fn waited_for(wait: Option<Duration>) -> String {
    wait.map(|w| format!("waited {} for it; ", humantime::format_duration(w)))
        .unwrap_or_default()
}

fn wait_advice(wait: Option<Duration>) -> &'static str {
    match wait {
        Some(_) => "wait longer with --wait",
        None => "wait for it with --wait 10m",
    }
}

// Lease objects (object stores).

/// Takes the lease object, waiting for it as the options say.
async fn lease_object(
    loc: &Location,
    options: &LeaseOptions,
    run_id: &str,
    opened: &mut Opened,
) -> Result<Attempt<Kind>, CommitError> {
    let mut object = LeaseObject {
        loc,
        path: meta_path(loc, &format!("lease/{}.json", options.name)),
        ttl: options.ttl,
        run_id,
        opened,
        seen: None,
    };
    wait_for(loc, options, &mut object).await
}

/// A lease object being taken, and what earlier looks at it saw.
struct LeaseObject<'a> {
    loc: &'a Location,
    path: Path,
    ttl: Duration,
    run_id: &'a str,
    /// Where a takeover is noted, and a store that cannot lock is warned about.
    opened: &'a mut Opened,
    /// The version of the lease object last seen, and since when it has not changed: the lease
    /// expires by this process's own clock too, whatever the store's clock says.
    seen: Option<(String, Instant)>,
}

/// The lease object as one read found it.
struct Current {
    /// `None` if it cannot be read: then it protects nothing and may be taken over.
    holder: Option<Holder>,
    version: UpdateVersion,
    /// Changes with every write of the object, by anyone.
    id: String,
    /// How long ago it was written.
    age: Duration,
}

impl Claim for LeaseObject<'_> {
    type Taken = Kind;

    /// Creates the lease object, or takes over one that is free or expired.
    async fn look(&mut self) -> Result<Look<Kind>, CommitError> {
        let mine = Holder::new(self.run_id, self.ttl);
        // A write may land any time after it is sent: trust starts counting here.
        let written_at = Instant::now();
        if let Some(taken) = self.create(&mine, written_at).await? {
            return Ok(Look::Taken(taken));
        }
        // Someone holds it, or held it.
        let Some(current) = self.read().await? else {
            return Ok(Look::Raced);
        };
        if current
            .holder
            .as_ref()
            .is_some_and(|h| h.nonce == mine.nonce)
        {
            // Our create landed; only its answer was lost and the retry found it.
            let taken = self.hold(mine, current.version, written_at);
            return Ok(Look::Taken(taken));
        }
        let unchanged_for = self.unchanged_for(&current.id);
        let holder_ttl = current.holder.as_ref().map_or(self.ttl, Holder::ttl);
        let Some(holder) = current.holder.as_ref().filter(|h| !h.released) else {
            return self.take_over(mine, current, None).await;
        };
        if current.age > holder_ttl || unchanged_for >= holder_ttl {
            let expired = Some(current.age.max(unchanged_for));
            return self.take_over(mine, current, expired).await;
        }
        let left = holder_ttl.saturating_sub(current.age.max(unchanged_for));
        Ok(Look::Held(Held {
            holder: holder.describe(),
            why: format!(
                "it renewed its lease {}s ago; if that run is gone, the lease expires in {}s; retry then",
                current.age.as_secs(),
                left.as_secs() + 1,
            ),
            poll: poll_interval(holder_ttl),
        }))
    }
}

impl LeaseObject<'_> {
    /// Creates the lease object if there is none: the lease taken (or, on a store without
    /// conditional writes, a warning and no lock); `None` if there is one.
    async fn create(
        &mut self,
        mine: &Holder,
        written_at: Instant,
    ) -> Result<Option<Kind>, CommitError> {
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .loc
            .store
            .put_opts(&self.path, mine.payload(), create)
            .await
        {
            Ok(result) => Ok(Some(self.hold(mine.clone(), result.into(), written_at))),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(None),
            Err(
                object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. },
            ) => {
                self.opened.warnings.push(unlocked_warning(
                    self.loc,
                    "its store does not support conditional writes",
                ));
                Ok(Some(Kind::Unlocked))
            }
            Err(e) => Err(self.failed(&e)),
        }
    }

    /// Reads the lease object; `None` if it is gone again.
    async fn read(&self) -> Result<Option<Current>, CommitError> {
        let got = match self.loc.store.get(&self.path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.failed(&e)),
        };
        let meta = got.meta.clone();
        let bytes = got.bytes().await.map_err(|e| self.failed(&e))?;
        Ok(Some(Current {
            holder: serde_json::from_slice(&bytes).ok(),
            id: format!("{:?}/{:?}/{}", meta.e_tag, meta.version, meta.last_modified),
            age: age_of(meta.last_modified),
            version: UpdateVersion {
                e_tag: meta.e_tag,
                version: meta.version,
            },
        }))
    }

    /// How long the lease object has been seen unchanged, by this process's clock.
    fn unchanged_for(&mut self, id: &str) -> Duration {
        if self.seen.as_ref().is_none_or(|(seen, _)| seen != id) {
            self.seen = Some((id.to_string(), Instant::now()));
        }
        self.seen
            .as_ref()
            .map_or(Duration::ZERO, |(_, t)| t.elapsed())
    }

    /// Writes our holder over a lease object that is free or, when `expired` says for how long
    /// it was not renewed, expired; only if nobody wrote it since it was read.
    async fn take_over(
        &mut self,
        mine: Holder,
        current: Current,
        expired: Option<Duration>,
    ) -> Result<Look<Kind>, CommitError> {
        let attempt = Instant::now();
        let put = self
            .loc
            .store
            .put_opts(&self.path, mine.payload(), update(current.version));
        match put.await {
            Ok(result) => {
                if let (Some(h), Some(expired)) = (&current.holder, expired) {
                    self.opened.notes.push(format!(
                        "took over the lease of {}, not renewed for {}s",
                        h.describe(),
                        expired.as_secs()
                    ));
                }
                Ok(Look::Taken(self.hold(mine, result.into(), attempt)))
            }
            // Another run moved first (or our retried write landed: the next look tells).
            Err(
                object_store::Error::Precondition { .. }
                | object_store::Error::AlreadyExists { .. }
                | object_store::Error::NotFound { .. },
            ) => Ok(Look::Raced),
            Err(e) => Err(self.failed(&e)),
        }
    }

    fn hold(&self, holder: Holder, version: UpdateVersion, written_at: Instant) -> Kind {
        hold(self.loc, &self.path, self.ttl, holder, version, written_at)
    }

    fn failed(&self, e: &object_store::Error) -> CommitError {
        store_error(self.loc, &self.path, e)
    }
}

/// Starts renewing a lease object just written.
fn hold(
    loc: &Location,
    path: &Path,
    ttl: Duration,
    holder: Holder,
    version: UpdateVersion,
    written_at: Instant,
) -> Kind {
    let shared = Arc::new(Shared {
        loc: loc.clone(),
        path: path.clone(),
        ttl,
        state: Mutex::new(State {
            version,
            holder,
            trusted_until: written_at + ttl * 3 / 4,
            lost: None,
        }),
    });
    let renewer = tokio::spawn(renew(shared.clone()));
    Kind::Object {
        shared,
        renewer: Mutex::new(Some(renewer)),
    }
}

/// Renews the lease every sixth of its length, until the run ends or another run takes it.
async fn renew(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(shared.ttl / 6).await;
        let (version, mut holder) = {
            let state = shared.state.lock().unwrap();
            (state.version.clone(), state.holder.clone())
        };
        holder.renewed = now();
        holder.nonce = nonce();
        let attempt = Instant::now();
        let outcome = renew_once(&shared, &holder, version).await;
        let mut state = shared.state.lock().unwrap();
        match outcome {
            Some(Ok(version)) => {
                state.version = version;
                state.holder = holder;
                state.trusted_until = attempt + shared.ttl * 3 / 4;
            }
            Some(Err(why)) => {
                state.lost = Some(why);
                return;
            }
            None => {}
        }
    }
}

/// Writes `holder` over the version of the lease last written: the new version, or why the
/// lease is lost; `None` if the store did not say (try again at the next turn).
async fn renew_once(
    shared: &Shared,
    holder: &Holder,
    version: UpdateVersion,
) -> Option<Result<UpdateVersion, String>> {
    let put = shared
        .loc
        .store
        .put_opts(&shared.path, holder.payload(), update(version));
    match tokio::time::timeout(shared.ttl / 3, put).await {
        Ok(Ok(result)) => Some(Ok(UpdateVersion::from(result))),
        // Taken over, or our write landed and only its answer was lost.
        Ok(Err(object_store::Error::Precondition { .. })) => match read(shared).await? {
            (current, version) if current.nonce == holder.nonce => Some(Ok(version)),
            (current, _) => Some(Err(format!("{} took it over", current.describe()))),
        },
        // The store did not answer in time: try again at the next turn.
        _ => None,
    }
}

async fn read(shared: &Shared) -> Option<(Holder, UpdateVersion)> {
    let got = shared.loc.store.get(&shared.path).await.ok()?;
    let version = UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got.bytes().await.ok()?;
    Some((serde_json::from_slice(&bytes).ok()?, version))
}

// Lock files (local folders).

/// Takes the lock file, waiting for it as the options say.
async fn lock_file(
    loc: &Location,
    options: &LeaseOptions,
    run_id: &str,
    opened: &mut Opened,
) -> Result<Attempt<Kind>, CommitError> {
    let dir = std::path::PathBuf::from(loc.display(&meta_path(loc, "lease")));
    let mut lock = LockFile::open(dir, &options.name, run_id, options.ttl)?;
    let attempt = wait_for(loc, options, &mut lock).await?;
    Ok(attempt.map(|locked| match locked {
        Locked::Exclusive => Kind::File(Mutex::new(Some(lock.file))),
        Locked::Unsupported => {
            opened.warnings.push(unlocked_warning(
                loc,
                "its file system does not support file locks",
            ));
            Kind::Unlocked
        }
    }))
}

/// How a lock file was taken.
enum Locked {
    /// This run holds its OS lock, until the file is closed.
    Exclusive,
    /// The file system has no locks: nothing is held.
    Unsupported,
}

/// A lease's lock file, open, and who would hold it.
struct LockFile<'a> {
    path: std::path::PathBuf,
    file: std::fs::File,
    run_id: &'a str,
    ttl: Duration,
}

impl Claim for LockFile<'_> {
    type Taken = Locked;

    /// Takes the OS lock if it is free and writes who holds it now. Never blocks: a local lock
    /// is tried, not waited on, so the wait loop stays in charge of how long to wait.
    async fn look(&mut self) -> Result<Look<Locked>, CommitError> {
        match self.file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(Look::Held(self.held())),
            Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                return Ok(Look::Taken(Locked::Unsupported));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(&self.path, e)),
        }
        let holder = Holder::new(self.run_id, self.ttl);
        let text = serde_json::to_vec(&holder).expect("the lease serializes");
        self.file
            .set_len(0)
            .and_then(|()| self.file.rewind())
            .and_then(|()| self.file.write_all(&text))
            .map_err(|e| io_error(&self.path, e))?;
        Ok(Look::Taken(Locked::Exclusive))
    }
}

impl<'a> LockFile<'a> {
    /// Opens (creating) `<dir>/<name>.lock`, without locking it and without changing what it says.
    fn open(
        dir: std::path::PathBuf,
        name: &str,
        run_id: &'a str,
        ttl: Duration,
    ) -> Result<Self, CommitError> {
        let path = dir.join(format!("{name}.lock"));
        let opened = std::fs::create_dir_all(&dir).and_then(|()| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
        });
        match opened {
            Ok(file) => Ok(LockFile {
                path,
                file,
                run_id,
                ttl,
            }),
            Err(e) => Err(io_error(&path, e)),
        }
    }

    /// Who the file says holds it, and when a run that gives up should retry.
    fn held(&mut self) -> Held {
        Held {
            holder: lock_holder(&mut self.file),
            why: format!(
                "it holds a lock on {}, which ends with its process; retry later",
                self.path.display()
            ),
            poll: LOCK_POLL,
        }
    }
}

/// Who a lock file says holds it, for people.
fn lock_holder(file: &mut std::fs::File) -> String {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    serde_json::from_str::<Holder>(&text)
        .map(|h| h.describe())
        .unwrap_or_else(|_| "another trailpq run".to_string())
}

fn io_error(path: &std::path::Path, e: std::io::Error) -> CommitError {
    CommitError::Store {
        location: path.display().to_string(),
        message: e.to_string(),
    }
}

/// The host name, for people: `HOSTNAME` (set in containers), else the system's.
fn hostname() -> String {
    if let Ok(name) = std::env::var("HOSTNAME")
        && !name.trim().is_empty()
    {
        return name.trim().to_string();
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match ok {
        true => String::from_utf8_lossy(&buf[..end]).into_owned(),
        false => "unknown".into(),
    }
}

fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_local_lease_is_held_by_one_run_and_freed_by_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(dir.path().to_str().unwrap()).unwrap();
        let options = LeaseOptions::new("main");
        let mut opened = Opened::default();
        let first = Lease::acquire(&loc, &options, "run-1", &mut opened)
            .await
            .unwrap();
        let busy = Lease::acquire(&loc, &options, "run-2", &mut opened).await;
        let Err(CommitError::Busy { holder, .. }) = busy else {
            panic!("the second run must not get the lease");
        };
        assert!(holder.contains("trailpq run run-1"), "{holder}");
        // Another name is another lease.
        assert!(
            Lease::try_acquire(&loc, "shard-1-of-2", options.ttl, "run-2", &mut opened)
                .await
                .unwrap()
                .is_some()
        );
        first.release().await;
        drop(first);
        let second = Lease::try_acquire(&loc, "main", options.ttl, "run-2", &mut opened)
            .await
            .unwrap();
        assert!(second.is_some());
        assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    }

    #[test]
    fn only_shards_of_one_count_work_side_by_side() {
        assert!(conflicts("main", "shard-0-of-3"));
        assert!(conflicts("shard-0-of-3", "shard-1-of-4"));
        assert!(!conflicts("shard-0-of-3", "shard-2-of-3"));
        assert!(!conflicts("main", "main"));
    }

    /// What the waiting-run test observes, in the order it happens.
    #[derive(Debug, PartialEq)]
    enum Event {
        /// The waiter found the lease held and started to wait (its `say`).
        Waiting,
        /// The holder is about to give the lease back.
        Releasing,
        /// The waiter has the lease.
        Taken,
    }

    /// Where the waiter's `say` reports: `say` is a plain `fn`, so it can only reach a static.
    static EVENTS: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Event>>> = Mutex::new(None);

    fn report(event: Event) {
        if let Some(events) = EVENTS.lock().unwrap().as_ref() {
            let _ = events.send(event);
        }
    }

    /// The waiter really waits: it sees the lease held and says so while the holder still holds
    /// it, and gets it only after the holder ends. Two worker threads, so the waiter runs beside
    /// the test rather than only when the test yields; the order comes from events, not sleeps.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_run_gets_the_lease_when_the_holder_ends() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(dir.path().to_str().unwrap()).unwrap();
        let (events, mut observed) = tokio::sync::mpsc::unbounded_channel();
        *EVENTS.lock().unwrap() = Some(events);
        let mut opened = Opened::default();
        let first = Lease::acquire(&loc, &LeaseOptions::new("main"), "run-1", &mut opened)
            .await
            .unwrap();
        let waiting = LeaseOptions {
            wait: Some(Duration::from_secs(30)),
            say: |_| report(Event::Waiting),
            ..LeaseOptions::new("main")
        };
        let (loc2, mut opened2) = (loc.clone(), Opened::default());
        let mut waiter = tokio::spawn(async move {
            let lease = Lease::acquire(&loc2, &waiting, "run-2", &mut opened2).await?;
            report(Event::Taken);
            Ok::<_, CommitError>(lease)
        });

        // The waiter must start waiting while run-1 holds the lease, not end.
        tokio::select! {
            event = observed.recv() => assert_eq!(event, Some(Event::Waiting)),
            ended = &mut waiter => panic!(
                "the waiter ended without waiting for the lease: {:?}",
                ended.unwrap().map(|_| ())
            ),
        }
        assert!(!waiter.is_finished(), "the waiter got a held lease");

        report(Event::Releasing);
        first.release().await;
        drop(first);
        let second = waiter.await.unwrap().unwrap();
        assert_eq!(second.name(), "main");

        *EVENTS.lock().unwrap() = None;
        let mut order = Vec::new();
        while let Ok(event) = observed.try_recv() {
            order.push(event);
        }
        assert_eq!(order, [Event::Releasing, Event::Taken]);
    }
}
