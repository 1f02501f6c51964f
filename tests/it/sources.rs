//! Every SOURCE form converts exactly the records under it, once: bucket, prefix, `AWSLogs/`,
//! organisation, account, `CloudTrail/`, region, year, month, day and one object; local and on
//! S3; with and without a trailing slash; with a day filter, shards, reruns and overlapping
//! SOURCEs. Rows are counted by DuckDB and compared with an independent reading of the input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::proxy::{Op, Proxy};
use crate::common::reference::records_in;
use crate::common::s3::S3Server;
use crate::common::*;

const ORG: &str = "o-abc123def4";

/// The bucket: a plain trail under `pre/` and an organisation trail under `org/`, from two seeds
/// (so no event is in both).
struct Bucket {
    root: TempDir,
    /// Log files (not digests), relative to the root.
    logs: Vec<String>,
}

impl Bucket {
    fn new() -> Self {
        let root = tempdir();
        generate(&root.path().join("pre"), 240, 3, "2024-05-01", 21);
        let org = tempdir();
        generate(org.path(), 160, 3, "2024-05-01", 22);
        for rel in files_under(org.path()) {
            let rel_org = rel.replacen("AWSLogs/", &format!("AWSLogs/{ORG}/"), 1);
            let to = root.path().join("org").join(rel_org);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::rename(org.path().join(&rel), to).unwrap();
        }
        let logs = files_under(root.path())
            .into_iter()
            .filter(|f| f.contains("/CloudTrail/"))
            .collect();
        Bucket { root, logs }
    }

    /// The log files under `rel` (a folder or one file) delivered on a day `keep` accepts.
    fn logs_under(&self, rel: &str, keep: &dyn Fn(&str) -> bool) -> Vec<&String> {
        let folder = format!("{}/", rel.trim_end_matches('/'));
        self.logs
            .iter()
            .filter(|f| rel.is_empty() || *f == rel || f.starts_with(&folder))
            .filter(|f| keep(f))
            .collect()
    }

    /// The first folder (or file) `depth` levels below `rel`, in name order.
    fn first_below(&self, rel: &str, depth: usize) -> String {
        let mut path = PathBuf::from(rel);
        for _ in 0..depth {
            let mut names: Vec<String> = std::fs::read_dir(self.root.path().join(&path))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with("CloudTrail-"))
                .collect();
            names.sort();
            path.push(&names[0]);
        }
        path.to_string_lossy().into_owned()
    }
}

/// One conversion to check: SOURCEs, extra flags, and the log files it must convert.
struct Case {
    label: String,
    sources: Vec<String>,
    extra: Vec<String>,
    /// Runs into the same DEST, one after the other (shards, reruns); each run's flags.
    runs: Vec<Vec<String>>,
    expected: Vec<String>,
    env: Vec<(String, String)>,
}

/// Rows and distinct event ids per DEST, counted by DuckDB.
fn duckdb_counts(dests: &[PathBuf]) -> BTreeMap<String, (u64, u64)> {
    let script = r#"
import duckdb, glob, json, sys
out = {}
con = duckdb.connect()
for dest in json.load(sys.stdin):
    files = dest + "/cloudtrail/**/*.parquet"
    if not glob.glob(files, recursive=True):
        out[dest] = [0, 0]
        continue
    n, ids = con.execute(
        f"SELECT count(*), count(DISTINCT event_id) FROM read_parquet('{files}', hive_partitioning = false)"
    ).fetchone()
    out[dest] = [n, ids]
print(json.dumps(out))
"#;
    let mut child = std::process::Command::new(python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let list: Vec<&str> = dests.iter().map(|d| path_str(d)).collect();
    serde_json::to_writer(child.stdin.take().unwrap(), &list).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "DuckDB failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: BTreeMap<String, (u64, u64)> = serde_json::from_slice(&out.stdout).unwrap();
    counts
}

/// Runs the cases, two at a time; returns each case's DEST and last report, or why a run failed.
fn run_cases(cases: &[Case], out: &Path) -> Vec<(PathBuf, Result<Value, String>)> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { return };
                    let dest = out.join(format!("dest-{i}"));
                    let mut report = Err("no run".to_string());
                    for run in &case.runs {
                        let mut args: Vec<&str> = case.sources.iter().map(String::as_str).collect();
                        args.extend(["--out", path_str(&dest), "-q"]);
                        args.extend(case.extra.iter().map(String::as_str));
                        args.extend(run.iter().map(String::as_str));
                        let (run, r) = convert_env(&args, &case.env);
                        if run.code != Some(0) || !run.stderr.is_empty() {
                            report = Err(format!("exit {:?}: {}", run.code, run.stderr.trim()));
                            break;
                        }
                        assert_reconciles(&r);
                        report = Ok(r);
                    }
                    results.lock().unwrap().insert(i, (dest, report));
                }
            });
        }
    });
    results.into_inner().unwrap().into_values().collect()
}

#[test]
#[cfg(feature = "slow-tests")]
fn every_source_form_converts_each_record_once() {
    crate::needs!(s3);
    crate::needs!(python);
    let bucket = Bucket::new();
    let s3 = S3Server::start();
    s3.upload("logs", "", bucket.root.path());
    let out = tempdir();

    // One of each level, in the plain and the organisation trail.
    let account = bucket.first_below("pre/AWSLogs", 1);
    let region = bucket.first_below(&format!("{account}/CloudTrail"), 1);
    let org_account = bucket.first_below(&format!("org/AWSLogs/{ORG}"), 1);
    let org_region = bucket.first_below(&format!("{org_account}/CloudTrail"), 1);
    let levels: Vec<(&str, String)> = vec![
        ("bucket", String::new()),
        ("prefix", "pre".into()),
        ("AWSLogs", "pre/AWSLogs".into()),
        ("organisation", format!("org/AWSLogs/{ORG}")),
        ("account", account.clone()),
        ("org account", org_account.clone()),
        ("CloudTrail", format!("{account}/CloudTrail")),
        ("region", region.clone()),
        ("org region", org_region.clone()),
        ("year", format!("{region}/2024")),
        ("month", format!("{region}/2024/05")),
        ("day", format!("{region}/2024/05/02")),
        ("org day", format!("{org_region}/2024/05/02")),
        (
            "object",
            bucket.first_below(&format!("{region}/2024/05/02"), 1),
        ),
    ];
    let every_day = |_: &str| true;
    let day_two = |f: &str| f.contains("/2024/05/02/");
    let local = |rel: &str| bucket.root.path().join(rel).display().to_string();
    let remote = |rel: &str| format!("s3://logs/{rel}");
    let mut cases = Vec::new();
    for (label, rel) in &levels {
        let is_object = *label == "object";
        for (store, spell, env) in [
            ("local", &local as &dyn Fn(&str) -> String, vec![]),
            ("s3", &remote, s3.env()),
        ] {
            for slash in [false, true] {
                if is_object && slash {
                    continue;
                }
                let mut source = spell(rel).trim_end_matches('/').to_string();
                if slash || (store == "s3" && rel.is_empty()) {
                    source.push('/');
                }
                let case =
                    |extra: &[&str], runs: Vec<Vec<String>>, keep: &dyn Fn(&str) -> bool| Case {
                        label: format!("{label}, {store}, {source} {}", extra.join(" ")),
                        sources: vec![source.clone()],
                        extra: extra.iter().map(|s| s.to_string()).collect(),
                        runs,
                        expected: bucket.logs_under(rel, keep).into_iter().cloned().collect(),
                        env: env.clone(),
                    };
                cases.push(case(&[], vec![vec![]], &every_day));
                // A rerun finds everything converted.
                if slash && !is_object {
                    cases.push(case(
                        &["--since", "2024-05-02", "--until", "2024-05-02"],
                        vec![vec![]],
                        &day_two,
                    ));
                    let shards = (0..3).map(|i| vec!["--shard".into(), format!("{i}/3")]);
                    cases.push(case(&[], shards.collect(), &every_day));
                }
            }
        }
    }
    // A run of the last day only, then incremental reruns: the first days are not skipped.
    for (store, source, env) in [
        ("local", local("pre/AWSLogs"), vec![]),
        ("s3", remote("pre/AWSLogs/"), s3.env()),
    ] {
        cases.push(Case {
            label: format!("--since, then incremental reruns, {store}"),
            sources: vec![source],
            extra: vec![],
            runs: vec![vec!["--since".into(), "2024-05-03".into()], vec![], vec![]],
            expected: bucket
                .logs_under("pre/AWSLogs", &every_day)
                .into_iter()
                .cloned()
                .collect(),
            env,
        });
    }

    let results = run_cases(&cases, out.path());
    let dests: Vec<PathBuf> = results.iter().map(|(d, _)| d.clone()).collect();
    let counts = duckdb_counts(&dests);
    let mut wrong = Vec::new();
    for (case, (dest, report)) in cases.iter().zip(&results) {
        let records: u64 = case
            .expected
            .iter()
            .map(|f| records_in(&bucket.root.path().join(f)).len() as u64)
            .sum();
        assert!(records > 0, "{}: nothing to convert", case.label);
        let report = match report {
            Ok(report) => report,
            Err(why) => {
                wrong.push(format!("{}: {why}", case.label));
                continue;
            }
        };
        let (rows, ids) = counts[path_str(dest)];
        if (rows, ids) != (records, records) {
            wrong.push(format!(
                "{}: {rows} rows, {ids} distinct events; the input has {records} records",
                case.label
            ));
        }
        // A single run reads each file once.
        if case.runs.len() == 1 && report["files_read"] != case.expected.len() as u64 {
            wrong.push(format!(
                "{}: read {} files of {}",
                case.label,
                report["files_read"],
                case.expected.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// SOURCEs that overlap, or name one object twice, read each object once.
#[test]
fn overlapping_sources_read_each_object_once() {
    crate::needs!(s3);
    let bucket = Bucket::new();
    let s3 = S3Server::start();
    s3.upload("logs", "", bucket.root.path());
    let out = tempdir();
    let account = bucket.first_below("pre/AWSLogs", 1);
    let object = bucket.first_below(&account, 6);
    let every = bucket.logs_under("pre/AWSLogs", &|_| true).len() as u64;
    let local = |rel: &str| bucket.root.path().join(rel).display().to_string();
    for (sources, env) in [
        (
            vec![
                local("pre/AWSLogs"),
                local(&account),
                local(&object),
                local("pre/AWSLogs/"),
                local(&object),
            ],
            vec![],
        ),
        (
            vec![
                format!("s3://logs/{account}"),
                "s3://logs/pre/AWSLogs/".into(),
                format!("s3://logs/{object}"),
                "s3://logs/pre/AWSLogs".into(),
            ],
            s3.env(),
        ),
    ] {
        let dest = out.path().join(format!("dest-{}", env.len()));
        let mut args: Vec<&str> = sources.iter().map(String::as_str).collect();
        args.extend(["--out", path_str(&dest)]);
        let (run, report) = convert_env(&args, &env);
        run.expect(0);
        assert_eq!(report["files_read"], every, "{sources:?}: {report}");
        assert_eq!(report["files_found"], every, "{sources:?}");
    }
}

/// `verify` over two days of an organisation's layout lists those days' folders (and the day
/// before, whose last hour the first digest covers), not the whole history.
#[test]
fn verify_lists_only_the_days_asked_for() {
    crate::needs!(s3);
    let input = tempdir();
    generate(input.path(), 1200, 10, "2024-05-01", 5);
    let s3 = S3Server::start();
    s3.upload("logs", "", input.path());
    let proxy = Proxy::start(s3.port);
    let env = proxy.env(&s3.env());
    let run = trailpq_env(
        &[
            "verify",
            "s3://logs/AWSLogs/",
            "--since",
            "2024-05-09",
            "--until",
            "2024-05-10",
        ],
        &env,
    );
    let run = run.expect(0);
    assert!(
        run.stderr.contains("0 missing, 0 unlisted"),
        "{}",
        run.stderr
    );
    let keys: u64 = proxy
        .requests()
        .iter()
        .filter(|r| r.op == Op::List)
        .map(|r| r.keys as u64)
        .sum();
    let files = files_under(input.path());
    let window = files
        .iter()
        .filter(|f| {
            // The day after: the page that passes the last day may hold its first keys.
            [
                "/2024/05/08/",
                "/2024/05/09/",
                "/2024/05/10/",
                "/2024/05/11/",
            ]
            .iter()
            .any(|d| f.contains(d))
        })
        .count() as u64;
    assert!(
        keys <= window && keys * 3 < files.len() as u64,
        "listed {keys} keys for 3 of 10 days ({window} there, with the next); the whole trail has {}",
        files.len()
    );
}

/// Digests downloaded out of the layout are checked for what can be checked: their chain, and
/// their log files when those lie beside them.
#[test]
fn downloaded_digests_are_checked_for_what_can_be() {
    let input = tempdir();
    generate(input.path(), 300, 1, "2024-05-01", 6);
    let flat = tempdir();
    let digests = flat.path().join("digests");
    std::fs::create_dir_all(&digests).unwrap();
    let mut chain = Vec::new();
    for rel in files_under(input.path()) {
        if rel.contains("/CloudTrail-Digest/us-east-1/") {
            let name = rel.rsplit('/').next().unwrap().to_string();
            std::fs::copy(input.path().join(&rel), digests.join(&name)).unwrap();
            chain.push(name);
        }
    }
    assert!(chain.len() > 3);
    chain.sort();
    let json = flat.path().join("verify.json");
    let run = trailpq(&["verify", path_str(&digests), "--report", path_str(&json)]).expect(0);
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["digests"], chain.len() as u64, "{report}");
    assert_eq!(report["chain_breaks"], 0, "{report}");
    assert_eq!(report["log_files_valid"], 0, "{report}");
    assert!(
        report["unchecked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["detail"]
                .as_str()
                .unwrap()
                .contains("log files it lists is under the SOURCEs")),
        "{report}"
    );
    assert!(
        report["log_files_unchecked"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert!(run.stderr.contains("not checked"), "{}", run.stderr);

    // A digest taken out of the middle is a chain break, as in the layout.
    std::fs::remove_file(digests.join(&chain[2])).unwrap();
    let run = trailpq(&["verify", path_str(&digests), "--report", path_str(&json)]).expect(3);
    assert!(run.stdout.contains("chain-break"), "{}", run.stdout);
}
