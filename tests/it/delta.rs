//! Delta tables (`--table-format delta`): written by trailpq, read back by Python `deltalake` and
//! DuckDB's delta extension (tests/delta/read.py, in .venv-delta), on local folders and on the S3
//! server; snapshots under concurrent readers, shards, compaction, vacuum, crashes, migration.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::common::proxy::{Fault, Op, Proxy, Rule};
use crate::common::reference::records_under;
use crate::common::s3::S3Server;
use crate::common::*;

/// The Python with deltalake and DuckDB 1.4.4 + its delta extension.
fn delta_python() -> PathBuf {
    std::env::var_os("TRAILPQ_DELTA_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-delta/bin/python"))
}

macro_rules! needs_delta {
    () => {
        if !available("the Delta readers' venv", &delta_python()) {
            return;
        }
    };
}

/// Runs tests/delta/read.py; its one line of JSON.
#[track_caller]
fn read(args: &[&str], env: &[(String, String)]) -> Value {
    let out = Command::new(delta_python())
        .arg(repo().join("tests/delta/read.py"))
        .args(args)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "read.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Rows in `data` as `trailpq query` counts them.
#[track_caller]
fn count(data: &str, extra: &[&str], env: &[(String, String)]) -> u64 {
    let mut args = vec![
        "query",
        data,
        "--sql",
        "SELECT count(*) AS n FROM cloudtrail",
        "--format",
        "csv",
    ];
    args.extend(extra);
    let run = trailpq_env(&args, env).expect(0);
    run.stdout.lines().nth(1).unwrap().trim().parse().unwrap()
}

/// The commits of a table's Delta log, by version: each a list of actions. Versions must be
/// consecutive from 0.
#[track_caller]
pub(crate) fn log(table: &Path) -> Vec<Vec<Value>> {
    let mut versions: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(table.join("_delta_log")) else {
        return Vec::new();
    };
    for entry in entries {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(number) = name.strip_suffix(".json") else {
            continue;
        };
        let Ok(version) = number.parse::<u64>() else {
            continue;
        };
        let text = std::fs::read_to_string(table.join("_delta_log").join(&name)).unwrap();
        let actions = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        versions.insert(version, actions);
    }
    let numbers: Vec<u64> = versions.keys().copied().collect();
    let expected: Vec<u64> = (0..numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "Delta versions are consecutive from 0");
    versions.into_values().collect()
}

/// Every application transaction in the log, as (app id, version): each appears once, and each
/// app id's versions are 1, 2, 3, … in commit order (no checkpoint committed twice or skipped).
#[track_caller]
pub(crate) fn assert_transactions(log: &[Vec<Value>]) -> BTreeMap<String, i64> {
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for (version, commit) in log.iter().enumerate() {
        for action in commit {
            if let Some(txn) = action.get("txn") {
                let app = txn["appId"].as_str().unwrap().to_string();
                let number = txn["version"].as_i64().unwrap();
                let previous = last.insert(app.clone(), number).unwrap_or(0);
                assert_eq!(
                    number,
                    previous + 1,
                    "version {version}: transaction {number} of {app} follows {previous}"
                );
            }
        }
    }
    last
}

/// The files the log's latest snapshot has (paths relative to the table).
fn active_files(log: &[Vec<Value>]) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    for commit in log {
        for action in commit {
            if let Some(add) = action.get("add") {
                files.insert(add["path"].as_str().unwrap().to_string());
            }
            if let Some(remove) = action.get("remove") {
                files.remove(remove["path"].as_str().unwrap());
            }
        }
    }
    files
}

/// Convert, query, compact, time travel, vacuum, export and DDL on a local Delta table, with
/// deltalake and DuckDB reading along.
#[test]
#[cfg(feature = "slow-tests")]
fn delta_table_reads_alike_in_every_reader() {
    needs_delta!();
    let input = tempdir();
    generate(input.path(), 900, 3, "2024-03-05", 21);
    let expected = records_under(input.path()).len() as u64;
    let out = tempdir();
    let dest = out.path().join("lake");
    let data = path_str(&dest).to_string();
    let table = dest.join("cloudtrail");
    let (run, report) = convert(
        &[input.path()],
        &dest,
        &["--table-format", "delta", "--checkpoint", "40KB", "-q"],
    );
    run.expect(0);
    assert_eq!(report["table_format"], "delta");
    assert_eq!(report["records_written"].as_u64(), Some(expected));
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("_trailpq/table.json")).unwrap())
            .unwrap();
    assert_eq!(
        (&meta["format"], &meta["layout"]),
        (&"delta".into(), &3.into())
    );

    // The log: a create, then one commit per checkpoint, each with the lease's transaction.
    let first = log(&table);
    assert!(first.len() >= 4, "{} versions", first.len());
    let metadata = first[0].iter().find_map(|a| a.get("metaData")).unwrap();
    assert_eq!(
        metadata["partitionColumns"],
        serde_json::json!(["event_date"])
    );
    let txns = assert_transactions(&first);
    assert_eq!(txns.get("trailpq-main"), Some(&(first.len() as i64 - 1)));
    let mut stats_rows = 0;
    for add in first.iter().flatten().filter_map(|a| a.get("add")) {
        let stats: Value = serde_json::from_str(add["stats"].as_str().unwrap()).unwrap();
        stats_rows += stats["numRecords"].as_u64().unwrap();
        assert!(stats["minValues"]["event_time"].is_string(), "{stats}");
        assert!(add["partitionValues"]["event_date"].is_string(), "{add}");
        assert_eq!(add["dataChange"], true);
    }
    assert_eq!(stats_rows, expected);

    // Three readers agree.
    assert_eq!(count(&data, &[], &[]), expected);
    let py = read(&["count", path_str(&table)], &[]);
    assert_eq!(py["rows"].as_u64(), Some(expected));
    let duck = read(&["duckdb", path_str(&table)], &[]);
    assert_eq!(duck["rows"].as_u64(), Some(expected));
    assert_eq!(duck["event_ids"].as_u64(), Some(expected));
    assert_eq!(duck["days"].as_u64(), Some(3));

    // Each version's count, as deltalake reads it, and trailpq's --as-of agree.
    let versions = read(&["versions", path_str(&table)], &[]);
    let at = |v: usize| versions[v.to_string()].as_u64().unwrap();
    assert_eq!(at(0), 0);
    assert!(at(1) > 0 && at(1) < expected);
    assert_eq!(count(&data, &["--as-of", "1"], &[]), at(1));

    // Compaction is one commit that removes without changing data; the old files stay.
    let before = first.len();
    let on_disk = parquet_files_under(&table);
    trailpq(&["compact", &data]).expect(0);
    let compacted = log(&table);
    assert_eq!(compacted.len(), before + 1, "compaction is one commit");
    let last = &compacted[before];
    let removes: Vec<&Value> = last.iter().filter_map(|a| a.get("remove")).collect();
    let adds: Vec<&Value> = last.iter().filter_map(|a| a.get("add")).collect();
    assert_eq!(removes.len(), on_disk);
    assert!(adds.len() == 3, "{} files after compaction", adds.len());
    assert!(
        removes
            .iter()
            .chain(&adds)
            .all(|a| a["dataChange"] == false)
    );
    let info = last.iter().find_map(|a| a.get("commitInfo")).unwrap();
    assert_eq!(info["operation"], "OPTIMIZE");
    assert_eq!(parquet_files_under(&table), on_disk + 3);
    assert_eq!(count(&data, &[], &[]), expected);
    assert_eq!(
        read(&["count", path_str(&table)], &[])["rows"].as_u64(),
        Some(expected)
    );
    let duck = read(&["duckdb", path_str(&table)], &[]);
    assert_eq!(duck["rows"].as_u64(), Some(expected));
    assert_eq!(duck["event_ids"].as_u64(), Some(expected));
    let before_compaction = (before - 1).to_string();
    assert_eq!(
        count(&data, &["--as-of", &before_compaction], &[]),
        expected
    );

    // Vacuum deletes only what the compaction removed, only once old enough.
    let kept = trailpq(&["vacuum", &data]).expect(0);
    assert!(kept.stderr.contains("deleted 0 file(s)"), "{}", kept.stderr);
    let vacuumed = trailpq(&["vacuum", &data, "--retain", "0s"]).expect(0);
    assert!(
        vacuumed
            .stderr
            .contains(&format!("deleted {on_disk} file(s)")),
        "{}",
        vacuumed.stderr
    );
    assert_eq!(parquet_files_under(&table), 3);
    assert_eq!(active_files(&log(&table)).len(), 3);
    assert_eq!(count(&data, &[], &[]), expected);
    let duck = read(&["duckdb", path_str(&table)], &[]);
    assert_eq!(duck["rows"].as_u64(), Some(expected));

    // Export rebuilds every record once; the DuckDB DDL reads the table and its OCSF views.
    assert_eq!(export(&dest, None).len() as u64, expected);
    let ddl = trailpq(&["ddl", "duckdb", &data]).expect(0).stdout;
    assert!(ddl.contains("delta_scan("), "{ddl}");
    let sql = out.path().join("cloudtrail.sql");
    std::fs::write(&sql, &ddl).unwrap();
    let views = read(&["ddl", path_str(&sql)], &[]);
    assert_eq!(views["cloudtrail"].as_u64(), Some(expected));
    let ocsf: u64 = [
        "ocsf_api_activity",
        "ocsf_authentication",
        "ocsf_account_change",
    ]
    .iter()
    .map(|v| views[*v].as_u64().unwrap())
    .sum();
    assert_eq!(ocsf, expected, "every record is in one OCSF view");
    for engine in ["spark", "athena"] {
        let mut args = vec!["ddl", engine, &data];
        if engine == "athena" {
            args.extend(["--location", "s3://bucket/lake"]);
        }
        let text = trailpq(&args).expect(0).stdout;
        let marker = match engine {
            "spark" => "USING delta",
            _ => "'table_type' = 'DELTA'",
        };
        assert!(text.contains(marker), "{engine}: {text}");
    }
}

/// An S3 server with generated logs in `logs/AWSLogs/` and an empty bucket `lake`, with the
/// fault proxy in front of it.
struct Lake {
    s3: S3Server,
    proxy: Proxy,
    expected: u64,
    _input: TempDir,
}

const SOURCE: &str = "s3://logs/AWSLogs/";
const DEST: &str = "s3://lake/t/";
const TABLE: &str = "s3://lake/t/cloudtrail";

impl Lake {
    fn new(events: u64, days: u32, seed: u64) -> Self {
        let s3 = S3Server::start();
        let input = tempdir();
        generate(input.path(), events, days, "2024-03-05", seed);
        s3.upload("logs", "", input.path());
        s3.bucket("lake");
        let proxy = Proxy::start(s3.port);
        Lake {
            expected: records_under(input.path()).len() as u64,
            s3,
            proxy,
            _input: input,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        self.s3.env()
    }

    fn convert(&self, extra: &[&str]) -> Command {
        let mut args = vec![
            "convert",
            SOURCE,
            "--out",
            DEST,
            "-q",
            "--table-format",
            "delta",
        ];
        args.extend(extra);
        let mut cmd = command(&args);
        cmd.envs(self.proxy.env(&self.env()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    }

    /// The table's folder in the server's storage.
    fn table_dir(&self) -> PathBuf {
        self.s3.bucket("lake").join("t").join("cloudtrail")
    }

    /// Every record once, in every reader; the log's versions consecutive and its transactions
    /// each once.
    #[track_caller]
    fn assert_exact(&self) {
        let log = log(&self.table_dir());
        assert_transactions(&log);
        assert_eq!(count(DEST, &[], &self.env()), self.expected);
        let py = read(&["count", TABLE], &self.env());
        assert_eq!(py["rows"].as_u64(), Some(self.expected));
        let duck = read(&["duckdb", path_str(&self.table_dir())], &[]);
        assert_eq!(duck["rows"].as_u64(), Some(self.expected));
        assert_eq!(duck["event_ids"].as_u64(), Some(self.expected));
    }
}

/// A child process that dies with the test, whatever happens to the test.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Readers looping while shards convert and a compaction runs, on S3: no read fails, and each
/// count is the count of a committed snapshot.
#[test]
#[cfg(feature = "slow-tests")]
fn readers_see_only_committed_snapshots_on_s3() {
    crate::needs!(s3);
    needs_delta!();
    let lake = Lake::new(1500, 4, 33);
    // A first day makes the table; the readers start on it.
    let first = lake.convert(&["--until", "2024-03-05"]).output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );

    let work = tempdir();
    let stop = work.path().join("stop");
    let seen_py = work.path().join("python.txt");
    let mut python = Killed(
        Command::new(delta_python())
            .arg(repo().join("tests/delta/read.py"))
            .args(["loop", TABLE, path_str(&stop), path_str(&seen_py)])
            .envs(lake.env())
            .spawn()
            .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let trailpq_reader = {
        let (done, env) = (done.clone(), lake.env());
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let run = trailpq_env(
                    &[
                        "query",
                        DEST,
                        "--sql",
                        "SELECT count(*) FROM cloudtrail",
                        "--format",
                        "csv",
                    ],
                    &env,
                );
                assert_eq!(run.code, Some(0), "a read failed: {}", run.stderr);
                seen.push(
                    run.stdout
                        .lines()
                        .nth(1)
                        .unwrap()
                        .trim()
                        .parse::<u64>()
                        .unwrap(),
                );
            }
            seen
        })
    };

    // Three shards at once, each committing several checkpoints; then a compaction.
    let shards: Vec<Child> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            lake.convert(&["--shard", &shard, "--checkpoint", "30KB"])
                .spawn()
                .unwrap()
        })
        .collect();
    for shard in shards {
        let out = shard.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let compact = trailpq_env(&["compact", DEST], &lake.env());
    assert_eq!(compact.code, Some(0), "{}", compact.stderr);
    done.store(true, Ordering::SeqCst);
    std::fs::write(&stop, "").unwrap();
    assert!(python.0.wait().unwrap().success());
    let seen_trailpq = trailpq_reader.join().unwrap();

    let committed: HashSet<u64> = read(&["versions", TABLE], &lake.env())
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let seen_python: Vec<String> = std::fs::read_to_string(&seen_py)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // The readers read while the table changed: they saw more than one snapshot.
    let distinct: HashSet<&str> = seen_python.iter().map(String::as_str).collect();
    assert!(distinct.len() >= 3, "{seen_python:?}");
    for line in &seen_python {
        let (_, rows) = line.split_once(' ').unwrap();
        let rows: u64 = rows
            .parse()
            .unwrap_or_else(|_| panic!("a read failed: {line}"));
        assert!(
            committed.contains(&rows),
            "deltalake saw {rows} rows: no snapshot has that"
        );
    }
    assert!(seen_trailpq.len() >= 2, "{seen_trailpq:?}");
    for rows in &seen_trailpq {
        assert!(
            committed.contains(rows),
            "trailpq saw {rows} rows: no snapshot has that"
        );
    }
    let log = log(&lake.table_dir());
    let txns = assert_transactions(&log);
    for i in 0..3 {
        assert!(
            txns.contains_key(&format!("trailpq-shard-{i}-of-3")),
            "{txns:?}"
        );
    }
    lake.assert_exact();
}

/// Converts killed with SIGKILL while they talk to the Delta log (a request held at random),
/// then crashes at each step around the Delta commit: every rerun leaves the table exact, its
/// versions consecutive, no transaction twice.
#[test]
#[cfg(feature = "slow-tests")]
#[cfg(feature = "test-hooks")]
fn sigkill_during_delta_commits_loses_and_doubles_nothing() {
    crate::needs!(s3);
    needs_delta!();
    let lake = Lake::new(1200, 3, 44);
    let common = [
        "--checkpoint",
        "20KB",
        "--lease-seconds",
        "1",
        "--wait",
        "60s",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut kills = 0;
    for round in 0..8u32 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let k = (seed % 12) as usize;
        lake.proxy.clear();
        lake.proxy.add(
            Rule::new(None, Some("_delta_log"), Fault::Hold)
                .skip(k)
                .times(1),
        );
        let mut child = lake.convert(&common).spawn().unwrap();
        kills += u32::from(lake.proxy.kill_when_held(&mut child, round));
        // Whatever was killed, the log is whole and no transaction is there twice.
        assert_transactions(&log(&lake.table_dir()));
    }
    assert!(kills >= 3, "only {kills} runs were killed");
    let rest = lake.convert(&common).output().unwrap();
    assert!(
        rest.status.success(),
        "{}",
        String::from_utf8_lossy(&rest.stderr)
    );
    lake.assert_exact();

    // Crashes right before and right after the Delta commit, rolled forward by the next run.
    for point in ["before-delta-commit", "after-delta-commit"] {
        let input = tempdir();
        generate(input.path(), 300, 2, "2024-04-01", 55);
        let expected = records_under(input.path()).len() as u64;
        let out = tempdir();
        let dest = out.path().join("lake");
        let mut cmd = command(&[
            "convert",
            path_str(input.path()),
            "--out",
            path_str(&dest),
            "--table-format",
            "delta",
            "--checkpoint",
            "30KB",
            "-q",
        ]);
        cmd.env("TRAILPQ_TEST_CRASH", point);
        let crashed = run_command(cmd);
        assert!(
            crashed.stderr.contains("simulated crash"),
            "{point}: {}",
            crashed.stderr
        );
        let (again, _) = convert(&[input.path()], &dest, &["-q"]);
        again.expect(0);
        let log = log(&dest.join("cloudtrail"));
        assert_transactions(&log);
        assert_eq!(count(path_str(&dest), &[], &[]), expected, "{point}");
        let py = read(&["count", path_str(&dest.join("cloudtrail"))], &[]);
        assert_eq!(py["rows"].as_u64(), Some(expected), "{point}");
    }
}

/// Delta commits whose answers are lost (the object was written, the client never heard) or
/// refused for a while: each checkpoint still lands once, as one version.
#[test]
#[cfg(feature = "slow-tests")]
fn lost_and_refused_delta_commits_land_once() {
    crate::needs!(s3);
    needs_delta!();
    let lake = Lake::new(600, 2, 77);
    let commits = |fault| Rule::new(Some(Op::Put), Some("/_delta_log/0"), fault);
    lake.proxy.add(commits(Fault::LoseAnswer).skip(1).times(3));
    lake.proxy.add(commits(Fault::Status(503)).skip(6).times(2));
    let run = lake.convert(&["--checkpoint", "20KB"]).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    lake.proxy.clear();
    let faults: Vec<Fault> = lake
        .proxy
        .requests()
        .iter()
        .filter_map(|r| r.fault)
        .collect();
    assert_eq!(
        faults.iter().filter(|f| **f == Fault::LoseAnswer).count(),
        3
    );
    assert_eq!(
        faults.iter().filter(|f| **f == Fault::Status(503)).count(),
        2
    );
    let log = log(&lake.table_dir());
    let txns = assert_transactions(&log);
    assert_eq!(txns.get("trailpq-main"), Some(&(log.len() as i64 - 1)));
    lake.assert_exact();
}

/// `migrate --to delta` makes a Hive table written by this version a Delta table without
/// rewriting a file: the same rows in every reader; converts after it append Delta commits.
#[test]
#[cfg(feature = "slow-tests")]
fn migrate_makes_a_hive_table_delta_in_place() {
    needs_delta!();
    let input = tempdir();
    generate(input.path(), 600, 2, "2024-03-05", 66);
    let more = tempdir();
    generate(more.path(), 200, 1, "2024-03-09", 67);
    let expected = records_under(input.path()).len() as u64;
    let added = records_under(more.path()).len() as u64;
    let out = tempdir();
    let dest = out.path().join("lake");
    let data = path_str(&dest).to_string();
    let partitions = ["--partition-by", "account_id,event_date", "-q"];
    convert(&[input.path()], &dest, &partitions).0.expect(0);
    let by_name = |extra: &[&str]| {
        let mut args = vec![
            "query",
            &data,
            "--sql",
            "SELECT account_id, event_date, event_name, count(*) AS n FROM cloudtrail GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            "--format",
            "csv",
        ];
        args.extend(extra);
        trailpq(&args).expect(0).stdout
    };
    let hive = by_name(&[]);
    let files_before = files_under(&dest.join("cloudtrail"));

    // Delta needs the migration first.
    one_line_error(
        convert(
            &[more.path()],
            &dest,
            &[
                "--table-format",
                "delta",
                "--partition-by",
                "account_id,event_date",
            ],
        )
        .0,
        2,
        "trailpq migrate",
    );
    let migrated = trailpq(&["migrate", &data, "--to", "delta"]).expect(0);
    assert!(
        migrated.stderr.contains("is a Delta table now"),
        "{}",
        migrated.stderr
    );
    let table_json: Value =
        serde_json::from_str(&std::fs::read_to_string(dest.join("_trailpq/table.json")).unwrap())
            .unwrap();
    assert_eq!(table_json["format"], "delta");
    // Numbered past the layouts a trailpq from before Delta knows: it refuses to write here.
    assert_eq!(table_json["layout"], 3);
    // Not a file rewritten: the same Parquet files, now named by the log.
    let parquet: Vec<String> = files_before
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .collect();
    let log0 = log(&dest.join("cloudtrail"));
    let named: BTreeSet<String> = active_files(&log0);
    assert_eq!(named, parquet.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(by_name(&[]), hive);
    let table = dest.join("cloudtrail");
    assert_eq!(
        read(&["count", path_str(&table)], &[])["rows"].as_u64(),
        Some(expected)
    );
    assert_eq!(
        read(&["duckdb", path_str(&table)], &[])["rows"].as_u64(),
        Some(expected)
    );
    let again = trailpq(&["migrate", &data, "--to", "delta"]).expect(0);
    assert!(again.stderr.contains("already"), "{}", again.stderr);

    // The table remembers its format: a convert without --table-format appends a Delta commit.
    convert(&[more.path()], &dest, &partitions).0.expect(0);
    let log1 = log(&table);
    assert!(log1.len() > log0.len());
    assert_eq!(count(&data, &[], &[]), expected + added);
    assert_eq!(
        read(&["count", path_str(&table)], &[])["rows"].as_u64(),
        Some(expected + added)
    );
    assert_eq!(count(&data, &["--as-of", "0"], &[]), expected);
}

/// Mistakes about formats get one line saying what to do.
#[test]
fn table_format_mistakes_are_one_line() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let data = path_str(&dest).to_string();
    convert(&[&sample_data()], &dest, &["-q"]).0.expect(0);
    one_line_error(
        trailpq(&["query", &data, "--sql", "SELECT 1", "--as-of", "3"]),
        2,
        "keeps no earlier snapshots",
    );
    one_line_error(trailpq(&["vacuum", &data]), 2, "not a Delta table");
    one_line_error(
        trailpq(&[
            "convert",
            path_str(&sample_data()),
            "--out",
            &data,
            "--table-format",
            "iceberg",
        ]),
        2,
        "hive or delta",
    );
    one_line_error(
        trailpq(&[
            "query",
            &data,
            "--sql",
            "SELECT 1",
            "--as-of",
            "last tuesday",
        ]),
        2,
        "neither a table version",
    );
    trailpq(&["migrate", &data, "--to", "delta"]).expect(0);
    one_line_error(
        trailpq(&["query", &data, "--sql", "SELECT 1", "--as-of", "99"]),
        1,
        "has no snapshot version 99",
    );
}
