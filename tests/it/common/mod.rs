//! The test harness: running the real binary, scratch folders, a real S3 server on loopback,
//! real engines, and an independent reading of CloudTrail files to compare against.

pub mod proxy;
pub mod reference;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub use tempfile::TempDir;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Real CloudTrail logs written by others (tests/data/real/SOURCES.md).
pub fn real_data() -> PathBuf {
    repo().join("tests/data/real")
}

/// The malformed-input set and its expected outcomes (CASES.tsv).
pub fn malformed() -> PathBuf {
    repo().join("tests/data/malformed")
}

/// The sample shipped in data/.
pub fn sample_data() -> PathBuf {
    repo().join("data")
}

pub fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("trailpq-it-")
        .tempdir()
        .expect("a scratch folder")
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output unless the exit code is `code`.
    #[track_caller]
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A `trailpq` command with a clean environment (no credentials from the developer's shell).
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trailpq"));
    cmd.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_")
            || key.starts_with("GOOGLE_")
            || key.starts_with("AZURE_")
            || key.starts_with("TRAILPQ_")
        {
            cmd.env_remove(key);
        }
    }
    cmd
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Self {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn run_command(mut cmd: Command) -> Run {
    cmd.stdin(Stdio::null())
        .output()
        .expect("the trailpq binary runs")
        .into()
}

/// Runs `trailpq ARGS`.
pub fn trailpq(args: &[&str]) -> Run {
    run_command(command(args))
}

/// Runs `trailpq ARGS` with extra environment variables.
pub fn trailpq_env(args: &[&str], env: &[(String, String)]) -> Run {
    let mut cmd = command(args);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    run_command(cmd)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Converts `sources` into `dest` with a report; returns the run and the report.
pub fn convert(sources: &[&Path], dest: &Path, extra: &[&str]) -> (Run, serde_json::Value) {
    let mut args: Vec<&str> = sources.iter().map(|p| path_str(p)).collect();
    args.extend(["--out", path_str(dest)]);
    args.extend(extra);
    convert_env(&args, &[])
}

/// Runs `trailpq convert ARGS --report FILE` with extra environment; returns the run and the
/// report (`Null` if none was written).
pub fn convert_env(args: &[&str], env: &[(String, String)]) -> (Run, serde_json::Value) {
    let report_file = tempfile::NamedTempFile::new().expect("a report file");
    let report = report_file.path().to_path_buf();
    let mut all: Vec<&str> = vec!["convert"];
    all.extend(args);
    all.extend(["--report", path_str(&report)]);
    let run = trailpq_env(&all, env);
    (run, read_report(&report))
}

/// A report file as JSON (`Null` if missing or empty).
pub fn read_report(path: &Path) -> serde_json::Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// Generates `events` events over `days` days from `start` into `dir` with the project's seeded
/// generator; returns `dir`.
pub fn generate(dir: &Path, events: u64, days: u32, start: &str, seed: u64) -> PathBuf {
    let (events, days, seed) = (events.to_string(), days.to_string(), seed.to_string());
    trailpq(&[
        "generate",
        "--out",
        path_str(dir),
        "--events",
        &events,
        "--days",
        &days,
        "--start",
        start,
        "--seed",
        &seed,
    ])
    .expect(0);
    dir.to_path_buf()
}

/// The canned-query fixture (tests/data/queries/connect-chime.ndjson), converted once and
/// shared by the query and shell tests, which only read it.
pub fn queries_lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| fixture_lake("connect-chime"))
}

/// The security queries' fixture (tests/data/queries/security.ndjson), converted once.
pub fn security_lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| fixture_lake("security"))
}

fn fixture_lake(name: &str) -> PathBuf {
    // One per test process: test runners that run tests in several processes (nextest) must not
    // rebuild each other's lake.
    let dest =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-lake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    let input = repo().join(format!("tests/data/queries/{name}.ndjson"));
    convert(&[&input], &dest, &["-q"]).0.expect(0);
    dest
}

/// A table of a million rows, for the tests of memory: 25,000 generated events converted once,
/// and each of its Parquet files copied 39 times beside itself (rows to read are all these tests
/// need; the copies repeat event ids). Built once per test process.
pub fn million_lake() -> &'static Path {
    static LAKE: OnceLock<PathBuf> = OnceLock::new();
    LAKE.get_or_init(|| {
        let base =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("million-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let input = generate(&base.join("input"), 25_000, 2, "2024-05-01", 17);
        let dest = base.join("lake");
        convert(&[&input], &dest, &["-q"]).0.expect(0);
        for file in files_under(&dest.join("cloudtrail")) {
            let path = dest.join("cloudtrail").join(&file);
            for copy in 1..40 {
                let name = file.replace(".parquet", &format!("-copy{copy}.parquet"));
                std::fs::copy(&path, dest.join("cloudtrail").join(name)).unwrap();
            }
        }
        dest
    })
}

/// The peak resident memory of a running process, in bytes (`VmHWM`).
pub fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status");
    kib * 1024
}

/// Runs a command to its end, its stdout counted and thrown away; returns the run (stdout empty),
/// the bytes it wrote and its peak resident memory in bytes.
#[allow(clippy::zombie_processes)] // reaped by wait4, which gives its resource usage
pub fn run_measured(mut cmd: Command) -> (Run, u64, u64) {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the trailpq binary runs");
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let bytes = std::io::copy(&mut child.stdout.take().unwrap(), &mut std::io::sink()).unwrap();
    // wait4 reaps the child and gives its resource usage.
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let run = Run {
        code,
        stdout: String::new(),
        stderr: errors.join().unwrap(),
    };
    (run, bytes, usage.ru_maxrss as u64 * 1024)
}

/// Exports all records of `data` as parsed JSON values.
pub fn export(data: &Path, predicate: Option<&str>) -> Vec<serde_json::Value> {
    let mut args = vec!["export", path_str(data)];
    if let Some(p) = predicate {
        args.extend(["--where", p]);
    }
    let run = trailpq(&args).expect(0);
    run.stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("export wrote invalid JSON ({e}): {line}"))
        })
        .collect()
}

/// Checks that a run failed with `code` and one line on stderr, `trailpq: …` naming `needle`,
/// with no panic. Returns the run for further checks.
#[track_caller]
pub fn one_line_error(run: Run, code: i32, needle: &str) -> Run {
    let run = run.expect(code);
    assert_eq!(run.stderr.lines().count(), 1, "one line: {}", run.stderr);
    assert!(run.stderr.starts_with("trailpq: "), "{}", run.stderr);
    assert!(
        run.stderr.contains(needle),
        "{:?} lacks {needle:?}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("backtrace"),
        "{}",
        run.stderr
    );
    run
}

/// The README's text between `<!-- NAME:start -->` and `<!-- NAME:end -->`, both on lines of
/// their own.
pub fn readme_section(name: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start_marker = format!("<!-- {name}:start -->\n");
    let start = readme
        .find(&start_marker)
        .unwrap_or_else(|| panic!("README has no {start_marker:?}"))
        + start_marker.len();
    let end = readme
        .find(&format!("<!-- {name}:end -->"))
        .unwrap_or_else(|| panic!("README has no <!-- {name}:end -->"));
    readme[start..end].to_string()
}

/// Checks the report's counts add up.
#[track_caller]
pub fn assert_reconciles(report: &serde_json::Value) {
    let n = |key: &str| {
        report[key]
            .as_u64()
            .unwrap_or_else(|| panic!("report has no {key}: {report}"))
    };
    let len = |key: &str| {
        report[key]
            .as_array()
            .map(|a| a.len() as u64)
            .unwrap_or_else(|| panic!("report has no {key}"))
    };
    assert_eq!(
        n("files_found"),
        n("files_unchanged") + n("files_read"),
        "files found"
    );
    assert_eq!(
        n("files_read"),
        n("files_converted") + n("files_skipped") + len("files_quarantined"),
        "files read"
    );
    assert_eq!(
        n("records_read"),
        n("records_written") + len("records_quarantined") + n("records_quarantined_unlisted"),
        "records read"
    );
    let rows: u64 = report["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, n("records_written"), "rows in output files");
}

/// How many Parquet files are under `dir`.
pub fn parquet_files_under(dir: &Path) -> usize {
    files_under(dir)
        .iter()
        .filter(|f| f.ends_with(".parquet"))
        .count()
}

/// Every file under `dir`, relative to it, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                out.push(
                    path.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The Python of the project's virtual environment (made by `make test-deps`), with DuckDB,
/// pyarrow and Spark.
pub fn python() -> PathBuf {
    std::env::var_os("TRAILPQ_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/python"))
}

/// Whether a real component a test needs is there. When it is not, the test is skipped with one
/// line saying how to get it, or, with the `slow-tests` feature (as `make test` runs), fails with
/// that line: CI never skips what it cannot run.
pub fn available(what: &str, path: &Path) -> bool {
    if path.exists() {
        return true;
    }
    let line = format!(
        "{what} ({}) is missing: run `make test-deps` (make test does it)",
        path.display()
    );
    if cfg!(feature = "slow-tests") {
        panic!("{line}");
    }
    eprintln!("skipped: {line}");
    false
}

/// Skips the test (see [`available`]) unless the real component is there: `needs!(s3)` for the
/// S3-protocol server, `needs!(python)` for the venv with DuckDB, pyarrow and Spark.
#[macro_export]
macro_rules! needs {
    (s3) => {
        if !$crate::common::available("s3s-fs", &$crate::common::s3::binary()) {
            return;
        }
    };
    (python) => {
        if !$crate::common::available("the test venv", &$crate::common::python()) {
            return;
        }
    };
}

/// The uncompressed content of a gzip file.
pub fn gunzip_file(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Writes `bytes` gzip-compressed to `path`.
pub fn gzip_file(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}
