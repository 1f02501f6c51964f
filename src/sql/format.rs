//! Printing query results: table, CSV, JSON, NDJSON or Markdown.

use std::io::Write;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{JsonArray, JsonFormat, LineDelimited};
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
    // Arrow's writers report I/O failures as text; keep the real error to return it.
    let mut out = Remembering {
        inner: out,
        error: None,
    };
    let written = write_rows(format, schema, batches, max_rows, rows, &mut out);
    match (written, out.error) {
        (Err(_), Some(original)) => Err(original),
        (written, _) => written.map(|()| rows),
    }
}

/// A writer that keeps the first I/O error of the writer it wraps.
struct Remembering<'w> {
    inner: &'w mut dyn Write,
    error: Option<std::io::Error>,
}

impl Write for Remembering<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            self.error
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            self.error
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        })
    }
}

fn write_rows(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    max_rows: Option<usize>,
    rows: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => table(schema, batches, max_rows, rows, out)?,
        Format::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                writer
                    .write(&nested_as_text(&RecordBatch::new_empty(schema.clone()))?)
                    .map_err(io)?;
            }
            for batch in batches {
                writer.write(&nested_as_text(batch)?).map_err(io)?;
            }
        }
        Format::Json => {
            json::<JsonArray>(batches, out)?;
            out.write_all(b"\n")?;
        }
        Format::Ndjson => json::<LineDelimited>(batches, out)?,
        Format::Markdown => markdown(schema, batches, out)?,
    }
    Ok(())
}

/// CSV has no lists or structs: such columns (`resources`) are written as their text form.
fn nested_as_text(batch: &RecordBatch) -> std::io::Result<RecordBatch> {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| f.data_type().is_nested())
    {
        return Ok(batch.clone());
    }
    let options = FormatOptions::default().with_null("");
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        if field.data_type().is_nested() {
            let formatter = ArrayFormatter::try_new(column.as_ref(), &options).map_err(io)?;
            let text: StringArray = (0..column.len())
                .map(|i| column.is_valid(i).then(|| formatter.value(i).to_string()))
                .collect();
            fields.push(Field::new(field.name(), DataType::Utf8, true));
            columns.push(Arc::new(text));
        } else {
            fields.push(field.as_ref().clone());
            columns.push(column.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(io)
}

/// Arrow's errors as I/O errors, keeping the kind of those that were I/O errors (a closed pipe).
/// Writes `batches` as a JSON array or as lines of JSON.
fn json<F: JsonFormat>(batches: &[RecordBatch], out: &mut dyn Write) -> std::io::Result<()> {
    let mut writer = arrow::json::Writer::<_, F>::new(out);
    batches
        .iter()
        .try_for_each(|b| writer.write(b))
        .and_then(|()| writer.finish())
        .map_err(io)
}

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
    use arrow::array::Int64Array;

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
    fn nested_columns_print_as_text_in_csv() {
        let mut builder = crate::flatten::BatchBuilder::new();
        let record =
            r#"{"eventName":"X","resources":[{"ARN":"arn:a","accountId":"1","type":"T"}]}"#;
        let provenance = crate::flatten::Provenance {
            source_key: "k",
            index: 0,
            envelope: None,
        };
        builder.push(record, provenance).unwrap();
        let batch = builder.finish();
        let mut out = Vec::new();
        write(Format::Csv, &batch.schema(), &[batch], None, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\"[{arn: arn:a, account_id: 1, type: T}]\""),
            "{text}"
        );
    }

    #[test]
    fn a_closed_pipe_is_an_io_error_of_that_kind() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (schema, batch) = batch();
        for format in [
            Format::Csv,
            Format::Json,
            Format::Ndjson,
            Format::Table,
            Format::Markdown,
        ] {
            let error = write(
                format,
                &schema,
                std::slice::from_ref(&batch),
                None,
                &mut Closed,
            )
            .unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{format:?}");
        }
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
