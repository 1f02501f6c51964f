//! Usage errors and the `schema` command: one clear line, the right exit code.

use crate::common::*;

#[test]
fn usage_mistakes_exit_2_with_one_line() {
    one_line_error(trailpq(&[]), 2, "--help");
    one_line_error(trailpq(&["convert", "x"]), 2, "--out <DEST>");
    one_line_error(
        trailpq(&["convert", "x", "--out", "y", "--frobnicate"]),
        2,
        "unexpected argument '--frobnicate'",
    );
    one_line_error(
        trailpq(&["convert", "x", "--out", "y", "--partition-by", "day"]),
        2,
        "unknown partition column 'day'",
    );
    one_line_error(
        trailpq(&["convert", "x", "--out", "y", "--threads", "0"]),
        2,
        "--threads",
    );
    one_line_error(
        trailpq(&["convert", "x", "--out", "ftp://host/y"]),
        2,
        "not a supported location",
    );
    one_line_error(
        trailpq(&["generate", "--out", "y", "--start", "May 1st"]),
        2,
        "YYYY-MM-DD",
    );
}

#[test]
fn failures_to_run_exit_1_with_one_line() {
    let out = tempdir();
    let missing = out.path().join("no-such-folder");
    one_line_error(
        trailpq(&[
            "convert",
            path_str(&missing),
            "--out",
            path_str(&out.path().join("o")),
        ]),
        1,
        "does not exist",
    );
    // A destination that cannot be written.
    let blocker = out.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let dest = blocker.join("lake");
    one_line_error(
        trailpq(&[
            "convert",
            path_str(&sample_data()),
            "--out",
            path_str(&dest),
        ]),
        1,
        "cannot write",
    );
    one_line_error(
        trailpq(&["export", path_str(&missing)]),
        1,
        "holds no converted CloudTrail data",
    );
    let lake = out.path().join("lake");
    trailpq(&[
        "convert",
        path_str(&sample_data().join("awsdocs")),
        "--out",
        path_str(&lake),
        "-q",
    ])
    .expect(0);
    one_line_error(
        trailpq(&["export", path_str(&lake), "--where", "no_such_column = 1"]),
        1,
        "no_such_column",
    );
}

#[test]
fn ddl_mistakes_exit_with_one_line() {
    let out = tempdir();
    let lake = out.path().join("lake");
    convert(&[&sample_data()], &lake, &["-q"]).0.expect(0);
    let lake = path_str(&lake);
    one_line_error(trailpq(&["ddl", "mysql", lake]), 2, "invalid value 'mysql'");
    one_line_error(
        trailpq(&["ddl", "athena", lake]),
        2,
        "athena needs --location s3://BUCKET/PREFIX",
    );
    one_line_error(
        trailpq(&["ddl", "athena", lake, "--location", "/srv/lake"]),
        2,
        "--location /srv/lake is not an s3:// URL",
    );
    one_line_error(
        trailpq(&["ddl", "duckdb", lake, "--table", "trail; DROP"]),
        2,
        "--table 'trail; DROP' should be letters, digits and '_'",
    );
    one_line_error(
        trailpq(&["ddl", "duckdb", lake, "--database", "x"]),
        2,
        "--database and --location are for athena",
    );
    let missing = out.path().join("missing");
    one_line_error(
        trailpq(&["ddl", "spark", path_str(&missing)]),
        1,
        "holds no converted CloudTrail data",
    );
}

#[test]
fn help_and_version_exit_0() {
    let help = trailpq(&["convert", "--help"]).expect(0);
    for needle in [
        "--partition-by",
        "--report",
        "--threads",
        "Exit codes",
        "AWS_ENDPOINT_URL",
    ] {
        assert!(help.stdout.contains(needle), "{needle}");
    }
    assert!(
        trailpq(&["--version"])
            .expect(0)
            .stdout
            .starts_with("trailpq ")
    );
}

#[test]
fn schema_lists_every_column_and_the_readme_shows_the_same() {
    let table = trailpq(&["schema"]).expect(0).stdout;
    for column in [
        "event_time",
        "user_arn",
        "session_issuer_arn",
        "session_mfa_authenticated",
        "resources",
        "extra",
        "source_key",
        "event_date",
    ] {
        assert!(table.lines().any(|l| l.starts_with(column)), "{column}");
    }
    let event_time: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with("event_time "))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        event_time[..4],
        ["event_time", "Timestamp(ms,", "\"UTC\")", "eventTime"]
    );
    let json: serde_json::Value =
        serde_json::from_str(&trailpq(&["schema", "--format", "json"]).expect(0).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), table.lines().count() - 1);

    let markdown = trailpq(&["schema", "--format", "markdown"])
        .expect(0)
        .stdout;
    assert_eq!(
        readme_section("columns"),
        markdown,
        "README's column table is stale: paste `trailpq schema --format markdown`"
    );
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    // `trailpq export … | head -1`: the rest of the output has nowhere to go.
    use std::io::{BufRead, BufReader};
    let out = tempdir();
    let input = generate(&out.path().join("in"), 3_000, 1, "2024-05-01", 3);
    let lake = out.path().join("lake");
    convert(&[&input], &lake, &["-q"]).0.expect(0);
    for args in [
        vec!["export", path_str(&lake)],
        vec![
            "query",
            path_str(&lake),
            "--sql",
            "SELECT * FROM cloudtrail",
            "--format",
            "ndjson",
        ],
    ] {
        let mut child = command(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.starts_with('{'), "{args:?}: {first}");
        // The reader is gone once stdout is dropped.
        let done = child.wait_with_output().unwrap();
        assert_eq!(
            done.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&done.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&done.stderr), "", "{args:?}");
    }
}
