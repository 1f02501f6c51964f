//! The `query` command: one SQL statement, file or canned query over converted data, printed in
//! the format asked for.

use std::io::Write;
use std::path::PathBuf;

use arrow::array::{RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::sql::catalog::{Catalog, Query};
use crate::sql::format::{self, Format};
use crate::sql::pager;
use crate::sql::{Access, Session, SessionOptions, exec_and_print, statements};

/// What `trailpq query` runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// SQL typed by the user.
    Sql(String),
    /// A canned query, by name.
    Name(String),
    /// A file of SQL, with or without a canned-query header.
    File(PathBuf),
    /// The catalogue itself.
    List,
}

/// What `trailpq query` runs, over what, and how it prints.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    /// Converted data (needed unless the request is `List` or `show_sql`).
    pub data: Option<String>,
    pub request: Request,
    /// Parameters of a canned query.
    pub params: Vec<(String, String)>,
    /// Print the SQL with its parameters, run nothing.
    pub show_sql: bool,
    pub format: Format,
    /// Results go to a file: never fitted to a screen, never paged.
    pub to_file: bool,
    pub session: SessionOptions,
}

/// Runs `trailpq query`; writes results to `out`.
pub async fn run(args: &QueryOptions, out: &mut dyn Write) -> Result<()> {
    let options = &args.session;
    let catalog = Catalog::with_dir(options.queries.as_deref())?;
    if args.request == Request::List {
        return print(args, &list(&catalog), out);
    }
    if !args.params.is_empty() && matches!(args.request, Request::Sql(_)) {
        return Err(Error::Usage(
            "--param fills a canned query's parameters; use it with --name or --file".into(),
        ));
    }
    // Everything about the request is checked before the data is opened.
    let (sql, access) = match &args.request {
        Request::Sql(sql) => (sql.clone(), Access::Full),
        Request::Name(name) => (catalog.get(name)?.bind(&args.params)?, Access::ReadOnly),
        Request::File(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Usage(format!("cannot read --file {}: {e}", path.display())))?;
            if text.lines().any(|l| l.trim_start().starts_with("-- name:")) {
                let query =
                    Query::parse(&text, &path.display().to_string()).map_err(Error::Usage)?;
                (query.bind(&args.params)?, Access::ReadOnly)
            } else if args.params.is_empty() {
                (text, Access::Full)
            } else {
                return Err(Error::Usage(format!(
                    "{} declares no parameters (no '-- name:' and '-- param:' header)",
                    path.display()
                )));
            }
        }
        Request::List => unreachable!("handled above"),
    };
    if args.show_sql {
        return writeln!(out, "{};", sql.trim_end().trim_end_matches(';'))
            .map_err(|e| Error::io("cannot write the SQL", e));
    }
    let statements = statements(&sql);
    if statements.is_empty() {
        return Err(Error::Usage("no SQL statement to run".into()));
    }
    let data = args
        .data
        .as_deref()
        .expect("clap requires DATA unless --list");
    let session = Session::open(data, options, catalog).await?;
    // Tables and line mode read on a terminal go through the pager when they are long.
    let paged =
        !args.to_file && matches!(args.format, Format::Table | Format::Markdown | Format::Line);
    for statement in &statements {
        let mut screen = paged.then(|| pager::Screen::new(true));
        let target: &mut dyn Write = match &mut screen {
            Some(screen) => screen,
            None => &mut *out,
        };
        exec_and_print(
            &session,
            statement,
            access,
            args.format,
            screen_fit(args),
            target,
        )
        .await?;
        if let Some(screen) = screen {
            screen
                .finish()
                .map_err(|e| Error::io("cannot write the results", e))?;
        }
    }
    Ok(())
}

/// The catalogue as a table: group, name, description, parameters; grouped, each group in
/// catalogue order.
pub fn list(catalog: &Catalog) -> RecordBatch {
    let mut queries: Vec<&Query> = catalog.iter().collect();
    let mut groups: Vec<&str> = Vec::new();
    for q in &queries {
        if !groups.contains(&q.group.as_str()) {
            groups.push(&q.group);
        }
    }
    let rank = |q: &Query| groups.iter().position(|g| *g == q.group);
    queries.sort_by_key(|q| rank(q));
    let column = |f: fn(&Query) -> String| -> Arc<dyn arrow::array::Array> {
        Arc::new(StringArray::from(
            queries.iter().map(|q| f(q)).collect::<Vec<_>>(),
        ))
    };
    let schema = Schema::new(
        ["group", "name", "description", "parameters"]
            .map(|n| Field::new(n, DataType::Utf8, false))
            .to_vec(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            column(|q| q.group.clone()),
            column(|q| q.name.clone()),
            column(|q| q.description.clone()),
            column(Query::params_summary),
        ],
    )
    .expect("columns match the schema")
}

/// Tables fit the terminal when they go to one.
fn screen_fit(args: &QueryOptions) -> format::Fit {
    format::Fit {
        max_rows: None,
        width: (!args.to_file).then(format::Fit::terminal_width).flatten(),
    }
}

fn print(args: &QueryOptions, batch: &RecordBatch, out: &mut dyn Write) -> Result<()> {
    let format = args.format;
    format::write(
        format,
        &batch.schema(),
        std::slice::from_ref(batch),
        screen_fit(args),
        out,
    )
    .map(|_| ())
    .map_err(|e| Error::io("cannot write the results", e))
}
