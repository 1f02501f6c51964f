//! `trailpq shell`: scripted through a pipe, and interactive through a real pseudo-terminal.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use crate::common::*;

/// Runs the shell with `input` on a pipe.
fn scripted(lake: &Path, input: &str) -> Run {
    let mut cmd = command(&["shell", path_str(lake)]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().into()
}

#[test]
fn the_shell_reads_statements_and_commands_from_a_pipe() {
    let lake = queries_lake();
    let script = "SELECT event_name, count(*) AS n\n  FROM cloudtrail\n  WHERE event_source = 'chime.amazonaws.com'\n  GROUP BY event_name ORDER BY n DESC, event_name LIMIT 2;\n\
                  .mode csv\n.run chime-errors\n.run principal-timeline principal=ConnectAdmin\n\
                  SELECT nope FROM cloudtrail;\n.frobnicate\n.tables\n.mode json\nSELECT 1 AS one;\n";
    let run = scripted(lake, script).expect(1);
    // A table, then CSV of a canned query, then a parameterised one.
    assert!(run.stdout.contains("| event_name    | n |\n+---------------+---+\n| AddDomain     | 1 |\n| CreateAccount | 1 |"), "{}", run.stdout);
    assert!(run.stdout.contains("ConflictException,chime.amazonaws.com,AddDomain,1,1,2024-06-03T15:10:00Z,2024-06-03T15:10:00Z\n"), "{}", run.stdout);
    assert_eq!(
        run.stdout.matches("192.0.2.10,Boto3").count(),
        13,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\ncloudtrail\n"), "{}", run.stdout);
    assert!(run.stdout.ends_with("[{\"one\":1}]\n"), "{}", run.stdout);
    // Errors are one line each, and the shell goes on; the exit code says something failed.
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 2, "{}", run.stderr);
    assert!(
        errors[0].starts_with("Error: ") && errors[0].contains("nope"),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors[1],
        "Error: unknown command .frobnicate; .help lists the commands"
    );
}

#[test]
fn output_files_and_row_limits() {
    let out = tempdir();
    let lake = queries_lake();
    let saved = out.path().join("errors.csv");
    let script = format!(
        ".mode csv\n.output {}\n.run chime-errors\n.output\nSELECT 'back on screen' AS s;\n.mode table\n.maxrows 1\n.run chime-errors\n",
        saved.display()
    );
    let run = scripted(lake, &script).expect(0);
    let file = std::fs::read_to_string(&saved).unwrap();
    assert!(
        file.starts_with("error_code,event_source,event_name") && file.lines().count() == 3,
        "{file}"
    );
    assert!(!run.stdout.contains("ConflictException,"), "{}", run.stdout);
    assert!(run.stdout.contains("s\nback on screen\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("| ConflictException |")
            && !run.stdout.contains("| NotFoundException |"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 more rows not shown"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_clean_script_exits_0_and_schema_describes_columns() {
    let lake = queries_lake();
    let run = scripted(lake, ".schema\n.queries\n").expect(0);
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("connect_instance_id") && l.contains("Amazon Connect instance")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("event_time") && l.contains("Timestamp(ms)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("| principal-timeline "),
        "{}",
        run.stdout
    );
}

#[test]
fn memory_is_shown_and_set_by_dot_memory_and_set() {
    let lake = queries_lake();
    let big = "SELECT * FROM cloudtrail a JOIN cloudtrail b ON a.event_name <= b.event_name ORDER BY a.request_parameters;";
    let script = format!(
        ".memory 2GiB\n.memory\nSET datafusion.runtime.memory_limit = '64K';\n.memory\n{big}\n.memory 1GiB\n.mode csv\nSELECT count(*) AS n FROM ({});\n",
        big.trim_end_matches(';')
    );
    let run = scripted(lake, &script).expect(1);
    assert!(
        run.stdout
            .contains("queries may use 2.00 GiB before they spill to disk"),
        "{}",
        run.stdout
    );
    // SET is honoured, and the session keeps its own pool with the new limit.
    assert!(
        run.stdout
            .contains("queries may use 64.00 KiB before they spill to disk"),
        "{}",
        run.stdout
    );
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 1, "{}", run.stderr);
    assert!(
        errors[0].contains("limit (64.00 KiB)") && errors[0].contains(".memory"),
        "{}",
        errors[0]
    );
    // With more memory, the same query runs.
    let pairs = run
        .stdout
        .rsplit_once("\nn\n")
        .map(|(_, n)| n.trim().parse::<u64>());
    assert!(matches!(pairs, Some(Ok(n)) if n > 41), "{}", run.stdout);
}

mod pty {
    use std::time::{Duration, Instant};

    use super::*;
    use rexpect::session::PtySession;

    /// Waits for the prompt, as a person would before typing.
    fn prompt(shell: &mut PtySession) {
        shell.exp_string("trailpq> ").unwrap();
    }

    /// Types keys without Enter (rexpect buffers them until flushed).
    /// Presses Ctrl-C, then waits up to half a second for `text`; again, for up to a minute.
    fn interrupt_until(shell: &mut PtySession, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        while Instant::now() < deadline {
            shell.send_control('c').unwrap();
            let press = Instant::now();
            while press.elapsed() < Duration::from_millis(500) {
                match shell.try_read() {
                    Some(c) => {
                        seen.push(c);
                        if seen.ends_with(text) {
                            return;
                        }
                    }
                    None => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }
        panic!("no {text:?} after Ctrl-C; the shell printed: {seen}");
    }

    fn keys(shell: &mut PtySession, text: &str) {
        shell.send(text).unwrap();
        shell.flush().unwrap();
    }

    fn spawn(lake: &Path, history: &Path) -> PtySession {
        let mut cmd = command(&["shell", path_str(lake)]);
        cmd.env("TRAILPQ_HISTORY", history).env("TERM", "xterm");
        rexpect::session::spawn_command(cmd, Some(60_000))
            .expect("the shell starts on a pseudo-terminal")
    }

    #[test]
    fn an_interactive_session() {
        let out = tempdir();
        let lake = queries_lake();
        let history = out.path().join("history");
        let mut shell = spawn(lake, &history);

        // The banner says what is loaded and how to get help.
        shell
            .exp_string("table cloudtrail holds 41 records from 2024-06-03 to 2024-06-04, 2 partitions (event_date) in 2 files")
            .unwrap();
        shell.exp_string(".help for help").unwrap();
        prompt(&mut shell);

        // A query, typed over two lines, gives a table.
        shell.send_line("SELECT count(*) AS records").unwrap();
        shell
            .send_line("FROM cloudtrail WHERE event_source LIKE 'chime%';")
            .unwrap();
        shell.exp_string("| records |").unwrap();
        shell.exp_string("| 9       |").unwrap();

        // A canned query.
        prompt(&mut shell);
        shell.send_line(".run connect-console-sign-ins").unwrap();
        shell
            .exp_string("AWSServiceRoleForAmazonConnect_abc/agent-1")
            .unwrap();

        // An error is one line and the shell goes on.
        prompt(&mut shell);
        shell.send_line("SELECT nope FROM cloudtrail;").unwrap();
        shell.exp_string("Error: ").unwrap();
        shell.exp_string("nope").unwrap();

        // Ctrl-C cancels a running query, not the shell.
        prompt(&mut shell);
        shell
            .send_line("SELECT sum(value) FROM range(100000000000);")
            .unwrap();
        // The line editor hands the line over (its echo ends) before the query starts; a Ctrl-C
        // that lands between the two is lost, so press it until the shell says it cancelled.
        shell.exp_string("range(100000000000);").unwrap();
        interrupt_until(&mut shell, "Query cancelled.");
        prompt(&mut shell);
        shell.send_line("SELECT 40 + 2 AS answer;").unwrap();
        shell.exp_string("| 42     |").unwrap();

        // Tab completes commands.
        prompt(&mut shell);
        keys(&mut shell, ".tim\t");
        shell.exp_string(".timer").unwrap();
        keys(&mut shell, " on\r");
        prompt(&mut shell);
        shell.send_line("SELECT 1 AS x;").unwrap();
        shell.exp_string("1 row in").unwrap();

        prompt(&mut shell);
        shell.send_line(".quit").unwrap();
        shell.exp_eof().unwrap();

        // The history file holds what was typed.
        let saved = std::fs::read_to_string(&history).unwrap();
        assert!(saved.contains("SELECT 40 + 2 AS answer;"), "{saved}");
        assert!(saved.contains(".run connect-console-sign-ins"), "{saved}");
    }

    #[test]
    fn tables_fit_the_terminal_line_mode_shows_every_value_and_long_results_are_paged() {
        let out = tempdir();
        let lake = queries_lake();
        let mut cmd = command(&["shell", path_str(lake)]);
        cmd.env("TRAILPQ_HISTORY", out.path().join("history"))
            .env("TERM", "xterm")
            .env("COLUMNS", "100")
            .env("LINES", "12")
            .env("TRAILPQ_PAGER", "sed s/^/PAGED:/");
        let mut shell = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
        prompt(&mut shell);
        shell
            .send_line("SELECT * FROM cloudtrail ORDER BY event_time LIMIT 2;")
            .unwrap();
        let before = shell.exp_string("not shown;").unwrap();
        // rexpect hands over bytes as Latin-1 characters: back to UTF-8.
        let before = String::from_utf8(before.chars().map(|c| c as u8).collect()).unwrap();
        let table: Vec<&str> = before
            .lines()
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| l.starts_with('+') || l.starts_with('|'))
            .collect();
        assert_eq!(table.len(), 6, "{before}");
        for line in &table {
            assert!(
                line.chars().count() <= 100,
                "wider than the terminal: {line}"
            );
        }
        assert!(
            table[1].starts_with("| event_version ") && table[1].contains("| … |"),
            "{before}"
        );
        // The stored columns and the event_date partition.
        let columns = trailpq::schema::COLUMNS.len() + 1;
        assert!(
            before.contains(&format!("2 rows, {columns} columns, ")),
            "{before}"
        );
        prompt(&mut shell);
        shell.send_line(".mode line").unwrap();
        prompt(&mut shell);
        shell
            .send_line("SELECT 'CreateUser' AS event_name, NULL AS error_code, '' AS note;")
            .unwrap();
        shell
            .exp_string("event_name = CreateUser\r\nerror_code = NULL\r\n      note = \r\n")
            .unwrap();
        // Longer than the screen: through the pager; with .pager off, straight out.
        prompt(&mut shell);
        shell.send_line(".mode table").unwrap();
        prompt(&mut shell);
        shell
            .send_line("SELECT 'paged' AS w FROM cloudtrail;")
            .unwrap();
        shell.exp_string("PAGED:| paged |").unwrap();
        prompt(&mut shell);
        shell.send_line(".pager off").unwrap();
        prompt(&mut shell);
        shell
            .send_line("SELECT 'unpaged' AS w FROM cloudtrail;")
            .unwrap();
        shell.exp_string("\n| unpaged |").unwrap();
        prompt(&mut shell);
        shell.send_line(".quit").unwrap();
        shell.exp_eof().unwrap();
    }

    /// The pid of the shell started on `lake` by this test process.
    fn shell_pid(lake: &Path) -> u32 {
        let me = std::process::id().to_string();
        let needle = path_str(lake);
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                let parent = stat
                    .rsplit(')')
                    .next()
                    .and_then(|s| s.split_whitespace().nth(1));
                // The shell, not a `query` of the same lake that a test running beside this one
                // started (and that may be gone by the time its memory is read).
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                let args: Vec<&str> = cmdline.split('\0').collect();
                parent == Some(me.as_str())
                    && args.get(1) == Some(&"shell")
                    && args.contains(&needle)
            })
            .expect("the shell's process")
    }

    /// `SELECT *` over a million rows shows its first rows and counts the rest as they stream
    /// by: the shell holds a screenful, not the result. `query` streams the same result; both
    /// stay under half of the result's size as CSV text.
    #[test]
    #[cfg(feature = "slow-tests")]
    fn a_large_result_is_shown_without_holding_it() {
        let lake = million_lake();
        let (run, bytes, query_peak) = run_measured(command(&[
            "query",
            path_str(lake),
            "--sql",
            "SELECT * FROM cloudtrail",
            "--format",
            "csv",
        ]));
        run.expect(0);
        let rows = 1_000_000u64;
        assert!(bytes > rows * 500, "{bytes} bytes of CSV for {rows} rows");
        let bound = bytes / 2;
        assert!(
            query_peak < bound,
            "query peaked at {} MB for a result of {} MB",
            query_peak >> 20,
            bytes >> 20
        );

        let out = tempdir();
        let mut cmd = command(&["shell", path_str(lake)]);
        cmd.env("TRAILPQ_HISTORY", out.path().join("history"))
            .env("TERM", "xterm")
            .env("COLUMNS", "160")
            .env("LINES", "60")
            .env("TRAILPQ_PAGER", "");
        let mut shell = rexpect::session::spawn_command(cmd, Some(300_000)).unwrap();
        prompt(&mut shell);
        let pid = shell_pid(lake);
        shell.send_line("SELECT * FROM cloudtrail;").unwrap();
        shell.exp_string("999960 more rows not shown").unwrap();
        prompt(&mut shell);
        let shell_peak = peak_rss(pid);
        assert!(
            shell_peak < bound,
            "the shell peaked at {} MB for a result of {} MB",
            shell_peak >> 20,
            bytes >> 20
        );
        shell.send_line(".quit").unwrap();
        shell.exp_eof().unwrap();
    }

    #[test]
    fn ctrl_d_leaves() {
        let out = tempdir();
        let lake = queries_lake();
        let mut shell = spawn(lake, &out.path().join("history"));
        prompt(&mut shell);
        shell.send_control('d').unwrap();
        shell.exp_eof().unwrap();
    }
}
