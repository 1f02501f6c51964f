//! Bad input is reported with a reason, contained, and never takes good records down with it.

use std::collections::BTreeMap;

use crate::common::reference::{assert_same_records, records_in};
use crate::common::*;

/// One row of tests/data/malformed/CASES.tsv.
struct Case {
    outcome: String,
    written: u64,
    quarantined: u64,
    reason: String,
}

fn cases() -> BTreeMap<String, Case> {
    let text = std::fs::read_to_string(malformed().join("CASES.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let case = Case {
                outcome: f[1].into(),
                written: f[2].parse().unwrap(),
                quarantined: f[3].parse().unwrap(),
                reason: f.get(4).copied().unwrap_or("").into(),
            };
            (f[0].to_string(), case)
        })
        .collect()
}

#[test]
fn every_malformed_file_gets_the_expected_outcome_and_reason() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let (run, report) = convert(&[&malformed()], &dest, &[]);
    let run = run.expect(3);
    assert_reconciles(&report);
    let cases = cases();
    assert_eq!(
        report["files_found"].as_u64().unwrap() as usize,
        cases.len(),
        "CASES.tsv lists every file"
    );

    let name = |v: &serde_json::Value| {
        v["source"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    let mut seen = BTreeMap::new();
    for q in report["files_quarantined"].as_array().unwrap() {
        seen.insert(
            name(q),
            ("quarantined", q["reason"].as_str().unwrap().to_string()),
        );
    }
    for s in report["skipped"].as_array().unwrap() {
        seen.insert(
            name(s),
            ("skipped", s["reason"].as_str().unwrap().to_string()),
        );
    }
    let mut bad_records: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in report["records_quarantined"].as_array().unwrap() {
        bad_records
            .entry(name(r))
            .or_default()
            .push(r["reason"].as_str().unwrap().to_string());
    }
    let mut written = 0;
    for (file, case) in &cases {
        match case.outcome.as_str() {
            "quarantined" | "skipped" => {
                let (outcome, reason) = seen
                    .get(file)
                    .unwrap_or_else(|| panic!("{file}: not {}", case.outcome));
                assert_eq!(*outcome, case.outcome, "{file}");
                assert!(
                    reason.contains(&case.reason),
                    "{file}: reason {reason:?} lacks {:?}",
                    case.reason
                );
            }
            "converted" => {
                assert!(!seen.contains_key(file), "{file}: {:?}", seen.get(file));
                let reasons = bad_records.get(file).cloned().unwrap_or_default();
                assert_eq!(
                    reasons.len() as u64,
                    case.quarantined,
                    "{file}: {reasons:?}"
                );
                assert!(
                    reasons.iter().any(|r| r.contains(&case.reason)) || case.reason.is_empty(),
                    "{file}: {reasons:?}"
                );
                let rows = export(&dest, Some(&format!("source_key LIKE '%/{file}'")));
                assert_eq!(rows.len() as u64, case.written, "{file}: rows written");
                written += case.written;
            }
            other => panic!("CASES.tsv: unknown outcome {other}"),
        }
    }
    assert_eq!(export(&dest, None).len() as u64, written);
    // The human summary names quarantined files with their reasons.
    assert!(
        run.stderr.contains("QUARANTINED 12 files and 8 records"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("malformed/bad-crc.json.gz: corrupt gzip")
            && run
                .stderr
                .contains("malformed/bad-elements.json record 1: a number, not a record object"),
        "{}",
        run.stderr
    );
}

#[test]
fn odd_values_are_kept_exactly() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let file = malformed().join("odd-values.ndjson");
    convert(&[&file], &dest, &[]).0.expect(0);
    assert_same_records(&records_in(&file), &export(&dest, None));
    // What could be typed was typed: "true" strings are booleans, a spaced time is a time.
    let typed = export(
        &dest,
        Some("read_only AND management_event AND event_time = TIMESTAMP '2024-03-01T10:00:00Z'"),
    );
    assert_eq!(typed.len(), 1);
    assert_eq!(typed[0]["readOnly"], "true");
}

#[test]
fn pathological_inputs_are_contained() {
    let out = tempdir();
    let input = out.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // 100,000 levels of nesting: no stack is blown.
    let deep = format!("[{}{}]", "[".repeat(100_000), "]".repeat(100_000));
    std::fs::write(input.join("deep.json"), deep).unwrap();
    // A record over the size limit is skipped; its neighbours are kept.
    let big = format!(
        r#"{{"Records":[{{"eventName":"A","eventTime":"2024-01-01T00:00:00Z","requestParameters":{{"blob":"{}"}}}},{{"eventName":"B","eventTime":"2024-01-01T00:00:00Z"}}]}}"#,
        "x".repeat(500_000)
    );
    std::fs::write(input.join("big.json"), big).unwrap();
    let dest = out.path().join("lake");
    let (run, report) = convert(&[&input], &dest, &["--max-record-bytes", "300000"]);
    run.expect(3);
    assert_reconciles(&report);
    let reasons: Vec<String> = report["records_quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["source"].as_str().unwrap().rsplit('/').next().unwrap(),
                r["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("deep.json record is nested deeper than 128 levels")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("big.json record is 500") && r.contains("the limit is 300000")),
        "{reasons:?}"
    );
    let kept = export(&dest, None);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["eventName"], "B");
}
