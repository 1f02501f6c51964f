//! `trailpq query`: canned queries return exactly the expected rows; errors are one line.

use std::path::{Path, PathBuf};

use crate::common::*;

fn fixture() -> PathBuf {
    repo().join("tests/data/queries")
}

fn query(lake: &Path, args: &[&str]) -> Run {
    let mut all = vec!["query", path_str(lake)];
    all.extend(args);
    trailpq(&all)
}

#[test]
fn every_canned_query_returns_exactly_the_expected_rows() {
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("queries")).unwrap() {
        let name = entry
            .unwrap()
            .file_name()
            .into_string()
            .unwrap()
            .trim_end_matches(".sql")
            .to_string();
        let mut args = vec!["--name", name.as_str(), "--format", "csv"];
        if name == "principal-timeline" {
            args.extend(["--param", "principal=alice"]);
        }
        let lake = match name.starts_with("security-") {
            true => security_lake(),
            false => queries_lake(),
        };
        let got = query(lake, &args).expect(0).stdout;
        let expected = std::fs::read_to_string(fixture().join(format!("expected/{name}.csv")))
            .unwrap_or_else(|_| panic!("tests/data/queries/expected/{name}.csv is missing"));
        assert_eq!(got, expected, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 28);
}

#[test]
fn security_queries_take_their_parameters_and_list_under_their_group() {
    let lake = security_lake();
    let regions = |usual: &str| {
        let param = format!("usual={usual}");
        let out = query(
            lake,
            &[
                "--name",
                "security-unusual-regions",
                "--param",
                &param,
                "--format",
                "csv",
            ],
        )
        .expect(0)
        .stdout;
        out.lines()
            .skip(1)
            .map(|l| l.split(',').next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(regions(""), ["ap-southeast-3", "eu-west-1", "us-east-1"]);
    assert_eq!(regions("us-east-1, eu-west-1"), ["ap-southeast-3"]);
    // `query --list` groups the catalogue: Connect, Chime, security, then the general queries.
    let list = trailpq(&["query", "--list", "--format", "csv"])
        .expect(0)
        .stdout;
    let groups: Vec<&str> = list
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let mut runs = groups.clone();
    runs.dedup();
    assert_eq!(runs, ["connect", "chime", "security", "general"]);
    assert_eq!(groups.iter().filter(|g| **g == "security").count(), 11);
}

#[test]
fn parameters_narrow_the_answer() {
    let lake = queries_lake();
    let rows = |args: &[&str]| query(lake, args).expect(0).stdout.lines().count() - 1;
    assert_eq!(
        rows(&[
            "--name",
            "connect-routing-profile-changes",
            "--param",
            "routing_profile=rp-2",
            "--format",
            "csv"
        ]),
        2
    );
    assert_eq!(
        rows(&[
            "--name",
            "connect-routing-profile-changes",
            "--param",
            "routing_profile=rp-1",
            "--format",
            "csv"
        ]),
        0
    );
    assert_eq!(
        rows(&[
            "--name",
            "connect-user-lifecycle",
            "--param",
            "instance=22222222-bbbb-4bbb-8bbb-222222222222",
            "--format",
            "csv"
        ]),
        1
    );
    // A session's role, by name, finds what the session did.
    assert_eq!(
        rows(&[
            "--name",
            "principal-timeline",
            "--param",
            "principal=ConnectAdmin",
            "--format",
            "csv"
        ]),
        13
    );
    // Values are literals, never SQL.
    assert_eq!(
        rows(&[
            "--name",
            "principal-timeline",
            "--param",
            "principal=x' OR '1'='1",
            "--format",
            "csv"
        ]),
        0
    );
}

#[test]
fn since_and_until_restrict_the_days_scanned() {
    let lake = queries_lake();
    let count = |args: &[&str]| {
        let mut all = vec![
            "--sql",
            "SELECT count(*) AS n FROM cloudtrail",
            "--format",
            "csv",
        ];
        all.extend(args);
        query(lake, &all).expect(0).stdout
    };
    assert_eq!(count(&[]), "n\n41\n");
    assert_eq!(count(&["--since", "2024-06-04"]), "n\n1\n");
    assert_eq!(count(&["--until", "2024-06-03"]), "n\n40\n");
    assert_eq!(count(&["--since", "2024-06-05"]), "n\n0\n");
    #[cfg(feature = "test-hooks")]
    {
        let mut relative = command(&[
            "query",
            path_str(lake),
            "--since",
            "1d",
            "--sql",
            "SELECT count(*) AS n FROM cloudtrail",
            "--format",
            "csv",
        ]);
        relative.env("TRAILPQ_TODAY", "2024-06-05");
        assert_eq!(run_command(relative).expect(0).stdout, "n\n1\n");
    }
    // The filter prunes partitions: only the asked-for day's files are planned.
    let plan = query(
        lake,
        &[
            "--since",
            "2024-06-04",
            "--sql",
            "EXPLAIN SELECT event_name FROM cloudtrail",
            "--format",
            "csv",
        ],
    );
    let plan = plan.expect(0).stdout;
    assert!(
        plan.contains("event_date=2024-06-04/") && !plan.contains("event_date=2024-06-03/"),
        "{plan}"
    );
}

#[test]
fn since_and_until_prune_row_groups_when_days_are_not_partitions() {
    let out = tempdir();
    let lake = out.path().join("by-account");
    convert(
        &[&fixture().join("connect-chime.ndjson")],
        &lake,
        &[
            "--partition-by",
            "account_id",
            "--row-group-rows",
            "4",
            "-q",
        ],
    )
    .0
    .expect(0);
    let run = |args: &[&str]| {
        let mut all = vec!["--format", "csv"];
        all.extend(args);
        query(&lake, &all).expect(0).stdout
    };
    let count = "SELECT count(*) AS n FROM cloudtrail";
    assert_eq!(run(&["--sql", count]), "n\n41\n");
    assert_eq!(run(&["--sql", count, "--since", "2024-06-04"]), "n\n1\n");
    assert_eq!(run(&["--sql", count, "--until", "2024-06-03"]), "n\n40\n");
    // Row groups outside the days are skipped by their statistics, not read and filtered.
    let plan = run(&[
        "--sql",
        "EXPLAIN ANALYZE SELECT event_name FROM cloudtrail",
        "--since",
        "2024-06-04",
    ]);
    let pruned = plan
        .split("row_groups_pruned_statistics=")
        .nth(1)
        .unwrap_or_else(|| panic!("no row-group pruning in the plan:\n{plan}"));
    let (total, matched) = pruned.split_once(" total → ").unwrap();
    let matched: String = matched.chars().take_while(char::is_ascii_digit).collect();
    let (total, matched): (u32, u32) = (total.parse().unwrap(), matched.parse().unwrap());
    assert!(
        total >= 10 && matched <= 2,
        "{total} row groups, {matched} read:\n{plan}"
    );
}

#[test]
fn formats_sql_files_and_json_functions() {
    let out = tempdir();
    let lake = queries_lake();
    let json = query(lake, &["--name", "chime-errors", "--format", "json"])
        .expect(0)
        .stdout;
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json[0]["error_code"], "ConflictException");
    assert_eq!(json[1]["last_seen"], "2024-06-03T15:22:00Z");
    let ndjson = query(lake, &["--name", "chime-errors", "--format", "ndjson"])
        .expect(0)
        .stdout;
    assert_eq!(ndjson.lines().count(), 2);
    let markdown = query(lake, &["--name", "chime-errors", "--format", "markdown"])
        .expect(0)
        .stdout;
    assert!(
        markdown.starts_with("| error_code | event_source |"),
        "{markdown}"
    );
    let table = query(lake, &["--name", "chime-errors"]).expect(0).stdout;
    assert!(
        table.contains("| ConflictException | chime.amazonaws.com | AddDomain     | 1     |"),
        "{table}"
    );

    // JSON functions over the JSON-text columns.
    let sql = "SELECT request_parameters ->> 'domainName' AS domain, json_get_str(request_parameters, 'accountId') AS account \
               FROM cloudtrail WHERE event_name = 'AddDomain'";
    assert_eq!(
        query(lake, &["--sql", sql, "--format", "csv"])
            .expect(0)
            .stdout,
        "domain,account\nexample.com,ca-1\n"
    );

    // A SQL file with a header takes parameters; results can go to a file.
    let file = out.path().join("mine.sql");
    std::fs::write(&file, "-- name: by-event\n-- param: name | an API\nSELECT count(*) AS n FROM cloudtrail WHERE event_name = {{name}};\n").unwrap();
    let results = out.path().join("n.csv");
    query(
        lake,
        &[
            "--file",
            path_str(&file),
            "--param",
            "name=ListUsers",
            "--format",
            "csv",
            "--out",
            path_str(&results),
        ],
    )
    .expect(0);
    assert_eq!(std::fs::read_to_string(&results).unwrap(), "n\n3\n");
    // Several statements run in turn.
    let two = query(
        lake,
        &["--sql", "SELECT 1 AS a; SELECT 2 AS b", "--format", "csv"],
    )
    .expect(0)
    .stdout;
    assert_eq!(two, "a\n1\nb\n2\n");
}

#[test]
fn the_readme_lists_the_catalogue() {
    let markdown = trailpq(&["query", "--list", "--format", "markdown"])
        .expect(0)
        .stdout;
    assert_eq!(
        readme_section("queries"),
        markdown,
        "README's catalogue is stale: paste `trailpq query --list --format markdown`"
    );
}

#[test]
fn the_catalogue_lists_and_grows_with_your_own_queries() {
    let list = trailpq(&["query", "--list", "--format", "csv"])
        .expect(0)
        .stdout;
    assert_eq!(list.lines().count(), 1 + 28);
    assert!(list.contains("principal-timeline,"), "{list}");
    assert!(list.contains("principal (required)"), "{list}");

    let out = tempdir();
    let lake = queries_lake();
    let mine = out.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("sign-ins-by-ip.sql"), "-- name: sign-ins-by-ip\n-- description: mine\nSELECT source_ip_address, count(*) AS n FROM cloudtrail WHERE event_name = 'GetFederationToken' GROUP BY 1 ORDER BY 1\n").unwrap();
    let listed = trailpq(&[
        "query",
        "--list",
        "--queries",
        path_str(&mine),
        "--format",
        "csv",
    ])
    .expect(0)
    .stdout;
    assert!(listed.contains("sign-ins-by-ip,mine,"), "{listed}");
    let rows = query(
        lake,
        &[
            "--queries",
            path_str(&mine),
            "--name",
            "sign-ins-by-ip",
            "--format",
            "csv",
        ],
    )
    .expect(0)
    .stdout;
    assert_eq!(
        rows,
        "source_ip_address,n\n198.51.100.1,1\n203.0.113.5,1\n203.0.113.6,1\n"
    );

    std::fs::write(mine.join("broken.sql"), "SELECT {{oops}}").unwrap();
    let broken = trailpq(&["query", "--list", "--queries", path_str(&mine)]).expect(2);
    assert!(
        broken.stderr.contains("broken.sql: no '-- name:' line"),
        "{}",
        broken.stderr
    );
}

#[test]
#[cfg(feature = "test-hooks")]
fn big_sorts_spill_and_export_merges_in_bounded_memory() {
    // Far more rows than the memory limit holds: every sort must spill, every time.
    let out = tempdir();
    let input = generate(&out.path().join("in"), 20_000, 3, "2024-05-01", 7);
    let lake = out.path().join("lake");
    convert(&[&input], &lake, &["-q"]).0.expect(0);
    // The limit is a third of the data sorted and about sixty batches, as 1 GiB is to a few GB of
    // a busy organisation's events and to DataFusion's batches of 8,192 wide rows.
    let limit = [
        ("TRAILPQ_MEMORY_LIMIT".to_string(), "4MiB".to_string()),
        ("TRAILPQ_BATCH_ROWS".to_string(), "128".to_string()),
    ];
    for attempt in 0..3 {
        let exported = trailpq_env(&["export", path_str(&lake)], &limit).expect(0);
        let times: Vec<String> = exported
            .stdout
            .lines()
            .map(|l| {
                let record: serde_json::Value = serde_json::from_str(l).unwrap();
                record["eventTime"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(times.len(), 20_000, "attempt {attempt}");
        assert!(
            times.is_sorted(),
            "attempt {attempt}: export is out of time order"
        );

        let sorted = trailpq_env(
            &[
                "query",
                path_str(&lake),
                "--sql",
                "SELECT request_parameters, event_id FROM cloudtrail ORDER BY request_parameters, event_id",
                "--format",
                "csv",
            ],
            &limit,
        )
        .expect(0);
        assert_eq!(
            sorted.stdout.lines().count(),
            1 + 20_000,
            "attempt {attempt}"
        );
    }
}

/// The SHA-256 of what a command writes to stdout, and its exit code and stderr.
fn output_digest(mut cmd: std::process::Command) -> (Run, String) {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let hasher = std::process::Command::new("sha256sum")
        .stdin(child.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    let digest = String::from_utf8(hasher.wait_with_output().unwrap().stdout).unwrap();
    (
        run,
        digest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    )
}

/// A sort and a window over a million rows, in a memory limit far below what they hold: every
/// run spills, and every run succeeds with the same rows, whatever the interleaving of the two
/// partitions (DataFusion's fair pool failed about one run in four of these).
#[test]
#[cfg(feature = "slow-tests")]
fn large_sorts_and_windows_succeed_on_every_run() {
    let lake = million_lake();
    let sort = "SELECT event_time, event_id, request_parameters FROM cloudtrail \
                ORDER BY request_parameters, event_id";
    // Copies of a row are equal in every column, so either order gives the same bytes.
    let window = "SELECT user_arn, event_time, row_number() OVER (PARTITION BY user_arn \
                  ORDER BY event_time, event_id) AS n, request_parameters FROM cloudtrail \
                  ORDER BY user_arn, event_time, event_id, n";
    let limit = "128MiB";
    let plan = query(
        lake,
        &[
            "--memory-limit",
            limit,
            "--sql",
            &format!("EXPLAIN ANALYZE {sort}"),
            "--format",
            "csv",
        ],
    )
    .expect(0);
    let spills: u64 = plan
        .stdout
        .split("spill_count=")
        .skip(1)
        .filter_map(|s| {
            s.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    assert!(spills > 0, "the sort does not spill: {}", plan.stdout);
    for sql in [sort, window] {
        let mut digests = std::collections::BTreeMap::new();
        for attempt in 0..20 {
            let cmd = command(&[
                "query",
                path_str(lake),
                "--memory-limit",
                limit,
                "--sql",
                sql,
                "--format",
                "csv",
            ]);
            let (run, digest) = output_digest(cmd);
            assert_eq!(
                run.code,
                Some(0),
                "attempt {attempt} of {sql}: {}",
                run.stderr
            );
            *digests.entry(digest).or_insert(0) += 1;
        }
        assert_eq!(digests.len(), 1, "{sql} gave different rows: {digests:?}");
    }
}

/// A query that cannot fit at all says so in one line and names the flag.
#[test]
fn a_query_that_cannot_fit_says_which_flag_gives_it_more() {
    let lake = queries_lake();
    let run = query(
        lake,
        &[
            "--memory-limit",
            "64KB",
            "--sql",
            "SELECT * FROM cloudtrail a JOIN cloudtrail b ON a.event_name <= b.event_name ORDER BY a.request_parameters",
        ],
    );
    let run = one_line_error(run, 1, "--memory-limit");
    assert!(run.stderr.contains("limit (62.50 KiB)"), "{}", run.stderr);
    assert!(!run.stderr.contains("ExternalSorter"), "{}", run.stderr);
    one_line_error(
        query(lake, &["--memory-limit", "lots", "--sql", "SELECT 1"]),
        2,
        "'lots' is not an amount of memory",
    );
}

#[test]
fn line_format_shows_one_value_per_line() {
    let lake = queries_lake();
    let got = query(
        lake,
        &[
            "--sql",
            "SELECT DISTINCT event_name, NULL AS nothing, '' AS empty FROM cloudtrail \
             WHERE event_name IN ('CreateUser', 'DeleteUser') ORDER BY event_name",
            "--format",
            "line",
        ],
    )
    .expect(0)
    .stdout;
    assert_eq!(
        got,
        "event_name = CreateUser\n   nothing = NULL\n     empty = \n\nevent_name = DeleteUser\n   nothing = NULL\n     empty = \n"
    );
}

#[test]
fn canned_queries_are_read_only_and_typed_sql_may_save_results() {
    let out = tempdir();
    let lake = queries_lake();
    let mine = out.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    let sneaky = out.path().join("sneaky.csv");
    std::fs::write(
        mine.join("sneaky.sql"),
        format!(
            "-- name: sneaky\n-- description: writes a file\nCOPY (SELECT 1 AS n) TO '{}'\n",
            path_str(&sneaky)
        ),
    )
    .unwrap();
    let run = query(lake, &["--queries", path_str(&mine), "--name", "sneaky"]);
    one_line_error(run, 1, "not supported");
    assert!(!sneaky.exists(), "a canned query wrote a file");
    // The same statement typed by the user saves the result.
    let saved = out.path().join("saved.csv");
    let copy = format!("COPY (SELECT 1 AS n) TO '{}'", path_str(&saved));
    query(lake, &["--sql", &copy]).expect(0);
    assert_eq!(std::fs::read_to_string(&saved).unwrap(), "n\n1\n");
}

#[test]
fn a_parameter_value_stays_a_value() {
    // The value of `contact` holds another placeholder; it must not be expanded into SQL.
    let shown = trailpq(&[
        "query",
        "--name",
        "connect-contact-attributes",
        "--param",
        "contact={{instance}}",
        "--param",
        "instance= OR 1=1 OR ",
        "--show-sql",
    ])
    .expect(0)
    .stdout;
    assert!(shown.contains("'{{instance}}'"), "{shown}");
    assert!(!shown.contains("'' OR 1=1 OR ''"), "{shown}");
}

#[test]
fn mistakes_are_one_clear_line() {
    let out = tempdir();
    let lake = queries_lake();
    one_line_error(query(lake, &["--sql", "SELEC 1"]), 1, "SELEC");
    one_line_error(
        query(lake, &["--sql", "SELECT nope FROM cloudtrail"]),
        1,
        "nope",
    );
    one_line_error(
        query(lake, &["--name", "no-such-query"]),
        2,
        "no canned query named 'no-such-query'",
    );
    one_line_error(
        query(lake, &["--name", "principal-timeline"]),
        2,
        "needs principal=VALUE",
    );
    one_line_error(
        query(lake, &["--name", "chime-errors", "--param", "x=1"]),
        2,
        "takes no parameters",
    );
    one_line_error(
        query(lake, &["--sql", "SELECT 1", "--param", "x=1"]),
        2,
        "use it with --name or --file",
    );
    one_line_error(
        query(lake, &["--name", "chime-errors", "--param", "novalue"]),
        2,
        "is not key=value",
    );
    one_line_error(query(lake, &[]), 2, "--sql");
    one_line_error(
        query(lake, &["--sql", "SELECT 1", "--since", "last tuesday"]),
        2,
        "is not a day",
    );
    one_line_error(
        trailpq(&[
            "query",
            path_str(&out.path().join("missing")),
            "--sql",
            "SELECT 1",
        ]),
        1,
        "holds no converted CloudTrail data",
    );
    one_line_error(trailpq(&["query", "--sql", "SELECT 1"]), 2, "<DATA>");
}

/// The security queries on generated data (Amazon Connect and Chime only): the ones about IAM,
/// KMS, EC2, CloudTrail, sign-ins, root and Insights find nothing, and the two that count every
/// service agree with a count over the records as JSON.
#[test]
fn security_queries_on_generated_data_match_an_independent_count() {
    use std::collections::BTreeMap;
    let out = tempdir();
    let input = generate(&out.path().join("in"), 3_000, 2, "2024-05-01", 5);
    let lake = out.path().join("lake");
    convert(&[&input], &lake, &["-q"]).0.expect(0);
    let records = crate::common::reference::records_under(&input);
    let rows = |name: &str| -> Vec<String> {
        query(&lake, &["--name", name, "--format", "csv"])
            .expect(0)
            .stdout
            .lines()
            .skip(1)
            .map(String::from)
            .collect()
    };
    for name in [
        "security-root-activity",
        "security-console-sign-ins-without-mfa",
        "security-failed-sign-ins-by-source",
        "security-iam-policy-changes",
        "security-new-access-keys",
        "security-trail-tampering",
        "security-kms-key-deletion",
        "security-security-groups-open-to-world",
        "security-insights",
    ] {
        assert_eq!(rows(name), Vec::<String>::new(), "{name}");
    }
    let text = |r: &serde_json::Value, k: &str| r[k].as_str().map(String::from);
    let mut denied: BTreeMap<String, u64> = BTreeMap::new();
    let mut regions: BTreeMap<String, u64> = BTreeMap::new();
    for r in &records {
        let code = text(r, "errorCode").unwrap_or_default();
        if [
            "AccessDenied",
            "UnauthorizedOperation",
            "UnauthorizedAccess",
        ]
        .iter()
        .any(|c| code.contains(c))
            || code == "NotAuthorized"
        {
            let principal = text(&r["userIdentity"], "arn")
                .or_else(|| text(&r["userIdentity"], "userName"))
                .or_else(|| text(&r["userIdentity"], "principalId"))
                .unwrap_or_default();
            let key = format!("{principal},{}", text(r, "eventSource").unwrap());
            *denied.entry(key).or_default() += 1;
        }
        if let Some(region) = text(r, "awsRegion") {
            *regions.entry(region).or_default() += 1;
        }
    }
    assert!(!denied.is_empty());
    let got: BTreeMap<String, u64> = rows("security-access-denied-by-principal")
        .iter()
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                format!("{},{}", fields[0], fields[1]),
                fields[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, denied);
    let got: BTreeMap<String, u64> = rows("security-unusual-regions")
        .iter()
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[0].to_string(), fields[1].parse().unwrap())
        })
        .collect();
    assert_eq!(got, regions);
}

/// The security queries on the shared corpus of real logs: each finds what a reading of the
/// source files (tests/data/real) by hand, and by a separate script, found there.
#[test]
fn security_queries_find_what_the_real_logs_hold() {
    let out = tempdir();
    let lake = out.path().join("lake");
    let (run, _) = convert(&[&repo().join("tests/data/real")], &lake, &["-q"]);
    assert!(matches!(run.code, Some(0) | Some(3)), "{}", run.stderr);
    for (name, row) in [
        // awsdocs/aws-kms-developer-guide.ndjson
        (
            "security-kms-key-deletion",
            "2014-11-04T00:52:43Z,DisableKey,arn:aws:iam::111122223333:user/Alice,us-east-1,success",
        ),
        // awsdocs: a trail that did not exist
        (
            "security-trail-tampering",
            "2016-07-14T19:15:45Z,UpdateTrail,arn:aws:iam::123456789012:user/Alice,205.251.233.182,us-east-2,failure,TrailNotFoundException",
        ),
        (
            "security-security-groups-open-to-world",
            "2020-04-30T04:40:52Z,AuthorizeSecurityGroupIngress,arn:aws:sts::112233445566:assumed-role/Operator/ryan@example.com,us-east-1,success",
        ),
        (
            "security-root-activity",
            "123456789012,ec2.amazonaws.com,TerminateInstances,success,1,1,2016-05-20T08:27:45Z",
        ),
        (
            "security-new-access-keys",
            "2020-11-01T08:37:03Z,CreateAccessKey,arn:aws:iam::493859302102:root",
        ),
        // awsdocs/aws-cloudtrail-user-guide.ndjson: the Insight's end
        (
            "security-insights",
            "2019-11-14T00:52:00Z,End,ApiCallRateInsight,ssm.amazonaws.com,UpdateInstanceInformation,,664.0,85.4202380952,1,",
        ),
        (
            "security-unusual-regions",
            "ap-east-1,1,1,1,2021-10-19T00:56:05Z",
        ),
    ] {
        let got = query(&lake, &["--name", name, "--format", "csv"])
            .expect(0)
            .stdout;
        assert!(got.contains(row), "{name} lacks {row}:\n{got}");
    }
}
