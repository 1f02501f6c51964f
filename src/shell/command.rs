//! The shell's dot commands.

use std::path::PathBuf;

use crate::sql::catalog::parse_assignment;
use crate::sql::format::Format;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Tables,
    Schema(Option<String>),
    Queries,
    Run {
        name: String,
        params: Vec<(String, String)>,
    },
    Mode(Format),
    Timer(bool),
    MaxRows(Option<usize>),
    /// `None`: the terminal's width; `Some(0)`: no limit.
    MaxWidth(Option<usize>),
    Pager(bool),
    Output(Option<PathBuf>),
    /// Show (`None`) or set the memory queries may use before spilling.
    Memory(Option<usize>),
    Quit,
}

/// Every command, with its arguments and what it does (for `.help` and completion).
pub const COMMANDS: &[(&str, &str, &str)] = &[
    (".help", "", "show this help"),
    (".tables", "", "list the tables"),
    (
        ".schema",
        "[TABLE]",
        "show a table's columns (cloudtrail: with types and meanings)",
    ),
    (".queries", "", "list the canned queries"),
    (".run", "NAME [key=value ...]", "run a canned query"),
    (
        ".mode",
        "FORMAT",
        "how results are printed (table, csv, json, ndjson, markdown, line)",
    ),
    (".timer", "on|off", "show how long each query takes"),
    (
        ".maxrows",
        "N",
        "show at most N rows in table mode (0: all)",
    ),
    (
        ".maxwidth",
        "[N]",
        "fit tables to N columns of text (0: no limit; none: the terminal)",
    ),
    (
        ".pager",
        "on|off",
        "results longer than the screen through $PAGER (less -S)",
    ),
    (
        ".output",
        "[FILE]",
        "send results to FILE; without FILE, back to the screen",
    ),
    (
        ".memory",
        "[SIZE]",
        "memory a query may use before it spills to disk (512MB, 4GiB); none: show it",
    ),
    (".quit", "", "leave the shell (also .exit and Ctrl-D)"),
];

/// The text of `.help`.
pub fn help() -> String {
    let mut out = String::from(
        "SQL statements end with ';' and may span lines. The table is cloudtrail; JSON columns work with\n\
         json_get_str(request_parameters, 'InstanceId') or request_parameters ->> 'InstanceId'.\n\
         Ctrl-C cancels a running query, Ctrl-R searches the history, Tab completes.\n\n",
    );
    for (name, args, what) in COMMANDS {
        out.push_str(&format!("  {:<40} {what}\n", format!("{name} {args}")));
    }
    out
}

/// Parses a line that starts with `.`.
pub fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let none = |command: Command| match args.is_empty() {
        true => Ok(command),
        false => Err(format!("{name} takes no arguments")),
    };
    match name {
        ".help" | ".h" | ".?" => none(Command::Help),
        ".tables" => none(Command::Tables),
        ".schema" => match args[..] {
            [] => Ok(Command::Schema(None)),
            [table] => Ok(Command::Schema(Some(table.to_string()))),
            _ => Err(".schema takes at most one table name".into()),
        },
        ".queries" => none(Command::Queries),
        ".run" => {
            let (query, rest) = args
                .split_first()
                .ok_or(".run needs a query name; .queries lists them")?;
            let params = rest
                .iter()
                .map(|a| parse_assignment(a))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Command::Run {
                name: query.to_string(),
                params,
            })
        }
        ".memory" => match args[..] {
            [] => Ok(Command::Memory(None)),
            [size] => crate::convert::parse_size(size)
                .filter(|&n| n > 0)
                .map(|n| Command::Memory(Some(n as usize)))
                .ok_or_else(|| format!("'{size}' is not an amount of memory: write 512MB or 4GiB")),
            _ => Err(".memory takes one size, such as 4GiB".into()),
        },
        ".mode" => match args[..] {
            [mode] => Format::parse(mode).map(Command::Mode).ok_or_else(|| {
                format!(
                    "unknown mode '{mode}'; choose {}",
                    Format::names().join(", ")
                )
            }),
            _ => Err(format!(".mode needs one of {}", Format::names().join(", "))),
        },
        ".timer" => match args[..] {
            ["on"] => Ok(Command::Timer(true)),
            ["off"] => Ok(Command::Timer(false)),
            _ => Err(".timer needs on or off".into()),
        },
        ".maxrows" => match args[..] {
            [n] => n
                .parse::<usize>()
                .map(|n| Command::MaxRows((n > 0).then_some(n)))
                .map_err(|_| format!("'{n}' is not a number of rows")),
            _ => Err(".maxrows needs a number (0: all rows)".into()),
        },
        ".maxwidth" => match args[..] {
            [] => Ok(Command::MaxWidth(None)),
            [n] => n
                .parse::<usize>()
                .map(|n| Command::MaxWidth(Some(n)))
                .map_err(|_| format!("'{n}' is not a width in characters")),
            _ => Err(".maxwidth takes a width (0: no limit; nothing: the terminal's)".into()),
        },
        ".pager" => match args[..] {
            ["on"] => Ok(Command::Pager(true)),
            ["off"] => Ok(Command::Pager(false)),
            _ => Err(".pager needs on or off".into()),
        },
        ".output" => match args[..] {
            [] => Ok(Command::Output(None)),
            [file] => Ok(Command::Output(Some(PathBuf::from(file)))),
            _ => Err(".output takes one file name".into()),
        },
        ".quit" | ".exit" | ".q" => none(Command::Quit),
        other => Err(format!("unknown command {other}; .help lists the commands")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse(".schema cloudtrail"),
            Ok(Command::Schema(Some("cloudtrail".into())))
        );
        assert_eq!(
            parse(".run principal-timeline principal=alice"),
            Ok(Command::Run {
                name: "principal-timeline".into(),
                params: vec![("principal".into(), "alice".into())]
            })
        );
        assert_eq!(parse(".mode csv"), Ok(Command::Mode(Format::Csv)));
        assert_eq!(parse(".maxrows 0"), Ok(Command::MaxRows(None)));
        assert_eq!(parse(".maxwidth 0"), Ok(Command::MaxWidth(Some(0))));
        assert_eq!(parse(".maxwidth"), Ok(Command::MaxWidth(None)));
        assert_eq!(parse(".pager off"), Ok(Command::Pager(false)));
        assert_eq!(parse(".mode line"), Ok(Command::Mode(Format::Line)));
        assert!(parse(".mode xml").unwrap_err().contains("markdown, line"));
        assert_eq!(parse(".output"), Ok(Command::Output(None)));
        assert_eq!(parse(".exit"), Ok(Command::Quit));
        assert!(
            parse(".frob")
                .unwrap_err()
                .contains("unknown command .frob")
        );
        assert!(
            parse(".mode xml")
                .unwrap_err()
                .contains("unknown mode 'xml'")
        );
        assert!(parse(".run").unwrap_err().contains("needs a query name"));
        assert!(parse(".run q oops").unwrap_err().contains("not key=value"));
        assert!(
            parse(".tables x")
                .unwrap_err()
                .contains("takes no arguments")
        );
    }
}
