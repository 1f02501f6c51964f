//! The `convert` command: sources in, partitioned Parquet out, with a report.
//!
//! Files are fetched concurrently (object stores are latency-bound) and converted on a pool of
//! `--threads` CPU workers; the writer buffers rows by partition and encodes files on the same
//! pool. A file's rows reach the writer only once the whole file has been read without a
//! problem, so a broken file never contributes rows. Files too large to hold are read twice:
//! first to check them, then to stream their rows.
//!
//! The run commits in checkpoints (every `--checkpoint` of time or input): the writer's files of
//! the files done so far are committed with those files' sources, so a crash, kill or fatal error
//! loses at most the checkpoint in flight. A checkpoint waits until no large file is half
//! streamed, so each source's rows are committed together.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::ops::ControlFlow;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use futures::StreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use tokio::sync::{Semaphore, mpsc};

use crate::error::{Error, Result};
use crate::flatten::{BatchBuilder, Provenance, RecordError};
use crate::progress::{CountingReader, Progress};
use crate::report::{Output, Report};
use crate::shape::{self, Item, Limits, Quarantine, Verdict};
use crate::sources::{self, Kind, TrailKey};
use crate::store::{Location, describe};
use crate::table::commit::Checkpoint;
use crate::table::lease::LeaseOptions;
use crate::table::state::{self, ScopeState, SourceEntry};
use crate::table::{Dest, LAYOUT_VERSION, MAIN_LEASE, OpenOptions, TableMeta};
use crate::writer::partition::PartitionSpec;
use crate::writer::{PartitionWriter, WriterConfig};

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
        }
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

/// Rows per batch handed from a converter to the writer.
const BATCH_ROWS: usize = 16 * 1024;
/// Object-store files up to this size are fetched whole, concurrently; larger ones are streamed.
const PREFETCH_MAX: u64 = 16 << 20;
/// Bytes of prefetched files held at once, in KiB permits.
const PREFETCH_BUDGET_KIB: usize = 128 * 1024;

/// One input file.
#[derive(Debug, Clone)]
struct SourceFile {
    loc: Arc<Location>,
    meta: ObjectMeta,
    /// File path or URL, as recorded in `source_key`.
    key: String,
    /// Where its conversion is recorded ([`sources::scope`]).
    scope: String,
}

impl SourceFile {
    fn entry(&self) -> SourceEntry {
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

/// What became of one file.
enum Outcome {
    Converted {
        parts: Vec<(String, RecordBatch)>,
        written: u64,
        bad: Vec<(u64, String)>,
        json_bytes: u64,
    },
    Skipped(String),
    Quarantined(String),
    /// The store would not give the file: not converted, read again next run.
    Unreadable(String),
}

/// Messages from converters to the run loop.
enum Msg {
    /// Rows of a file being streamed (too large to hold): its key, the partition, the rows.
    Rows(Arc<str>, String, RecordBatch),
    /// A file is done.
    Done(SourceFile, Outcome, u64),
    /// The run cannot go on.
    Fatal(Error),
}

/// Runs `convert`. The report is returned in every case; with an `Err` when the run failed (what
/// it committed before stays committed, and the report says so).
pub async fn run(options: ConvertOptions) -> (Report, Result<()>) {
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
    let result = open_and_convert(&mut report, &options).await;
    if let Err(e) = &result {
        report.error = Some(e.to_string());
    }
    report.sort();
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    (report, result)
}

async fn open_and_convert(report: &mut Report, options: &ConvertOptions) -> Result<()> {
    let dest_loc = Location::parse(&options.dest)?;
    // Sources first: an unreadable SOURCE stops the run before DEST is touched.
    let mut files = Vec::new();
    for given in &options.sources {
        let loc = Arc::new(Location::parse(given)?);
        for meta in loc.list_files().await? {
            let key = loc.display(&meta.location);
            files.push(SourceFile {
                loc: loc.clone(),
                meta,
                scope: sources::scope(&key),
                key,
            });
        }
    }

    let open = OpenOptions {
        run_id: report.run_id.clone(),
        lease: options.lease.clone(),
    };
    let (dest, opened) = Dest::open(dest_loc, open).await?;
    for warning in &opened.warnings {
        (options.warn)(warning);
    }
    report.notes = opened.notes;
    report.warnings = opened.warnings;
    report.sources_forgotten = opened.sources_forgotten;
    let dest = Arc::new(dest);
    let result = convert(report, &dest, files, options).await;
    dest.release().await;
    result
}

async fn convert(
    report: &mut Report,
    dest: &Arc<Dest>,
    files: Vec<SourceFile>,
    options: &ConvertOptions,
) -> Result<()> {
    let spec = &options.partition_by;
    let meta = TableMeta {
        partition_by: report.partition_by.clone(),
        schema_version: crate::schema::SCHEMA_VERSION.into(),
        layout: LAYOUT_VERSION,
    };
    if let Some(existing) = dest.table_meta()
        && existing.partition_by != meta.partition_by
    {
        return Err(Error::Usage(format!(
            "{} holds a table partitioned by {}; convert into it with --partition-by {1}, or use a new DEST",
            options.dest,
            existing.partition_by.join(",")
        )));
    }

    let (todo, known) = plan(report, files, dest, options.warn).await?;
    let threads = options.threads.max(1);
    let cpu = Arc::new(Semaphore::new(threads));
    let progress = Progress::new(todo.iter().map(|f| f.meta.size).sum(), options.progress);

    // Each message may hold a whole file's rows: keep few in flight.
    let (tx, mut rx) = mpsc::channel::<Msg>(threads);
    let job = Arc::new(Job {
        spec: spec.clone(),
        limits: options.limits,
        hold_bytes: options.hold_bytes,
        cpu: cpu.clone(),
        prefetch: Arc::new(Semaphore::new(PREFETCH_BUDGET_KIB)),
        progress: progress.clone(),
        runtime: tokio::runtime::Handle::current(),
    });
    let fetchers = (threads * 4).max(16);
    let feeder = tokio::spawn(async move {
        futures::stream::iter(todo)
            .for_each_concurrent(fetchers, |file| {
                let (job, tx) = (job.clone(), tx.clone());
                async move { job.process(file, tx).await }
            })
            .await;
    });

    let mut collector = Collector {
        writer: Some(PartitionWriter::new(
            dest.clone(),
            0,
            options.writer,
            cpu.clone(),
            threads,
        )),
        report,
        dest: dest.clone(),
        options,
        cpu,
        meta,
        known,
        checkpoint: 0,
        pending: BTreeMap::new(),
        since: Instant::now(),
        since_bytes: 0,
        streaming: HashSet::new(),
        progress: progress.clone(),
    };
    let mut result = Ok(());
    while let Some(msg) = rx.recv().await {
        result = collector.take(msg).await;
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
        result = collector.commit_checkpoint().await;
    }
    progress.finish();
    if result.is_err() {
        collector.abandon().await;
    }
    result
}

/// Decides which files to read: each file once, not the output itself, not digests, and not what
/// an earlier run converted. Reads what is recorded for the scopes of the files listed, and
/// nothing else. Orders the files so that one day's deliveries come together, and a day's
/// partition fills up before the next one starts.
async fn plan(
    report: &mut Report,
    mut files: Vec<SourceFile>,
    dest: &Dest,
    warn: fn(&str),
) -> Result<(Vec<SourceFile>, HashMap<String, ScopeState>)> {
    let dest_prefix = format!(
        "{}/",
        dest.loc.display(&dest.loc.prefix).trim_end_matches('/')
    );
    files.sort_by(|a, b| a.key.cmp(&b.key));
    files.dedup_by(|a, b| a.key == b.key);
    report.files_found = files.len() as u64;
    let mut candidates = Vec::new();
    for file in files {
        let digest = file.key.contains("/CloudTrail-Digest/")
            || TrailKey::parse(&file.key).is_some_and(|t| t.kind == Kind::Digest);
        if file.key.starts_with(&dest_prefix) {
            report.skip(&file.key, "part of the destination".into());
        } else if digest {
            report.skip(&file.key, "CloudTrail digest file".into());
        } else {
            candidates.push(file);
        }
    }
    let scopes: BTreeSet<String> = candidates.iter().map(|f| f.scope.clone()).collect();
    let known = state::load_many(&dest.loc, scopes).await?;
    for warning in known.values().flat_map(|s| &s.damaged) {
        (warn)(warning);
        report.warnings.push(warning.clone());
    }
    let mut todo = Vec::new();
    for file in candidates {
        let recorded = known
            .get(&file.scope)
            .and_then(|s| s.sources.get(&file.key));
        if recorded == Some(&file.entry()) {
            report.files_unchanged += 1;
            continue;
        }
        if recorded.is_some() {
            report.changed(&file.key);
        }
        todo.push(file);
    }
    todo.sort_by_cached_key(|f| (delivery_date(&f.key), f.key.clone()));
    Ok((todo, known))
}

/// The run loop's side: takes each file's outcome into the report and its rows into the
/// writer, and commits checkpoints.
struct Collector<'r> {
    report: &'r mut Report,
    dest: Arc<Dest>,
    options: &'r ConvertOptions,
    cpu: Arc<Semaphore>,
    meta: TableMeta,
    /// What is recorded for the scopes of the files listed.
    known: HashMap<String, ScopeState>,
    /// The writer of the checkpoint in flight.
    writer: Option<PartitionWriter>,
    checkpoint: u32,
    /// Sources converted in the checkpoint in flight, by scope.
    pending: BTreeMap<String, Vec<SourceEntry>>,
    /// When the checkpoint in flight started, and the input bytes read since.
    since: Instant,
    since_bytes: u64,
    /// Large files whose rows are being streamed and which are not done yet.
    streaming: HashSet<Arc<str>>,
    progress: Progress,
}

impl Collector<'_> {
    async fn take(&mut self, msg: Msg) -> Result<()> {
        self.dest.check_lease()?;
        match msg {
            Msg::Rows(key, partition, batch) => {
                self.streaming.insert(key);
                self.writer().add(partition, batch).await?
            }
            Msg::Done(file, outcome, bytes_read) => {
                self.streaming.remove(file.key.as_str());
                self.report.bytes_read += bytes_read;
                self.since_bytes += bytes_read;
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
        let writer = self.writer.take().expect("a writer between checkpoints");
        let written = writer.finish().await?;
        let number = self.checkpoint;
        self.checkpoint += 1;
        self.writer = Some(PartitionWriter::new(
            self.dest.clone(),
            self.checkpoint,
            self.options.writer,
            self.cpu.clone(),
            self.options.threads.max(1),
        ));
        self.since = Instant::now();
        self.since_bytes = 0;
        if self.pending.is_empty() && written.is_empty() {
            return Ok(());
        }
        let checkpoint = Checkpoint {
            number,
            files: written.iter().map(|f| f.rel.clone()).collect(),
            sources: std::mem::take(&mut self.pending),
            records: self.report.records_uncommitted,
        };
        let finals = self
            .dest
            .commit(checkpoint, &self.meta, &mut self.known)
            .await?;
        let dest = &self.dest.loc;
        self.report
            .committed(written.iter().zip(finals).map(|(file, path)| Output {
                path: dest.display(&dest.child(&[&path])),
                rows: file.rows,
                bytes: file.bytes,
            }));
        Ok(())
    }

    /// After a failure: the checkpoint in flight is not committed.
    async fn abandon(&mut self) {
        drop(self.writer.take());
        self.dest.abandon(self.checkpoint).await;
        if self.checkpoint > 0 {
            self.dest.abandon(self.checkpoint - 1).await;
        }
    }
}

/// Shared state of the converters.
struct Job {
    spec: PartitionSpec,
    limits: Limits,
    hold_bytes: usize,
    cpu: Arc<Semaphore>,
    prefetch: Arc<Semaphore>,
    progress: Progress,
    runtime: tokio::runtime::Handle,
}

/// How a file's rows leave the converter.
enum Mode {
    /// Held until the file is done (or dropped when it grows past the limit).
    Hold,
    /// Sent to the writer as they come (second pass over a large file).
    Stream(mpsc::Sender<Msg>, Arc<str>),
}

/// Result of one pass over a file.
enum Pass {
    Done(Outcome, u64),
    /// Valid, but too large to hold: stream it.
    TooLarge(u64),
}

impl Job {
    async fn process(self: Arc<Self>, file: SourceFile, tx: mpsc::Sender<Msg>) {
        let msg = match self.clone().pass(&file, Mode::Hold).await {
            Ok(Pass::Done(outcome, bytes)) => Msg::Done(file, outcome, bytes),
            Ok(Pass::TooLarge(first_bytes)) => {
                let stream = Mode::Stream(tx.clone(), Arc::from(file.key.as_str()));
                match self.clone().pass(&file, stream).await {
                    Ok(Pass::Done(
                        Outcome::Converted {
                            written,
                            bad,
                            json_bytes,
                            ..
                        },
                        bytes,
                    )) => Msg::Done(
                        file,
                        Outcome::Converted {
                            parts: Vec::new(),
                            written,
                            bad,
                            json_bytes,
                        },
                        first_bytes + bytes,
                    ),
                    // Rows of this file were already sent: the checkpoint cannot be committed.
                    Ok(Pass::Done(Outcome::Unreadable(reason), _)) => {
                        Msg::Fatal(Error::Failed(format!(
                            "{} could not be read to the end ({reason}); run convert again",
                            file.key
                        )))
                    }
                    Ok(Pass::Done(Outcome::Quarantined(reason) | Outcome::Skipped(reason), _)) => {
                        Msg::Fatal(Error::Failed(format!(
                            "{} changed while it was read ({reason}); run convert again",
                            file.key
                        )))
                    }
                    Ok(Pass::TooLarge(_)) => unreachable!("streaming never holds rows"),
                    Err(e) => Msg::Fatal(e),
                }
            }
            Err(e) => Msg::Fatal(e),
        };
        let _ = tx.send(msg).await;
    }

    /// One pass over a file: open it, then read and convert it on the CPU pool.
    async fn pass(self: Arc<Self>, file: &SourceFile, mode: Mode) -> Result<Pass> {
        let input = match self.open(file).await {
            Ok(input) => input,
            Err(reason) => return Ok(Pass::Done(Outcome::Unreadable(reason), 0)),
        };
        let permit = self
            .cpu
            .clone()
            .acquire_owned()
            .await
            .expect("the CPU pool is never closed");
        let (job, file) = (self.clone(), file.clone());
        let pass = tokio::task::spawn_blocking(move || {
            let pass = job.read(input, &file, mode);
            drop(permit);
            pass
        })
        .await
        .map_err(|e| Error::Failed(format!("a converter stopped: {e}")))?;
        Ok(pass)
    }

    /// Opens a file for reading. Small object-store files are fetched whole here, concurrently;
    /// local files and large objects are read as streams by the converter.
    async fn open(&self, file: &SourceFile) -> std::result::Result<Input, String> {
        let cannot = |e: &dyn std::fmt::Display| format!("cannot read: {e}");
        if file.loc.is_local() {
            return std::fs::File::open(&file.key)
                .map(Input::File)
                .map_err(|e| cannot(&e));
        }
        if file.meta.size <= PREFETCH_MAX {
            let kib = (file.meta.size / 1024 + 1).min(PREFETCH_BUDGET_KIB as u64) as u32;
            let permit = self
                .prefetch
                .clone()
                .acquire_many_owned(kib)
                .await
                .expect("never closed");
            let bytes = file
                .loc
                .get_bytes(&file.meta.location)
                .await
                .map_err(|e| cannot(&describe(&e)))?;
            return Ok(Input::Bytes(bytes, permit));
        }
        let get = file
            .loc
            .store
            .get(&file.meta.location)
            .await
            .map_err(|e| cannot(&describe(&e)))?;
        let stream = get
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other));
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(Input::Stream(Box::new(
            tokio_util::io::SyncIoBridge::new_with_handle(reader, self.runtime.clone()),
        )))
    }

    /// Reads and converts one file (blocking).
    fn read(&self, input: Input, file: &SourceFile, mode: Mode) -> Pass {
        let streaming = matches!(mode, Mode::Stream(..));
        // The second pass over a large file does not move the progress bar again.
        let progress = (!streaming).then(|| self.progress.clone());
        let mut reader = CountingReader::new(input.reader(), progress);
        let mut builder = BatchBuilder::new();
        let mut parts: Vec<(String, RecordBatch)> = Vec::new();
        let mut held = 0usize;
        let mut too_large = false;
        let mut written = 0u64;
        let mut bad = Vec::new();

        let name = file
            .meta
            .location
            .filename()
            .unwrap_or_default()
            .to_string();
        let result = shape::read_file(&mut reader, &name, self.limits, |item| {
            match item {
                Item::Record { index, text, .. } if too_large => {
                    // Only checking, so that no row is streamed from a broken file.
                    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                        return ControlFlow::Break(Quarantine(format!(
                            "invalid JSON in record {index}: {e}"
                        )));
                    }
                }
                Item::Record {
                    index,
                    text,
                    envelope,
                } => {
                    let provenance = Provenance {
                        source_key: &file.key,
                        index,
                        envelope: envelope.as_deref(),
                    };
                    match builder.push(&text, provenance) {
                        Ok(()) => written += 1,
                        Err(RecordError::InvalidJson(e)) => {
                            return ControlFlow::Break(Quarantine(format!(
                                "invalid JSON in record {index}: {e}"
                            )));
                        }
                        Err(RecordError::Unusable(reason)) => bad.push((index, reason)),
                    }
                    if builder.len() >= BATCH_ROWS || builder.input_bytes() >= (8 << 20) {
                        held += self.emit(&mode, builder.finish(), &mut parts)?;
                        if !streaming && held > self.hold_bytes {
                            too_large = true;
                            parts.clear();
                        }
                    }
                }
                Item::Bad { index, reason } if !too_large => bad.push((index, reason)),
                Item::Bad { .. } => {}
            }
            ControlFlow::Continue(())
        });
        let bytes_read = reader.count;
        let outcome = match result {
            Ok((Verdict::Log, _)) if too_large => return Pass::TooLarge(bytes_read),
            Ok((Verdict::Log, json_bytes)) => {
                if !builder.is_empty()
                    && let ControlFlow::Break(q) = self.emit(&mode, builder.finish(), &mut parts)
                {
                    return Pass::Done(Outcome::Quarantined(q.0), bytes_read);
                }
                Outcome::Converted {
                    parts,
                    written,
                    bad,
                    json_bytes,
                }
            }
            Ok((Verdict::Skip(reason), _)) => Outcome::Skipped(reason),
            // The store failed mid-file, not the content: read it again next run.
            Err(Quarantine(reason)) if reader.failed => Outcome::Unreadable(reason),
            Err(Quarantine(reason)) => Outcome::Quarantined(reason),
        };
        Pass::Done(outcome, bytes_read)
    }
}

impl Job {
    /// Hands a batch on: held in `parts`, or sent to the writer. Returns the bytes now held.
    fn emit(
        &self,
        mode: &Mode,
        batch: RecordBatch,
        parts: &mut Vec<(String, RecordBatch)>,
    ) -> ControlFlow<Quarantine, usize> {
        match mode {
            Mode::Hold => {
                let bytes = batch.get_array_memory_size();
                parts.extend(self.spec.split(&batch));
                ControlFlow::Continue(bytes)
            }
            Mode::Stream(tx, key) => {
                for (partition, rows) in self.spec.split(&batch) {
                    if tx
                        .blocking_send(Msg::Rows(key.clone(), partition, rows))
                        .is_err()
                    {
                        return ControlFlow::Break(Quarantine("the run stopped".into()));
                    }
                }
                ControlFlow::Continue(0)
            }
        }
    }
}

/// An opened file.
enum Input {
    File(std::fs::File),
    Bytes(bytes::Bytes, tokio::sync::OwnedSemaphorePermit),
    Stream(Box<dyn Read + Send>),
}

impl Input {
    fn reader(self) -> Box<dyn Read + Send> {
        match self {
            Input::File(f) => Box::new(f),
            Input::Bytes(bytes, permit) => Box::new(HeldBytes {
                cursor: std::io::Cursor::new(bytes),
                _permit: permit,
            }),
            Input::Stream(r) => r,
        }
    }
}

/// Prefetched bytes, holding their share of the prefetch budget until dropped.
struct HeldBytes {
    cursor: std::io::Cursor<bytes::Bytes>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Read for HeldBytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.cursor.read(buf)
    }
}

/// The `YYYY/MM/DD` delivery folder of a CloudTrail key, if it has one.
fn delivery_date(key: &str) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    parts
        .windows(3)
        .rev()
        .find(|w| {
            w[0].len() == 4
                && w[1].len() == 2
                && w[2].len() == 2
                && w.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|w| w.join("/"))
        .unwrap_or_default()
}

/// A sortable, unique run id: UTC time and a random suffix.
fn new_run_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::process::id()) as u32;
    format!(
        "{}-{random:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_dates_come_from_cloudtrail_keys() {
        assert_eq!(
            delivery_date(
                "s3://b/AWSLogs/o-1/111/CloudTrail/us-east-1/2020/09/30/111_CloudTrail_x.json.gz"
            ),
            "2020/09/30"
        );
        assert_eq!(delivery_date("/data/x.json"), "");
    }

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
        let id = new_run_id();
        assert_eq!(id.len(), 16 + 1 + 8);
        assert!(id.ends_with(|c: char| c.is_ascii_hexdigit()));
    }
}
