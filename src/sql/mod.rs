//! SQL over converted data (DataFusion): the session, the catalogue of canned queries, and
//! printing results.

pub mod catalog;
pub mod format;
pub mod session;

pub use session::{Dataset, Session, SessionOptions};

/// Every statement of SQL text, the last one with or without its `;`.
pub fn statements(text: &str) -> Vec<String> {
    let (mut statements, rest) = split_statements(text);
    if !rest.trim().is_empty() {
        statements.push(rest.trim().to_string());
    }
    statements
}

/// Splits SQL text into statements at `;`, minding quotes and comments. Returns the complete
/// statements and what is left after the last `;` (an unfinished statement, or blanks).
pub fn split_statements(text: &str) -> (Vec<String>, String) {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    current.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    // A comment to the end of the line.
                    for c in chars.by_ref() {
                        if c == '\n' {
                            current.push('\n');
                            break;
                        }
                    }
                }
                '/' if chars.peek() == Some(&'*') => {
                    chars.next();
                    let mut last = ' ';
                    for c in chars.by_ref() {
                        if last == '*' && c == '/' {
                            break;
                        }
                        last = c;
                    }
                    current.push(' ');
                }
                ';' => {
                    let statement = current.trim();
                    if !statement.is_empty() {
                        statements.push(statement.to_string());
                    }
                    current.clear();
                }
                _ => current.push(c),
            },
        }
    }
    (statements, current)
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        let (done, rest) =
            split_statements("SELECT ';' -- a; comment\n, 1; /* x; */ SELECT \"a;b\"; SELECT 2");
        assert_eq!(done, ["SELECT ';' \n, 1", "SELECT \"a;b\""]);
        assert_eq!(rest.trim(), "SELECT 2");
        assert_eq!(split_statements(";;").0, Vec::<String>::new());
    }
}
