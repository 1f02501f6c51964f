//! Object stores for real: convert from and to `s3://` on an S3-protocol server on loopback.

use crate::common::reference::{assert_same_records, records_under};
use crate::common::s3::S3Server;
use crate::common::*;

#[test]
fn convert_from_s3_to_s3_and_to_a_local_folder() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    // An organisation trail's layout, plus the sample in the plain account layout.
    s3.upload(
        "logs",
        "AWSLogs/o-abcd1234/",
        &real_data().join("umccr_cloudtrail_parquet_lambda/AWSLogs/o-abcd"),
    );
    s3.upload("logs", "", &sample_data());
    s3.bucket("lake");
    let expected: Vec<_> =
        records_under(&real_data().join("umccr_cloudtrail_parquet_lambda/AWSLogs"))
            .into_iter()
            .chain(records_under(&sample_data()))
            .collect();

    // s3:// → s3://
    let out = tempdir();
    let report_path = out.path().join("report.json");
    let run = trailpq_env(
        &[
            "convert",
            "s3://logs/AWSLogs/",
            "s3://logs/awsdocs/",
            "--out",
            "s3://lake/trail/",
            "--report",
            path_str(&report_path),
        ],
        &s3.env(),
    );
    run.expect(0);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_reconciles(&report);
    assert_eq!(
        report["records_written"].as_u64().unwrap(),
        expected.len() as u64
    );
    assert!(
        report["outputs"][0]["path"]
            .as_str()
            .unwrap()
            .starts_with("s3://lake/trail/cloudtrail/event_date=")
    );
    // The layout is walked: digest folders are not even listed.
    let skipped = report["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"] != "CloudTrail digest file"),
        "{skipped:?}"
    );
    assert!(report["list_requests"].as_u64().unwrap() > 0);
    // Sources are named by their URL.
    let keys = trailpq_env(
        &[
            "query",
            "s3://lake/trail",
            "--sql",
            "SELECT count(*) FROM cloudtrail WHERE source_key NOT LIKE 's3://logs/%'",
            "--format",
            "csv",
        ],
        &s3.env(),
    )
    .expect(0);
    assert!(keys.stdout.ends_with("\n0\n"), "{}", keys.stdout);
    // The objects are really in the bucket, and nothing is left in staging.
    let stored = files_under(&s3.bucket("lake").join("trail"));
    assert!(
        stored
            .iter()
            .any(|f| f.starts_with("cloudtrail/event_date=2020-09-30/") && f.ends_with(".parquet")),
        "{stored:?}"
    );
    assert!(
        !stored
            .iter()
            .any(|f| f.contains("staging/") || f.ends_with("lock")),
        "{stored:?}"
    );

    let exported = trailpq_env(&["export", "s3://lake/trail"], &s3.env()).expect(0);
    let exported: Vec<serde_json::Value> = exported
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_same_records(&expected, &exported);

    // Queries run on the bucket too.
    let errors = trailpq_env(
        &[
            "query",
            "s3://lake/trail",
            "--name",
            "chime-errors",
            "--format",
            "csv",
        ],
        &s3.env(),
    )
    .expect(0);
    assert!(
        errors
            .stdout
            .contains("ConflictException,chime.amazonaws.com,AddDomain,1,1,2017-07-24T17:58:21Z"),
        "{}",
        errors.stdout
    );

    // A rerun against the same bucket adds nothing.
    let again = trailpq_env(
        &[
            "convert",
            "s3://logs/AWSLogs/",
            "s3://logs/awsdocs/",
            "--out",
            "s3://lake/trail/",
            "-q",
        ],
        &s3.env(),
    );
    again.expect(0);
    assert_eq!(
        files_under(&s3.bucket("lake").join("trail/cloudtrail")).len(),
        stored
            .iter()
            .filter(|f| f.starts_with("cloudtrail/"))
            .count()
    );

    // s3:// → local folder
    let local = out.path().join("lake");
    trailpq_env(
        &["convert", "s3://logs/", "--out", path_str(&local), "-q"],
        &s3.env(),
    )
    .expect(0);
    assert_same_records(&expected, &export(&local, None));
}

#[test]
fn object_store_failures_are_one_clear_line() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "AWSLogs/", &sample_data().join("awsdocs"));
    let out = tempdir();
    let dest = out.path().join("lake");

    let wrong = trailpq_env(
        &["convert", "s3://logs/AWSLogs/", "--out", path_str(&dest)],
        &s3.env_with_secret("wrong"),
    );
    let wrong = one_line_error(wrong, 1, "s3://logs/AWSLogs/");
    assert!(
        wrong.stderr.contains("AWS_SECRET_ACCESS_KEY"),
        "the message says what to check: {}",
        wrong.stderr
    );

    let missing = trailpq_env(
        &[
            "convert",
            "s3://logs/NoSuchPrefix/",
            "--out",
            path_str(&dest),
        ],
        &s3.env(),
    );
    one_line_error(missing, 1, "'s3://logs/NoSuchPrefix/' does not exist");

    let no_bucket = trailpq_env(
        &["convert", "s3://nobucket/x/", "--out", path_str(&dest)],
        &s3.env(),
    );
    one_line_error(no_bucket, 1, "s3://nobucket/x/");
}
