//! Printing query results: table, CSV, JSON, NDJSON or Markdown.

use std::io::Write;

use arrow::array::{Array, RecordBatch};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use clap::ValueEnum;

/// Output formats of `query` and the shell's `.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// An aligned text table
    Table,
    Csv,
    /// A JSON array of objects
    Json,
    /// One JSON object per line
    Ndjson,
    /// A Markdown table
    Markdown,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Markdown => "markdown",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Format::value_variants()
            .iter()
            .copied()
            .find(|f| f.name() == text)
    }
}

/// Writes `batches` to `out`. In table format at most `max_rows` rows are shown, with a line
/// saying how many were left out. Returns the number of rows.
pub fn write(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    max_rows: Option<usize>,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    match format {
        Format::Table => table(schema, batches, max_rows, rows, out)?,
        Format::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                writer
                    .write(&RecordBatch::new_empty(schema.clone()))
                    .map_err(io)?;
            }
            batches
                .iter()
                .try_for_each(|b| writer.write(b))
                .map_err(io)?;
        }
        Format::Json => {
            let mut writer = arrow::json::ArrayWriter::new(&mut *out);
            batches
                .iter()
                .try_for_each(|b| writer.write(b))
                .and_then(|()| writer.finish())
                .map_err(io)?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => {
            let mut writer = arrow::json::LineDelimitedWriter::new(&mut *out);
            batches
                .iter()
                .try_for_each(|b| writer.write(b))
                .and_then(|()| writer.finish())
                .map_err(io)?;
        }
        Format::Markdown => markdown(schema, batches, out)?,
    }
    Ok(rows)
}

/// Arrow's errors as I/O errors, keeping the kind of those that were I/O errors (a closed pipe).
fn io(e: ArrowError) -> std::io::Error {
    match e {
        ArrowError::IoError(_, source) => source,
        other => std::io::Error::other(other),
    }
}

fn table(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    max_rows: Option<usize>,
    rows: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let shown: Vec<RecordBatch> = match max_rows {
        Some(max) if rows > max => {
            let mut left = max;
            let mut kept = Vec::new();
            for batch in batches {
                if left == 0 {
                    break;
                }
                let take = batch.num_rows().min(left);
                kept.push(batch.slice(0, take));
                left -= take;
            }
            kept
        }
        _ => batches.to_vec(),
    };
    let text = arrow::util::pretty::pretty_format_batches_with_schema(schema.clone(), &shown)
        .map_err(io)?;
    writeln!(out, "{text}")?;
    if let Some(max) = max_rows.filter(|max| rows > *max) {
        writeln!(
            out,
            "… {} more rows not shown (.maxrows {rows} shows them all)",
            rows - max
        )?;
    }
    Ok(())
}

fn markdown(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let cell = |s: String| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| cell(f.name().clone()))
        .collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(names.len()))?;
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref() as &dyn Array, &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| cell(f.value(row).to_string()))
                .collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    fn batch() -> (SchemaRef, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("a|b"), None, Some("c")])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
            ],
        )
        .unwrap();
        (schema, batch)
    }

    fn render(format: Format, max: Option<usize>, empty: bool) -> String {
        let (schema, batch) = batch();
        let batches = if empty { vec![] } else { vec![batch] };
        let mut out = Vec::new();
        write(format, &schema, &batches, max, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_renders() {
        assert_eq!(render(Format::Csv, None, false), "name,n\na|b,1\n,2\nc,3\n");
        assert_eq!(render(Format::Csv, None, true), "name,n\n");
        assert_eq!(
            render(Format::Ndjson, None, false),
            "{\"name\":\"a|b\",\"n\":1}\n{\"n\":2}\n{\"name\":\"c\",\"n\":3}\n"
        );
        assert_eq!(render(Format::Json, None, true), "[]\n");
        assert_eq!(
            render(Format::Markdown, None, false),
            "| name | n |\n|---|---|\n| a\\|b | 1 |\n|  | 2 |\n| c | 3 |\n"
        );
        let table = render(Format::Table, Some(2), false);
        assert!(
            table.contains("| a|b  | 1 |") && !table.contains("| c "),
            "{table}"
        );
        assert!(table.contains("1 more rows not shown"), "{table}");
        assert!(render(Format::Table, None, true).contains("| name | n |"));
    }
}
