//! The progress bar of long runs: bytes, records, rate and ETA, on a terminal only; and the
//! reader that counts the bytes of input it reads for the bar.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shared by the readers (bytes) and the run loop (records, files).
#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    records: Arc<AtomicU64>,
    started: Instant,
}

impl Progress {
    /// A bar over `total_bytes` of input. Hidden unless stderr is a terminal, so it never ends up
    /// in pipes or CI logs.
    pub fn new(total_bytes: u64, enabled: bool) -> Self {
        let visible = enabled && std::io::stderr().is_terminal();
        let bar = if visible {
            let bar =
                ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {bytes}/{total_bytes} [{bar:20}] {bytes_per_sec}, ETA {eta} {wide_msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            records: Arc::new(AtomicU64::new(0)),
            started: Instant::now(),
        }
    }

    /// More input to read (the listing streams in while the run goes on).
    pub fn add_total(&self, n: u64) {
        self.bar.inc_length(n);
    }

    /// Input bytes consumed (called from reader threads).
    pub fn add_bytes(&self, n: u64) {
        self.bar.inc(n);
    }

    /// A file finished with `records` records.
    pub fn add_records(&self, records: u64) {
        let total = self.records.fetch_add(records, Ordering::Relaxed) + records;
        if !self.bar.is_hidden() {
            let rate = total as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            self.bar.set_message(format!(
                "{} records ({}/s)",
                crate::report::thousands(total),
                crate::report::thousands(rate as u64)
            ));
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A reader that counts the bytes it reads, reports them to a [`Progress`] if it has one, and
/// remembers whether the source itself failed: a file that cannot be read is told apart from
/// one whose content is bad (by `convert`), and a failed read from corrupt gzip data (by
/// [`crate::shape::read_file`]). An interrupted read is not a failure: it is retried.
pub struct CountingReader<R> {
    pub inner: R,
    pub progress: Option<Progress>,
    pub count: u64,
    pub failed: bool,
}

impl<R> CountingReader<R> {
    pub fn new(inner: R, progress: Option<Progress>) -> Self {
        CountingReader {
            inner,
            progress,
            count: 0,
            failed: false,
        }
    }
}

impl<R: std::io::Read> std::io::Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|e| {
            self.failed |= e.kind() != std::io::ErrorKind::Interrupted;
        })?;
        self.count += n as u64;
        if let Some(progress) = &self.progress {
            progress.add_bytes(n as u64);
        }
        Ok(n)
    }
}
