//! The catalogue of canned queries: `queries/*.sql`, compiled in, plus the user's own.
//!
//! Each file is one query under a header of SQL comments:
//!
//! ```sql
//! -- group: general
//! -- name: principal-timeline
//! -- description: Everything one principal did, in order
//! -- param: principal | ARN, user name or principal id (required: no default)
//! -- param: instance = | only this Connect instance id (default: empty, every instance)
//! SELECT … WHERE user_arn = {{principal}} …
//! ```
//!
//! `group` (optional) is the heading `query --list` shows the query under; without it, the
//! name's first word when it is `connect`, `chime` or `security`, else `general`.
//! `{{name}}` is replaced by the parameter's value as a SQL string literal, so a value can never
//! change the statement. The queries are plain SQL over plain columns and run unchanged in DuckDB.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The built-in queries, in catalogue order. A test checks that every file of queries/ is here.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "connect-user-lifecycle.sql",
        include_str!("../../queries/connect-user-lifecycle.sql"),
    ),
    (
        "connect-user-permission-changes.sql",
        include_str!("../../queries/connect-user-permission-changes.sql"),
    ),
    (
        "connect-routing-profile-changes.sql",
        include_str!("../../queries/connect-routing-profile-changes.sql"),
    ),
    (
        "connect-contact-flow-changes.sql",
        include_str!("../../queries/connect-contact-flow-changes.sql"),
    ),
    (
        "connect-outbound-calls.sql",
        include_str!("../../queries/connect-outbound-calls.sql"),
    ),
    (
        "connect-chat-activity.sql",
        include_str!("../../queries/connect-chat-activity.sql"),
    ),
    (
        "connect-contact-attributes.sql",
        include_str!("../../queries/connect-contact-attributes.sql"),
    ),
    (
        "connect-console-sign-ins.sql",
        include_str!("../../queries/connect-console-sign-ins.sql"),
    ),
    (
        "connect-redacted-reads.sql",
        include_str!("../../queries/connect-redacted-reads.sql"),
    ),
    (
        "connect-tag-changes.sql",
        include_str!("../../queries/connect-tag-changes.sql"),
    ),
    (
        "connect-errors.sql",
        include_str!("../../queries/connect-errors.sql"),
    ),
    (
        "connect-activity-by-instance.sql",
        include_str!("../../queries/connect-activity-by-instance.sql"),
    ),
    (
        "chime-admin.sql",
        include_str!("../../queries/chime-admin.sql"),
    ),
    (
        "chime-errors.sql",
        include_str!("../../queries/chime-errors.sql"),
    ),
    (
        "chime-meetings-and-voice.sql",
        include_str!("../../queries/chime-meetings-and-voice.sql"),
    ),
    (
        "security-root-activity.sql",
        include_str!("../../queries/security-root-activity.sql"),
    ),
    (
        "security-console-sign-ins-without-mfa.sql",
        include_str!("../../queries/security-console-sign-ins-without-mfa.sql"),
    ),
    (
        "security-failed-sign-ins-by-source.sql",
        include_str!("../../queries/security-failed-sign-ins-by-source.sql"),
    ),
    (
        "security-access-denied-by-principal.sql",
        include_str!("../../queries/security-access-denied-by-principal.sql"),
    ),
    (
        "security-iam-policy-changes.sql",
        include_str!("../../queries/security-iam-policy-changes.sql"),
    ),
    (
        "security-new-access-keys.sql",
        include_str!("../../queries/security-new-access-keys.sql"),
    ),
    (
        "security-trail-tampering.sql",
        include_str!("../../queries/security-trail-tampering.sql"),
    ),
    (
        "security-kms-key-deletion.sql",
        include_str!("../../queries/security-kms-key-deletion.sql"),
    ),
    (
        "security-security-groups-open-to-world.sql",
        include_str!("../../queries/security-security-groups-open-to-world.sql"),
    ),
    (
        "security-unusual-regions.sql",
        include_str!("../../queries/security-unusual-regions.sql"),
    ),
    (
        "security-insights.sql",
        include_str!("../../queries/security-insights.sql"),
    ),
    (
        "principal-timeline.sql",
        include_str!("../../queries/principal-timeline.sql"),
    ),
    (
        "callers-by-ip-and-agent.sql",
        include_str!("../../queries/callers-by-ip-and-agent.sql"),
    ),
];

/// A parameter of a canned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    /// `None`: the parameter is required.
    pub default: Option<String>,
    pub description: String,
}

/// A canned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub name: String,
    /// The heading `query --list` shows it under.
    pub group: String,
    pub description: String,
    pub params: Vec<Param>,
    /// The SQL with `{{param}}` placeholders.
    pub sql: String,
    /// Where it came from: `built-in` or a file path.
    pub origin: String,
}

impl Query {
    /// Parses one query file.
    pub fn parse(text: &str, origin: &str) -> std::result::Result<Self, String> {
        let mut name = None;
        let mut group = None;
        let mut description = None;
        let mut params = Vec::new();
        let mut body = Vec::new();
        let mut in_header = true;
        for line in text.lines() {
            let header = line
                .trim()
                .strip_prefix("--")
                .map(str::trim)
                .filter(|_| in_header);
            let Some(header) = header else {
                if !line.trim().is_empty() {
                    in_header = false;
                }
                if !in_header {
                    body.push(line);
                }
                continue;
            };
            if let Some(value) = header.strip_prefix("name:") {
                name = Some(value.trim().to_string());
            } else if let Some(value) = header.strip_prefix("group:") {
                group = Some(value.trim().to_string()).filter(|g| !g.is_empty());
            } else if let Some(value) = header.strip_prefix("description:") {
                description = Some(value.trim().to_string());
            } else if let Some(value) = header.strip_prefix("param:") {
                params.push(parse_param(value).map_err(|e| format!("{origin}: {e}"))?);
            }
        }
        let name = name.ok_or_else(|| format!("{origin}: no '-- name:' line in the header"))?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "{origin}: query name '{name}' should be letters, digits, '-' and '_'"
            ));
        }
        let sql = body
            .join("\n")
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string();
        let group = group.unwrap_or_else(|| {
            let first = name.split(['-', '_']).next().unwrap_or_default();
            match ["connect", "chime", "security"].contains(&first) {
                true => first.to_string(),
                false => "general".to_string(),
            }
        });
        let query = Query {
            name,
            group,
            description: description.unwrap_or_default(),
            params,
            sql,
            origin: origin.to_string(),
        };
        for placeholder in placeholders(&query.sql) {
            if !query.params.iter().any(|p| p.name == placeholder) {
                return Err(format!(
                    "{origin}: {{{{{placeholder}}}}} is used but not declared with '-- param:'"
                ));
            }
        }
        Ok(query)
    }

    /// The SQL with parameters filled in from `given` (name → value) and the defaults.
    pub fn bind(&self, given: &[(String, String)]) -> Result<String> {
        for (name, _) in given {
            if !self.params.iter().any(|p| &p.name == name) {
                let known: Vec<&str> = self.params.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::Usage(match known.is_empty() {
                    true => format!("query {} takes no parameters, but got '{name}'", self.name),
                    false => format!(
                        "query {} has no parameter '{name}'; it takes {}",
                        self.name,
                        known.join(", ")
                    ),
                }));
            }
        }
        let mut values = std::collections::HashMap::new();
        for param in &self.params {
            let value = given
                .iter()
                .rev()
                .find(|(name, _)| name == &param.name)
                .map(|(_, v)| v.clone())
                .or_else(|| param.default.clone())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "query {} needs {}=VALUE ({}): give --param {1}=VALUE, or {1}=VALUE after .run in the shell",
                        self.name, param.name, param.description
                    ))
                })?;
            values.insert(param.name.as_str(), sql_string(&value));
        }
        // One pass over the query's own text: a value is never scanned again, so a value that
        // holds `{{other}}` stays a string literal.
        let mut sql = String::with_capacity(self.sql.len());
        let mut rest = self.sql.as_str();
        for (start, end, name) in placeholder_spans(&self.sql) {
            let offset = self.sql.len() - rest.len();
            sql.push_str(&rest[..start - offset]);
            // Every placeholder was checked against the declarations when the query was read.
            sql.push_str(values.get(name).map(String::as_str).unwrap_or_default());
            rest = &self.sql[end..];
        }
        sql.push_str(rest);
        Ok(sql)
    }

    /// `name=default, …` for listings.
    pub fn params_summary(&self) -> String {
        self.params
            .iter()
            .map(|p| match &p.default {
                None => format!("{} (required)", p.name),
                Some(d) if d.is_empty() => format!("{} (optional)", p.name),
                Some(d) => format!("{}={d}", p.name),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn parse_param(text: &str) -> std::result::Result<Param, String> {
    let (spec, description) = text.split_once('|').unwrap_or((text, ""));
    let (name, default) = match spec.split_once('=') {
        Some((name, default)) => (name.trim(), Some(default.trim().to_string())),
        None => (spec.trim(), None),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "parameter name '{name}' should be letters, digits and '_'"
        ));
    }
    Ok(Param {
        name: name.to_string(),
        default,
        description: description.trim().to_string(),
    })
}

/// The `{{name}}` placeholders in SQL (spaces inside the braces allowed: `{{ name }}`).
fn placeholders(sql: &str) -> Vec<String> {
    placeholder_spans(sql)
        .into_iter()
        .map(|(_, _, name)| name.to_string())
        .collect()
}

/// Each placeholder's byte range in `sql` and its name, in order.
fn placeholder_spans(sql: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = sql[from..].find("{{") {
        let start = from + found;
        let Some(len) = sql[start + 2..].find("}}") else {
            break;
        };
        let end = start + 2 + len + 2;
        out.push((start, end, sql[start + 2..start + 2 + len].trim()));
        from = end;
    }
    out
}

/// A SQL string literal.
pub fn sql_string(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The catalogue: built-in queries, and those of a user folder (which replace built-ins of the
/// same name).
#[derive(Debug, Clone)]
pub struct Catalog {
    queries: BTreeMap<String, Query>,
    order: Vec<String>,
}

impl Catalog {
    pub fn builtin() -> Self {
        let mut catalog = Catalog {
            queries: BTreeMap::new(),
            order: Vec::new(),
        };
        for (file, text) in BUILTIN {
            let query =
                Query::parse(text, &format!("built-in {file}")).expect("built-in queries parse");
            catalog.add(query);
        }
        catalog
    }

    /// The built-ins plus every `*.sql` in `dir`.
    pub fn with_dir(dir: Option<&Path>) -> Result<Self> {
        let mut catalog = Self::builtin();
        let Some(dir) = dir else { return Ok(catalog) };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Error::Usage(format!("cannot read --queries {}: {e}", dir.display())))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
            catalog.add(Query::parse(&text, &path.display().to_string()).map_err(Error::Usage)?);
        }
        Ok(catalog)
    }

    fn add(&mut self, query: Query) {
        if !self.queries.contains_key(&query.name) {
            self.order.push(query.name.clone());
        }
        self.queries.insert(query.name.clone(), query);
    }

    pub fn get(&self, name: &str) -> Result<&Query> {
        self.queries.get(name).ok_or_else(|| {
            let close: Vec<&str> = self
                .order
                .iter()
                .filter(|n| n.contains(name) || name.contains(n.as_str()))
                .map(String::as_str)
                .collect();
            Error::Usage(match close.is_empty() {
                true => {
                    format!("no canned query named '{name}'; list them with: trailpq query --list")
                }
                false => format!(
                    "no canned query named '{name}' (did you mean {}?)",
                    close.join(", ")
                ),
            })
        })
    }

    /// The queries in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = &Query> {
        self.order.iter().map(|n| &self.queries[n])
    }
}

/// Parses `key=value` (for `--param` and `.run`).
pub fn parse_assignment(text: &str) -> std::result::Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("'{text}' is not key=value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_queries_is_built_in_and_parses() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|f| f.ends_with(".sql"))
            .collect();
        files.sort();
        let mut built: Vec<String> = BUILTIN.iter().map(|(f, _)| f.to_string()).collect();
        built.sort();
        assert_eq!(
            files, built,
            "queries/ and catalog::BUILTIN list the same files"
        );
        let catalog = Catalog::builtin();
        for (file, _) in BUILTIN {
            let query = catalog.iter().find(|q| format!("{}.sql", q.name) == *file);
            let query =
                query.unwrap_or_else(|| panic!("{file}: the file is named after its query"));
            assert!(!query.description.is_empty(), "{file} has a description");
        }
    }

    #[test]
    fn parameters_bind_as_literals() {
        let q = Query::parse(
            "-- name: t\n-- description: d\n-- param: who | a principal\n-- param: n = 5 | count\nSELECT {{who}}, {{n}};\n",
            "test",
        )
        .unwrap();
        assert_eq!(q.params_summary(), "who (required), n=5");
        assert_eq!(
            q.bind(&[("who".into(), "o'brien".into())]).unwrap(),
            "SELECT 'o''brien', '5'"
        );
        let missing = q.bind(&[]).unwrap_err().to_string();
        assert!(
            missing.contains("needs who=VALUE (a principal)"),
            "{missing}"
        );
        let unknown = q
            .bind(&[("who".into(), "x".into()), ("nope".into(), "1".into())])
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("has no parameter 'nope'; it takes who, n"),
            "{unknown}"
        );
        assert!(
            Query::parse("-- name: t\nSELECT {{x}}", "f")
                .unwrap_err()
                .contains("{{x}} is used but not declared")
        );
        assert!(
            Query::parse("SELECT 1", "f")
                .unwrap_err()
                .contains("no '-- name:'")
        );
    }

    #[test]
    fn canned_queries_select_services_by_their_exact_sources() {
        for query in Catalog::builtin().iter() {
            let sql = query.sql.to_lowercase();
            assert!(
                !sql.contains("event_source like"),
                "{}: event_source LIKE also matches other services",
                query.name
            );
            let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(start) = flat.find("event_source in (") {
                let list = &flat[start + 17..];
                let list = &list[..list.find(')').unwrap()];
                let got: Vec<&str> = list.split(", ").map(|s| s.trim_matches('\'')).collect();
                let chime = crate::schema::SERVICE_SOURCES
                    .iter()
                    .find(|(s, _)| *s == "chime")
                    .unwrap()
                    .1;
                assert_eq!(got, chime, "{}", query.name);
            }
        }
    }

    #[test]
    fn a_value_is_never_read_as_sql_or_as_a_placeholder() {
        let q = Query::parse(
            "-- name: t\n-- param: contact\n-- param: instance\nSELECT 1 WHERE c = {{contact}} AND i = {{instance}}",
            "test",
        )
        .unwrap();
        let given = [
            ("contact".into(), "{{instance}}".into()),
            ("instance".into(), " OR 1=1 OR ".into()),
        ];
        assert_eq!(
            q.bind(&given).unwrap(),
            "SELECT 1 WHERE c = '{{instance}}' AND i = ' OR 1=1 OR '"
        );
    }

    #[test]
    fn placeholders_may_have_spaces_inside_the_braces() {
        let q = Query::parse(
            "-- name: t\n-- param: who\nSELECT {{ who }}, {{who}}, {{  who}}",
            "test",
        )
        .unwrap();
        assert_eq!(
            q.bind(&[("who".into(), "alice".into())]).unwrap(),
            "SELECT 'alice', 'alice', 'alice'"
        );
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let c = Catalog::builtin();
        assert!(
            c.get("chime-error")
                .unwrap_err()
                .to_string()
                .contains("did you mean chime-errors")
        );
        assert!(
            c.get("zzz")
                .unwrap_err()
                .to_string()
                .contains("trailpq query --list")
        );
    }
}
