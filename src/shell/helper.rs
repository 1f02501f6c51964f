//! The line editor's helper: completion of commands, tables, columns and query names, and
//! multi-line input that ends at `;`.

use rustyline::completion::{Completer, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::command::COMMANDS;
use crate::sql::format::Format;
use crate::sql::split_statements;

const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP BY",
    "ORDER BY",
    "HAVING",
    "LIMIT",
    "DISTINCT",
    "COUNT",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "ILIKE",
    "IN",
    "IS NULL",
    "IS NOT NULL",
    "BETWEEN",
    "AS",
    "JOIN",
    "ON",
    "WITH",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "ASC",
    "DESC",
    "NULLS LAST",
    "DATE",
    "TIMESTAMP",
    "INTERVAL",
    "date_trunc",
    "json_get_str",
    "min",
    "max",
    "sum",
    "avg",
    "EXPLAIN",
    "DESCRIBE",
];

/// What the shell can complete.
#[derive(Default)]
pub struct ShellHelper {
    pub tables: Vec<String>,
    pub columns: Vec<String>,
    pub queries: Vec<String>,
}

impl ShellHelper {
    fn candidates(&self, line: &str, word: &str) -> Vec<String> {
        let first = line.split_whitespace().next().unwrap_or_default();
        let arguments = line.contains(char::is_whitespace);
        let list: Vec<&str> = match (first, arguments) {
            (f, false) if f.starts_with('.') => COMMANDS.iter().map(|(name, _, _)| *name).collect(),
            (".run", true) => self.queries.iter().map(String::as_str).collect(),
            (".schema", true) => self.tables.iter().map(String::as_str).collect(),
            (".mode", true) => Format::names(),
            (".timer" | ".pager", true) => vec!["on", "off"],
            (f, _) if f.starts_with('.') => Vec::new(),
            _ => self
                .tables
                .iter()
                .chain(&self.columns)
                .map(String::as_str)
                .chain(KEYWORDS.iter().copied())
                .collect(),
        };
        let lower = word.to_ascii_lowercase();
        // An empty word lists a command's choices, but not every column and keyword.
        let wanted = |c: &&str| match word.is_empty() {
            true => first.starts_with('.'),
            false => c.to_ascii_lowercase().starts_with(&lower),
        };
        let mut found: Vec<String> = list
            .into_iter()
            .filter(wanted)
            .map(|c| {
                // Keywords follow the case the user started typing in.
                match word.chars().next() {
                    Some(ch) if ch.is_ascii_lowercase() && KEYWORDS.contains(&c) => {
                        c.to_ascii_lowercase()
                    }
                    _ => c.to_string(),
                }
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == '-'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        let pairs = self
            .candidates(before, word)
            .into_iter()
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Validator for ShellHelper {
    /// A line is complete when it is a dot command, or its SQL ends with `;`.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.trim_start().starts_with('.') || input.trim().is_empty() {
            return Ok(ValidationResult::Valid(None));
        }
        let (_, rest) = split_statements(input);
        Ok(match rest.trim().is_empty() {
            true => ValidationResult::Valid(None),
            false => ValidationResult::Incomplete,
        })
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Helper for ShellHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> ShellHelper {
        ShellHelper {
            tables: vec!["cloudtrail".into()],
            columns: vec![
                "event_name".into(),
                "event_time".into(),
                "error_code".into(),
            ],
            queries: vec!["chime-errors".into(), "connect-errors".into()],
        }
    }

    #[test]
    fn completes_commands_queries_tables_and_columns() {
        let h = helper();
        assert_eq!(h.candidates(".qu", ".qu"), [".queries", ".quit"]);
        assert_eq!(h.candidates(".run ch", "ch"), ["chime-errors"]);
        assert_eq!(h.candidates(".mode c", "c"), ["csv"]);
        assert_eq!(h.candidates("SELECT event_t", "event_t"), ["event_time"]);
        assert_eq!(h.candidates("select * fr", "fr"), ["from"]);
        assert_eq!(h.candidates("SELECT * FROM cl", "cl"), ["cloudtrail"]);
    }
}
