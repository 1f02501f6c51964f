//! The `watch` command: converts CloudTrail objects as S3 (or CloudTrail, or EventBridge)
//! announces them on an SQS queue, with everything `convert` does.
//!
//! The loop: long-poll the queue and gather messages into a batch (until `--checkpoint`'s time
//! or input size, a stop signal, or, with `--drain`, an empty queue), keeping them hidden from
//! other consumers while the batch lasts; read what each message says ([`message`]); refuse
//! objects outside the SOURCEs; look each object up; convert the batch as one `convert`
//! run over exactly those objects (one checkpoint: the same planner, state, lease and commit, so
//! an object notified twice, or converted by `convert` already, is converted once); and only
//! then delete the messages whose objects are committed. A message that cannot be read, names a
//! foreign object, or an object the store would not give, is reported and left to the queue's
//! redrive policy. A kill at any point leaves messages on the queue whose objects are either
//! committed (converted once when they come back) or not (converted when they come back).

mod message;
mod queue;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use object_store::path::Path;
use serde::Serialize;

use crate::convert::{self, CheckpointEvery, ConvertOptions, Input};
use crate::error::{Error, Result};
use crate::listing::{self, Found};
use crate::report::Report;
use crate::store::Location;
use message::Notice;
use queue::{Queue, Received};

/// Objects looked up at once.
const LOOKUPS: usize = 16;
/// Most messages in one batch (their objects' rows are bounded by the writer's buffer; this
/// bounds the receipts and keys held).
const MAX_BATCH: usize = 20_000;
/// Most left messages listed in the report (the newest); the counts cover them all.
const MAX_LISTED: usize = 1_000;

pub struct WatchOptions {
    /// SOURCEs, DEST and everything a batch's conversion needs.
    pub convert: ConvertOptions,
    pub queue_url: String,
    /// Stop when the queue is empty.
    pub drain: bool,
    /// How long received messages stay hidden; extended while their batch works.
    pub visibility: Duration,
    pub profile: Option<String>,
    pub progress: bool,
    /// Log lines (what is left on the queue, each checkpoint).
    pub say: fn(&str),
    /// Called with the report after each checkpoint.
    pub on_report: Box<dyn Fn(&WatchReport) + Send + Sync>,
}

/// What the watcher has done so far (rewritten after each checkpoint and at exit).
#[derive(Debug, Default, Serialize)]
pub struct WatchReport {
    pub run_id: String,
    pub trailpq_version: String,
    pub queue: String,
    pub sources: Vec<String>,
    pub dest: String,
    pub messages: MessageCounts,
    pub checkpoints: u64,
    pub files_converted: u64,
    pub files_unchanged: u64,
    pub files_quarantined: u64,
    pub files_skipped: u64,
    pub records_written: u64,
    pub records_quarantined: u64,
    pub bytes_read: u64,
    pub output_bytes: u64,
    /// The newest messages left on the queue, with why (at most 1,000; `messages.left` counts all).
    pub left: Vec<LeftMessage>,
    /// The report of the newest checkpoint's conversion, as `convert --report` writes it.
    pub last_checkpoint: Option<Report>,
    pub elapsed_seconds: f64,
    pub error: Option<String>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct MessageCounts {
    pub received: u64,
    /// Deleted from the queue: their objects are committed, or there was nothing to read.
    pub acknowledged: u64,
    /// Naming an object outside the SOURCEs: left on the queue, never read.
    pub refused: u64,
    /// Not a notification trailpq knows: left on the queue.
    pub malformed: u64,
    /// Naming an object that does not exist or that the store would not give: left on the queue.
    pub unreadable: u64,
    /// Left on the queue for its redrive policy (refused, malformed and unreadable).
    pub left: u64,
    /// `s3:TestEvent`: acknowledged.
    pub test_events: u64,
    /// Announcing nothing to convert (digests, folder markers, removals): acknowledged.
    pub not_logs: u64,
    /// Objects announced (duplicates included).
    pub objects: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeftMessage {
    pub message_id: String,
    pub reason: String,
}

/// Runs the watcher until it is stopped (or, with `--drain`, the queue is empty). Returns the
/// report with the exit code: 3 when messages were left on the queue or records quarantined.
pub async fn run(options: WatchOptions) -> (WatchReport, Result<u8>) {
    let started = Instant::now();
    let mut report = WatchReport {
        run_id: convert::new_run_id(),
        trailpq_version: env!("CARGO_PKG_VERSION").into(),
        queue: options.queue_url.clone(),
        sources: options.convert.sources.clone(),
        dest: options.convert.dest.clone(),
        ..WatchReport::default()
    };
    let result = Watcher::new(&options, &mut report).await;
    let result = match result {
        Ok(mut watcher) => watcher.run().await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        report.error = Some(e.to_string());
    }
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    (report, result)
}

/// A message received in the batch being gathered, and what to do with it.
struct Pending {
    id: String,
    receipt: String,
    verdict: Verdict,
}

enum Verdict {
    /// Read these objects; acknowledge once they are committed.
    Read(Vec<Target>),
    /// Nothing to read: acknowledge.
    Done,
    /// Leave on the queue, for this reason.
    Leave(String),
}

/// An object to read: the SOURCE it is under, its path there, and its name as `source_key`.
#[derive(Clone)]
struct Target {
    loc: Arc<Location>,
    path: Path,
    key: String,
}

struct Watcher<'a> {
    options: &'a WatchOptions,
    report: &'a mut WatchReport,
    sources: Vec<Arc<Location>>,
    queue: Arc<Queue>,
    stop: tokio::sync::watch::Receiver<bool>,
    /// Messages this process left on the queue: with `--drain`, seeing only these again means
    /// the queue is drained.
    left_ids: HashSet<String>,
    bar: indicatif::ProgressBar,
    exit: u8,
}

impl<'a> Watcher<'a> {
    async fn new(options: &'a WatchOptions, report: &'a mut WatchReport) -> Result<Self> {
        let sources: Vec<Arc<Location>> = listing::distinct_sources(&options.convert.sources)?
            .into_iter()
            .filter(|loc| bucket_of(loc).is_some())
            .collect();
        if sources.is_empty() {
            return Err(Error::Usage(
                "watch reads the objects S3 announces: give the buckets or prefixes it may read \
                 as s3:// SOURCEs (s3://BUCKET/AWSLogs/)"
                    .into(),
            ));
        }
        let queue = Queue::connect(&options.queue_url, options.profile.as_deref()).await?;
        Ok(Watcher {
            options,
            report,
            sources,
            queue: Arc::new(queue),
            stop: stop_on_signals(),
            left_ids: HashSet::new(),
            bar: progress_line(options.progress),
            exit: 0,
        })
    }

    async fn run(&mut self) -> Result<u8> {
        loop {
            let keeper = Keeper::new(self.queue.clone(), self.options.visibility);
            let (batch, idle) = self.gather(&keeper).await?;
            if !batch.is_empty() {
                self.process(batch, keeper).await?;
                (self.options.on_report)(self.report);
            }
            let stopped = *self.stop.borrow();
            if stopped || (self.options.drain && idle) {
                break;
            }
        }
        self.bar.finish_and_clear();
        (self.options.on_report)(self.report);
        Ok(match self.options.drain && self.report.messages.left > 0 {
            true => 3,
            false => self.exit,
        })
    }

    /// Receives messages until the batch is due: its time or input size, a stop, or (with
    /// `--drain`) an empty queue, which makes `idle` true. Keeps them hidden meanwhile.
    async fn gather(&mut self, keeper: &Keeper) -> Result<(Vec<Pending>, bool)> {
        let every = self.options.convert.checkpoint;
        let visibility = self.options.visibility;
        let mut batch: Vec<Pending> = Vec::new();
        let mut first: Option<Instant> = None;
        let mut bytes = 0u64;
        let mut failures = 0u32;
        let mut stop = self.stop.clone();
        loop {
            if *stop.borrow() || batch.len() >= MAX_BATCH || due(every, first, bytes) {
                break;
            }
            let wait = match (self.options.drain, first) {
                (true, _) => Duration::from_secs(1),
                (false, None) => Duration::from_secs(20),
                (false, Some(t)) => every
                    .time
                    .map_or(Duration::from_secs(20), |e| e.saturating_sub(t.elapsed()))
                    .clamp(Duration::from_secs(1), Duration::from_secs(20)),
            };
            let received = tokio::select! {
                received = self.queue.receive(wait, visibility) => received,
                _ = stop.changed() => break,
            };
            let received = match received {
                Ok(received) => {
                    failures = 0;
                    received
                }
                // A watcher outlives network faults (the SDK has retried already); a drain
                // reports them.
                Err(e) if !self.options.drain => {
                    failures += 1;
                    let pause = Duration::from_secs(1 << failures.min(6));
                    (self.options.say)(&format!("{e}; trying again in {}s", pause.as_secs()));
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => continue,
                        _ = stop.changed() => break,
                    }
                }
                Err(e) => return Err(e),
            };
            let fresh: Vec<Received> = received
                .into_iter()
                .filter(|m| !(self.options.drain && self.left_ids.contains(&m.id)))
                .collect();
            if fresh.is_empty() {
                if self.options.drain {
                    return Ok((batch, true));
                }
                continue;
            }
            first.get_or_insert_with(Instant::now);
            keeper.add(fresh.iter().map(|m| m.receipt.clone()));
            for message in fresh {
                let pending = self.classify(message);
                if let Verdict::Read(targets) = &pending.verdict {
                    bytes += targets.len() as u64 * ASSUMED_OBJECT_BYTES;
                }
                batch.push(pending);
            }
            self.show();
        }
        Ok((batch, false))
    }

    /// What to do with a message.
    fn classify(&mut self, message: Received) -> Pending {
        let counts = &mut self.report.messages;
        counts.received += 1;
        let verdict = match message::parse(&message.body) {
            Err(reason) => {
                counts.malformed += 1;
                Verdict::Leave(reason)
            }
            Ok(Notice::Test) => {
                counts.test_events += 1;
                Verdict::Done
            }
            Ok(Notice::Other(_)) => {
                counts.not_logs += 1;
                Verdict::Done
            }
            Ok(Notice::Objects(objects)) => {
                counts.objects += objects.len() as u64;
                let mut targets = Vec::new();
                let mut refused = None;
                for object in &objects {
                    match self.sources.iter().find(|loc| covers(loc, object)) {
                        Some(_) if !is_log(&object.key) => {}
                        Some(loc) => {
                            let path = Path::parse(&object.key)
                                .unwrap_or_else(|_| Path::from(object.key.as_str()));
                            targets.push(Target {
                                key: loc.display(&path),
                                loc: loc.clone(),
                                path,
                            });
                        }
                        None => {
                            refused = Some(format!(
                                "names s3://{}/{}, which is outside every SOURCE: refused, not read",
                                object.bucket, object.key
                            ));
                            break;
                        }
                    }
                }
                match (refused, targets.is_empty()) {
                    (Some(reason), _) => {
                        counts.refused += 1;
                        Verdict::Leave(reason)
                    }
                    (None, true) => {
                        counts.not_logs += 1;
                        Verdict::Done
                    }
                    (None, false) => Verdict::Read(targets),
                }
            }
        };
        Pending {
            id: message.id,
            receipt: message.receipt,
            verdict,
        }
    }

    /// Converts a batch's objects in one checkpoint, then acknowledges what is done.
    async fn process(&mut self, mut batch: Vec<Pending>, keeper: Keeper) -> Result<()> {
        let found = self.look_up(&mut batch).await;
        let converted = match found.is_empty() {
            true => None,
            false => Some(self.convert(found).await),
        };
        keeper.stop();
        if let Some((report, result)) = converted {
            if let Err(e) = result {
                // Nothing of the batch is acknowledged: it comes back after its visibility
                // timeout, and what the failed run committed is converted once.
                self.report.last_checkpoint = Some(report);
                return Err(e);
            }
            self.take_report(report, &mut batch);
        }
        let mut done = Vec::new();
        for pending in batch {
            match pending.verdict {
                Verdict::Leave(reason) => self.leave(pending.id, reason),
                _ => done.push(pending.receipt),
            }
        }
        crate::hooks::crash_point("watch-before-ack");
        // A message not deleted comes back, and its objects are found converted then.
        match self.queue.delete(&done).await {
            Ok(failures) => {
                for failure in &failures {
                    (self.options.say)(&format!(
                        "a committed message was not deleted (it comes back, and is acknowledged then): {failure}"
                    ));
                }
                self.report.messages.acknowledged += (done.len() - failures.len()) as u64;
            }
            Err(e) if !self.options.drain => (self.options.say)(&format!(
                "{e}; the batch is committed, and its messages are acknowledged when they come back"
            )),
            Err(e) => return Err(e),
        }
        self.show();
        Ok(())
    }

    /// Looks up every object of the batch (as a listing sees it); a message with an object that is missing or
    /// that the store would not give is left. Returns the objects found, once each.
    async fn look_up(&mut self, batch: &mut [Pending]) -> Vec<Found> {
        let mut targets: HashMap<String, Target> = HashMap::new();
        for pending in batch.iter() {
            if let Verdict::Read(list) = &pending.verdict {
                for target in list {
                    targets.entry(target.key.clone()).or_insert(target.clone());
                }
            }
        }
        let looked: HashMap<String, std::result::Result<Found, String>> =
            futures::stream::iter(targets.into_values())
                .map(|target| async move {
                    let found = match listing::object(&target.loc, &target.path).await {
                        Ok(Some(meta)) => Ok(Found {
                            loc: target.loc.clone(),
                            meta,
                        }),
                        Ok(None) => Err(format!("{}: no such object", target.key)),
                        Err(e) => Err(format!("{}: {e}", target.key)),
                    };
                    (target.key, found)
                })
                .buffer_unordered(LOOKUPS)
                .collect()
                .await;
        self.leave_unreadable(batch, |key| looked.get(key)?.as_ref().err().cloned());
        looked.into_values().filter_map(|r| r.ok()).collect()
    }

    /// Leaves on the queue each message to read with an object `reason_of` gives a reason for.
    fn leave_unreadable(
        &mut self,
        batch: &mut [Pending],
        reason_of: impl Fn(&str) -> Option<String>,
    ) {
        for pending in batch.iter_mut() {
            if let Verdict::Read(list) = &pending.verdict
                && let Some(reason) = list.iter().find_map(|t| reason_of(&t.key))
            {
                self.report.messages.unreadable += 1;
                pending.verdict = Verdict::Leave(reason);
            }
        }
    }

    /// Converts the objects as one `convert` run, committed once.
    async fn convert(&mut self, found: Vec<Found>) -> (Report, Result<()>) {
        let mut options = self.options.convert.clone();
        options.progress = false;
        options.checkpoint = CheckpointEvery {
            time: None,
            bytes: None,
        };
        convert::run_input(options, Input::Objects(found)).await
    }

    /// Folds a checkpoint's report into the watcher's; messages naming an object its run could
    /// not read are left.
    fn take_report(&mut self, mut report: Report, batch: &mut [Pending]) {
        let unreadable: HashMap<&str, &str> = report
            .files_unreadable
            .iter()
            .map(|f| (f.source.as_str(), f.reason.as_str()))
            .collect();
        self.leave_unreadable(batch, |key| {
            unreadable.get(key).map(|reason| format!("{key}: {reason}"))
        });
        let r = &mut *self.report;
        r.checkpoints += u64::from(report.checkpoints);
        r.files_converted += report.files_converted;
        r.files_unchanged += report.files_unchanged;
        r.files_quarantined += report.files_quarantined.len() as u64;
        r.files_skipped += report.files_skipped;
        r.records_written += report.records_written;
        r.records_quarantined += report.records_quarantined_count();
        r.bytes_read += report.bytes_read;
        r.output_bytes += report.output_bytes;
        self.exit = self.exit.max(match report.exit_code() {
            0 => 0,
            _ => 3,
        });
        for issue in &report.files_quarantined {
            (self.options.say)(&format!("quarantined {}: {}", issue.source, issue.reason));
        }
        if report.records_quarantined_count() > 0 {
            (self.options.say)(&format!(
                "{} records quarantined (see the report)",
                report.records_quarantined_count()
            ));
        }
        report.sort();
        self.report.last_checkpoint = Some(report);
    }

    fn leave(&mut self, id: String, reason: String) {
        (self.options.say)(&format!("message {id} left on the queue: {reason}"));
        self.report.messages.left += 1;
        self.left_ids.insert(id.clone());
        if self.left_ids.len() > MAX_BATCH * 4 {
            self.left_ids.clear();
        }
        if self.report.left.len() >= MAX_LISTED {
            self.report.left.remove(0);
        }
        self.report.left.push(LeftMessage {
            message_id: id,
            reason,
        });
    }

    fn show(&self) {
        let m = &self.report.messages;
        self.bar.set_message(format!(
            "messages: {} received, {} acknowledged, {} refused, {} left; {} records committed",
            m.received, m.acknowledged, m.refused, m.left, self.report.records_written
        ));
    }
}

/// What a batch counts per object towards `--checkpoint`'s size before it is read (CloudTrail
/// delivers files of a few MB at most; the real size is only known when read).
const ASSUMED_OBJECT_BYTES: u64 = 1 << 20;

fn due(every: CheckpointEvery, first: Option<Instant>, bytes: u64) -> bool {
    let Some(first) = first else { return false };
    every.time.is_some_and(|t| first.elapsed() >= t) || every.bytes.is_some_and(|b| bytes >= b)
}

/// The bucket of an `s3://` location.
fn bucket_of(loc: &Location) -> Option<&str> {
    let url = loc.base_url.as_ref()?;
    matches!(url.scheme(), "s3" | "s3a")
        .then(|| url.host_str())
        .flatten()
}

/// Whether an object is under a SOURCE: its bucket, and its prefix as a whole folder (or the
/// object itself).
fn covers(loc: &Location, object: &message::ObjectRef) -> bool {
    if bucket_of(loc) != Some(object.bucket.as_str()) {
        return false;
    }
    let prefix = loc.prefix.as_ref();
    prefix.is_empty()
        || object.key == prefix
        || object
            .key
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether a key may hold log records: not a digest, folder marker or CloudTrail's bucket check.
fn is_log(key: &str) -> bool {
    !(key.ends_with('/')
        || key.contains("/CloudTrail-Digest/")
        || key.ends_with("ConfigWritabilityCheckFile"))
}

/// Keeps received messages hidden while their batch works: every third of the visibility
/// timeout, hides them for another timeout.
struct Keeper {
    receipts: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Keeper {
    fn new(queue: Arc<Queue>, visibility: Duration) -> Self {
        let receipts: Arc<Mutex<Vec<String>>> = Arc::default();
        let held = receipts.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(visibility / 3).await;
                let now: Vec<String> = held.lock().unwrap().clone();
                if let Err(e) = queue.extend(&now, visibility).await {
                    eprintln!("trailpq: warning: {e}");
                }
            }
        });
        Keeper { receipts, task }
    }

    fn add(&self, receipts: impl IntoIterator<Item = String>) {
        self.receipts.lock().unwrap().extend(receipts);
    }

    fn stop(self) {
        self.task.abort();
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// SIGTERM or Ctrl-C stop the watcher after the batch in flight is committed and acknowledged;
/// a second one stops it at once (what is not committed comes back from the queue).
fn stop_on_signals() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut next = async || {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async {
                    match term.as_mut() {
                        Some(t) => { t.recv().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {}
            }
        };
        next().await;
        eprintln!("trailpq: stopping after the batch in flight is committed (again to stop now)");
        let _ = tx.send(true);
        next().await;
        std::process::exit(130);
    });
    rx
}

fn progress_line(enabled: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !(enabled && std::io::stderr().is_terminal()) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_cover_their_bucket_and_whole_folders() {
        let object = |bucket: &str, key: &str| message::ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        };
        let prefix = Location::parse("s3://trail/AWSLogs/").unwrap();
        assert!(covers(
            &prefix,
            &object("trail", "AWSLogs/1/CloudTrail/x.json.gz")
        ));
        assert!(!covers(&prefix, &object("trail", "AWSLogsX/1/x.json.gz")));
        assert!(!covers(&prefix, &object("other", "AWSLogs/1/x.json.gz")));
        assert!(!covers(&prefix, &object("trail", "secrets/x.json.gz")));
        let bucket = Location::parse("s3://trail").unwrap();
        assert!(covers(&bucket, &object("trail", "anything/x.json.gz")));
        assert!(bucket_of(&Location::parse("/tmp/logs").unwrap()).is_none());
    }

    #[test]
    fn digests_and_markers_are_not_logs() {
        assert!(is_log(
            "AWSLogs/1/CloudTrail/us-east-1/2024/05/01/1_CloudTrail_us-east-1_x.json.gz"
        ));
        assert!(!is_log(
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/1_CloudTrail-Digest_x.json.gz"
        ));
        assert!(!is_log("AWSLogs/1/CloudTrail/"));
        assert!(!is_log("AWSLogs/1/ConfigWritabilityCheckFile"));
    }
}
