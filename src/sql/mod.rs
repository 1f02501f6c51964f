//! SQL over converted data (DataFusion): the session, the catalogue of canned queries, and
//! printing results.

pub mod catalog;
pub mod exec;
pub mod format;
pub mod memory;
pub mod pager;
pub mod session;
mod to_json;

pub use exec::exec_and_print;
pub use session::{Access, Dataset, Session, SessionOptions};

use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, TokenizerError};

/// Every statement of SQL text, the last one with or without its `;`.
pub fn statements(text: &str) -> Vec<String> {
    let (mut statements, rest) = split_statements(text);
    if !rest.trim().is_empty() {
        statements.push(rest.trim().to_string());
    }
    statements
}

/// Splits SQL text into statements at `;`, with sqlparser's tokenizer (the one DataFusion parses
/// with), so quotes of every kind, escapes and comments are minded. Each statement keeps its own
/// text, comments included. Returns the complete statements and what is left after the last `;`
/// (an unfinished statement, or nothing when only blanks and comments are left).
pub fn split_statements(text: &str) -> (Vec<String>, String) {
    if let Ok(tokens) = tokenize(text) {
        return split_tokens(text, &tokens);
    }
    // An unfinished quote or comment (someone still typing): the statements before the last `;`
    // that ends a well-formed prefix are complete.
    for (at, _) in text.match_indices(';').rev() {
        let head = &text[..=at];
        if let Ok(tokens) = tokenize(head) {
            let (statements, rest) = split_tokens(head, &tokens);
            if rest.is_empty() {
                return (statements, text[at + 1..].to_string());
            }
        }
    }
    (Vec::new(), text.to_string())
}

fn tokenize(text: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    Tokenizer::new(&GenericDialect {}, text).tokenize_with_location()
}

fn split_tokens(text: &str, tokens: &[TokenWithSpan]) -> (Vec<String>, String) {
    // Byte offset of each line's start: token locations are lines and columns (in characters).
    let lines: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |line: u64, column: u64| -> usize {
        let start = lines[(line as usize).saturating_sub(1).min(lines.len() - 1)];
        text[start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1))
            .map_or(text.len(), |(i, _)| start + i)
    };
    let mut statements = Vec::new();
    let (mut start, mut significant) = (0, false);
    for token in tokens {
        match token.token {
            Token::SemiColon => {
                let at = offset(token.span.start.line, token.span.start.column);
                if significant {
                    statements.push(text[start..at].trim().to_string());
                }
                (start, significant) = (at + 1, false);
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => significant = true,
        }
    }
    let rest = match significant {
        true => text[start..].to_string(),
        false => String::new(),
    };
    (statements, rest)
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        let (done, rest) =
            split_statements("SELECT ';' -- a; comment\n, 1; /* x; */ SELECT \"a;b\"; SELECT 2");
        assert_eq!(
            done,
            ["SELECT ';' -- a; comment\n, 1", "/* x; */ SELECT \"a;b\""]
        );
        assert_eq!(rest.trim(), "SELECT 2");
        assert_eq!(split_statements(";;").0, Vec::<String>::new());
    }

    #[test]
    fn quoting_the_hand_scanner_missed() {
        // Backslash escapes in E'' strings, doubled quotes, nested comments, dollar quoting.
        let text = "SELECT E'it\\'s; fine'; SELECT 'a'';b'; /* a /* b; */ c; */ SELECT 1; SELECT $$x;y$$; ";
        let (done, rest) = split_statements(text);
        assert_eq!(
            done,
            [
                "SELECT E'it\\'s; fine'",
                "SELECT 'a'';b'",
                "/* a /* b; */ c; */ SELECT 1",
                "SELECT $$x;y$$"
            ]
        );
        assert_eq!(rest, "");
        // Comments after the last statement are not a statement.
        assert_eq!(split_statements("SELECT 1; -- done\n").1, "");
    }

    #[test]
    fn unfinished_input_is_left_over() {
        let (done, rest) = split_statements("SELECT 1; SELECT 'still typing;");
        assert_eq!(done, ["SELECT 1"]);
        assert_eq!(rest, " SELECT 'still typing;");
        let (done, rest) = split_statements("SELECT 1; /* open comment; ");
        assert_eq!(done, ["SELECT 1"]);
        assert_eq!(rest, " /* open comment; ");
    }
}
