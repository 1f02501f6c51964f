//! `convert` on real and sample data: counts, report, layout, reruns, crashes.

use crate::common::reference::{assert_same_records, records_in, records_under};
use crate::common::*;

fn u(report: &serde_json::Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

#[test]
fn every_real_record_is_converted_and_exported_back_unchanged() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (run, report) = convert(&[&real_data()], &dest, &[]);
    run.expect(0);
    assert_reconciles(&report);
    // 4,280 records in 147 log files; 7 other files (READMEs, .tsv, SOURCES.md, 2 digests).
    assert_eq!(u(&report, "files_found"), 154);
    assert_eq!(u(&report, "files_converted"), 147);
    assert_eq!(u(&report, "files_skipped"), 7);
    assert_eq!(u(&report, "records_written"), 4280);
    assert!(report["files_quarantined"].as_array().unwrap().is_empty());
    let digests = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "CloudTrail digest file")
        .count();
    assert_eq!(digests, 2);

    let exported = export(&dest, None);
    assert_same_records(&records_under(&real_data()), &exported);
}

#[test]
fn the_sample_converts_with_its_documented_examples() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (run, report) = convert(&[&sample_data()], &dest, &[]);
    run.expect(0);
    assert_reconciles(&report);
    assert_eq!(u(&report, "records_written"), 502);
    let exported = export(&dest, None);
    assert_same_records(&records_under(&sample_data()), &exported);

    // The documented AddDomain example, with its odd spaces, comes back exactly.
    let add_domain = export(
        &dest,
        Some("event_name = 'AddDomain' AND user_arn = 'arn:aws:iam::123456789012:user/Alice '"),
    );
    assert_eq!(add_domain.len(), 1);
    assert_eq!(add_domain[0]["errorCode"], "ConflictException");
    assert_eq!(
        add_domain[0]["userIdentity"]["principalId"],
        " AAAAAABBBBBBBBEXAMPLE"
    );
    assert_eq!(add_domain[0]["userIdentity"]["accountId"], "0123456789012");
}

#[test]
fn output_is_hive_partitioned_by_event_date_and_sorted() {
    let out = tempdir();
    let dest = out.path().join("lake");
    convert(&[&real_data()], &dest, &[]).0.expect(0);
    let files = files_under(&dest.join("cloudtrail"));
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("event_date=") && f.ends_with(".parquet")),
        "{files:?}"
    );
    // Records without a usable eventTime land in Hive's NULL partition, not lost.
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("event_date=__HIVE_DEFAULT_PARTITION__/"))
    );
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("event_date=2019-08-15/"))
    );
    // Records with no eventTime (the 103 OTRF ones, and others), or one that is not a time.
    let undated = export(&dest, Some("event_time IS NULL"));
    let without = records_under(&real_data())
        .iter()
        .filter(|r| r.get("eventTime").is_none())
        .count();
    assert_eq!(
        undated
            .iter()
            .filter(|r| r.get("eventTime").is_none())
            .count(),
        without
    );
    let not_times: Vec<&str> = undated
        .iter()
        .filter_map(|r| r.get("eventTime")?.as_str())
        .collect();
    assert!(
        not_times
            .iter()
            .all(|t| ["...", "timestamp", "redacted", "eventTime"].contains(t)),
        "{not_times:?}"
    );
    assert_eq!(undated.len(), without + not_times.len());
    assert!(without >= 103);
    // Nothing but the table and trailpq's bookkeeping.
    let top: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(top.len(), 2, "{top:?}");
    assert!(files_under(&dest.join("_trailpq/work")).is_empty());
}

#[test]
fn rerunning_adds_no_duplicates() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (_, first) = convert(&[&sample_data()], &dest, &[]);
    let before = files_under(&dest.join("cloudtrail"));
    let (run, second) = convert(&[&sample_data()], &dest, &[]);
    run.expect(0);
    assert_reconciles(&second);
    assert_eq!(u(&second, "files_unchanged"), u(&first, "files_converted"));
    assert_eq!(u(&second, "records_written"), 0);
    assert_eq!(files_under(&dest.join("cloudtrail")), before);
    assert_eq!(export(&dest, None).len(), 502);
}

#[test]
fn new_files_are_added_on_the_next_run() {
    let out = tempdir();
    let (input, dest) = (out.path().join("in"), out.path().join("lake"));
    std::fs::create_dir_all(&input).unwrap();
    std::fs::copy(
        real_data().join("plaso/aws_cloudtrail.jsonl"),
        input.join("a.jsonl"),
    )
    .unwrap();
    convert(&[&input], &dest, &[]).0.expect(0);
    std::fs::copy(
        real_data().join("trailscraper/events-for-smoke-test.json"),
        input.join("b.json"),
    )
    .unwrap();
    let (run, report) = convert(&[&input], &dest, &[]);
    run.expect(0);
    assert_eq!(
        (u(&report, "files_unchanged"), u(&report, "files_converted")),
        (1, 1)
    );
    assert_eq!(export(&dest, None).len(), 6 + 3);
}

#[test]
fn all_three_partition_columns_keep_odd_values_inside_dest() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (run, report) = convert(
        &[&malformed().join("odd-values.ndjson"), &sample_data()],
        &dest,
        &["--partition-by", "account_id,region,event_date"],
    );
    run.expect(0);
    assert_reconciles(&report);
    let files = files_under(&dest.join("cloudtrail"));
    for f in &files {
        let parts: Vec<&str> = f.split('/').collect();
        assert_eq!(parts.len(), 4, "one folder per partition column: {f}");
        assert!(
            parts[0].starts_with("account_id=")
                && parts[1].starts_with("region=")
                && parts[2].starts_with("event_date="),
            "{f}"
        );
    }
    // awsRegion "../../etc" and recipientAccountId "a/b=c%d" are escaped the way Hive does.
    assert!(
        files.iter().any(|f| f.starts_with(
            "account_id=a%2Fb%3Dc%25d/region=..%2F..%2Fetc/event_date=__HIVE_DEFAULT_PARTITION__/"
        )),
        "{files:#?}"
    );
    // The leading zero of an account id survives in the folder name.
    assert!(
        files
            .iter()
            .any(|f| f
                .starts_with("account_id=012345678901/region=us-east-1/event_date=2024-05-06/"))
    );
    let expected: Vec<_> = records_in(&malformed().join("odd-values.ndjson"))
        .into_iter()
        .chain(records_under(&sample_data()))
        .collect();
    assert_same_records(&expected, &export(&dest, None));

    // The layout is fixed per destination.
    let again = trailpq(&[
        "convert",
        path_str(&sample_data()),
        "--out",
        path_str(&dest),
        "--partition-by",
        "event_date",
    ]);
    one_line_error(again, 2, "partitioned by account_id,region,event_date");
}

#[test]
#[cfg(feature = "test-hooks")]
fn a_crash_never_leaves_partial_or_duplicate_data() {
    for point in [
        "before-journal",
        "after-journal",
        "after-first-move",
        "before-retire",
    ] {
        let out = tempdir();
        let dest = out.path().join("lake");
        let mut cmd = command(&[
            "convert",
            path_str(&sample_data()),
            "--out",
            path_str(&dest),
            "-q",
        ]);
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
        // Readers never see a file twice, and never a half-written file.
        let visible = files_under(&dest.join("cloudtrail"));
        assert!(
            visible.iter().all(|f| f.ends_with(".parquet")),
            "{point}: {visible:?}"
        );
        if point == "before-journal" {
            assert!(
                visible.is_empty(),
                "{point}: staged files are invisible until the commit"
            );
        }

        // The next run recovers, and the table holds each record once.
        let (run, report) = convert(&[&sample_data()], &dest, &[]);
        run.expect(0);
        let notes = report["notes"].to_string();
        assert!(notes.contains("interrupted run"), "{point}: {notes}");
        assert_eq!(export(&dest, None).len(), 502, "{point}");
        assert!(
            files_under(&dest.join("_trailpq/work")).is_empty(),
            "{point}: nothing left in staging or journals"
        );
    }
}

#[test]
fn a_destination_in_use_is_refused_or_waited_for() {
    let out = tempdir();
    let dest = out.path().join("lake");
    std::fs::create_dir_all(dest.join("_trailpq/lease")).unwrap();
    // Another process holds the lease: an OS lock on the lease file, which says who it is.
    let mut held = std::fs::File::create(dest.join("_trailpq/lease/main.lock")).unwrap();
    held.lock().unwrap();
    let holder = r#"{"run_id":"20240101T000000Z-00000000","host":"another-host","pid":1,"since":"2024-01-01T00:00:00Z","renewed":"2024-01-01T00:00:00Z","ttl_ms":120000}"#;
    std::io::Write::write_all(&mut held, holder.as_bytes()).unwrap();
    let sample = sample_data();
    let args = ["convert", path_str(&sample), "--out", path_str(&dest)];

    let run = one_line_error(
        trailpq(&args),
        1,
        "in use by trailpq run 20240101T000000Z-00000000 (host another-host, pid 1",
    );
    assert!(run.stderr.contains("--wait"), "{}", run.stderr);
    let waited = [&args[..], &["--wait", "300ms", "-q"]].concat();
    let run = one_line_error(trailpq(&waited), 1, "waited 300ms for it");
    assert!(run.stderr.contains("another-host"), "{}", run.stderr);
    assert!(
        run.stderr.contains("wait longer with --wait"),
        "{}",
        run.stderr
    );
    assert!(files_under(&dest.join("cloudtrail")).is_empty());

    // Once the holder ends, its lock is gone with it: no stale lock to clear by hand.
    drop(held);
    trailpq(&waited).expect(0);
    assert_eq!(export(&dest, None).len(), 502);
}

/// A file too large to hold is checked in a first pass and streamed in a second; a broken one
/// contributes no rows at all.
#[test]
fn large_files_are_streamed_but_still_all_or_nothing() {
    let out = tempdir();
    let input = out.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let line = |i: usize| {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2024-05-0{}T10:00:00Z","eventSource":"connect.amazonaws.com","eventName":"ListUsers","eventID":"e{i}","requestParameters":{{"InstanceId":"i-{i}"}}}}"#,
            1 + i % 3
        )
    };
    let good: String = (0..40_000).map(|i| line(i) + "\n").collect();
    std::fs::write(input.join("big.ndjson"), &good).unwrap();
    std::fs::write(
        input.join("big-broken.ndjson"),
        good.clone() + "{\"eventName\": oops}\n",
    )
    .unwrap();

    let dest = out.path().join("lake");
    // Hold nothing: every file with more than one batch of rows takes the two-pass road.
    let (run, report) = convert(&[&input], &dest, &["--hold-mib", "0", "--buffer-mib", "4"]);
    run.expect(3);
    assert_reconciles(&report);
    assert_eq!(u(&report, "records_written"), 40_000);
    let quarantined = &report["files_quarantined"][0];
    assert!(
        quarantined["source"]
            .as_str()
            .unwrap()
            .ends_with("big-broken.ndjson")
    );
    assert!(
        quarantined["reason"]
            .as_str()
            .unwrap()
            .contains("invalid JSON in record 40000"),
        "{quarantined}"
    );
    let exported = export(&dest, None);
    assert_eq!(exported.len(), 40_000);
    assert!(
        exported
            .iter()
            .all(|r| r["eventID"].as_str().unwrap().starts_with('e'))
    );
    // The small buffer made several files per day, each sorted by time.
    assert!(files_under(&dest.join("cloudtrail")).len() > 3);
}

#[test]
fn a_file_named_twice_is_read_once() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let docs = sample_data().join("awsdocs");
    let (run, report) = convert(
        &[
            &sample_data(),
            &docs,
            &docs.join("amazon-chime-AddDomain.json"),
        ],
        &dest,
        &[],
    );
    run.expect(0);
    assert_eq!(u(&report, "records_written"), 502);
}

#[test]
fn a_destination_inside_a_source_is_not_read_as_input() {
    let src = tempdir();
    let dest = src.path().join("lake");
    std::fs::copy(
        sample_data().join("awsdocs/amazon-chime-AddDomain.json"),
        src.path().join("a.json"),
    )
    .unwrap();
    convert(&[src.path()], &dest, &[]).0.expect(0);
    let (run, report) = convert(&[src.path()], &dest, &[]);
    run.expect(0);
    assert_eq!(
        (u(&report, "files_unchanged"), u(&report, "files_converted")),
        (1, 0)
    );
    let skipped = report["skipped"].as_array().unwrap();
    assert!(!skipped.is_empty());
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"] == "part of the destination"),
        "{skipped:?}"
    );
}
