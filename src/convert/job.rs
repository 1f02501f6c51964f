//! Reading and converting one file: fetched whole (small objects) or streamed, decompressed,
//! recognised and flattened into Arrow on the CPU pool. A file's rows leave only once the whole
//! file has been read without a problem; files too large to hold are read twice, first to check
//! them, then to stream their rows.

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::Arc;

use arrow::array::RecordBatch;
use futures::StreamExt;
use object_store::ObjectStoreExt;
use tokio::sync::{Semaphore, mpsc};

use super::Msg;
use super::plan::SourceFile;
use crate::error::{Error, Result};
use crate::flatten::{BatchBuilder, Provenance, RecordError};
use crate::progress::{CountingReader, Progress};
use crate::shape::{self, Item, Limits, Quarantine, Verdict};
use crate::store::describe;
use crate::writer::partition::PartitionSpec;

/// Rows per batch handed from a converter to the writer.
const BATCH_ROWS: usize = 16 * 1024;
/// Object-store files up to this size are fetched whole, concurrently; larger ones are streamed.
const PREFETCH_MAX: u64 = 16 << 20;
/// Bytes of prefetched files held at once, in KiB permits.
const PREFETCH_BUDGET_KIB: usize = 128 * 1024;

/// What became of one file.
pub(super) enum Outcome {
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

/// Shared state of the converters.
pub(super) struct Job {
    spec: PartitionSpec,
    limits: Limits,
    hold_bytes: usize,
    cpu: Arc<Semaphore>,
    prefetch: Arc<Semaphore>,
    progress: Progress,
    runtime: tokio::runtime::Handle,
    /// `--verify`: the SHA-256 each vouched-for log file must have, by key from `AWSLogs/`.
    vouched: Option<Arc<std::collections::HashMap<String, String>>>,
    /// Files whose digest vouched for them.
    pub(super) verified: Arc<std::sync::atomic::AtomicU64>,
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
    /// Converters that share `cpu` (the `--threads` permits) with the writer.
    pub(super) fn new(
        spec: PartitionSpec,
        limits: Limits,
        hold_bytes: usize,
        cpu: Arc<Semaphore>,
        progress: Progress,
        vouched: Option<Arc<std::collections::HashMap<String, String>>>,
    ) -> Self {
        Job {
            spec,
            limits,
            hold_bytes,
            cpu,
            prefetch: Arc::new(Semaphore::new(PREFETCH_BUDGET_KIB)),
            progress,
            runtime: tokio::runtime::Handle::current(),
            vouched,
            verified: Arc::default(),
        }
    }

    /// Reads and converts one file, and says how it went (or hands on its rows, for a large one).
    pub(super) async fn process(self: Arc<Self>, file: SourceFile, tx: mpsc::Sender<Msg>) {
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

    /// With `--verify`: the content must be what a digest vouches for, before anything is read
    /// from it (the file is read whole to be hashed). Digests and files that do not look like
    /// logs go on to be recognised (and skipped).
    fn verified(&self, input: Input, file: &SourceFile, streaming: bool) -> Result<Input, Pass> {
        let exempt = !crate::shape::name_claims_log(file.meta.location.filename().unwrap_or(""))
            || crate::sources::TrailKey::parse(&file.key)
                .is_some_and(|k| k.kind == crate::sources::Kind::Digest);
        let Some(vouched) = self.vouched.as_ref().filter(|_| !exempt) else {
            return Ok(input);
        };
        let mut raw = Vec::new();
        if let Err(e) = input.reader().read_to_end(&mut raw) {
            return Err(Pass::Done(
                Outcome::Unreadable(format!("read failed: {e}")),
                0,
            ));
        }
        if let Err(reason) = crate::verify::vouches(vouched, &file.key, &raw) {
            return Err(Pass::Done(Outcome::Quarantined(reason), raw.len() as u64));
        }
        if !streaming {
            self.verified
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(Input::Stream(Box::new(std::io::Cursor::new(raw))))
    }

    /// Reads and converts one file (blocking).
    fn read(&self, input: Input, file: &SourceFile, mode: Mode) -> Pass {
        let streaming = matches!(mode, Mode::Stream(..));
        let input = match self.verified(input, file, streaming) {
            Ok(input) => input,
            Err(pass) => return pass,
        };
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
