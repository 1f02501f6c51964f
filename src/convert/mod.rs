//! The `convert` command: sources in, partitioned Parquet out, with a report.
//!
//! The listing ([`crate::listing`]) streams what it finds; the planner ([`plan`]) decides for each
//! file whether to read it; files are fetched concurrently (object stores are latency-bound) and
//! converted on a pool of `--threads` CPU workers ([`job`]); the writer buffers rows by partition
//! and encodes files on the same pool. Work starts while the listing goes on, and memory does not
//! grow with the number of objects.
//!
//! The run commits in checkpoints (every `--checkpoint` of time or input): the writer's files of
//! the files done so far are committed with those files' sources, so a crash, kill or fatal error
//! loses at most the checkpoint in flight. A checkpoint waits until no large file is half
//! streamed, so each source's rows are committed together.

mod job;
mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use futures::{FutureExt, StreamExt};
use tokio::sync::{Semaphore, mpsc};

use crate::error::{Error, Result};
use crate::listing::{self, ListOptions, ListStats};
use crate::progress::Progress;
use crate::report::{Output, Report};
use crate::shape::Limits;
use crate::sources::TrailKey;
use crate::store::Location;
use crate::table::commit::Checkpoint;
use crate::table::lease::LeaseOptions;
use crate::table::state::{self, ScopeState, SourceEntry};
use crate::table::{Dest, MAIN_LEASE, OpenOptions, TableFormat, TableMeta};
use crate::writer::partition::PartitionSpec;
use crate::writer::{PartitionWriter, WriterConfig};
use job::{Job, Outcome};
pub use plan::Shard;
use plan::{Decision, Outstanding, Planner, SourceFile};

#[derive(Debug, Clone)]
pub struct ConvertOptions {
    pub sources: Vec<String>,
    pub dest: String,
    pub partition_by: PartitionSpec,
    pub threads: usize,
    pub limits: Limits,
    pub writer: WriterConfig,
    /// Largest file whose rows are held in memory until it is fully read; larger files are
    /// read twice. Measured in JSON bytes.
    pub hold_bytes: usize,
    pub progress: bool,
    /// When to commit what is done so far.
    pub checkpoint: CheckpointEvery,
    /// The lease on DEST: its length, and how long to wait for a busy one.
    pub lease: LeaseOptions,
    /// Shows a warning as soon as it is known (it is also in the report).
    pub warn: fn(&str),
    /// Which deliveries to list (days, accounts, regions; incremental or full).
    pub listing: ListOptions,
    /// This run's share of the work, when several workers share it.
    pub shard: Option<Shard>,
    /// Plan only: list and compare with DEST, write nothing.
    pub dry_run: bool,
    /// Convert only log files that a valid digest under the sources vouches for.
    pub verify: bool,
    /// The format of a new table; an existing table keeps its own (`None`: whichever it has,
    /// Hive for a new one).
    pub table_format: Option<TableFormat>,
}

impl ConvertOptions {
    pub fn new(sources: Vec<String>, dest: String) -> Self {
        ConvertOptions {
            sources,
            dest,
            partition_by: PartitionSpec::default(),
            threads: default_threads(),
            limits: Limits::default(),
            writer: WriterConfig::default(),
            hold_bytes: 64 << 20,
            progress: true,
            checkpoint: CheckpointEvery::default(),
            lease: LeaseOptions::new(MAIN_LEASE),
            warn: |_| {},
            listing: ListOptions::default(),
            shard: None,
            dry_run: false,
            verify: false,
            table_format: None,
        }
    }

    /// The lease this run takes: its shard's, or the main one.
    fn lease_name(&self) -> String {
        self.shard
            .map_or_else(|| MAIN_LEASE.to_string(), |s| s.lease_name())
    }
}

/// When a run commits what it has done so far: after this much time or this many bytes of
/// input, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointEvery {
    pub time: Option<Duration>,
    pub bytes: Option<u64>,
}

impl Default for CheckpointEvery {
    fn default() -> Self {
        CheckpointEvery {
            time: Some(Duration::from_secs(10 * 60)),
            bytes: Some(1 << 30),
        }
    }
}

impl FromStr for CheckpointEvery {
    type Err = String;

    /// `10m`, `1GiB`, `30s,500MB`: durations (s, m, h) and sizes (B, KB, MB, GB, KiB, MiB, GiB).
    fn from_str(text: &str) -> Result<Self, String> {
        let mut every = CheckpointEvery {
            time: None,
            bytes: None,
        };
        for part in text.split(',').map(str::trim) {
            if let Some(bytes) = parse_size(part) {
                every.bytes = Some(bytes.max(1));
            } else if let Ok(time) = humantime::parse_duration(part) {
                every.time = Some(time);
            } else {
                return Err(format!(
                    "'{part}' is neither a duration (30s, 10m, 1h) nor a size (500MB, 1GiB)"
                ));
            }
        }
        Ok(every)
    }
}

/// `500MB`, `1GiB`, `4096B`, `2 kb`: a number of bytes.
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => return None,
    };
    Some((number * factor as f64) as u64)
}

pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
}

/// Messages from the planner and the converters to the run loop.
enum Msg {
    /// What the planner decided about a listed file that is not read.
    Planned(Decision),
    /// A file to read (counted when it is planned; in a dry run, nothing more happens).
    Reading {
        key: String,
        size: u64,
        changed: bool,
    },
    /// Rows of a file being streamed (too large to hold): its key, the partition, the rows.
    Rows(Arc<str>, String, RecordBatch),
    /// A file is done.
    Done(SourceFile, Outcome, u64),
    /// The run cannot go on.
    Fatal(Error),
}

/// What a run reads: everything its SOURCEs list, or objects named to it (the watcher's, each
/// with its SOURCE's location: not listed, and no watermark moves).
pub(crate) enum Input {
    List,
    Objects(Vec<listing::Found>),
}

/// Runs `convert`. The report is returned in every case; with an `Err` when the run failed (what
/// it committed before stays committed, and the report says so).
pub async fn run(options: ConvertOptions) -> (Report, Result<()>) {
    run_input(options, Input::List).await
}

/// Runs `convert` over `input`.
pub(crate) async fn run_input(options: ConvertOptions, input: Input) -> (Report, Result<()>) {
    let started = Instant::now();
    let mut report = Report {
        run_id: new_run_id(),
        trailpq_version: env!("CARGO_PKG_VERSION").into(),
        sources: options.sources.clone(),
        dest: options.dest.clone(),
        partition_by: options
            .partition_by
            .names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ..Report::default()
    };
    let result = open_and_convert(&mut report, &options, input).await;
    if let Err(e) = &result {
        report.error = Some(e.to_string());
    }
    report.sort();
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    (report, result)
}

async fn open_and_convert(
    report: &mut Report,
    options: &ConvertOptions,
    input: Input,
) -> Result<()> {
    let dest_loc = Location::parse(&options.dest)?;
    let lease = options.lease_name();
    let stats = Arc::new(ListStats::default());
    let found = match input {
        Input::List => {
            let sources = listing::distinct_sources(&options.sources)?;
            // Where this lease's incremental listing resumes (read only; the lease is taken later).
            let mut listing = options.listing.clone();
            listing.complete = state::read_watermarks(&dest_loc, &lease)
                .await?
                .complete
                .into_iter()
                .collect();
            // The first listing of each SOURCE happens here: an unreadable SOURCE stops the run
            // before DEST is touched.
            listing::list(sources, Arc::new(listing), stats.clone()).await?
        }
        Input::Objects(objects) => {
            let (tx, rx) = mpsc::channel(PLANNING);
            tokio::spawn(async move {
                for found in objects {
                    if tx.send(Ok(found)).await.is_err() {
                        break;
                    }
                }
            });
            rx
        }
    };
    let result = if options.dry_run {
        report.dry_run = true;
        if let Some(meta) = crate::table::read_meta(&dest_loc).await? {
            check_table(&meta, options)?;
        }
        convert(report, None, dest_loc, found, stats.clone(), options).await
    } else {
        let open = OpenOptions {
            run_id: report.run_id.clone(),
            lease: LeaseOptions {
                name: lease,
                ..options.lease.clone()
            },
        };
        let (dest, opened) = Dest::open(dest_loc.clone(), open).await?;
        for warning in &opened.warnings {
            (options.warn)(warning);
        }
        report.notes = opened.notes;
        report.warnings = opened.warnings;
        report.sources_forgotten = opened.sources_forgotten;
        let dest = Arc::new(dest);
        let result = convert(report, Some(&dest), dest_loc, found, stats.clone(), options).await;
        dest.release().await;
        result
    };
    report.list_requests = stats.requests();
    report.keys_listed = stats.keys();
    result
}

/// An existing table must be asked for as it is: its format (when one is asked for) and its
/// partitioning.
fn check_table(existing: &TableMeta, options: &ConvertOptions) -> Result<()> {
    match options.table_format {
        Some(asked) if asked != existing.format => {
            let advice = match asked {
                TableFormat::Delta => format!(
                    "make it a Delta table first with: trailpq migrate {} --to delta",
                    options.dest
                ),
                TableFormat::Hive => "leave out --table-format, or use a new DEST".to_string(),
            };
            return Err(Error::Usage(format!(
                "{} holds a {} table, not {}; {advice}",
                options.dest,
                existing.format.name(),
                asked.name()
            )));
        }
        _ => {}
    }
    let wanted = options.partition_by.names();
    if existing.partition_by != wanted {
        return Err(Error::Usage(format!(
            "{} holds a table partitioned by {}; convert into it with --partition-by {1}, or use a new DEST",
            options.dest,
            existing.partition_by.join(",")
        )));
    }
    Ok(())
}

/// Plans each listed file as it comes, reads and converts the ones to convert, and commits
/// checkpoints; `dest` is `None` in a dry run, which only plans.
async fn convert(
    report: &mut Report,
    dest: Option<&Arc<Dest>>,
    dest_loc: Location,
    found: mpsc::Receiver<Result<listing::Found, crate::store::StoreError>>,
    listed: Arc<ListStats>,
    options: &ConvertOptions,
) -> Result<()> {
    let existing = dest.and_then(|d| d.table_meta());
    if let Some(existing) = &existing {
        check_table(existing, options)?;
    }
    let format = existing
        .map(|m| m.format)
        .or(options.table_format)
        .unwrap_or_default();
    let meta = TableMeta {
        partition_by: report.partition_by.clone(),
        schema_version: crate::schema::SCHEMA_VERSION.into(),
        layout: format.layout(),
        format,
    };
    report.table_format = meta.format.name().to_string();

    let threads = options.threads.max(1);
    let cpu = Arc::new(Semaphore::new(threads));
    let progress = Progress::new(0, options.progress && dest.is_some());
    let outstanding = Arc::new(Outstanding::default());
    let job = Arc::new(Job::new(
        options.partition_by.clone(),
        options.limits,
        options.hold_bytes,
        cpu.clone(),
        progress.clone(),
        vouched(options, dest.is_some()).await?,
    ));
    let job_verified = job.verified.clone();
    // Each message may hold a whole file's rows: keep few in flight.
    let (tx, rx) = mpsc::channel::<Msg>(threads.max(4));
    let feeder = Feeder {
        planner: Arc::new(Planner::new(dest_loc, options.shard)),
        job,
        outstanding: outstanding.clone(),
        progress: progress.clone(),
        dry_run: dest.is_none(),
        fetchers: (threads * 4).max(16),
    }
    .spawn(found, tx);

    let mut collector = Collector {
        writer: dest
            .map(|d| PartitionWriter::new(d.clone(), 0, options.writer, cpu.clone(), threads)),
        report,
        dest: dest.cloned(),
        options,
        cpu,
        meta,
        outstanding,
        listed,
        checkpoint: 0,
        pending: BTreeMap::new(),
        known: HashMap::new(),
        since: Instant::now(),
        since_bytes: 0,
        streaming: HashSet::new(),
        progress: progress.clone(),
        days: BTreeSet::new(),
    };
    let result = collector.run(rx, feeder).await;
    progress.finish();
    collector.finish_plan();
    collector.report.files_verified = job_verified.load(std::sync::atomic::Ordering::Relaxed);
    result
}

/// With `--verify` (and not in a dry run): what the digests vouch for, read before any file is.
async fn vouched(
    options: &ConvertOptions,
    writing: bool,
) -> Result<Option<Arc<HashMap<String, String>>>> {
    if !(options.verify && writing) {
        return Ok(None);
    }
    let (since, until) = (options.listing.since, options.listing.until);
    let vouched = crate::verify::vouched(&options.sources, since, until).await?;
    Ok(Some(Arc::new(vouched)))
}

/// Plans each listed file and starts reading the ones to convert, several at once; everything
/// it learns goes to the run loop as messages.
struct Feeder {
    planner: Arc<Planner>,
    job: Arc<Job>,
    outstanding: Arc<Outstanding>,
    progress: Progress,
    /// Plan only: read nothing.
    dry_run: bool,
    /// Files read at once.
    fetchers: usize,
}

impl Feeder {
    fn spawn(
        self,
        mut found: mpsc::Receiver<Result<listing::Found, crate::store::StoreError>>,
        tx: mpsc::Sender<Msg>,
    ) -> tokio::task::JoinHandle<()> {
        let feeder = Arc::new(self);
        tokio::spawn(async move {
            let listed = futures::stream::poll_fn(move |cx| found.poll_recv(cx));
            let planner = feeder.planner.clone();
            listed
                .map(|item| {
                    let planner = planner.clone();
                    async move { planner.decide(item?).await }.boxed()
                })
                .buffered(PLANNING)
                .for_each_concurrent(feeder.fetchers, |decision| {
                    let (feeder, tx) = (feeder.clone(), tx.clone());
                    async move { feeder.handle(decision, tx).await }.boxed()
                })
                .await;
        })
    }

    /// Reports a planned file, and reads it if it is to be converted.
    async fn handle(&self, decision: Result<Decision>, tx: mpsc::Sender<Msg>) {
        let (file, changed) = match decision {
            Ok(Decision::Convert { file, changed }) => (file, changed),
            Ok(other) => {
                let _ = tx.send(Msg::Planned(other)).await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Msg::Fatal(e)).await;
                return;
            }
        };
        let reading = Msg::Reading {
            key: file.key.clone(),
            size: file.meta.size,
            changed,
        };
        if tx.send(reading).await.is_err() || self.dry_run {
            return;
        }
        self.progress.add_total(file.meta.size);
        self.outstanding.started(&file.scope);
        self.job.clone().process(file, tx).await
    }
}

/// Files planned at once (reading the state of their folders).
const PLANNING: usize = 64;

/// The run loop's side: takes each plan and each file's outcome into the report and its rows
/// into the writer, and commits checkpoints.
struct Collector<'r> {
    report: &'r mut Report,
    /// `None` in a dry run.
    dest: Option<Arc<Dest>>,
    options: &'r ConvertOptions,
    cpu: Arc<Semaphore>,
    meta: TableMeta,
    outstanding: Arc<Outstanding>,
    /// Which region folders were listed without a gap (whose watermarks may move).
    listed: Arc<ListStats>,
    /// The writer of the checkpoint in flight.
    writer: Option<PartitionWriter>,
    checkpoint: u32,
    /// Sources converted in the checkpoint in flight, by scope, and what was recorded of those
    /// scopes when their files were planned.
    pending: BTreeMap<String, Vec<SourceEntry>>,
    known: HashMap<String, Arc<ScopeState>>,
    /// When the checkpoint in flight started, and the input bytes read since.
    since: Instant,
    since_bytes: u64,
    /// Large files whose rows are being streamed and which are not done yet.
    streaming: HashSet<Arc<str>>,
    progress: Progress,
    /// Delivery days of the files planned for reading (for the plan in the report).
    days: BTreeSet<chrono::NaiveDate>,
}

impl Collector<'_> {
    /// Takes every message until the feeder is done, then commits the last checkpoint; after a
    /// failure, what was not committed is abandoned.
    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Msg>,
        feeder: tokio::task::JoinHandle<()>,
    ) -> Result<()> {
        let mut result = Ok(());
        while let Some(msg) = rx.recv().await {
            result = self.take(msg).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = feeder
                .await
                .map_err(|e| Error::Failed(format!("a converter stopped: {e}")));
        } else {
            feeder.abort();
        }
        if result.is_ok() {
            result = self.commit_checkpoint().await;
        }
        if result.is_err() {
            self.abandon().await;
        }
        result
    }

    async fn take(&mut self, msg: Msg) -> Result<()> {
        if let Some(dest) = &self.dest {
            dest.check_lease()?;
        }
        match msg {
            Msg::Planned(decision) => match decision {
                Decision::Skip { key, reason } => {
                    self.report.files_found += 1;
                    self.report.skip(&key, reason);
                }
                Decision::Unchanged => {
                    self.report.files_found += 1;
                    self.report.files_unchanged += 1;
                }
                Decision::OtherShard => self.report.files_other_shards += 1,
                Decision::Convert { .. } => unreachable!("files to read come as Reading"),
            },
            Msg::Reading { key, size, changed } => {
                self.report.files_found += 1;
                if changed {
                    self.report.changed(&key);
                }
                let plan = &mut self.report.plan;
                plan.files += 1;
                plan.bytes += size;
                if let Some(t) = TrailKey::parse(&key) {
                    plan.accounts.insert(t.account.to_string());
                    plan.regions.insert(t.region.to_string());
                    self.days.insert(t.day);
                }
            }
            Msg::Rows(key, partition, batch) => {
                self.streaming.insert(key);
                self.writer().add(partition, batch).await?
            }
            Msg::Done(file, outcome, bytes_read) => {
                self.streaming.remove(file.key.as_str());
                self.report.bytes_read += bytes_read;
                self.since_bytes += bytes_read;
                if !matches!(outcome, Outcome::Unreadable(_)) {
                    // A file the store would not give holds its day back: read it next run.
                    self.outstanding.finished(&file.scope);
                }
                match outcome {
                    Outcome::Converted {
                        parts,
                        written,
                        bad,
                        json_bytes,
                    } => {
                        self.report.converted(written, json_bytes);
                        self.progress.add_records(written + bad.len() as u64);
                        for (index, reason) in bad {
                            self.report.quarantine_record(&file.key, index, reason);
                        }
                        self.pending
                            .entry(file.scope.clone())
                            .or_default()
                            .push(file.entry());
                        self.known
                            .entry(file.scope.clone())
                            .or_insert_with(|| file.state.clone());
                        for (partition, batch) in parts {
                            self.writer().add(partition, batch).await?;
                        }
                    }
                    Outcome::Skipped(reason) => self.report.skip(&file.key, reason),
                    Outcome::Quarantined(reason) => self.report.quarantine_file(&file.key, reason),
                    Outcome::Unreadable(reason) => self.report.unreadable(&file.key, reason),
                }
                if self.checkpoint_due() {
                    self.commit_checkpoint().await?;
                }
            }
            Msg::Fatal(e) => return Err(e),
        }
        Ok(())
    }

    fn writer(&mut self) -> &mut PartitionWriter {
        self.writer.as_mut().expect("a writer between checkpoints")
    }

    fn checkpoint_due(&self) -> bool {
        let every = self.options.checkpoint;
        self.streaming.is_empty()
            && (every.time.is_some_and(|t| self.since.elapsed() >= t)
                || every.bytes.is_some_and(|b| self.since_bytes >= b))
    }

    /// Writes out the checkpoint in flight and commits it with its sources; starts the next.
    async fn commit_checkpoint(&mut self) -> Result<()> {
        let Some(dest) = self.dest.clone() else {
            return Ok(());
        };
        let writer = self.writer.take().expect("a writer between checkpoints");
        let written = writer.finish().await?;
        let number = self.checkpoint;
        self.checkpoint += 1;
        self.writer = Some(PartitionWriter::new(
            dest.clone(),
            self.checkpoint,
            self.options.writer,
            self.cpu.clone(),
            self.options.threads.max(1),
        ));
        self.since = Instant::now();
        self.since_bytes = 0;
        let known = std::mem::take(&mut self.known);
        if self.pending.is_empty() && written.is_empty() {
            return Ok(());
        }
        let checkpoint = Checkpoint {
            number,
            files: written.iter().map(|f| f.rel.clone()).collect(),
            sources: std::mem::take(&mut self.pending),
            records: self.report.records_uncommitted,
            removes: Vec::new(),
        };
        let finals = dest.commit(checkpoint, &self.meta, &known).await?;
        let loc = &dest.loc;
        self.report
            .committed(written.iter().zip(finals).map(|(file, path)| Output {
                path: loc.display(&loc.child(&[&path])),
                rows: file.rows,
                bytes: file.bytes,
            }));
        // Everything started before is now committed, except what is still in flight; a folder
        // listed from a later day than its watermark (`--since`, a day SOURCE) has a gap, and
        // its watermark stays where it is.
        let complete = self
            .outstanding
            .complete()
            .into_iter()
            .filter(|(folder, _)| self.listed.unbroken(folder))
            .collect();
        dest.advance_watermarks(&complete).await?;
        Ok(())
    }

    /// After a failure: the checkpoint in flight is not committed.
    async fn abandon(&mut self) {
        drop(self.writer.take());
        if let Some(dest) = &self.dest {
            dest.abandon(self.checkpoint).await;
            if self.checkpoint > 0 {
                dest.abandon(self.checkpoint - 1).await;
            }
        }
    }

    /// Puts the delivery days planned into the report.
    fn finish_plan(&mut self) {
        let plan = &mut self.report.plan;
        plan.days = self.days.len() as u64;
        plan.first_day = self.days.first().map(|d| d.to_string());
        plan.last_day = self.days.last().map(|d| d.to_string());
    }
}

/// A sortable, unique run id: the UTC second it started (readable, and sorting like the ids of
/// earlier versions), then the random tail of a UUIDv7.
pub(crate) fn new_run_id() -> String {
    run_id_at(chrono::Utc::now())
}

/// A run id that starts with its UTC time to the second, so that ids sort by time, and ends
/// with random hex, so that runs in the same second differ.
fn run_id_at(time: chrono::DateTime<chrono::Utc>) -> String {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    format!("{}-{}", time.format("%Y%m%dT%H%M%SZ"), &unique[24..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_take_durations_and_sizes() {
        let every: CheckpointEvery = "30s,500MB".parse().unwrap();
        assert_eq!(every.time, Some(Duration::from_secs(30)));
        assert_eq!(every.bytes, Some(500_000_000));
        let every: CheckpointEvery = "1GiB".parse().unwrap();
        assert_eq!((every.time, every.bytes), (None, Some(1 << 30)));
        assert_eq!(
            "2h".parse::<CheckpointEvery>().unwrap().time,
            Some(Duration::from_secs(7200))
        );
        assert!(
            "often"
                .parse::<CheckpointEvery>()
                .unwrap_err()
                .contains("'often'")
        );
        assert_eq!(parse_size("1.5 kb"), Some(1500));
        assert_eq!(parse_size("12"), None);
    }

    #[test]
    fn run_ids_sort_by_time() {
        let at = |text: &str| text.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        // Out of order, across a second, a minute, a day, a month and a year.
        let times = [
            at("2025-01-01T00:00:00Z"),
            at("2024-12-31T23:59:59Z"),
            at("2024-02-29T09:05:00Z"),
            at("2024-11-30T23:59:59Z"),
            at("2024-02-29T09:04:59Z"),
            at("2024-12-01T00:00:00Z"),
        ];
        let mut ids: Vec<(String, usize)> = times
            .iter()
            .enumerate()
            .map(|(i, t)| (run_id_at(*t), i))
            .collect();
        ids.sort();
        let mut by_time: Vec<usize> = (0..times.len()).collect();
        by_time.sort_by_key(|&i| times[i]);
        assert_eq!(ids.iter().map(|(_, i)| *i).collect::<Vec<_>>(), by_time);
        let id = new_run_id();
        assert_eq!(id.len(), 16 + 1 + 8);
        assert!(id[17..].bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_ne!(
            new_run_id()[17..],
            id[17..],
            "runs in the same second differ"
        );
    }
}
