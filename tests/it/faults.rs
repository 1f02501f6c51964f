//! Faults anywhere leave a table that later runs can use, and lose nothing: store errors through a
//! fault-injecting proxy in front of the S3 server, moves that fail on local disk, SIGKILL at
//! random requests, two runs at once, a holder that dies, and state that does not grow with the
//! history.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::proxy::{Fault, Op, Proxy, Rule};
use crate::common::reference::{assert_same_records, records_under};
use crate::common::s3::S3Server;
use crate::common::*;

const SOURCE: &str = "s3://logs/AWSLogs/";
const DEST: &str = "s3://lake/t/";

/// An S3 server holding generated logs in `logs/AWSLogs/`, an empty bucket `lake`, and the
/// proxy in front of it.
struct Lake {
    s3: S3Server,
    proxy: Proxy,
    input: TempDir,
    expected: Vec<Value>,
}

impl Lake {
    fn new(events: u64, days: u32) -> Self {
        let s3 = S3Server::start();
        let input = tempdir();
        generate(input.path(), events, days, "2024-03-05", 7);
        s3.upload("logs", "", input.path());
        s3.bucket("lake");
        let proxy = Proxy::start(s3.port);
        let expected = records_under(input.path());
        Lake {
            s3,
            proxy,
            input,
            expected,
        }
    }

    /// The environment for trailpq, through the proxy, with quick retries.
    /// More logs arrive in the source bucket.
    #[cfg(feature = "test-hooks")]
    fn add(&mut self, events: u64, start: &str, seed: u64) {
        let more = tempdir();
        generate(more.path(), events, 1, start, seed);
        self.s3.upload("logs", "", more.path());
        self.expected.extend(records_under(more.path()));
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.proxy.env(&self.s3.env());
        env.push(("AWS_MAX_ATTEMPTS".into(), "2".into()));
        env
    }

    fn convert(&self, extra: &[&str]) -> (Run, Value) {
        let mut args = vec![SOURCE, "--out", DEST, "-q"];
        args.extend(extra);
        convert_env(&args, &self.env())
    }

    fn dest_dir(&self) -> PathBuf {
        self.s3.bucket("lake").join("t")
    }

    /// The table holds every input record exactly once, and every file in it opens.
    #[track_caller]
    fn assert_exact(&self) {
        let run = trailpq_env(&["export", DEST], &self.s3.env()).expect(0);
        let exported: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_same_records(&self.expected, &exported);
        let mut ids = HashSet::new();
        for record in &exported {
            let id = record["eventID"]
                .as_str()
                .expect("generated records have ids");
            assert!(ids.insert(id.to_string()), "event {id} appears twice");
        }
        let rows = open_all(&self.dest_dir().join("cloudtrail"));
        assert_eq!(
            rows,
            self.expected.len() as u64,
            "rows in the visible files"
        );
    }
}

/// Opens and reads every Parquet file under `dir`; returns the rows.
fn open_all(dir: &Path) -> u64 {
    let mut rows = 0;
    for rel in files_under(dir) {
        assert!(
            rel.ends_with(".parquet"),
            "only Parquet files are visible: {rel}"
        );
        let file = std::fs::File::open(dir.join(&rel)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap_or_else(|e| panic!("{rel} does not open: {e}"))
            .build()
            .unwrap();
        for batch in reader {
            rows += batch
                .unwrap_or_else(|e| panic!("{rel} does not read: {e}"))
                .num_rows() as u64;
        }
    }
    rows
}

fn u(report: &Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

fn text(report: &Value, key: &str) -> String {
    report[key].to_string()
}

/// The defect of issue 8: a move into the table fails mid-commit. The failed run leaves its
/// journal; the next run finishes it instead of failing for ever, and nothing is duplicated.
#[test]
fn a_failed_move_is_rolled_forward_by_the_next_run_on_local_disk() {
    let out = tempdir();
    let input = generate(&out.path().join("in"), 1500, 3, "2024-03-05", 3);
    let dest = out.path().join("lake");
    let day = |d: &str| -> Vec<PathBuf> {
        files_under(&input)
            .iter()
            .filter(|f| f.contains(&format!("/2024/03/{d}/")))
            .map(|f| input.join(f))
            .collect()
    };
    let first: Vec<PathBuf> = day("05");
    let first_refs: Vec<&Path> = first.iter().map(PathBuf::as_path).collect();
    convert(&first_refs, &dest, &[]).0.expect(0);
    assert!(dest.join("cloudtrail/event_date=2024-03-05").is_dir());

    // Something in the way of a partition folder the next commit needs.
    let blocker = dest.join("cloudtrail/event_date=2024-03-07");
    std::fs::write(&blocker, "not a folder").unwrap();
    let (run, report) = convert(&[&input], &dest, &[]);
    let run = run.expect(1);
    assert!(
        run.stderr.contains("could not finish committing run"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing is lost"), "{}", run.stderr);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("event_date=2024-03-07"),
        "the report is written on failure, with the error: {report}"
    );
    assert_eq!(u(&report, "checkpoints"), 0);
    assert_eq!(
        files_under(&dest.join("_trailpq/work/main/journal")).len(),
        1
    );

    std::fs::remove_file(&blocker).unwrap();
    let (run, report) = convert(&[&input], &dest, &[]);
    run.expect(0);
    assert!(
        text(&report, "notes").contains("finished committing interrupted run"),
        "{report}"
    );
    assert_eq!(
        u(&report, "records_written"),
        0,
        "the finished commit recorded its sources"
    );
    assert_same_records(&records_under(&input), &export(&dest, None));
    assert!(files_under(&dest.join("_trailpq/work")).is_empty());
}

/// The same on S3: a copy into the table keeps failing after the client's retries.
#[test]
fn a_copy_failing_during_the_commit_is_finished_by_the_next_run() {
    crate::needs!(s3);
    let lake = Lake::new(1200, 3);
    lake.proxy.add(Rule::new(
        Some(Op::Copy),
        Some("/cloudtrail/event_date=2024-03-06/"),
        Fault::Status(503),
    ));
    let (run, report) = lake.convert(&[]);
    run.expect(1);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("could not finish committing"),
        "{report}"
    );
    lake.proxy.clear();
    let (run, report) = lake.convert(&[]);
    run.expect(0);
    assert!(text(&report, "notes").contains("finished committing interrupted run"));
    lake.assert_exact();
}

#[test]
fn an_output_put_failing_loses_nothing() {
    crate::needs!(s3);
    let lake = Lake::new(800, 2);
    for fault in [Fault::Status(500), Fault::Reset] {
        lake.proxy
            .add(Rule::new(Some(Op::Put), Some("/staging/"), fault).skip(1));
        let (run, report) = lake.convert(&[]);
        run.expect(1);
        assert!(
            report["error"].as_str().unwrap().contains("cannot write"),
            "{fault:?}: {report}"
        );
        assert_eq!(u(&report, "records_written"), 0);
        assert!(u(&report, "files_uncommitted") > 0, "{report}");
        assert_reconciles_with_failure(&report);
        assert!(files_under(&lake.dest_dir().join("cloudtrail")).is_empty());
        lake.proxy.clear();
    }
    // A journal that was written although its answer was lost is written again, and holds.
    lake.proxy
        .add(Rule::new(Some(Op::Put), Some("/journal/"), Fault::LoseAnswer).times(1));
    lake.convert(&[]).0.expect(0);
    lake.assert_exact();
}

/// A source object whose body stalls is unreadable for this run (exit 4, listed apart from
/// quarantined files) and read by the next.
#[test]
fn a_get_failing_mid_body_is_read_again_by_the_next_run() {
    crate::needs!(s3);
    let lake = Lake::new(800, 2);
    let victim = files_under(lake.input.path())
        .into_iter()
        .find(|f| f.ends_with(".json.gz") && !f.contains("Digest"))
        .unwrap();
    lake.proxy
        .add(Rule::new(Some(Op::Get), Some(&victim), Fault::StallBody));
    let mut env = lake.env();
    env.push(("AWS_TIMEOUT".into(), "1s".into()));
    let (run, report) = convert_env(&[SOURCE, "--out", DEST, "-q"], &env);
    run.expect(4);
    let unreadable = report["files_unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{report}");
    assert!(unreadable[0]["source"].as_str().unwrap().ends_with(&victim));
    assert!(report["files_quarantined"].as_array().unwrap().is_empty());
    assert_reconciles_with_failure(&report);

    lake.proxy.clear();
    let (run, report) = lake.convert(&[]);
    run.expect(0);
    assert_eq!(
        u(&report, "files_converted"),
        1,
        "only the unread file: {report}"
    );
    lake.assert_exact();
}

#[test]
fn a_list_failing_on_its_second_page_is_reported_and_retried() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    // More objects than one page of a listing (1,000).
    let docs = sample_data().join("awsdocs/amazon-chime-AddDomain.json");
    let dir = s3.bucket("logs").join("many");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..1050 {
        std::fs::copy(&docs, dir.join(format!("{i:05}.json"))).unwrap();
    }
    s3.bucket("lake");
    let proxy = Proxy::start(s3.port);
    proxy.add(Rule::new(Some(Op::List), Some("prefix=many"), Fault::Status(503)).skip(1));
    let mut env = proxy.env(&s3.env());
    env.push(("AWS_MAX_ATTEMPTS".into(), "2".into()));
    let args = ["s3://logs/many/", "--out", DEST];
    let (run, report) = convert_env(&args, &env);
    let run = one_line_error(run, 1, "s3://logs/many/");
    assert!(run.stderr.contains("503"), "{}", run.stderr);
    assert!(
        report["error"].as_str().unwrap().contains("503"),
        "{report}"
    );
    proxy.clear();
    let (run, report) = convert_env(&args, &env);
    run.expect(0);
    assert_eq!(u(&report, "records_written"), 1050);
}

/// A run whose lease cannot be renewed stops before committing, and the next run takes over.
#[test]
#[cfg(feature = "test-hooks")]
fn a_lease_renewal_failing_stops_the_run_before_it_commits() {
    crate::needs!(s3);
    let lake = Lake::new(600, 2);
    // The create goes through; every renewal fails.
    lake.proxy
        .add(Rule::new(Some(Op::Put), Some("/_trailpq/lease/"), Fault::Status(503)).skip(1));
    // Hold a source file until the lease has gone stale.
    lake.proxy
        .add(Rule::new(Some(Op::Get), Some("/AWSLogs/"), Fault::Hold).times(1));
    let report_file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = command(&[
        "convert",
        SOURCE,
        "--out",
        DEST,
        "-q",
        "--lease-seconds",
        "1",
        "--report",
        path_str(report_file.path()),
    ]);
    cmd.envs(lake.env());
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    assert!(lake.proxy.wait_held(Duration::from_secs(60)));
    // Until the lease has gone stale (or the run noticed on its own), the file stays held.
    wait_for(|| {
        let failed = lake
            .proxy
            .requests()
            .iter()
            .filter(|r| r.target.contains("/_trailpq/lease/") && r.status == 503)
            .count();
        failed >= 10 || child.try_wait().unwrap().is_some()
    });
    lake.proxy.release();
    let run = Run::from(child.wait_with_output().unwrap()).expect(1);
    assert!(run.stderr.contains("lost its lease"), "{}", run.stderr);
    let report = read_report(report_file.path());
    assert!(
        report["error"].as_str().unwrap().contains("lost its lease"),
        "{report}"
    );
    assert!(files_under(&lake.dest_dir().join("cloudtrail")).is_empty());

    lake.proxy.clear();
    let (run, report) = lake.convert(&["--wait", "30s"]);
    run.expect(0);
    assert!(
        text(&report, "notes").contains("took over the lease"),
        "{report}"
    );
    lake.assert_exact();
}

/// Polls a condition the proxy's log will make true (an event from another process).
fn wait_for(mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn assert_reconciles_with_failure(report: &Value) {
    let n = |k: &str| u(report, k);
    let len = |k: &str| report[k].as_array().unwrap().len() as u64;
    assert_eq!(n("files_found"), n("files_unchanged") + n("files_read"));
    assert_eq!(
        n("files_read"),
        n("files_converted")
            + n("files_uncommitted")
            + n("files_skipped")
            + len("files_quarantined")
            + len("files_unreadable"),
        "{report}"
    );
    assert_eq!(
        n("records_read"),
        n("records_written") + n("records_uncommitted") + len("records_quarantined"),
        "{report}"
    );
}

/// Runs killed at a random request, again and again, while new logs keep arriving; then a final
/// run: the table is exact.
#[test]
#[cfg(feature = "slow-tests")]
#[cfg(feature = "test-hooks")]
fn sigkill_at_random_moments_never_corrupts_the_table() {
    crate::needs!(s3);
    let mut lake = Lake::new(1500, 2);
    let common = [
        "--checkpoint",
        "40KB",
        "--lease-seconds",
        "1",
        "--wait",
        "60s",
    ];
    // How many requests a whole run makes, on a scratch destination.
    let (run, _) = convert_env(
        &[&[SOURCE, "--out", "s3://lake/probe/", "-q"][..], &common].concat(),
        &lake.env(),
    );
    run.expect(0);
    let total = lake.proxy.requests().len();
    assert!(total > 50, "{total} requests");

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut kills = 0;
    for round in 0..14u32 {
        // A new day of logs arrives before each run.
        lake.add(
            300,
            &format!("2024-04-{:02}", round + 1),
            u64::from(round) + 100,
        );
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let k = (seed % (total as u64 / 2)) as usize;
        lake.proxy.clear();
        lake.proxy
            .add(Rule::new(None, None, Fault::Hold).skip(k).times(1));
        let mut cmd = command(&[&["convert", SOURCE, "--out", DEST, "-q"][..], &common].concat());
        cmd.envs(lake.env()).stderr(Stdio::null());
        let mut child: Child = cmd.spawn().unwrap();
        kills += u32::from(lake.proxy.kill_when_held(&mut child, round));
    }
    assert!(kills >= 10, "only {kills} runs were killed");
    let (run, _) = lake.convert(&common);
    run.expect(0);
    lake.assert_exact();
}

/// Compactions killed with SIGKILL at a random request, while small runs keep adding files; then
/// a final compaction: the table holds every record once, in fewer files.
#[test]
#[cfg(feature = "slow-tests")]
#[cfg(feature = "test-hooks")]
fn sigkill_during_compaction_loses_nothing() {
    crate::needs!(s3);
    let mut lake = Lake::new(800, 1);
    let common = [
        "--checkpoint",
        "20KB",
        "--lease-seconds",
        "1",
        "--wait",
        "60s",
    ];
    lake.convert(&common).0.expect(0);
    let compact = |env: &[(String, String)]| {
        let mut cmd = command(&["compact", DEST, "--lease-seconds", "1", "--wait", "60s"]);
        cmd.envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut kills = 0;
    for round in 0..6u32 {
        // New small files arrive before each compaction.
        lake.add(
            150,
            &format!("2024-03-{:02}", round + 6),
            u64::from(round) + 300,
        );
        lake.convert(&common).0.expect(0);
        // Hold one of the compaction's first requests (listing, reads, staging, journal, moves,
        // deletes) and kill it there.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let k = (seed % 40) as usize + 5;
        lake.proxy.clear();
        lake.proxy
            .add(Rule::new(None, None, Fault::Hold).skip(k).times(1));
        let mut child: Child = compact(&lake.env()).spawn().unwrap();
        kills += u32::from(lake.proxy.kill_when_held(&mut child, round));
        // Whatever was killed, a reader finds every record.
        let run = trailpq_env(&["export", DEST], &lake.s3.env()).expect(0);
        let seen: HashSet<String> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["eventID"].to_string())
            .collect();
        assert_eq!(
            seen.len(),
            lake.expected.len(),
            "round {round}: records lost"
        );
    }
    assert!(kills >= 4, "only {kills} compactions were killed");
    let files = |lake: &Lake| parquet_files_under(&lake.dest_dir().join("cloudtrail"));
    let before = files(&lake);
    assert!(run_command(compact(&lake.env())).code == Some(0));
    assert!(
        files(&lake) < before,
        "{before} files, then {}",
        files(&lake)
    );
    lake.assert_exact();
}

/// Two converts at once: one works, the other says who holds DEST, or waits for it.
#[test]
fn two_converts_at_once_never_both_write() {
    crate::needs!(s3);
    let lake = Lake::new(600, 2);
    let report = |dir: &TempDir, name: &str| dir.path().join(name);
    let reports = tempdir();
    let spawn = |name: &str, extra: &[&str]| -> Child {
        let path = report(&reports, name);
        let mut args = vec![
            "convert",
            SOURCE,
            "--out",
            DEST,
            "--report",
            path_str(&path),
        ];
        args.extend(extra);
        let mut cmd = command(&args);
        cmd.envs(lake.env())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.spawn().unwrap()
    };
    // Whoever gets the lease is held at its first journal.
    lake.proxy
        .add(Rule::new(Some(Op::Put), Some("/journal/"), Fault::Hold).times(1));
    let (a, b) = (spawn("a.json", &[]), spawn("b.json", &[]));
    assert!(lake.proxy.wait_held(Duration::from_secs(60)));
    let (tx, rx) = std::sync::mpsc::channel();
    for (name, child) in [("a.json", a), ("b.json", b)] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let _ = tx.send((name, Run::from(child.wait_with_output().unwrap())));
        });
    }
    // The other one gives up at once, naming the run that holds the lease.
    let (loser, run) = rx.recv().unwrap();
    let run = one_line_error(run, 1, "is in use by trailpq run");
    let winner = if loser == "a.json" {
        "b.json"
    } else {
        "a.json"
    };
    lake.proxy.release();
    let (_, won) = rx.recv().unwrap();
    won.expect(0);
    let winner_id = read_report(&report(&reports, winner))["run_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        run.stderr.contains(&winner_id),
        "{} names {winner_id}",
        run.stderr
    );
    assert!(
        read_report(&report(&reports, loser))["error"]
            .as_str()
            .unwrap()
            .contains("in use")
    );

    // With --wait, the second one waits, then finds nothing left to do.
    lake.proxy
        .add(Rule::new(Some(Op::List), Some("_trailpq/state/"), Fault::Hold).times(1));
    let first = spawn("c.json", &[]);
    assert!(lake.proxy.wait_held(Duration::from_secs(60)));
    // Attempts to create the lease that found it there (the first run's own included).
    let refused = || {
        lake.proxy
            .requests()
            .iter()
            .filter(|r| r.target.contains("/_trailpq/lease/main.json") && r.status == 412)
            .count()
    };
    let before = refused();
    let second = spawn("d.json", &["--wait", "60s"]);
    // Its attempt to create the lease failed: it is waiting.
    wait_for(|| refused() > before);
    lake.proxy.release();
    Run::from(first.wait_with_output().unwrap()).expect(0);
    let waited = Run::from(second.wait_with_output().unwrap()).expect(0);
    assert!(
        waited.stderr.contains("waiting up to 1m"),
        "{}",
        waited.stderr
    );
    lake.assert_exact();
}

/// A holder killed with SIGKILL: a run from another host takes over once the lease expires.
#[test]
#[cfg(feature = "test-hooks")]
fn a_killed_holders_lease_is_taken_over_after_it_expires() {
    crate::needs!(s3);
    let lake = Lake::new(600, 2);
    lake.proxy
        .add(Rule::new(Some(Op::Put), Some("/journal/"), Fault::Hold).times(1));
    let mut cmd = command(&[
        "convert",
        SOURCE,
        "--out",
        DEST,
        "-q",
        "--lease-seconds",
        "5",
    ]);
    cmd.envs(lake.env()).env("HOSTNAME", "first-host");
    let mut first = cmd.stderr(Stdio::null()).spawn().unwrap();
    assert!(lake.proxy.wait_held(Duration::from_secs(60)));
    first.kill().unwrap();
    first.wait().unwrap();
    lake.proxy.release();

    let mut env = lake.env();
    env.push(("HOSTNAME".into(), "second-host".into()));
    let blocked = convert_env(&[SOURCE, "--out", DEST, "-q"], &env).0;
    one_line_error(blocked, 1, "(host first-host");
    let (run, report) = convert_env(&[SOURCE, "--out", DEST, "-q", "--wait", "30s"], &env);
    run.expect(0);
    let notes = text(&report, "notes");
    assert!(
        notes.contains("took over the lease of trailpq run"),
        "{notes}"
    );
    assert!(notes.contains("host first-host"), "{notes}");
    lake.assert_exact();
}

/// State grows with the work asked for, not with the history: after 1,000 runs, a rerun that
/// has nothing to do reads about as many bookkeeping objects as after one.
#[test]
#[cfg(feature = "slow-tests")]
fn a_noop_rerun_costs_the_same_after_a_thousand_runs() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    let doc =
        std::fs::read_to_string(sample_data().join("awsdocs/amazon-chime-AddDomain.json")).unwrap();
    let dir = s3.bucket("logs").join("hourly");
    std::fs::create_dir_all(&dir).unwrap();
    s3.bucket("lake");
    let proxy = Proxy::start(s3.port);
    let env = proxy.env(&s3.env());
    let args = ["s3://logs/hourly/", "--out", DEST, "-q"];
    let add = |i: usize| {
        let record = doc.replace("\"eventID\": \"", &format!("\"eventID\": \"{i:04}-"));
        std::fs::write(dir.join(format!("{i:04}.json")), record).unwrap();
    };
    let bookkeeping_reads = || {
        proxy.reset_log();
        let (run, report) = convert_env(&args, &env);
        run.expect(0);
        assert_eq!(
            u(&report, "records_written"),
            0,
            "a rerun with nothing to do"
        );
        let log = proxy.requests();
        let reads = log
            .iter()
            .filter(|r| {
                r.target.contains("_trailpq") && matches!(r.op, Op::Get | Op::List | Op::Head)
            })
            .count();
        let keys: usize = log
            .iter()
            .filter(|r| r.target.contains("_trailpq"))
            .map(|r| r.keys)
            .sum();
        (reads, keys)
    };
    add(0);
    convert_env(&args, &env).0.expect(0);
    let (after_one, keys_after_one) = bookkeeping_reads();
    for i in 1..1000 {
        add(i);
        let run = trailpq_env(&["convert", args[0], "--out", DEST, "-q"], &env);
        run.expect(0);
        s3.forget_empty_folders("lake");
    }
    let (after_many, keys_after_many) = bookkeeping_reads();
    assert!(
        after_many <= after_one + 10,
        "objects read under _trailpq: {after_one} after one run, {after_many} after 1,000"
    );
    assert!(
        keys_after_many <= keys_after_one + 10,
        "keys listed under _trailpq: {keys_after_one} after one run, {keys_after_many} after 1,000"
    );
    let exported = trailpq_env(&["export", DEST], &s3.env()).expect(0);
    assert_eq!(exported.stdout.lines().count(), 1000);
}

/// A destination written by trailpq 0.1.0 (layout 1), left by a run that crashed mid-commit, is
/// upgraded on first use: its commit is finished, its record of converted sources carried over,
/// and the table holds each record once.
#[test]
fn a_destination_of_the_earlier_layout_is_upgraded_on_first_use() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "", &sample_data());
    // s3s-fs lists no ETags, so objects are recognised by their modification time: the one the
    // fixture recorded (see its README).
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_715_126_400); // 2024-05-08T00:00:00Z
    for rel in files_under(&s3.bucket("logs")) {
        let file = std::fs::File::options()
            .write(true)
            .open(s3.bucket("logs").join(rel))
            .unwrap();
        file.set_modified(when).unwrap();
    }
    let out = tempdir();
    let dest = out.path().join("lake");
    let fixture = repo().join("tests/data/layout-v1/dest");
    for rel in files_under(&fixture) {
        let to = dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(&rel), to).unwrap();
    }
    let (run, report) = convert_env(&["s3://logs/", "--out", path_str(&dest)], &s3.env());
    run.expect(0);
    let notes = text(&report, "notes");
    assert!(notes.contains("upgraded the bookkeeping"), "{notes}");
    assert!(
        notes.contains("finished committing interrupted run"),
        "{notes}"
    );
    assert!(notes.contains("lock file of an earlier trailpq"), "{notes}");
    assert_eq!(
        u(&report, "records_written"),
        0,
        "everything was converted before: {report}"
    );
    assert_same_records(&records_under(&sample_data()), &export(&dest, None));
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("_trailpq/table.json")).unwrap())
            .unwrap();
    assert_eq!(meta["layout"], 2);
    let left: Vec<String> = files_under(&dest.join("_trailpq"))
        .into_iter()
        .filter(|f| {
            ["lock", "runs/", "journal/", "staging/"]
                .iter()
                .any(|p| f.starts_with(p))
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // And it goes on like any other destination.
    let (run, report) = convert_env(&["s3://logs/", "--out", path_str(&dest)], &s3.env());
    run.expect(0);
    assert_eq!(u(&report, "files_converted"), 0);
}

/// A file a journal names was deleted outside trailpq before the commit completed: the next run
/// says so, takes that commit back out and converts its sources again, so nothing is lost or
/// doubled.
#[test]
#[cfg(feature = "test-hooks")]
fn a_file_lost_outside_trailpq_is_converted_again() {
    let out = tempdir();
    let input = generate(&out.path().join("in"), 1500, 3, "2024-03-05", 5);
    let dest = out.path().join("lake");
    let mut cmd = command(&["convert", path_str(&input), "--out", path_str(&dest), "-q"]);
    cmd.env("TRAILPQ_TEST_CRASH", "after-first-move");
    assert_ne!(run_command(cmd).code, Some(0));
    let journals = files_under(&dest.join("_trailpq/work/main/journal"));
    assert_eq!(journals.len(), 1);
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(dest.join("_trailpq/work/main/journal").join(&journals[0]))
            .unwrap(),
    )
    .unwrap();
    let moved = journal["moves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| dest.join(m[1].as_str().unwrap()))
        .find(|to| to.exists())
        .expect("a file was moved before the crash");
    std::fs::remove_file(&moved).unwrap();

    let (run, report) = convert(&[&input], &dest, &[]);
    let run = run.expect(0);
    let warnings = text(&report, "warnings");
    assert!(warnings.contains("removed outside trailpq"), "{warnings}");
    assert!(run.stderr.contains("warning: run"), "{}", run.stderr);
    assert!(u(&report, "sources_forgotten") > 0);
    assert_same_records(&records_under(&input), &export(&dest, None));
}

/// Bookkeeping damaged outside trailpq is set aside with a warning; it never makes every later
/// run fail.
#[test]
fn damaged_bookkeeping_never_blocks_later_runs() {
    let out = tempdir();
    let dest = out.path().join("lake");
    convert(&[&sample_data()], &dest, &[]).0.expect(0);
    let segment = files_under(&dest.join("_trailpq/state"))
        .into_iter()
        .next()
        .unwrap();
    std::fs::write(dest.join("_trailpq/state").join(&segment), "{\"sour").unwrap();
    std::fs::write(dest.join("_trailpq/table.json"), "not json").unwrap();
    for _ in 0..2 {
        let (run, _) = convert(&[&sample_data()], &dest, &[]);
        run.expect(0);
    }
    let (run, report) = convert(&[&sample_data()], &dest, &[]);
    run.expect(0);
    assert_eq!(u(&report, "records_written"), 0);
    let damaged = files_under(&dest.join("_trailpq/damaged"));
    assert_eq!(damaged.len(), 2, "{damaged:?}");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("_trailpq/table.json")).unwrap())
            .unwrap();
    assert_eq!(meta["partition_by"], serde_json::json!(["event_date"]));
}

/// A store without conditional writes cannot be locked: one warning line, never a silent
/// unlocked run.
#[test]
fn a_store_without_conditional_writes_gets_one_warning() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "", &sample_data());
    s3.bucket("lake");
    let mut env = s3.env();
    env.push(("AWS_CONDITIONAL_PUT".into(), "disabled".into()));
    let (run, report) = convert_env(&["s3://logs/", "--out", DEST, "-q"], &env);
    let run = run.expect(0);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(warnings[0].contains("cannot be locked"), "{}", warnings[0]);
    assert!(text(&report, "warnings").contains("conditional writes"));
    assert_eq!(u(&report, "records_written"), 502);
}
