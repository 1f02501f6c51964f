//! CloudWatch Logs subscription deliveries (as Kinesis Data Firehose writes them to S3): every
//! record of every DATA_MESSAGE is converted with its envelope, control messages give nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::common::reference::{assert_same_records, records_under};
use crate::common::*;

/// Real records wrapped as subscription deliveries (tests/data/cloudwatch/README.md).
fn cloudwatch_data() -> PathBuf {
    repo().join("tests/data/cloudwatch")
}

fn u(report: &Value, key: &str) -> u64 {
    report[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
}

/// Rows of `trailpq query DEST --sql SQL --format json`.
fn query(dest: &Path, sql: &str) -> Vec<Value> {
    let run = trailpq(&["query", path_str(dest), "--sql", sql, "--format", "json"]).expect(0);
    match serde_json::from_str(&run.stdout) {
        Ok(Value::Array(rows)) => rows,
        _ if run.stdout.trim().is_empty() => Vec::new(),
        other => panic!("query wrote {other:?}: {}", run.stdout),
    }
}

/// The top-level JSON values of a file, gzip members and all, read independently of trailpq.
fn messages_in(path: &Path) -> Vec<Value> {
    let bytes = std::fs::read(path).unwrap();
    let mut text = String::new();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
    } else {
        text = String::from_utf8(bytes).unwrap();
    }
    serde_json::Deserializer::from_str(&text)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// What `source_envelope` should hold for each record of a file, in order: the DATA_MESSAGE
/// without `logEvents`, plus the record's own log event without `message`; and the record's id.
fn expected_envelopes(path: &Path) -> Vec<(Value, String)> {
    let mut out = Vec::new();
    for message in messages_in(path) {
        if message["messageType"] != "DATA_MESSAGE" {
            continue;
        }
        let mut envelope = message.as_object().unwrap().clone();
        let events = envelope.remove("logEvents").unwrap();
        for event in events.as_array().unwrap() {
            let mut event = event.as_object().unwrap().clone();
            let record: Value =
                serde_json::from_str(event.remove("message").unwrap().as_str().unwrap()).unwrap();
            let mut envelope = envelope.clone();
            envelope.insert("logEvent".into(), Value::Object(event));
            out.push((
                Value::Object(envelope),
                record["eventID"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn subscription_deliveries_are_converted_with_their_envelopes() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (run, report) = convert(&[&cloudwatch_data()], &dest, &[]);
    run.expect(0);
    assert_reconciles(&report);
    // Seven deliveries (one without an extension, as Firehose names them), the README skipped.
    // The control-message-only file is a log with no records: converted, not skipped.
    assert_eq!(u(&report, "files_found"), 8);
    assert_eq!(u(&report, "files_converted"), 7);
    assert_eq!(u(&report, "files_skipped"), 1);
    assert_eq!(
        report["skipped"][0]["reason"],
        "not a CloudTrail log (not JSON)"
    );
    assert!(report["files_quarantined"].as_array().unwrap().is_empty());
    assert!(report["records_quarantined"].as_array().unwrap().is_empty());
    assert_eq!(u(&report, "records_read"), 39);
    assert_eq!(u(&report, "records_written"), 39);

    // Every record comes back, value for value, as the independent reader finds them.
    let expected = records_under(&cloudwatch_data());
    assert_eq!(expected.len(), 39);
    assert_same_records(&expected, &export(&dest, None));

    // Each record's envelope: its message without the log events, and its own log event's id and
    // timestamp; indexes count the records of a file, over all its messages.
    let rows = query(
        &dest,
        "SELECT source_key, source_index, source_envelope, event_id FROM cloudtrail \
         ORDER BY source_key, source_index",
    );
    assert_eq!(rows.len(), 39);
    let mut checked = 0;
    for rel in files_under(&cloudwatch_data()) {
        let path = cloudwatch_data().join(&rel);
        let key = path_str(&path);
        let got: Vec<&Value> = rows.iter().filter(|r| r["source_key"] == key).collect();
        let want = if rel.ends_with("README.md") {
            Vec::new()
        } else {
            expected_envelopes(&path)
        };
        assert_eq!(got.len(), want.len(), "{rel}");
        for (i, (row, (envelope, event_id))) in got.iter().zip(&want).enumerate() {
            assert_eq!(row["source_index"], json!(i), "{rel}");
            assert_eq!(row["event_id"], json!(event_id), "{rel} {i}");
            let stored: Value = serde_json::from_str(row["source_envelope"].as_str().unwrap())
                .unwrap_or_else(|e| panic!("{rel} {i}: source_envelope is not JSON: {e}"));
            assert_eq!(&stored, envelope, "{rel} {i}");
            checked += 1;
        }
    }
    assert_eq!(checked, 39);
    // The envelope is compact JSON with the values' text as it came (the long digit-string id
    // stays a string; the millisecond timestamp a number).
    let first = rows[0]["source_envelope"].as_str().unwrap();
    assert!(
        first.starts_with(
            r#"{"messageType":"DATA_MESSAGE","owner":"123837392027","logGroup":"aws-cloudtrail-logs-123837392027-3f9c1b2e","logStream":"123837392027_CloudTrail_us-east-1","subscriptionFilters":["cloudtrail-to-firehose"],"logEvent":{"id":""#
        ),
        "{first}"
    );
    assert!(first.contains(r#"","timestamp":1688990"#), "{first}");

    // Control messages gave no rows, and nothing from them was quarantined or skipped.
    let control = query(
        &dest,
        "SELECT count(*) AS n FROM cloudtrail \
         WHERE source_key LIKE '%control%' AND source_envelope LIKE '%CONTROL_MESSAGE%'",
    );
    assert_eq!(control[0]["n"], 0);
    let from_control_then_data = query(
        &dest,
        "SELECT min(source_index) AS lo, max(source_index) AS hi, count(*) AS n FROM cloudtrail \
         WHERE source_key LIKE '%/control-then-data.json.gz'",
    );
    assert_eq!(from_control_then_data[0], json!({"lo": 0, "hi": 6, "n": 7}));

    // A rerun reads nothing again.
    let (run, again) = convert(&[&cloudwatch_data()], &dest, &[]);
    run.expect(0);
    assert_eq!(u(&again, "files_converted"), 0);
    assert_eq!(u(&again, "records_written"), 0);
}

#[test]
fn bad_subscription_content_is_reported_and_other_logs_are_skipped() {
    let out = tempdir();
    let input = out.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let real = &messages_in(&cloudwatch_data().join("one-message.json"))[0];
    let events = real["logEvents"].as_array().unwrap();
    let with_events = |events: Value| {
        let mut message = real.clone();
        message["logEvents"] = events;
        message.to_string()
    };
    // A good message; one whose second log event's message is cut short; one whose logEvents is
    // not an array; a control message; and a good one again.
    let mut cut = events[1].clone();
    let text = cut["message"].as_str().unwrap().to_string();
    cut["message"] = json!(text[..text.len() / 2]);
    let delivery = [
        with_events(json!([events[0]])),
        with_events(json!([events[1], cut, events[2]])),
        with_events(json!("oops")),
        r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1688990400000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#.to_string(),
        with_events(json!([events[2]])),
    ]
    .concat();
    std::fs::write(
        input.join("cloudtrail-to-s3-1-2023-07-10-12-10-00-aa"),
        &delivery,
    )
    .unwrap();
    // A subscription on a Lambda function's log group: not CloudTrail, skipped by content.
    let lambda = with_events(json!([{"id": "1", "timestamp": 1688990400000u64,
        "message": "START RequestId: 8f5e2c1a Version: $LATEST\n"}]));
    std::fs::write(input.join("lambda-to-s3-1-2023-07-10-12-10-00-bb"), lambda).unwrap();

    let dest = out.path().join("lake");
    let (run, report) = convert(&[&input], &dest, &[]);
    run.expect(3);
    assert_reconciles(&report);
    assert_eq!(u(&report, "files_converted"), 1);
    assert_eq!(
        report["skipped"][0]["reason"],
        "not a CloudTrail log (JSON of another kind)"
    );
    assert!(report["files_quarantined"].as_array().unwrap().is_empty());
    assert_eq!(u(&report, "records_written"), 4);
    let bad: Vec<(u64, &str)> = report["records_quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0].0, 2);
    assert!(
        bad[0].1.starts_with(
            "a CloudWatch Logs log event whose message is not JSON: EOF while parsing"
        ),
        "{bad:?}"
    );
    assert_eq!(
        bad[1],
        (
            4,
            "a CloudWatch Logs DATA_MESSAGE whose logEvents is a string, not an array"
        )
    );
    let indexes: Vec<Value> = query(
        &dest,
        "SELECT source_index FROM cloudtrail ORDER BY source_index",
    )
    .into_iter()
    .map(|r| r["source_index"].clone())
    .collect();
    assert_eq!(indexes, [json!(0), json!(1), json!(3), json!(5)]);
}
