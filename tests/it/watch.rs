//! `trailpq watch`: objects announced on a real SQS-protocol server (moto's, on loopback), read
//! from a real S3-protocol server (s3s-fs), converted once each whatever the queue delivers.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::proxy::{Fault, Op, Proxy, Rule};
use crate::common::reference::records_in;
use crate::common::s3::{S3Server, spawn_on_loopback};
use crate::common::*;

/// moto's server on loopback, with the tests' hands on it (tests/sqs/sqs.py).
struct Sqs {
    child: Child,
    port: u16,
}

impl Sqs {
    fn start() -> Self {
        let server = python().with_file_name("moto_server");
        let (child, port) = spawn_on_loopback("moto_server", Duration::from_secs(30), |port| {
            Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server starts")
        });
        Sqs { child, port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn tool(&self, args: &[&str]) -> String {
        let out = Command::new(python())
            .arg(repo().join("tests/sqs/sqs.py"))
            .arg(self.endpoint())
            .args(args)
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "sqs.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn create(&self, name: &str) -> String {
        self.tool(&["create", name])
    }

    fn send(&self, url: &str, bodies: &[String]) {
        let dir = tempdir();
        let file = dir.path().join("bodies.jsonl");
        let lines: Vec<String> = bodies
            .iter()
            .map(|b| Value::from(b.clone()).to_string())
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        self.tool(&["send", url, path_str(&file)]);
    }

    /// (visible, hidden) messages on the queue.
    fn count(&self, url: &str) -> (u64, u64) {
        let counts: Value = serde_json::from_str(&self.tool(&["count", url])).unwrap();
        (
            counts["visible"].as_u64().unwrap(),
            counts["hidden"].as_u64().unwrap(),
        )
    }

    /// Waits until the queue holds `visible` visible and `hidden` hidden messages.
    fn wait_for(&self, url: &str, visible: u64, hidden: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = self.count(url);
            if now == (visible, hidden) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "queue holds {now:?}, not ({visible}, {hidden})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sqs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3 server with generated logs in bucket `trail` (AWSLogs/…), a `lake` bucket, and an SQS
/// server with a queue.
struct World {
    s3: S3Server,
    sqs: Sqs,
    queue: String,
    /// The log files (not digests), as keys in `trail`, with their folder on disk.
    keys: Vec<String>,
    root: PathBuf,
    _logs: TempDir,
}

impl World {
    fn new() -> Self {
        let logs = tempdir();
        generate(logs.path(), 400, 2, "2024-05-01", 7);
        let s3 = S3Server::start();
        s3.upload("trail", "", logs.path());
        s3.bucket("lake");
        let root = s3.bucket("trail");
        let keys: Vec<String> = files_under(&root)
            .into_iter()
            .filter(|k| k.contains("/CloudTrail/") && k.ends_with(".json.gz"))
            .collect();
        assert!(keys.len() >= 8, "{keys:?}");
        let sqs = Sqs::start();
        let queue = sqs.create("trail-objects");
        World {
            s3,
            sqs,
            queue,
            keys,
            root,
            _logs: logs,
        }
    }

    fn env(&self) -> Vec<(String, String)> {
        let mut env = self.s3.env();
        env.push(("AWS_ENDPOINT_URL_SQS".into(), self.sqs.endpoint()));
        env
    }

    fn records(&self, keys: &[&String]) -> u64 {
        keys.iter()
            .map(|k| records_in(&self.root.join(k)).len() as u64)
            .sum()
    }

    fn watch_args<'a>(&'a self, report: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "watch",
            "s3://trail/AWSLogs/",
            "--queue",
            &self.queue,
            "--out",
            "s3://lake/t",
            "--report",
            path_str(report),
            "--visibility",
            "3s",
        ];
        args.extend_from_slice(extra);
        args
    }

    /// (rows, distinct source files) in the table.
    fn table(&self) -> (u64, u64) {
        let run = trailpq_env(
            &[
                "query",
                "s3://lake/t",
                "--sql",
                "SELECT count(*) || ',' || count(DISTINCT source_key) FROM cloudtrail",
                "--format",
                "csv",
            ],
            &self.env(),
        )
        .expect(0);
        let line = run.stdout.lines().last().unwrap().to_string();
        let (rows, files) = line.trim_matches('"').split_once(',').unwrap();
        (rows.parse().unwrap(), files.parse().unwrap())
    }
}

fn s3_event(bucket: &str, key: &str) -> String {
    let encoded: String = url_encode(key);
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket},
               "object": {"key": encoded, "size": 1, "sequencer": "0055AED6DCD90281E5"}}
    }]})
    .to_string()
}

/// As S3 encodes keys in event notifications (space as `+`).
fn url_encode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sns(message: &str) -> String {
    json!({"Type": "Notification", "MessageId": "m", "TopicArn": "arn:aws:sns:us-east-1:1:t",
           "Message": message})
    .to_string()
}

fn cloudtrail(keys: &[&String]) -> String {
    json!({"s3Bucket": "trail", "s3ObjectKey": keys}).to_string()
}

fn eventbridge(key: &str) -> String {
    json!({"version": "0", "detail-type": "Object Created", "source": "aws.s3",
           "region": "us-east-1", "resources": ["arn:aws:s3:::trail"],
           "detail": {"version": "0", "bucket": {"name": "trail"},
                      "object": {"key": key, "size": 1, "sequencer": "617f08299329d189"}}})
    .to_string()
}

#[test]
fn every_message_shape_in_one_queue_converts_each_object_once() {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    let k = &world.keys;
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz";
    let malformed = "this is not a notification".to_string();
    let foreign_bucket = s3_event("elsewhere", &k[0]);
    let foreign_prefix = s3_event("trail", "private/AWSLogs/x.json.gz");
    let bodies = vec![
        s3_event("trail", &k[0]),
        sns(&s3_event("trail", &k[1])),
        sns(&cloudtrail(&[&k[2], &k[3]])),
        cloudtrail(&[&k[4]]),
        eventbridge(&k[5]),
        // At least once: the same objects again, in other shapes.
        s3_event("trail", &k[0]),
        eventbridge(&k[2]),
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"trail"}"#.to_string(),
        s3_event("trail", digest),
        malformed.clone(),
        foreign_bucket.clone(),
        foreign_prefix.clone(),
    ];
    world.sqs.send(&world.queue, &bodies);
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    let run = trailpq_env(&world.watch_args(&report_path, &["--drain"]), &world.env());
    // Messages were left on the queue: exit 3.
    let run = run.expect(3);
    for needle in ["not a notification", "elsewhere", "outside every SOURCE"] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    let notified: Vec<&String> = k[..6].iter().collect();
    assert_eq!(world.table(), (world.records(&notified), 6));

    let report = read_report(&report_path);
    let m = &report["messages"];
    assert_eq!(m["received"], 12, "{report:#}");
    assert_eq!(m["acknowledged"], 9);
    assert_eq!(m["left"], 3);
    assert_eq!(m["refused"], 2);
    assert_eq!(m["malformed"], 1);
    assert_eq!(m["unreadable"], 0);
    assert_eq!(m["test_events"], 1);
    assert_eq!(m["not_logs"], 1);
    assert_eq!(report["files_converted"], 6);
    assert_eq!(report["records_written"], world.records(&notified));
    assert_eq!(report["left"].as_array().unwrap().len(), 3);
    // Exactly the malformed and foreign messages are left on the queue.
    world.sqs.wait_for(&world.queue, 3, 0);
    let left: Vec<String> =
        serde_json::from_str(&world.sqs.tool(&["bodies", &world.queue])).unwrap();
    let mut expected = vec![malformed, foreign_bucket, foreign_prefix];
    expected.sort();
    assert_eq!(left, expected);

    // convert into the same DEST reads only what was not notified.
    let (run, convert_report) = convert_env(
        &["s3://trail/AWSLogs/", "--out", "s3://lake/t"],
        &world.env(),
    );
    run.expect(0);
    assert_eq!(convert_report["files_unchanged"], 6);
    let all: Vec<&String> = k.iter().collect();
    assert_eq!(world.table(), (world.records(&all), k.len() as u64));
}

#[test]
fn a_missing_object_leaves_its_message_on_the_queue() {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    let missing = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/gone.json.gz";
    world.sqs.send(
        &world.queue,
        &[
            s3_event("trail", missing),
            s3_event("trail", &world.keys[1]),
        ],
    );
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    let run = trailpq_env(&world.watch_args(&report_path, &["--drain"]), &world.env()).expect(3);
    assert!(
        run.stderr.contains("gone.json.gz: no such object"),
        "{}",
        run.stderr
    );
    let report = read_report(&report_path);
    assert_eq!(report["messages"]["unreadable"], 1, "{report:#}");
    assert_eq!(report["messages"]["acknowledged"], 1);
    assert_eq!(world.table().1, 1);
}

#[test]
fn sigterm_commits_and_acknowledges_the_batch_in_flight() {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    let keys: Vec<&String> = world.keys[..4].iter().collect();
    let bodies: Vec<String> = keys.iter().map(|k| s3_event("trail", k)).collect();
    world.sqs.send(&world.queue, &bodies);
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    // A batch that would only close after an hour.
    let mut cmd = command(&world.watch_args(&report_path, &["--checkpoint", "1h"]));
    cmd.envs(world.env());
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Every message is received (hidden), and stays hidden for more than twice its visibility
    // timeout while the batch gathers (the watcher extends it), then the watcher is told to stop.
    world.sqs.wait_for(&world.queue, 0, 4);
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(world.sqs.count(&world.queue), (0, 4));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let run: Run = child.wait_with_output().unwrap().into();
    run.expect(0);
    world.sqs.wait_for(&world.queue, 0, 0);
    assert_eq!(world.table(), (world.records(&keys), 4));
    let report = read_report(&report_path);
    assert_eq!(
        report["messages"]["received"], 4,
        "none came back: {report:#}"
    );
    assert_eq!(report["messages"]["acknowledged"], 4);
    assert_eq!(report["checkpoints"], 1);
}

#[test]
fn a_watcher_killed_mid_batch_loses_nothing_and_doubles_nothing() {
    // Killed while committing (after the journal, after the first move), after the commit
    // before acknowledging, and (kill -9) while gathering.
    killed_mid_batch(
        &[],
        &[
            "after-journal",
            "after-first-move",
            "watch-before-ack",
            "kill",
        ],
    );
}

/// The same on a Delta table, killed around its Delta commit too: each batch is one Delta
/// commit, never two.
#[test]
fn a_watcher_killed_mid_batch_on_a_delta_table_commits_each_batch_once() {
    killed_mid_batch(
        &["--table-format", "delta"],
        &[
            "before-delta-commit",
            "after-delta-commit",
            "watch-before-ack",
            "kill",
        ],
    );
}

fn killed_mid_batch(format: &[&str], crashes: &[&str]) {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    let mut sent: Vec<&String> = Vec::new();
    for (round, crash) in crashes.iter().enumerate() {
        let batch: Vec<&String> = world.keys[round * 2..round * 2 + 2].iter().collect();
        let bodies: Vec<String> = batch.iter().map(|k| s3_event("trail", k)).collect();
        world.sqs.send(&world.queue, &bodies);
        sent.extend(batch);
        if *crash == "kill" {
            let mut extra = vec!["--checkpoint", "1h", "--lease-seconds", "2"];
            extra.extend(format);
            let mut cmd = command(&world.watch_args(&report_path, &extra));
            cmd.envs(world.env());
            let mut child = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            world.sqs.wait_for(&world.queue, 0, 2);
            child.kill().unwrap();
            child.wait().unwrap();
        } else {
            let mut env = world.env();
            env.push(("TRAILPQ_TEST_CRASH".into(), crash.to_string()));
            let mut extra = vec!["--drain", "--lease-seconds", "2"];
            extra.extend(format);
            let args = world.watch_args(&report_path, &extra);
            let run = trailpq_env(&args, &env);
            assert_ne!(run.code, Some(0), "{crash}: {}", run.stderr);
            assert!(run.stderr.contains("simulated crash"), "{}", run.stderr);
        }
        // The batch's messages come back once their visibility runs out, and a drain converts
        // them. After a kill -9, the dead watcher's unanswered long poll may take them once
        // more as they come back (moto answers a poll whose client is gone, with the messages
        // hidden for another visibility timeout): a drain then finds nothing visible and ends,
        // and the next one gets them.
        let mut acknowledged = 0;
        for _ in 0..2 {
            world.sqs.wait_for(&world.queue, 2, 0);
            trailpq_env(&world.watch_args(&report_path, &["--drain"]), &world.env()).expect(0);
            let report = read_report(&report_path);
            acknowledged += report["messages"]["acknowledged"].as_u64().unwrap();
            if acknowledged >= 2 || *crash != "kill" {
                break;
            }
        }
        assert_eq!(acknowledged, 2, "after {crash}");
        world.sqs.wait_for(&world.queue, 0, 0);
        assert_eq!(
            world.table(),
            (world.records(&sent), sent.len() as u64),
            "after {crash}"
        );
        if !format.is_empty() {
            // One create, then one commit per batch that landed: each transaction once.
            let log = crate::delta::log(&world.s3.bucket("lake").join("t/cloudtrail"));
            let txns = crate::delta::assert_transactions(&log);
            assert_eq!(
                txns.get("trailpq-main"),
                Some(&(log.len() as i64 - 1)),
                "after {crash}"
            );
        }
    }
}

#[test]
fn watch_refuses_what_it_cannot_do_in_one_line() {
    one_line_error(
        trailpq(&[
            "watch",
            "/tmp/logs",
            "--queue",
            "https://sqs.us-east-1.amazonaws.com/1/q",
            "--out",
            "/tmp/x",
        ]),
        2,
        "s3:// SOURCEs",
    );
    one_line_error(
        trailpq(&[
            "watch",
            "s3://trail/AWSLogs/",
            "--queue",
            "trail-objects",
            "--out",
            "/tmp/x",
        ]),
        2,
        "not a queue URL",
    );
}

#[test]
fn an_object_the_store_refuses_leaves_its_message_and_the_rest_is_committed() {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    let proxy = Proxy::start(world.s3.port);
    // The store refuses to give one object (403 is not retried).
    let refused = world.keys[0].rsplit('/').next().unwrap().to_string();
    proxy.add(Rule::new(Some(Op::Get), Some(&refused), Fault::Status(403)).times(usize::MAX));
    world.sqs.send(
        &world.queue,
        &[
            s3_event("trail", &world.keys[0]),
            s3_event("trail", &world.keys[1]),
        ],
    );
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    let run = trailpq_env(
        &world.watch_args(&report_path, &["--drain"]),
        &proxy.env(&world.env()),
    )
    .expect(3);
    assert!(run.stderr.contains(&refused), "{}", run.stderr);
    let report = read_report(&report_path);
    assert_eq!(report["messages"]["unreadable"], 1, "{report:#}");
    assert_eq!(report["messages"]["acknowledged"], 1);
    assert_eq!(world.table(), (world.records(&[&world.keys[1]]), 1));
    // Once the store gives it, the message that came back is converted.
    proxy.clear();
    world.sqs.wait_for(&world.queue, 1, 0);
    trailpq_env(&world.watch_args(&report_path, &["--drain"]), &world.env()).expect(0);
    let both: Vec<&String> = world.keys[..2].iter().collect();
    assert_eq!(world.table(), (world.records(&both), 2));
}

#[test]
fn a_watcher_outlives_a_queue_that_fails_for_a_while() {
    crate::needs!(s3);
    crate::needs!(python);
    let world = World::new();
    // Every SQS call is a POST: the first twelve fail (four calls, with the SDK's retries).
    let proxy = Proxy::start(world.sqs.port);
    proxy.add(Rule::new(Some(Op::Post), None, Fault::Status(503)).times(12));
    let keys: Vec<&String> = world.keys[..2].iter().collect();
    let bodies: Vec<String> = keys.iter().map(|k| s3_event("trail", k)).collect();
    world.sqs.send(&world.queue, &bodies);
    let out = tempdir();
    let report_path = out.path().join("watch.json");
    let mut env = world.env();
    env.push((
        "AWS_ENDPOINT_URL_SQS".into(),
        format!("http://127.0.0.1:{}", proxy.port),
    ));
    let mut cmd = command(&world.watch_args(&report_path, &["--checkpoint", "1s"]));
    cmd.envs(env);
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The messages are converted and acknowledged despite the failures, then the watcher stops.
    world.sqs.wait_for(&world.queue, 0, 0);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let run: Run = child.wait_with_output().unwrap().into();
    let run = run.expect(0);
    assert!(run.stderr.contains("trying again in"), "{}", run.stderr);
    assert_eq!(world.table(), (world.records(&keys), 2));
}
