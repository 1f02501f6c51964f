//! Running a statement and printing its rows as they stream: the one execution path of `query`
//! and the shell. Nothing holds the whole result: streaming formats write each batch as it
//! comes, a table keeps only the rows it shows (see [`Printer`]), and a statement's memory is the
//! session's to bound.

use std::io::Write;

use futures::TryStreamExt;

use super::format::{Fit, Format, Printer, Remembering};
use super::{Access, Session};
use crate::error::{Error, Result};

/// Runs `sql` and prints its rows to `out` in `format`, fitted by `fit`, as they come. Returns
/// the number of rows.
pub async fn exec_and_print(
    session: &Session,
    sql: &str,
    access: Access,
    format: Format,
    fit: Fit,
    out: &mut dyn Write,
) -> Result<usize> {
    print(session, sql, access, format, fit, out)
        .await
        .map_err(|e| e.with_memory_limit(super::memory::limit_of(&session.ctx)))
}

async fn print(
    session: &Session,
    sql: &str,
    access: Access,
    format: Format,
    fit: Fit,
    out: &mut dyn Write,
) -> Result<usize> {
    let mut stream = session.stream(sql, access).await?;
    let schema = stream.schema();
    let mut out = std::io::BufWriter::new(out);
    // Arrow's writers report I/O failures as text: keep the real error (a closed pipe).
    let mut sink = Remembering {
        inner: &mut out,
        error: None,
    };
    let printed = {
        let mut printer = Printer::new(format, &schema, fit, &mut sink);
        loop {
            let batch = match stream.try_next().await {
                Ok(Some(batch)) => batch,
                Ok(None) => break printer.finish(&schema),
                Err(e) => return Err(e.into()),
            };
            if let Err(e) = printer.write(&batch) {
                drop(printer);
                break Err(e);
            }
        }
    };
    let remembered = sink.error.take();
    let cannot = |e| Error::io("cannot write the results", e);
    let rows = printed.map_err(|e| cannot(remembered.unwrap_or(e)))?;
    out.flush().map_err(cannot)?;
    Ok(rows)
}
