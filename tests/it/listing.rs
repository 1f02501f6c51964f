//! Pointing convert at an organisation's bucket: listing bounded by the CloudTrail layout, day,
//! account and region filters, incremental runs, dry runs, and shards working side by side.

use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::common::proxy::{Op, Proxy};
use crate::common::reference::{assert_same_records, records_in, records_under};
use crate::common::s3::S3Server;
use crate::common::*;

fn u(report: &Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

/// Log files (not digests) under `dir` whose delivery folder is one of `days` (`DD` of May 2024).
fn logs_of_days(dir: &Path, days: &[u32]) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| f.contains("/CloudTrail/"))
        .filter(|f| {
            days.iter()
                .any(|d| f.contains(&format!("/2024/05/{d:02}/")))
        })
        .collect()
}

fn records_of(dir: &Path, files: &[String]) -> Vec<Value> {
    files
        .iter()
        .flat_map(|f| records_in(&dir.join(f)))
        .collect()
}

/// Listing requests and keys the proxy saw for the source bucket since its log was reset.
fn source_listing(proxy: &Proxy) -> (u64, u64) {
    let lists: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.op == Op::List && r.target.starts_with("/logs"))
        .collect();
    (
        lists.len() as u64,
        lists.iter().map(|r| r.keys as u64).sum(),
    )
}

#[test]
fn listing_follows_the_layout_and_lists_only_the_days_asked_for() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    let input = tempdir();
    generate(input.path(), 3000, 14, "2024-05-01", 11);
    // Thirteen days are there at first; the fourteenth arrives later.
    for rel in files_under(input.path()) {
        if !rel.contains("/2024/05/14/") {
            let to = s3.bucket("logs").join(&rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(input.path().join(&rel), to).unwrap();
        }
    }
    s3.bucket("lake");
    let proxy = Proxy::start(s3.port);
    let env = proxy.env(&s3.env());
    let thirteen: Vec<u32> = (1..=13).collect();
    let all_logs = logs_of_days(input.path(), &thirteen);

    // Everything, planned: only the log folders are listed (digests are not), with exact counts.
    let (run, full) = convert_env(
        &[
            "s3://logs/AWSLogs/",
            "--out",
            "s3://lake/t/",
            "--dry-run",
            "--full-scan",
        ],
        &env,
    );
    let run = run.expect(0);
    assert!(
        run.stdout.contains("dry run: would convert"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("accounts: 2"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("delivery days: 13 (2024-05-01 to 2024-05-13)"),
        "{}",
        run.stdout
    );
    assert_eq!(u(&full["plan"], "files"), all_logs.len() as u64);
    let (requests, keys) = source_listing(&proxy);
    assert_eq!(
        (u(&full, "list_requests"), u(&full, "keys_listed")),
        (requests, keys)
    );
    assert_eq!(keys, all_logs.len() as u64, "only log keys are listed");
    assert!(
        files_under(&s3.bucket("lake")).is_empty(),
        "a dry run writes nothing"
    );

    // Two days of thirteen: about 2/13 of the keys.
    proxy.reset_log();
    let (run, two) = convert_env(
        &[
            "s3://logs/AWSLogs/",
            "--out",
            "s3://lake/t/",
            "--dry-run",
            "--since",
            "2024-05-12",
            "--until",
            "2024-05-13",
        ],
        &env,
    );
    run.expect(0);
    let two_days = logs_of_days(input.path(), &[12, 13]);
    assert_eq!(
        u(&two["plan"], "files"),
        two_days.len() as u64,
        "totals exact"
    );
    assert_eq!(u(&two["plan"], "days"), 2);
    let (_, keys_two) = source_listing(&proxy);
    assert!(
        keys_two >= two_days.len() as u64 && keys_two * 13 <= keys * 3,
        "listed {keys_two} keys for 2 of 13 days; all days have {keys}"
    );

    // One account, one region.
    let (run, one) = convert_env(
        &[
            "s3://logs/AWSLogs/",
            "--out",
            "s3://lake/t/",
            "--dry-run",
            "--accounts",
            "987654321098",
            "--regions",
            "us-west-2",
        ],
        &env,
    );
    run.expect(0);
    assert_eq!(one["plan"]["accounts"], serde_json::json!(["987654321098"]));
    assert_eq!(one["plan"]["regions"], serde_json::json!(["us-west-2"]));
    let theirs = all_logs
        .iter()
        .filter(|f| f.contains("987654321098/CloudTrail/us-west-2/"))
        .count();
    assert_eq!(u(&one["plan"], "files"), theirs as u64);

    // The first real run converts everything there.
    let (run, first) = convert_env(&["s3://logs/AWSLogs/", "--out", "s3://lake/t/"], &env);
    run.expect(0);
    assert_eq!(
        u(&first, "records_written"),
        records_of(input.path(), &all_logs).len() as u64
    );

    // A day later, a scheduled run lists from the day before the newest day converted, per
    // account and region: three day folders, not fourteen.
    for rel in logs_of_days(input.path(), &[14]) {
        let to = s3.bucket("logs").join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(input.path().join(&rel), to).unwrap();
    }
    proxy.reset_log();
    let (run, next) = convert_env(&["s3://logs/AWSLogs/", "--out", "s3://lake/t/"], &env);
    run.expect(0);
    let (_, keys_next) = source_listing(&proxy);
    let last_three = logs_of_days(input.path(), &[12, 13, 14]);
    assert_eq!(
        keys_next,
        last_three.len() as u64,
        "an incremental run lists days 12 to 14"
    );
    let day14 = logs_of_days(input.path(), &[14]);
    assert_eq!(u(&next, "files_converted"), day14.len() as u64);
    assert_eq!(
        u(&next, "records_written"),
        records_of(input.path(), &day14).len() as u64
    );
    assert_eq!(
        u(&next, "files_unchanged"),
        (last_three.len() - day14.len()) as u64
    );

    // --full-scan lists every day again, and finds nothing new.
    let (run, again) = convert_env(
        &["s3://logs/AWSLogs/", "--out", "s3://lake/t/", "--full-scan"],
        &env,
    );
    run.expect(0);
    assert_eq!(u(&again, "files_converted"), 0);
    let everything = logs_of_days(input.path(), &(1..=14).collect::<Vec<_>>());
    assert_eq!(u(&again, "files_unchanged"), everything.len() as u64);

    let exported = trailpq_env(&["export", "s3://lake/t/"], &s3.env()).expect(0);
    let exported: Vec<Value> = exported
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_same_records(&records_of(input.path(), &everything), &exported);
}

/// Three workers, each `--shard I/3`, started together on one S3 DEST: their union is what one
/// unsharded run gives, with no record twice.
#[test]
fn three_shards_at_once_convert_the_whole_once() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    let input = tempdir();
    generate(input.path(), 2500, 6, "2024-05-01", 13);
    s3.upload("logs", "", input.path());
    s3.bucket("lake");
    let proxy = Proxy::start(s3.port);
    let env = proxy.env(&s3.env());
    let reports = tempdir();
    let children: Vec<_> = (0..3)
        .map(|i| {
            let report = reports.path().join(format!("{i}.json"));
            let mut cmd = command(&[
                "convert",
                "s3://logs/",
                "--out",
                "s3://lake/sharded/",
                "--report",
                path_str(&report),
                "--checkpoint",
                "50KB",
            ]);
            cmd.envs(env.iter().cloned());
            // Shard 0 by number; the others as Kubernetes and AWS Batch give their index.
            match i {
                0 => cmd.args(["--shard", "0/3"]),
                1 => cmd
                    .args(["--shard", "auto/3"])
                    .env("JOB_COMPLETION_INDEX", "1"),
                _ => cmd
                    .args(["--shard", "auto/3"])
                    .env("AWS_BATCH_JOB_ARRAY_INDEX", "2"),
            };
            cmd.stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        Run::from(child.wait_with_output().unwrap()).expect(0);
    }
    let shard_reports: Vec<Value> = (0..3)
        .map(|i| read_report(&reports.path().join(format!("{i}.json"))))
        .collect();
    let converted: u64 = shard_reports.iter().map(|r| u(r, "files_converted")).sum();
    let logs = files_under(input.path())
        .iter()
        .filter(|f| f.contains("/CloudTrail/"))
        .count();
    assert_eq!(
        converted, logs as u64,
        "each log file converted by exactly one shard"
    );
    for r in &shard_reports {
        assert!(
            u(r, "files_converted") > 0 && u(r, "files_other_shards") > 0,
            "{r}"
        );
        assert_reconciles(r);
    }

    let export = |dest: &str| -> Vec<Value> {
        let run = trailpq_env(&["export", dest], &s3.env()).expect(0);
        run.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let sharded = export("s3://lake/sharded/");
    let mut ids = HashSet::new();
    for record in &sharded {
        assert!(
            ids.insert(record["eventID"].as_str().unwrap().to_string()),
            "{record}"
        );
    }
    trailpq_env(
        &["convert", "s3://logs/", "--out", "s3://lake/whole/", "-q"],
        &env,
    )
    .expect(0);
    assert_same_records(&export("s3://lake/whole/"), &sharded);
    assert_same_records(&records_under(input.path()), &sharded);
}

/// An unsharded run and shards must not write to one DEST at the same time.
#[test]
fn shards_and_unsharded_runs_exclude_each_other() {
    let out = tempdir();
    let dest = out.path().join("lake");
    std::fs::create_dir_all(dest.join("_trailpq/lease")).unwrap();
    let mut held = std::fs::File::create(dest.join("_trailpq/lease/shard-1-of-3.lock")).unwrap();
    held.lock().unwrap();
    std::io::Write::write_all(
        &mut held,
        br#"{"run_id":"r-shard","host":"worker-1","pid":7,"since":"2024-01-01T00:00:00Z","renewed":"2024-01-01T00:00:00Z","ttl_ms":120000}"#,
    )
    .unwrap();
    let sample = sample_data();
    let plain = trailpq(&["convert", path_str(&sample), "--out", path_str(&dest)]);
    one_line_error(plain, 1, "trailpq run r-shard (host worker-1");
    let other_count = trailpq(&[
        "convert",
        path_str(&sample),
        "--out",
        path_str(&dest),
        "--shard",
        "0/2",
    ]);
    one_line_error(other_count, 1, "lease shard-1-of-3");
    // A shard of the same count works beside it.
    trailpq(&[
        "convert",
        path_str(&sample),
        "--out",
        path_str(&dest),
        "--shard",
        "0/3",
        "-q",
    ])
    .expect(0);
}

#[test]
fn listing_flags_are_checked() {
    let sample = sample_data();
    let data = path_str(&sample);
    for (args, needle) in [
        (vec!["--shard", "3/3"], "is not a shard"),
        (vec!["--shard", "auto/3"], "JOB_COMPLETION_INDEX"),
        (vec!["--accounts", "12345"], "is not an AWS account id"),
        (vec!["--regions", "US_EAST"], "is not an AWS region"),
        (
            vec!["--since", "2024-05-02", "--until", "2024-05-01"],
            "is after --until",
        ),
        (vec!["--since", "last week"], "is not a day"),
    ] {
        let mut all = vec!["convert", data, "--out", "/tmp/never-written"];
        all.extend(&args);
        one_line_error(trailpq(&all), 2, needle);
    }
    assert!(!Path::new("/tmp/never-written").exists());
}
