//! The output on the engines users take it to. DuckDB runs `trailpq ddl duckdb`; Spark, the
//! stand-in for Athena's Hive DDL, runs `trailpq ddl spark` and `trailpq ddl athena`; both must
//! read the types written, keep odd partition values, and answer every canned query exactly as
//! trailpq does. pyarrow checks what the Parquet files declare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use arrow::datatypes::{DataType, TimeUnit};
use serde_json::Value;

use crate::common::*;

/// A lake of every fixture (the real logs, the sample, the canned-query fixture and the odd
/// values), partitioned by all three columns so that each kind of partition value is exercised,
/// with trailpq's own answer to every canned query. Made once and shared by the engine tests.
struct Lake {
    dest: PathBuf,
    rows: u64,
    /// (name, SQL with its parameters filled in, trailpq's rows)
    canned: Vec<(String, String, Vec<Value>)>,
    /// Queries of the OCSF views, with trailpq's rows.
    ocsf: Vec<(String, String, Vec<Value>)>,
}

fn lake() -> &'static Lake {
    static LAKE: OnceLock<Lake> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dest = Path::new(env!("CARGO_TARGET_TMPDIR")).join("engines-lake");
        let _ = std::fs::remove_dir_all(&dest);
        let (run, report) = convert(
            &[
                &real_data(),
                &sample_data(),
                &repo().join("tests/data/queries/connect-chime.ndjson"),
                &malformed().join("odd-values.ndjson"),
            ],
            &dest,
            &["--partition-by", "account_id,region,event_date", "-q"],
        );
        run.expect(0);
        let rows = report["records_written"].as_u64().unwrap();
        let canned = canned_queries(&dest);
        let ocsf = ocsf_queries(&dest);
        Lake {
            dest,
            rows,
            canned,
            ocsf,
        }
    })
}

fn ddl(engine: &str, lake: &Lake, extra: &[&str]) -> String {
    let mut args = vec!["ddl", engine, path_str(&lake.dest)];
    args.extend(extra);
    trailpq(&args).expect(0).stdout
}

/// One step of an engine script (tests/engines/run_sql.py).
fn execute(sql: &str) -> Value {
    serde_json::json!({ "execute": sql })
}

fn query(name: &str, sql: &str) -> Value {
    serde_json::json!({ "name": name, "sql": sql })
}

/// What an engine answered to one named query.
#[derive(Debug)]
struct Answer {
    columns: Vec<(String, String)>,
    rows: Vec<Value>,
}

/// Runs the steps in a real engine, in a scratch folder (Spark leaves a metastore behind).
fn run_engine(engine: &str, steps: &[Value], scratch: &Path) -> BTreeMap<String, Answer> {
    let steps_file = scratch.join(format!("{engine}-steps.json"));
    std::fs::write(&steps_file, serde_json::to_string(steps).unwrap()).unwrap();
    let work = scratch.join(format!("{engine}-work"));
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new(python())
        .arg(repo().join("tests/engines/run_sql.py"))
        .args([engine, path_str(&steps_file)])
        .current_dir(&work)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .expect("python runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{engine} failed:\n{stderr}");
    let results: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{engine} wrote no results ({e}):\n{stderr}"));
    results
        .into_iter()
        .map(|(name, result)| {
            if let Some(error) = result.get("error") {
                panic!("{engine} could not run {name}: {error}");
            }
            let columns = result["columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c[0].as_str().unwrap().to_string(),
                        c[1].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let rows = result["rows"].as_array().unwrap().clone();
            (name, Answer { columns, rows })
        })
        .collect()
}

/// The single value of a one-row, one-column answer.
#[track_caller]
fn scalar(answers: &BTreeMap<String, Answer>, name: &str) -> Value {
    let answer = &answers[name];
    assert_eq!(answer.rows.len(), 1, "{name}: {:?}", answer.rows);
    let row = answer.rows[0].as_object().unwrap();
    assert_eq!(row.len(), 1, "{name}: {row:?}");
    row.values().next().unwrap().clone()
}

/// Every canned query with its parameters filled in, as `trailpq query --show-sql` gives it to
/// users for other engines: (name, SQL, trailpq's own answer).
fn canned_queries(lake: &Path) -> Vec<(String, String, Vec<Value>)> {
    let list = trailpq(&["query", "--list", "--format", "json"]).expect(0);
    let list: Vec<Value> = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(list.len(), 28);
    list.iter()
        .map(|entry| {
            let name = entry["name"].as_str().unwrap();
            let mut args = vec!["query", "--name", name];
            if name == "principal-timeline" {
                args.extend(["--param", "principal=alice"]);
            }
            let sql = trailpq(&[args.as_slice(), &["--show-sql"]].concat())
                .expect(0)
                .stdout;
            let out = trailpq(&[args.as_slice(), &[path_str(lake), "--format", "json"]].concat())
                .expect(0)
                .stdout;
            let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
            (name.to_string(), sql, rows)
        })
        .collect()
}

/// Queries of the three OCSF views (their counts, and their values row by row), with trailpq's
/// answers.
fn ocsf_queries(lake: &Path) -> Vec<(String, String, Vec<Value>)> {
    let mut queries = vec![(
        "ocsf counts".to_string(),
        "SELECT (SELECT count(*) FROM cloudtrail) AS total, \
         (SELECT count(*) FROM ocsf_api_activity) AS api_activity, \
         (SELECT count(*) FROM ocsf_authentication) AS authentication, \
         (SELECT count(*) FROM ocsf_account_change) AS account_change"
            .to_string(),
    )];
    for view in [
        "ocsf_api_activity",
        "ocsf_authentication",
        "ocsf_account_change",
    ] {
        let extra = match view {
            "ocsf_authentication" => ", dst_endpoint_svc_name, unmapped",
            "ocsf_account_change" => ", user_name",
            _ => "",
        };
        queries.push((
            view.to_string(),
            format!(
                "SELECT class_uid, category_uid, activity_id, activity_name, type_uid, status, \
                 status_id, time, api_operation, api_service_name, actor_user_uid, \
                 actor_session_is_mfa, src_endpoint_ip, src_endpoint_domain, cloud_region, is_mfa, \
                 metadata_uid, source_key, source_index{extra} FROM {view}"
            ),
        ));
    }
    queries
        .into_iter()
        .map(|(name, sql)| {
            let out = trailpq(&["query", path_str(lake), "--sql", &sql, "--format", "json"])
                .expect(0)
                .stdout;
            let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
            (name, sql, rows)
        })
        .collect()
}

/// Asserts that `engine` answered the OCSF queries with trailpq's rows, and that the views split
/// the table.
#[track_caller]
fn assert_same_ocsf(engine: &str, lake: &Lake, answers: &BTreeMap<String, Answer>) {
    for (name, _, expected) in &lake.ocsf {
        assert_eq!(
            rows_of(&answers[name.as_str()].rows),
            rows_of(expected),
            "{engine} and trailpq differ on {name}"
        );
    }
    let counts = &lake.ocsf[0].2[0];
    let n = |k: &str| counts[k].as_u64().unwrap();
    assert_eq!(counts["total"], lake.rows);
    assert_eq!(
        n("api_activity") + n("authentication") + n("account_change"),
        n("total")
    );
    assert!(
        n("authentication") > 0 && n("account_change") > 0,
        "{counts}"
    );
}

/// A row as comparable text: keys sorted, nulls left out, timestamps in one spelling
/// (`…T10:00:00.000000Z`), so that engines that render the same value differently compare equal.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> =
                map.iter().filter(|(_, v)| !v.is_null()).collect();
            entries.sort_by_key(|(k, _)| *k);
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) if s.ends_with('Z') && s.as_bytes().get(10) == Some(&b'T') => {
                Value::String(t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()).to_string()
            }
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}

/// Rows as a sorted list of canonical rows (ties in ORDER BY may come back in any order).
fn rows_of(rows: &[Value]) -> Vec<String> {
    let mut rows: Vec<String> = rows.iter().map(canonical).collect();
    rows.sort();
    rows
}

/// Asserts that `engine` answered every canned query with trailpq's rows; returns how many
/// queries had rows to compare.
#[track_caller]
fn assert_same_answers(
    engine: &str,
    prefix: &str,
    canned: &[(String, String, Vec<Value>)],
    answers: &BTreeMap<String, Answer>,
) -> usize {
    let mut non_empty = 0;
    for (name, _, expected) in canned {
        let got = &answers[&format!("{prefix}{name}")].rows;
        assert_eq!(
            rows_of(got),
            rows_of(expected),
            "{engine} and trailpq differ on canned query {name}"
        );
        non_empty += usize::from(!expected.is_empty());
    }
    non_empty
}

/// The engine's type for each schema type, as `trailpq schema` names them.
fn engine_type(engine: &str, arrow_type: &str) -> &'static str {
    match (engine, arrow_type) {
        ("duckdb", "Utf8") => "VARCHAR",
        ("duckdb", "Boolean") => "BOOLEAN",
        ("duckdb", "Int64") => "BIGINT",
        ("duckdb", "Float64") => "DOUBLE",
        ("duckdb", "Date32") => "DATE",
        ("duckdb", r#"Timestamp(ms, "UTC")"#) => "TIMESTAMP WITH TIME ZONE",
        ("duckdb", t) if t.starts_with("List(Struct") => {
            r#"STRUCT(arn VARCHAR, account_id VARCHAR, "type" VARCHAR)[]"#
        }
        ("spark", "Utf8") => "string",
        ("spark", "Boolean") => "boolean",
        ("spark", "Int64") => "bigint",
        ("spark", "Float64") => "double",
        ("spark", "Date32") => "date",
        ("spark", r#"Timestamp(ms, "UTC")"#) => "timestamp",
        ("spark", t) if t.starts_with("List(Struct") => {
            "array<struct<arn:string,account_id:string,type:string>>"
        }
        _ => panic!("no {engine} type for {arrow_type}: extend engine_type"),
    }
}

/// Every column of the table, partition columns last, with its type in `engine`.
fn expected_columns(engine: &str) -> Vec<(String, String)> {
    let schema: Vec<Value> =
        serde_json::from_str(&trailpq(&["schema", "--format", "json"]).expect(0).stdout).unwrap();
    schema
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                engine_type(engine, c["type"].as_str().unwrap()).to_string(),
            )
        })
        .collect()
}

/// Checks on partition values that every engine must pass: the column read from the folder name
/// equals the column it was made from, odd values included.
fn partition_checks(to_date: &str) -> Vec<Value> {
    vec![
        query(
            "partitions differ from their columns",
            &format!(
                "SELECT count(*) AS n FROM cloudtrail \
                 WHERE account_id IS DISTINCT FROM recipient_account_id \
                    OR region IS DISTINCT FROM aws_region \
                    OR event_date IS DISTINCT FROM {to_date}"
            ),
        ),
        query(
            "odd values",
            "SELECT account_id, region, event_date FROM cloudtrail WHERE aws_region = '../../etc'",
        ),
        query(
            "no account",
            "SELECT count(*) AS n FROM cloudtrail WHERE account_id IS NULL",
        ),
        query(
            "no date",
            "SELECT count(*) AS n FROM cloudtrail WHERE event_date IS NULL AND event_time IS NULL",
        ),
        query(
            "leading zero",
            "SELECT count(*) AS n FROM cloudtrail WHERE account_id = '012345678901'",
        ),
    ]
}

#[track_caller]
fn assert_partition_checks(engine: &str, answers: &BTreeMap<String, Answer>) {
    assert_eq!(
        scalar(answers, "partitions differ from their columns"),
        0,
        "{engine}"
    );
    assert_eq!(
        answers["odd values"].rows,
        [serde_json::json!({"account_id": "a/b=c%d", "region": "../../etc"})],
        "{engine}: the escaped folder names read back as the values, the undated folder as NULL"
    );
    // Records without recipientAccountId (one odd value, and real records of AWS-owned
    // events) and without a usable eventTime are in Hive's NULL folder.
    assert!(
        scalar(answers, "no account").as_u64().unwrap() > 1,
        "{engine}"
    );
    assert!(
        scalar(answers, "no date").as_u64().unwrap() >= 1,
        "{engine}"
    );
    assert!(
        scalar(answers, "leading zero").as_u64().unwrap() > 100,
        "{engine}: the generated sample's account 012345678901"
    );
}

#[test]
fn duckdb_runs_the_generated_view_and_every_canned_query() {
    crate::needs!(python);
    let lake = lake();
    let scratch = tempdir();
    let view = ddl("duckdb", lake, &[]);
    assert!(
        view.contains("CREATE OR REPLACE VIEW cloudtrail AS"),
        "{view}"
    );
    let canned = &lake.canned;
    let glob = format!("{}/cloudtrail/**/*.parquet", path_str(&lake.dest));
    let mut steps = vec![
        execute(&view),
        query("count", "SELECT count(*) AS n FROM cloudtrail"),
        query("columns", "SELECT * FROM cloudtrail LIMIT 0"),
        // The documented Chime example, value for value.
        query(
            "AddDomain",
            "SELECT event_name, error_code, user_arn, event_time, account_id, region, event_date \
             FROM cloudtrail WHERE event_name = 'AddDomain' AND source_key LIKE '%/data/awsdocs/%'",
        ),
        // Each file is sorted by time.
        query(
            "out of order",
            &format!(
                "SELECT count(*) AS n FROM (SELECT event_time < lag(event_time) OVER \
                 (PARTITION BY filename ORDER BY file_row_number) AS back \
                 FROM read_parquet('{glob}', filename = true, file_row_number = true)) WHERE back"
            ),
        ),
    ];
    steps.extend(partition_checks(
        "CAST(timezone('UTC', event_time) AS DATE)",
    ));
    steps.extend(canned.iter().map(|(name, sql, _)| query(name, sql)));
    steps.extend(lake.ocsf.iter().map(|(name, sql, _)| query(name, sql)));
    let answers = run_engine("duckdb", &steps, scratch.path());

    assert_eq!(scalar(&answers, "count"), lake.rows);
    assert_eq!(answers["columns"].columns, expected_columns("duckdb"));
    assert_eq!(
        answers["AddDomain"].rows,
        [serde_json::json!({
            "event_name": "AddDomain",
            "error_code": "ConflictException",
            "user_arn": "arn:aws:iam::123456789012:user/Alice ",
            "event_time": "2017-07-24T17:58:21.000000Z",
            "account_id": "123456789012",
            "region": "us-east-1",
            "event_date": "2017-07-24",
        })]
    );
    assert_eq!(scalar(&answers, "out of order"), 0);
    assert_partition_checks("duckdb", &answers);
    let non_empty = assert_same_answers("DuckDB", "", canned, &answers);
    assert_eq!(non_empty, 28, "every canned query has rows on this lake");
    assert_same_ocsf("DuckDB", lake, &answers);
}

#[test]
#[cfg(feature = "slow-tests")]
fn spark_runs_the_generated_hive_and_athena_ddl() {
    crate::needs!(python);
    let lake = lake();
    let scratch = tempdir();
    let hive = ddl("spark", lake, &[]);
    assert!(hive.contains("MSCK REPAIR TABLE `cloudtrail`;"), "{hive}");
    // Athena's DDL names an S3 location and projects partitions in TBLPROPERTIES, which Spark
    // keeps but does not interpret (the unit tests check them). Everything else runs here, on the
    // local copy, with MSCK REPAIR TABLE standing in for projection.
    let placeholder = "s3://trailpq-test/lake";
    let athena = ddl(
        "athena",
        lake,
        &["--location", placeholder, "--database", "athena_ddl"],
    );
    let athena_location = format!("LOCATION '{placeholder}/cloudtrail/'");
    assert!(athena.contains(&athena_location), "{athena}");
    assert!(athena.contains("'projection.enabled' = 'true'"), "{athena}");
    // The OCSF views that follow the table are Athena SQL (Trino's functions), which Spark does
    // not speak: the Hive DDL's views, run above, are the same views in Spark's SQL.
    let (athena, athena_views) = athena
        .split_once("-- Athena: run each view below as a query of its own")
        .expect("the Athena DDL has its views");
    assert!(athena_views.contains("CREATE OR REPLACE VIEW \"athena_ddl\".\"ocsf_authentication\""));
    assert!(athena_views.contains("json_format(CAST(CAST(ROW("));
    let athena = athena.replace(
        &athena_location,
        &format!("LOCATION 'file:{}/cloudtrail/'", path_str(&lake.dest)),
    ) + "MSCK REPAIR TABLE `athena_ddl`.`cloudtrail`;\n";

    let canned = &lake.canned;
    let mut steps = vec![
        execute(&hive),
        query("count", "SELECT count(*) AS n FROM cloudtrail"),
        query("columns", "SELECT * FROM cloudtrail LIMIT 0"),
        query(
            "day",
            "SELECT count(*) AS n FROM cloudtrail WHERE event_date = DATE '2024-06-03'",
        ),
    ];
    steps.extend(partition_checks("to_date(event_time)"));
    steps.extend(canned.iter().map(|(name, sql, _)| query(name, sql)));
    steps.extend(lake.ocsf.iter().map(|(name, sql, _)| query(name, sql)));
    steps.extend([
        // As the DDL's first comment says: Athena runs one statement per query.
        execute("CREATE DATABASE IF NOT EXISTS athena_ddl"),
        execute(&athena),
        execute("USE athena_ddl"),
        query("athena count", "SELECT count(*) AS n FROM cloudtrail"),
        query("athena columns", "SELECT * FROM cloudtrail LIMIT 0"),
        query(
            "athena day",
            "SELECT count(*) AS n FROM cloudtrail WHERE event_date = '2024-06-03'",
        ),
        query("athena properties", "SHOW TBLPROPERTIES cloudtrail"),
    ]);
    // On the Athena table, the canned queries that group or filter by event_date, now a string,
    // and one with date_trunc. (Each query costs Spark a few seconds of partition bookkeeping.)
    let athena_canned: Vec<_> = canned
        .iter()
        .filter(|(name, _, _)| {
            [
                "chime-meetings-and-voice",
                "connect-chat-activity",
                "connect-outbound-calls",
            ]
            .contains(&name.as_str())
        })
        .cloned()
        .collect();
    assert_eq!(athena_canned.len(), 3);
    steps.extend(
        athena_canned
            .iter()
            .map(|(name, sql, _)| query(&format!("athena {name}"), sql)),
    );
    let answers = run_engine("spark", &steps, scratch.path());

    assert_eq!(scalar(&answers, "count"), lake.rows);
    assert_eq!(answers["columns"].columns, expected_columns("spark"));
    assert_partition_checks("spark", &answers);
    let non_empty = assert_same_answers("Spark", "", canned, &answers);
    assert_eq!(non_empty, 28);
    assert_same_ocsf("Spark", lake, &answers);

    // The Athena table: same rows, partition columns as strings (as Athena's date projection
    // wants them), and the same answers.
    assert_eq!(scalar(&answers, "athena count"), lake.rows);
    let mut athena_columns = expected_columns("spark");
    for (name, ty) in athena_columns.iter_mut().rev().take(3) {
        assert!(["account_id", "region", "event_date"].contains(&name.as_str()));
        *ty = "string".into();
    }
    assert_eq!(answers["athena columns"].columns, athena_columns);
    assert!(scalar(&answers, "day").as_u64().unwrap() > 0);
    assert_eq!(scalar(&answers, "athena day"), scalar(&answers, "day"));
    // Spark parsed the projection properties and kept them verbatim (`${account_id}` included).
    let kept: BTreeMap<&str, &str> = answers["athena properties"]
        .rows
        .iter()
        .map(|r| (r["key"].as_str().unwrap(), r["value"].as_str().unwrap()))
        .collect();
    let mut projected = 0;
    for line in athena.lines().filter(|l| l.starts_with("  '")) {
        let (key, value) = line.trim().trim_end_matches(',').split_once(" = ").unwrap();
        let (key, value) = (key.trim_matches('\''), value.trim_matches('\''));
        assert_eq!(kept.get(key), Some(&value), "TBLPROPERTIES {key}");
        projected += 1;
    }
    assert!(
        kept["storage.location.template"].ends_with(
            "/cloudtrail/account_id=${account_id}/region=${region}/event_date=${event_date}"
        ),
        "{kept:?}"
    );
    // projection.enabled, account_id and region injected, six for event_date, the template.
    assert_eq!(projected, 9, "{athena}");
    let non_empty = assert_same_answers("Spark (Athena DDL)", "athena ", &athena_canned, &answers);
    assert_eq!(non_empty, 3);
}

/// Describes Parquet files as pyarrow reads them (tests/engines/parquet_meta.py).
fn parquet_meta(dir: &Path) -> Vec<Value> {
    let files: Vec<String> = files_under(dir)
        .into_iter()
        .filter(|f| f.ends_with(".parquet"))
        .map(|f| path_str(&dir.join(f)).to_string())
        .collect();
    assert!(!files.is_empty(), "no Parquet under {}", dir.display());
    let out = Command::new(python())
        .arg(repo().join("tests/engines/parquet_meta.py"))
        .args(&files)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "pyarrow failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The Parquet leaf columns of the schema, with the physical and logical type each must have.
fn expected_leaves() -> Vec<(String, &'static str, String)> {
    fn leaf(path: String, data_type: &DataType, out: &mut Vec<(String, &'static str, String)>) {
        let (physical, logical) = match data_type {
            DataType::Utf8 => ("BYTE_ARRAY", "String".to_string()),
            DataType::Boolean => ("BOOLEAN", "None".to_string()),
            DataType::Int64 => ("INT64", "None".to_string()),
            DataType::Float64 => ("DOUBLE", "None".to_string()),
            DataType::Timestamp(TimeUnit::Millisecond, Some(tz)) if tz.as_ref() == "UTC" => (
                "INT64",
                "Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, \
                 is_from_converted_type=false, force_set_converted_type=false)"
                    .to_string(),
            ),
            DataType::List(item) => {
                let DataType::Struct(fields) = item.data_type() else {
                    panic!("a list of {}", item.data_type())
                };
                for field in fields {
                    leaf(
                        format!("{path}.list.element.{}", field.name()),
                        field.data_type(),
                        out,
                    );
                }
                return;
            }
            other => panic!("no Parquet expectation for {other}: extend expected_leaves"),
        };
        out.push((path, physical, logical));
    }
    let mut out = Vec::new();
    for column in trailpq::schema::COLUMNS {
        leaf(column.name.to_string(), &column.data_type(), &mut out);
    }
    out
}

#[test]
fn pyarrow_sees_the_declared_types_compression_statistics_and_row_groups() {
    crate::needs!(python);
    let out = tempdir();
    let dest = out.path().join("lake");
    // Small row groups, to see the writer keep to the size asked for.
    convert(&[&real_data()], &dest, &["--row-group-rows", "1000", "-q"])
        .0
        .expect(0);
    let files = parquet_meta(&dest.join("cloudtrail"));
    let leaves = expected_leaves();
    let mut split = 0;
    for file in &files {
        let path = file["path"].as_str().unwrap();
        let rows = file["rows"].as_u64().unwrap();
        let groups: Vec<u64> = file["row_groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_u64().unwrap())
            .collect();
        let (last, full) = groups.split_last().unwrap();
        assert!(
            full.iter().all(|&g| g == 1000) && (1..=1000).contains(last),
            "{path}: row groups {groups:?}"
        );
        assert_eq!(groups.iter().sum::<u64>(), rows, "{path}");
        split += usize::from(groups.len() >= 3);

        assert!(
            file["created_by"]
                .as_str()
                .unwrap()
                .starts_with("trailpq version "),
            "{path}"
        );
        assert_eq!(
            file["key_value"],
            serde_json::json!({"trailpq.schema_version": trailpq::schema::SCHEMA_VERSION}),
            "{path}"
        );
        assert_eq!(
            file["sorting_columns"],
            serde_json::json!([{"path": "event_time", "descending": false, "nulls_first": false}]),
            "{path}"
        );

        let columns = file["columns"].as_array().unwrap();
        let got: Vec<(String, String, String)> = columns
            .iter()
            .map(|c| {
                (
                    c["path"].as_str().unwrap().to_string(),
                    c["physical"].as_str().unwrap().to_string(),
                    c["logical"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let expected: Vec<(String, String, String)> = leaves
            .iter()
            .map(|(p, physical, logical)| (p.clone(), physical.to_string(), logical.clone()))
            .collect();
        assert_eq!(got, expected, "{path}: columns and types");
        for column in columns {
            let name = column["path"].as_str().unwrap();
            assert_eq!(
                column["compressions"],
                serde_json::json!(["ZSTD"]),
                "{path} {name}"
            );
            // Random identifiers: lengths apart from bytes, no dictionary that would only fall
            // back; everything else may use a dictionary.
            let encodings = column["encodings"].as_array().unwrap();
            let has = |e: &str| encodings.iter().any(|x| x == e);
            if ["event_id", "request_id", "connect_contact_id"].contains(&name) {
                assert!(
                    has("DELTA_LENGTH_BYTE_ARRAY") && !has("RLE_DICTIONARY"),
                    "{path} {name}: {encodings:?}"
                );
            } else {
                assert!(
                    !has("DELTA_LENGTH_BYTE_ARRAY"),
                    "{path} {name}: {encodings:?}"
                );
            }
            for flag in ["statistics", "offset_index"] {
                assert_eq!(column[flag], true, "{path} {name}: {flag}");
            }
            // The parquet crate leaves out the column index of a nested field that is null
            // throughout (resources[].type of KMS records, say): it could not prune anything.
            let all_null_nested = name.contains(".list.") && column["min_max"] == false;
            assert!(
                column["column_index"] == true || all_null_nested,
                "{path} {name}: column index"
            );
        }
        let time = columns.iter().find(|c| c["path"] == "event_time").unwrap();
        if !path.contains("event_date=__HIVE_DEFAULT_PARTITION__/") {
            assert_eq!(time["min_max"], true, "{path}: event_time has min and max");
        }
    }
    assert!(split > 0, "some day of the real data has over 2000 rows");

    // At the default size, files this small are one row group each.
    for file in parquet_meta(&lake().dest.join("cloudtrail")) {
        assert_eq!(
            file["row_groups"].as_array().unwrap().len(),
            1,
            "{}",
            file["path"]
        );
    }
}
