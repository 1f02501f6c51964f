//! `trailpq compact`: many small runs and duplicate deliveries become few files with each event
//! once; a crash in the middle loses nothing; the `cloudtrail_unique` view counts each event
//! once before compaction.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::common::*;

/// Generated logs with three delivered twice (copies under new names), converted in four runs,
/// as hourly runs would. Returns the table and the number of duplicated records.
fn small_runs_with_duplicates(root: &Path) -> (PathBuf, usize) {
    let logs = generate(&root.join("logs"), 2_000, 1, "2024-05-01", 11);
    let mut files: Vec<String> = files_under(&logs)
        .into_iter()
        .filter(|f| f.contains("/CloudTrail/"))
        .collect();
    files.sort();
    let mut duplicated = 0;
    for f in files.iter().take(3) {
        let from = logs.join(f);
        std::fs::copy(&from, logs.join(f.replace(".json.gz", "-again.json.gz"))).unwrap();
        let text = String::from_utf8(gunzip_file(&from)).unwrap();
        duplicated += text.matches("\"eventID\"").count();
    }
    let lake = root.join("lake");
    for until in ["2024-05-01T06", "2024-05-01T12", "2024-05-01T18", "9999"] {
        // A run over the files delivered so far (file names start with the delivery time).
        let input = root.join("input");
        for f in files_under(&logs) {
            let stamp = f.rsplit('_').nth(1).unwrap_or("");
            let at = format!(
                "{}-{}-{}T{}",
                &stamp[..4.min(stamp.len())],
                stamp.get(4..6).unwrap_or(""),
                stamp.get(6..8).unwrap_or(""),
                stamp.get(9..11).unwrap_or("")
            );
            let to = input.join(&f);
            // Files already there stay untouched (a rewrite would be a changed delivery).
            if f.contains("/CloudTrail/") && at.as_str() < until && !to.exists() {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(logs.join(&f), to).unwrap();
            }
        }
        convert(&[&input], &lake, &["-q"]).0.expect(0);
    }
    (lake, duplicated)
}

fn parquet_count(lake: &Path) -> usize {
    files_under(&lake.join("cloudtrail"))
        .iter()
        .filter(|f| f.ends_with(".parquet"))
        .count()
}

fn distinct(records: Vec<serde_json::Value>) -> BTreeSet<String> {
    records.iter().map(|r| r.to_string()).collect()
}

fn count(lake: &Path, table: &str) -> String {
    trailpq(&[
        "query",
        path_str(lake),
        "--sql",
        &format!("SELECT count(*) AS n FROM {table}"),
        "--format",
        "csv",
    ])
    .expect(0)
    .stdout
}

#[test]
fn small_files_and_duplicates_become_few_files_with_each_event_once() {
    let out = tempdir();
    let (lake, duplicated) = small_runs_with_duplicates(out.path());
    assert!(duplicated > 0);
    let before = export(&lake, None);
    let unique = distinct(before.clone());
    assert_eq!(before.len(), 2_000 + duplicated);
    assert_eq!(unique.len(), 2_000);
    let files_before = parquet_count(&lake);
    assert!(files_before >= 4, "{files_before} files");
    // Before compaction, the unique view counts each event once.
    assert_eq!(
        count(&lake, "cloudtrail"),
        format!("n\n{}\n", 2_000 + duplicated)
    );
    assert_eq!(count(&lake, "cloudtrail_unique"), "n\n2000\n");

    let report_file = out.path().join("compact.json");
    let run = trailpq(&[
        "compact",
        path_str(&lake),
        "--report",
        path_str(&report_file),
    ])
    .expect(0);
    assert!(
        run.stderr.contains("duplicate deliveries removed"),
        "{}",
        run.stderr
    );
    let report = read_report(&report_file);
    assert_eq!(report["duplicates_removed"], duplicated as u64, "{report}");
    assert_eq!(report["rows_out"], 2_000, "{report}");
    assert_eq!(report["files_before"], files_before as u64, "{report}");
    let files_after = parquet_count(&lake);
    assert_eq!(report["files_after"], files_after as u64, "{report}");
    assert!(files_after < files_before, "{files_before} → {files_after}");

    let after = export(&lake, None);
    assert_eq!(after.len(), 2_000);
    assert_eq!(
        distinct(after),
        unique,
        "export must give every distinct record"
    );
    assert_eq!(count(&lake, "cloudtrail"), "n\n2000\n");

    // Compacting again changes nothing.
    trailpq(&[
        "compact",
        path_str(&lake),
        "--report",
        path_str(&report_file),
    ])
    .expect(0);
    assert_eq!(read_report(&report_file)["partitions_rewritten"], 0);
    assert_eq!(parquet_count(&lake), files_after);
}

#[test]
#[cfg(feature = "slow-tests")]
#[cfg(feature = "test-hooks")]
fn a_compaction_killed_anywhere_loses_nothing() {
    let out = tempdir();
    let (lake, _) = small_runs_with_duplicates(out.path());
    let unique = distinct(export(&lake, None));
    for point in [
        "after-journal",
        "after-first-move",
        "before-removes",
        "before-retire",
    ] {
        let copy = out.path().join(format!("lake-{point}"));
        copy_dir(&lake, &copy);
        let mut cmd = command(&["compact", path_str(&copy)]);
        cmd.env("TRAILPQ_TEST_CRASH", point);
        let crashed = run_command(cmd);
        assert_ne!(
            crashed.code,
            Some(0),
            "{point}: the run should have crashed"
        );
        assert!(
            crashed.stderr.contains("simulated crash"),
            "{point}: {}",
            crashed.stderr
        );
        // Whatever a reader sees meanwhile, every event is there.
        let seen = distinct(export(&copy, None));
        assert_eq!(seen, unique, "{point}: records lost after the crash");
        // The next run finishes the job.
        trailpq(&["compact", path_str(&copy)]).expect(0);
        let after = export(&copy, None);
        assert_eq!(after.len(), 2_000, "{point}");
        assert_eq!(distinct(after), unique, "{point}");
    }
}

#[cfg(feature = "test-hooks")]
fn copy_dir(from: &Path, to: &Path) {
    for f in files_under(from) {
        let target = to.join(&f);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&f), target).unwrap();
    }
}
