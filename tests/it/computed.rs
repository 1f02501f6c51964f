//! Computed columns (`outcome`, `source_ip`, `insight_*`): each rule on hand-written edge cases
//! and on the real corpus (against an independent reading of the records), and on a table
//! written before they existed, which `compact` fills in.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::common::reference::{assert_same_records, records_under};
use crate::common::*;

/// `SELECT …` over DATA as CSV lines (header dropped).
fn rows(data: &std::path::Path, sql: &str) -> Vec<String> {
    let run = trailpq(&["query", path_str(data), "--sql", sql, "--format", "csv"]).expect(0);
    run.stdout.lines().skip(1).map(String::from).collect()
}

#[test]
fn each_rule_on_the_edge_cases() {
    let out = tempdir();
    let input = out.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let record = |id: &str, extra: Value| {
        let mut r = json!({
            "eventVersion": "1.08", "eventTime": "2024-05-01T10:00:00Z",
            "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1", "eventID": id, "recipientAccountId": "111122223333"
        });
        r.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        r
    };
    let insight_details = |state: &str| {
        json!({"state": state, "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
               "insightType": "ApiCallRateInsight", "insightContext": {"statistics": {
                   "baseline": {"average": 0.5}, "insight": {"average": 12.25}, "insightDuration": 7,
                   "baselineDuration": 10080},
               "attributions": [{"attribute": "userIdentityArn", "insight": [
                   {"value": "arn:aws:iam::111122223333:user/a", "average": 2.0},
                   {"value": "arn:aws:iam::111122223333:user/b", "average": 10.25}]}]}})
    };
    let records = vec![
        record(
            "failed-login",
            json!({"sourceIPAddress": "203.0.113.7",
            "responseElements": {"ConsoleLogin": "Failure"}}),
        ),
        record(
            "good-login",
            json!({"sourceIPAddress": "2001:db8::7",
            "responseElements": {"ConsoleLogin": "Success"}}),
        ),
        record(
            "denied",
            json!({"sourceIPAddress": "AWS Internal", "errorCode": "AccessDenied"}),
        ),
        record("service", json!({"sourceIPAddress": "ec2.amazonaws.com"})),
        record(
            "list",
            json!({"sourceIPAddress": "203.0.113.7, 198.51.100.2"}),
        ),
        record(
            "switch",
            json!({"responseElements": {"SwitchRole": "Failure"}}),
        ),
        record(
            "insight-start",
            json!({"eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
            "insightDetails": insight_details("Start")}),
        ),
        record(
            "insight-end",
            json!({"eventType": "AwsCloudTrailInsight", "eventCategory": "Insight",
            "insightDetails": insight_details("End")}),
        ),
    ];
    std::fs::write(
        input.join("edge.json"),
        json!({ "Records": records }).to_string(),
    )
    .unwrap();
    let lake = out.path().join("lake");
    convert(&[&input], &lake, &[]).0.expect(0);
    let got = rows(
        &lake,
        "SELECT event_id, outcome, coalesce(source_ip, '-'), coalesce(insight_type, '-'), \
         coalesce(insight_state, '-'), coalesce(CAST(insight_average AS VARCHAR), '-'), \
         coalesce(CAST(insight_duration AS VARCHAR), '-'), coalesce(insight_top_user_arn, '-') \
         FROM cloudtrail ORDER BY event_id",
    );
    let top = "arn:aws:iam::111122223333:user/b";
    let expected = [
        "denied,failure,-,-,-,-,-,-".to_string(),
        "failed-login,failure,203.0.113.7,-,-,-,-,-".into(),
        "good-login,success,2001:db8::7,-,-,-,-,-".into(),
        format!("insight-end,success,-,ApiCallRateInsight,End,12.25,7,{top}"),
        format!("insight-start,success,-,ApiCallRateInsight,Start,12.25,7,{top}"),
        "list,success,-,-,-,-,-,-".into(),
        "service,success,-,-,-,-,-,-".into(),
        "switch,failure,-,-,-,-,-,-".into(),
    ];
    assert_eq!(got, expected);
    // Not part of the record: export gives back exactly what came in.
    assert_same_records(&records_under(&input), &export(&lake, None));
}

/// The rules, written again independently over the records as JSON.
fn expected_counts(records: &[Value]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in records {
        let failed_sign_in = ["ConsoleLogin", "SwitchRole", "CheckMfa"]
            .iter()
            .any(|k| r["responseElements"][k] == "Failure");
        let errored = r.get("errorCode").is_some_and(|e| e.is_string());
        let outcome = if errored || failed_sign_in {
            "failure"
        } else {
            "success"
        };
        let ip = r["sourceIPAddress"]
            .as_str()
            .is_some_and(|a| a.parse::<std::net::IpAddr>().is_ok());
        *counts.entry(format!("{outcome},{ip}")).or_default() += 1;
    }
    counts
}

#[test]
fn the_rules_agree_with_an_independent_reading_of_the_real_corpus() {
    let corpus = repo().join("tests/data/real");
    let out = tempdir();
    let lake = out.path().join("lake");
    let (run, _) = convert(&[&corpus], &lake, &[]);
    assert!(matches!(run.code, Some(0) | Some(3)), "{}", run.stderr);
    // Only what was written (quarantined records are not in the table): read it back as JSON.
    let records = export(&lake, None);
    let got: BTreeMap<String, u64> = rows(
        &lake,
        "SELECT outcome || ',' || CASE WHEN source_ip IS NULL THEN 'false' ELSE 'true' END, \
         count(*) FROM cloudtrail GROUP BY 1",
    )
    .into_iter()
    .map(|line| {
        let (key, n) = line.trim_matches('"').rsplit_once(',').unwrap();
        (key.trim_matches('"').to_string(), n.parse().unwrap())
    })
    .collect();
    assert_eq!(got, expected_counts(&records));
    assert!(got.keys().any(|k| k.starts_with("failure")), "{got:?}");
    // Every Insight record has its type and state.
    let insights = rows(
        &lake,
        "SELECT count(*), count(insight_type), count(insight_state) FROM cloudtrail \
         WHERE insight_details IS NOT NULL",
    );
    let counts: Vec<&str> = insights[0].split(',').collect();
    assert!(
        counts[0] != "0" && counts.iter().all(|c| *c == counts[0]),
        "{counts:?}"
    );
}

#[test]
fn compact_fills_them_in_on_a_table_written_before_they_existed() {
    let out = tempdir();
    let dest = out.path().join("lake");
    let fixture = repo().join("tests/data/layout-v1/dest");
    // The table as an earlier version left it (without its interrupted run, which the first
    // command to open it would finish).
    for rel in files_under(&fixture)
        .into_iter()
        .filter(|f| f.starts_with("cloudtrail/") || f == "_trailpq/table.json")
    {
        let to = dest.join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(fixture.join(&rel), to).unwrap();
    }
    let before = export(&dest, None);
    let missing = "SELECT count(*), count(outcome) FROM cloudtrail";
    let counts = rows(&dest, missing);
    let (total, filled) = counts[0].split_once(',').unwrap();
    assert_ne!(total, "0");
    assert_eq!(filled, "0", "written before the columns existed");
    trailpq(&["compact", path_str(&dest)]).expect(0);
    assert_eq!(rows(&dest, missing), [format!("{total},{total}")]);
    assert_same_records(&before, &export(&dest, None));
    // A second compact has nothing left to do.
    let report = out.path().join("compact.json");
    trailpq(&["compact", path_str(&dest), "--report", path_str(&report)]).expect(0);
    assert_eq!(read_report(&report)["partitions_rewritten"], 0);
}

#[test]
fn the_readme_examples_of_the_ocsf_views_are_real_output() {
    let lake = security_lake();
    for (section, sql) in [
        (
            "ocsf-authentication",
            "SELECT activity_name, status, api_operation, actor_user_uid, src_endpoint_ip, is_mfa \
             FROM ocsf_authentication ORDER BY time",
        ),
        (
            "ocsf-account-change",
            "SELECT type_uid, activity_name, api_operation, user_name, actor_user_uid \
             FROM ocsf_account_change ORDER BY time",
        ),
        (
            "ocsf-api-activity",
            "SELECT api_service_name, activity_name, count(*) AS calls, \
             count(*) FILTER (WHERE status = 'Failure') AS failed \
             FROM ocsf_api_activity WHERE api_service_name IS NOT NULL \
             GROUP BY 1, 2 ORDER BY calls DESC, 1, 2 LIMIT 3",
        ),
    ] {
        let run = trailpq(&[
            "query",
            path_str(lake),
            "--sql",
            sql,
            "--format",
            "markdown",
        ])
        .expect(0);
        assert_eq!(
            readme_section(section),
            run.stdout,
            "README's {section} example"
        );
    }
}
