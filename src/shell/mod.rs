//! The interactive SQL shell.
//!
//! On a terminal: a line editor with history (Ctrl-R), completion (Tab), statements over several
//! lines ended by `;`, Ctrl-C to cancel a query or clear the line, Ctrl-D to leave. With stdin
//! not a terminal, the same statements and dot commands are read from it, so the shell can be
//! scripted: `echo 'SELECT count(*) FROM cloudtrail;' | trailpq shell DATA`.

pub mod command;
pub mod exec;
pub mod helper;

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Config, Editor};

use crate::error::{Error, Result};
use crate::report::plural;
use crate::schema;
use crate::sql::catalog::Catalog;
use crate::sql::format::Format;
use crate::sql::session::TABLE;
use crate::sql::{Session, SessionOptions, split_statements, statements};
use exec::{Flow, Shell};
use helper::ShellHelper;

const PROMPT: &str = "trailpq> ";

/// What `trailpq shell` opens.
#[derive(Debug, Clone, Default)]
pub struct ShellOptions {
    /// Converted data; `None`: the current folder if a convert wrote there, else nothing.
    pub data: Option<String>,
    pub session: SessionOptions,
}

/// Runs `trailpq shell`. Returns the exit code: 0, or 1 when a scripted statement failed.
pub fn run(options: ShellOptions, runtime: &tokio::runtime::Runtime) -> Result<u8> {
    let ShellOptions {
        data,
        session: options,
    } = options;
    // Without DATA, the current folder if a convert wrote there.
    let data = data.or_else(|| {
        std::path::Path::new("cloudtrail")
            .is_dir()
            .then(|| ".".to_string())
    });
    let session = match &data {
        Some(data) => {
            let catalog = Catalog::with_dir(options.queries.as_deref())?;
            Some(runtime.block_on(Session::open(data, &options, catalog))?)
        }
        None => None,
    };
    let interactive = std::io::stdin().is_terminal();
    let mut shell = Shell {
        session,
        runtime: runtime.handle().clone(),
        format: Format::Table,
        timer: false,
        max_rows: interactive.then_some(40),
        max_width: None,
        pager: interactive,
        output: None,
    };
    if interactive {
        eprintln!("{}", banner(&shell, data.as_deref()));
        interactive_loop(&mut shell)
    } else {
        Ok(scripted_loop(&mut shell, std::io::stdin().lock()))
    }
}

/// What is loaded and how to get help.
fn banner(shell: &Shell, data: Option<&str>) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let Some(session) = &shell.session else {
        return format!(
            "trailpq {version}: no data loaded (start with: trailpq shell DATA). .help for help, .quit to leave."
        );
    };
    let summary = shell.runtime.block_on(async {
        let sql = format!("SELECT count(*), min(event_time), max(event_time) FROM {TABLE}");
        let (_, batches) = session
            .collect(&sql, crate::sql::Access::ReadOnly)
            .await
            .ok()?;
        let batch = batches.first()?;
        let cell = |i: usize| arrow::util::display::array_value_to_string(batch.column(i), 0).ok();
        Some((cell(0)?, cell(1)?, cell(2)?))
    });
    let layout = shell.runtime.block_on(session.dataset.layout()).ok();
    let partitions = match layout {
        Some((files, folders)) => format!(
            "{folders} partition{} ({}) in {files} file{}",
            plural(folders as u64),
            session.dataset.partition_by.join(", "),
            plural(files as u64)
        ),
        None => session.dataset.partition_by.join(", "),
    };
    let loaded = match summary {
        Some((rows, first, last)) if rows != "0" => format!(
            "{} records from {} to {}",
            crate::report::thousands(rows.parse().unwrap_or(0)),
            first.get(..10).unwrap_or(&first),
            last.get(..10).unwrap_or(&last)
        ),
        _ => "no records".to_string(),
    };
    format!(
        "trailpq {version}: table {TABLE} holds {loaded}, {partitions}, from {}.\n\
         End statements with ';'. .help for help, .queries for the canned queries, .quit to leave.",
        data.unwrap_or(".")
    )
}

fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TRAILPQ_HISTORY") {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".trailpq_history"))
}

fn interactive_loop(shell: &mut Shell) -> Result<u8> {
    let config = Config::builder()
        .max_history_size(10_000)
        .map_err(|e| Error::Failed(e.to_string()))?
        .auto_add_history(false)
        .build();
    let mut editor: Editor<ShellHelper, DefaultHistory> = Editor::with_config(config)
        .map_err(|e| Error::Failed(format!("cannot start the line editor: {e}")))?;
    let mut columns: Vec<String> = schema::column_docs()
        .iter()
        .map(|d| d.name.to_string())
        .collect();
    columns.sort();
    editor.set_helper(Some(ShellHelper {
        tables: shell.tables(),
        columns,
        queries: shell
            .session
            .as_ref()
            .map(|s| s.catalog.iter().map(|q| q.name.clone()).collect())
            .unwrap_or_default(),
    }));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    loop {
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            // Ctrl-C on the prompt clears the line; Ctrl-D leaves.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Failed(format!("cannot read the input: {e}"))),
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line);
        if let Some(path) = &history {
            let _ = editor.append_history(path);
        }
        if handle(shell, line) == Flow::Quit {
            break;
        }
    }
    Ok(0)
}

/// Runs one complete input: a dot command, or SQL statements. Errors are one line; the shell
/// goes on.
fn handle(shell: &mut Shell, input: &str) -> Flow {
    if input.starts_with('.') {
        return match shell.command(input) {
            Ok(flow) => flow,
            Err(e) => {
                eprintln!("Error: {e}");
                Flow::Continue
            }
        };
    }
    for statement in statements(input) {
        if let Err(e) = shell.sql(&statement) {
            eprintln!("Error: {e}");
            return Flow::Continue;
        }
    }
    Flow::Continue
}

/// Reads statements and dot commands from a pipe. Returns 1 if any failed.
fn scripted_loop(shell: &mut Shell, input: impl BufRead) -> u8 {
    let mut failed = false;
    let mut pending = String::new();
    let mut run = |shell: &mut Shell, text: &str| -> Flow {
        let result = if text.starts_with('.') {
            shell.command(text)
        } else {
            shell.sql(text).map(|()| Flow::Continue)
        };
        match result {
            Ok(flow) => flow,
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
                Flow::Continue
            }
        }
    };
    for line in input.lines() {
        let Ok(line) = line else { break };
        if pending.trim().is_empty() && line.trim_start().starts_with('.') {
            if run(shell, line.trim()) == Flow::Quit {
                return u8::from(failed);
            }
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        let (statements, rest) = split_statements(&pending);
        for statement in statements {
            if run(shell, &statement) == Flow::Quit {
                return u8::from(failed);
            }
        }
        pending = rest;
    }
    if !pending.trim().is_empty() {
        let statement = pending.trim().to_string();
        run(shell, &statement);
    }
    u8::from(failed)
}
