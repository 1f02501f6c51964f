//! Running what the shell is given: SQL (cancellable with Ctrl-C) and dot commands, and printing
//! the results.

use std::time::Instant;

use arrow::array::RecordBatch;

use super::command::{self, Command};
use crate::error::{Error, Result};
use crate::report::plural;
use crate::schema;
use crate::sql::format::{self, Format};
use crate::sql::pager;
use crate::sql::session::TABLE;
use crate::sql::{Access, Session, exec_and_print};

/// What the shell is doing between commands.
pub struct Shell {
    pub session: Option<Session>,
    pub runtime: tokio::runtime::Handle,
    pub format: Format,
    pub timer: bool,
    pub max_rows: Option<usize>,
    /// Width tables are fitted to: `None` the terminal's, `Some(0)` no limit.
    pub max_width: Option<usize>,
    /// Results longer than the screen go through the pager.
    pub pager: bool,
    /// Where results go (`None`: the screen).
    pub output: Option<(std::path::PathBuf, std::fs::File)>,
}

/// What to do after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

impl Shell {
    /// Runs one SQL statement; Ctrl-C cancels it.
    fn session(&self) -> Result<&Session> {
        self.session.as_ref().ok_or_else(|| {
            Error::Usage("no data is loaded; start the shell with the folder a convert wrote: trailpq shell DATA".into())
        })
    }

    pub fn sql(&mut self, statement: &str) -> Result<()> {
        self.run_sql(statement, Access::Full)
    }

    /// Runs one statement; canned queries run read-only. Its rows are printed as they come
    /// (the table keeps only the rows it shows); Ctrl-C stops it.
    fn run_sql(&mut self, statement: &str, access: Access) -> Result<()> {
        let session = self.session.as_ref().ok_or_else(|| {
            Error::Usage("no data is loaded; start the shell with the folder a convert wrote: trailpq shell DATA".into())
        })?;
        let started = Instant::now();
        let (format, fit) = (self.format, self.fit());
        let pager = self.pager;
        let output = &mut self.output;
        let run = async {
            match output {
                Some((_, file)) => {
                    exec_and_print(session, statement, access, format, fit, file).await
                }
                None => {
                    let mut screen = pager::Screen::new(pager);
                    let rows =
                        exec_and_print(session, statement, access, format, fit, &mut screen).await;
                    let rows = match rows {
                        // The reader quit the pager: the rest is not wanted.
                        Err(Error::Io { source, .. })
                            if screen.paging()
                                && source.kind() == std::io::ErrorKind::BrokenPipe =>
                        {
                            Ok(0)
                        }
                        other => other,
                    };
                    screen
                        .finish()
                        .map_err(|e| Error::io("cannot print the results", e))?;
                    rows
                }
            }
        };
        let outcome = self.runtime.block_on(async {
            tokio::select! {
                result = run => Some(result),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        let Some(result) = outcome else {
            eprintln!("Query cancelled.");
            return Ok(());
        };
        let rows = result?;
        if self.timer {
            eprintln!(
                "{rows} row{} in {:.3} s",
                plural(rows as u64),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// Runs a dot command.
    pub fn command(&mut self, line: &str) -> Result<Flow> {
        match command::parse(line).map_err(Error::Usage)? {
            Command::Help => self.say(&command::help())?,
            Command::Quit => return Ok(Flow::Quit),
            Command::Tables => {
                let tables = self.tables();
                self.say(&(tables.join("\n") + "\n"))?;
            }
            Command::Schema(table) => self.schema(table.as_deref())?,
            Command::Queries => {
                let session = self.session.as_ref();
                let catalog = match session {
                    Some(s) => s.catalog.clone(),
                    None => crate::sql::catalog::Catalog::builtin(),
                };
                let list = crate::query::list(&catalog);
                self.print(&list)?;
            }
            Command::Run { name, params } => {
                let sql = self.session()?.catalog.get(&name)?.bind(&params)?;
                self.run_sql(&sql, Access::ReadOnly)?;
            }
            Command::Mode(format) => self.format = format,
            Command::Timer(on) => self.timer = on,
            Command::MaxRows(max) => self.max_rows = max,
            Command::MaxWidth(width) => self.max_width = width,
            Command::Pager(on) => self.pager = on,
            Command::Memory(None) => {
                let limit = crate::sql::memory::limit_of(&self.session()?.ctx);
                let text = limit.map_or("any amount of memory".into(), |n| {
                    indicatif::HumanBytes(n as u64).to_string()
                });
                self.say(&format!(
                    "queries may use {text} before they spill to disk\n"
                ))?;
            }
            Command::Memory(Some(limit)) => {
                crate::sql::memory::set_limit(&self.session()?.ctx, limit)?;
            }
            Command::Output(None) => self.output = None,
            Command::Output(Some(path)) => {
                let file = std::fs::File::create(&path)
                    .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
                self.output = Some((path, file));
            }
        }
        Ok(Flow::Continue)
    }

    /// The tables of the session, `cloudtrail` first.
    pub fn tables(&self) -> Vec<String> {
        let Some(session) = &self.session else {
            return Vec::new();
        };
        let mut names = session
            .ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort_by_key(|n| (n != TABLE, n.clone()));
        names
    }

    fn schema(&mut self, table: Option<&str>) -> Result<()> {
        let table = table.unwrap_or(TABLE);
        if table == TABLE {
            let mut text = String::new();
            for doc in schema::column_docs() {
                text.push_str(&format!(
                    "{:<40} {:<20} {}\n",
                    doc.name,
                    short_type(&doc.type_name),
                    doc.doc
                ));
            }
            return self.say(&text);
        }
        let sql = format!(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '{}' ORDER BY ordinal_position",
            table.replace('\'', "''")
        );
        self.sql(&sql)
    }

    /// Prints a small result held in memory (the catalogue) where results go.
    fn print(&mut self, batch: &RecordBatch) -> Result<usize> {
        let (format, fit) = (self.format, self.fit());
        let schema = batch.schema();
        let batches = std::slice::from_ref(batch);
        let written = match &mut self.output {
            Some((_, file)) => format::write(format, &schema, batches, fit, file),
            None => {
                let mut screen = pager::Screen::new(self.pager);
                format::write(format, &schema, batches, fit, &mut screen)
                    .and_then(|rows| screen.finish().map(|()| rows))
            }
        };
        written.map_err(|e| Error::io("cannot print the results", e))
    }

    /// How tables are fitted: to the screen's rows and width, or whole into a file.
    fn fit(&self) -> format::Fit {
        match self.output {
            Some(_) => format::Fit::default(),
            None => format::Fit {
                max_rows: self.max_rows,
                width: self.width(),
            },
        }
    }

    /// The width to fit the screen's output to (`.maxwidth`; `None`: no limit).
    fn width(&self) -> Option<usize> {
        match self.max_width {
            None => format::Fit::terminal_width(),
            Some(0) => None,
            Some(n) => Some(n),
        }
    }

    /// Text for the user (help, lists): always to the screen, fitted to it and paged like results.
    fn say(&self, text: &str) -> Result<()> {
        let text = match self.width() {
            Some(width) => format::cut_lines(text, width),
            None => text.to_string(),
        };
        pager::show(text.as_bytes(), self.pager).map_err(|e| Error::io("cannot write to stdout", e))
    }
}

/// `Timestamp(ms, "UTC")` → `Timestamp(ms)`, for the narrow `.schema` listing.
fn short_type(name: &str) -> String {
    if name.starts_with("List(") {
        return "List(Struct)".into();
    }
    name.replace(", \"UTC\"", "")
}
