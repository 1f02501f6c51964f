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

use std::io::{Read, Seek, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;

use super::io::{list, meta_path, now, store_error};
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
    ttl: Duration,
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

impl Lease {
    /// Takes the lease, waiting for it as the options say.
    pub async fn acquire(
        loc: &Location,
        options: &LeaseOptions,
        run_id: &str,
        opened: &mut Opened,
    ) -> Result<Self, CommitError> {
        match Self::take(loc, options, run_id, opened).await? {
            Ok(lease) => Ok(lease),
            Err(busy) => Err(CommitError::Busy {
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
        Ok(Self::take(loc, &options, run_id, opened).await?.ok())
    }

    async fn take(
        loc: &Location,
        options: &LeaseOptions,
        run_id: &str,
        opened: &mut Opened,
    ) -> Result<Result<Self, Busy>, CommitError> {
        let kind = if loc.is_local() {
            lock_file(loc, options, run_id, opened).await?
        } else {
            lease_object(loc, options, run_id, opened).await?
        };
        Ok(kind.map(|kind| Lease {
            name: options.name.clone(),
            ttl: options.ttl,
            kind,
        }))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
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
                let (version, holder) = {
                    let state = shared.state.lock().unwrap();
                    if state.lost.is_some() {
                        return;
                    }
                    let mut holder = state.holder.clone();
                    holder.released = true;
                    holder.renewed = now();
                    holder.nonce = nonce();
                    (state.version.clone(), holder)
                };
                let put =
                    shared
                        .loc
                        .store
                        .put_opts(&shared.path, holder.payload(), update(version));
                let _ = tokio::time::timeout(Duration::from_secs(10), put).await;
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
    let dir = meta_path(loc, "lease");
    let mut held = Vec::new();
    for path in list(loc, &dir).await? {
        let Some(file) = path.filename() else {
            continue;
        };
        let Some(name) = file
            .strip_suffix(".json")
            .or_else(|| file.strip_suffix(".lock"))
        else {
            continue;
        };
        if !conflicts(ours, name) {
            continue;
        }
        let holder = if loc.is_local() {
            let os_path = loc.display(&path);
            let Ok(mut file) = std::fs::OpenOptions::new().read(true).open(&os_path) else {
                continue;
            };
            match file.try_lock() {
                Ok(()) => None,
                Err(_) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    Some(
                        serde_json::from_str::<Holder>(&text)
                            .map(|h| h.describe())
                            .unwrap_or_else(|_| "another trailpq run".into()),
                    )
                }
            }
        } else {
            let got = match loc.store.get(&path).await {
                Ok(got) => got,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(store_error(loc, &path, &e)),
            };
            let modified = got.meta.last_modified;
            let bytes = got.bytes().await.map_err(|e| store_error(loc, &path, &e))?;
            let age = (chrono::Utc::now() - modified)
                .to_std()
                .unwrap_or(Duration::ZERO);
            serde_json::from_slice::<Holder>(&bytes)
                .ok()
                .filter(|h| !h.released && age < h.ttl())
                .map(|h| h.describe())
        };
        if let Some(holder) = holder {
            held.push(format!("{holder} (lease {name})"));
        }
    }
    Ok(held)
}

fn update(version: UpdateVersion) -> PutOptions {
    PutOptions {
        mode: PutMode::Update(version),
        ..Default::default()
    }
}

/// How often a waiting run looks at a busy lease.
fn poll_interval(ttl: Duration) -> Duration {
    (ttl / 10).clamp(Duration::from_millis(100), Duration::from_secs(5))
}

fn unlocked_warning(loc: &Location, why: &str) -> String {
    format!(
        "{} cannot be locked ({why}): make sure only one convert writes to it at a time",
        loc.given
    )
}

async fn lease_object(
    loc: &Location,
    options: &LeaseOptions,
    run_id: &str,
    opened: &mut Opened,
) -> Result<Result<Kind, Busy>, CommitError> {
    let path = meta_path(loc, &format!("lease/{}.json", options.name));
    let failed = |e: &object_store::Error| store_error(loc, &path, e);
    let started = Instant::now();
    // The version of the lease object last seen, and since when it has not changed.
    let mut seen: Option<(String, Instant)> = None;
    let mut announced = false;
    loop {
        let mine = Holder::new(run_id, options.ttl);
        let create = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        let attempt = Instant::now();
        match loc.store.put_opts(&path, mine.payload(), create).await {
            Ok(result) => {
                return Ok(Ok(hold(
                    loc,
                    &path,
                    options.ttl,
                    mine,
                    result.into(),
                    attempt,
                )));
            }
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => {}
            Err(
                e @ (object_store::Error::NotImplemented { .. }
                | object_store::Error::NotSupported { .. }),
            ) => {
                let _ = e;
                opened.warnings.push(unlocked_warning(
                    loc,
                    "its store does not support conditional writes",
                ));
                return Ok(Ok(Kind::Unlocked));
            }
            Err(e) => return Err(failed(&e)),
        }

        // Someone holds it, or held it.
        let got = match loc.store.get(&path).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(failed(&e)),
        };
        let meta = got.meta.clone();
        let bytes = got.bytes().await.map_err(|e| failed(&e))?;
        let version = UpdateVersion {
            e_tag: meta.e_tag.clone(),
            version: meta.version.clone(),
        };
        let holder: Option<Holder> = serde_json::from_slice(&bytes).ok();
        if holder.as_ref().is_some_and(|h| h.nonce == mine.nonce) {
            // Our create landed; only its answer was lost and the retry found it.
            return Ok(Ok(hold(loc, &path, options.ttl, mine, version, attempt)));
        }
        let id = format!("{:?}/{:?}/{}", meta.e_tag, meta.version, meta.last_modified);
        if seen.as_ref().is_none_or(|(v, _)| *v != id) {
            seen = Some((id, Instant::now()));
        }
        let unchanged_for = seen.as_ref().map_or(Duration::ZERO, |(_, t)| t.elapsed());
        let holder_ttl = holder.as_ref().map_or(options.ttl, Holder::ttl);
        let age = (chrono::Utc::now() - meta.last_modified)
            .to_std()
            .unwrap_or(Duration::ZERO);
        let free = holder.as_ref().is_none_or(|h| h.released);
        if free || age > holder_ttl || unchanged_for >= holder_ttl {
            let attempt = Instant::now();
            match loc
                .store
                .put_opts(&path, mine.payload(), update(version.clone()))
                .await
            {
                Ok(result) => {
                    if let Some(h) = holder.as_ref().filter(|_| !free) {
                        opened.notes.push(format!(
                            "took over the lease of {}, not renewed for {}s",
                            h.describe(),
                            age.max(unchanged_for).as_secs()
                        ));
                    }
                    return Ok(Ok(hold(
                        loc,
                        &path,
                        options.ttl,
                        mine,
                        result.into(),
                        attempt,
                    )));
                }
                // Another run moved first (or our retried write landed: the next look tells).
                Err(
                    object_store::Error::Precondition { .. }
                    | object_store::Error::AlreadyExists { .. }
                    | object_store::Error::NotFound { .. },
                ) => continue,
                Err(e) => return Err(failed(&e)),
            }
        }
        let holder = holder.expect("a held lease has a holder");
        let waited = started.elapsed();
        match options.wait {
            Some(wait) if waited < wait => {
                if !announced {
                    announced = true;
                    (options.say)(&format!(
                        "{} is in use by {}; waiting up to {}",
                        loc.given,
                        holder.describe(),
                        humantime::format_duration(wait)
                    ));
                }
                tokio::time::sleep(poll_interval(holder_ttl).min(wait - waited)).await;
            }
            _ => {
                let left = holder_ttl.saturating_sub(age.max(unchanged_for));
                return Ok(Err(Busy {
                    holder: holder.describe(),
                    advice: format!(
                        "{}it renewed its lease {}s ago; if that run is gone, the lease expires in {}s; retry then, or {}",
                        waited_for(options.wait),
                        age.as_secs(),
                        left.as_secs() + 1,
                        wait_advice(options.wait)
                    ),
                }));
            }
        }
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
        let put = shared
            .loc
            .store
            .put_opts(&shared.path, holder.payload(), update(version));
        let outcome = match tokio::time::timeout(shared.ttl / 3, put).await {
            Ok(Ok(result)) => Some(Ok(UpdateVersion::from(result))),
            Ok(Err(object_store::Error::Precondition { .. })) => {
                // Taken over, or our write landed and only its answer was lost.
                match read(&shared).await {
                    Some((current, version)) if current.nonce == holder.nonce => Some(Ok(version)),
                    Some((current, _)) => Some(Err(format!("{} took it over", current.describe()))),
                    None => None,
                }
            }
            // The store did not answer in time: try again at the next turn.
            _ => None,
        };
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

async fn read(shared: &Shared) -> Option<(Holder, UpdateVersion)> {
    let got = shared.loc.store.get(&shared.path).await.ok()?;
    let version = UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got.bytes().await.ok()?;
    Some((serde_json::from_slice(&bytes).ok()?, version))
}

async fn lock_file(
    loc: &Location,
    options: &LeaseOptions,
    run_id: &str,
    opened: &mut Opened,
) -> Result<Result<Kind, Busy>, CommitError> {
    let dir = std::path::PathBuf::from(loc.display(&meta_path(loc, "lease")));
    let path = dir.join(format!("{}.lock", options.name));
    let io_error = |e: std::io::Error| CommitError::Store {
        location: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(io_error)?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_error)?;
    let started = Instant::now();
    let mut announced = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                let holder = Holder::new(run_id, options.ttl);
                let text = serde_json::to_vec(&holder).expect("the lease serializes");
                file.set_len(0)
                    .and_then(|()| file.rewind())
                    .and_then(|()| file.write_all(&text))
                    .map_err(io_error)?;
                return Ok(Ok(Kind::File(Mutex::new(Some(file)))));
            }
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                opened.warnings.push(unlocked_warning(
                    loc,
                    "its file system does not support file locks",
                ));
                return Ok(Ok(Kind::Unlocked));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_error(e)),
        }
        let mut text = String::new();
        let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let holder = serde_json::from_str::<Holder>(&text)
            .map(|h| h.describe())
            .unwrap_or_else(|_| "another trailpq run".to_string());
        let waited = started.elapsed();
        match options.wait {
            Some(wait) if waited < wait => {
                if !announced {
                    announced = true;
                    (options.say)(&format!(
                        "{} is in use by {holder}; waiting up to {}",
                        loc.given,
                        humantime::format_duration(wait)
                    ));
                }
                let pause = Duration::from_millis(100).min(wait - waited);
                tokio::time::sleep(pause).await;
            }
            _ => {
                return Ok(Err(Busy {
                    holder,
                    advice: format!(
                        "{}it holds a lock on {}, which ends with its process; retry later, or {}",
                        waited_for(options.wait),
                        path.display(),
                        wait_advice(options.wait)
                    ),
                }));
            }
        }
    }
}

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

    #[tokio::test]
    async fn a_waiting_run_gets_the_lease_when_the_holder_ends() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(dir.path().to_str().unwrap()).unwrap();
        let mut opened = Opened::default();
        let first = Lease::acquire(&loc, &LeaseOptions::new("main"), "run-1", &mut opened)
            .await
            .unwrap();
        let waiting = LeaseOptions {
            wait: Some(Duration::from_secs(30)),
            ..LeaseOptions::new("main")
        };
        let (loc2, mut opened2) = (loc.clone(), Opened::default());
        let waiter = tokio::spawn(async move {
            Lease::acquire(&loc2, &waiting, "run-2", &mut opened2)
                .await
                .map(|_| ())
        });
        first.release().await;
        drop(first);
        waiter.await.unwrap().unwrap();
    }
}
