//! Printing query results: table, CSV, JSON, NDJSON or Markdown.

use std::io::Write;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use arrow::json::writer::{JsonArray, LineDelimited};
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
    /// One `column = value` per line, a blank line between rows (to read single events)
    Line,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Markdown => "markdown",
            Format::Line => "line",
        }
    }

    /// Every format's name, in order: the one list behind flags, `.mode`, help and completion.
    pub fn names() -> Vec<&'static str> {
        Format::value_variants().iter().map(|f| f.name()).collect()
    }

    pub fn parse(text: &str) -> Option<Self> {
        Format::value_variants()
            .iter()
            .copied()
            .find(|f| f.name() == text)
    }
}

/// Prints results batch by batch as they arrive, in any format, in memory that does not grow
/// with the result: CSV, JSON, NDJSON, line mode and Markdown are written as they come; a table
/// keeps the rows it shows (`Fit::max_rows`) and counts the rest, and beyond a few thousand rows
/// sets them aside in a temporary file until the column widths are known.
pub struct Printer<'w> {
    writer: Writer<'w>,
    rows: usize,
}

enum Writer<'w> {
    Csv(Box<arrow::csv::Writer<&'w mut dyn Write>>, bool),
    Json(arrow::json::Writer<&'w mut dyn Write, JsonArray>),
    Ndjson(arrow::json::Writer<&'w mut dyn Write, LineDelimited>),
    Line(LineWriter<'w>),
    Markdown(MarkdownWriter<'w>),
    Table(Box<TableWriter>, &'w mut dyn Write),
}

impl<'w> Printer<'w> {
    pub fn new(format: Format, schema: &SchemaRef, fit: Fit, out: &'w mut dyn Write) -> Self {
        let writer = match format {
            Format::Csv => Writer::Csv(
                Box::new(
                    arrow::csv::WriterBuilder::new()
                        .with_header(true)
                        .build(out),
                ),
                false,
            ),
            Format::Json => Writer::Json(arrow::json::Writer::new(out)),
            Format::Ndjson => Writer::Ndjson(arrow::json::Writer::new(out)),
            Format::Line => Writer::Line(LineWriter { out, first: true }),
            Format::Markdown => Writer::Markdown(MarkdownWriter {
                out,
                schema: schema.clone(),
                header: false,
            }),
            Format::Table => Writer::Table(Box::new(TableWriter::new(schema.clone(), fit)), out),
        };
        Printer { writer, rows: 0 }
    }

    pub fn write(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.rows += batch.num_rows();
        match &mut self.writer {
            Writer::Csv(w, wrote) => {
                *wrote = true;
                w.write(&nested_as_text(batch)?).map_err(io)
            }
            Writer::Json(w) => w.write(batch).map_err(io),
            Writer::Ndjson(w) => w.write(batch).map_err(io),
            Writer::Line(w) => w.write(batch),
            Writer::Markdown(w) => w.write(batch),
            Writer::Table(t, _) => t.push(batch),
        }
    }

    /// Ends the output (a CSV header even without rows; the JSON array's end; the table).
    /// Returns the number of rows.
    pub fn finish(self, schema: &SchemaRef) -> std::io::Result<usize> {
        match self.writer {
            Writer::Csv(mut w, wrote) => {
                if !wrote {
                    w.write(&nested_as_text(&RecordBatch::new_empty(schema.clone()))?)
                        .map_err(io)?;
                }
            }
            Writer::Json(mut w) => {
                w.finish().map_err(io)?;
                w.into_inner().write_all(b"\n")?;
            }
            Writer::Ndjson(mut w) => w.finish().map_err(io)?,
            Writer::Line(_) => {}
            Writer::Markdown(mut w) => w.header()?,
            Writer::Table(t, out) => t.finish(out)?,
        }
        Ok(self.rows)
    }
}

/// Line mode: every value on its own line, `name = value`, names aligned on the `=`, a blank
/// line between rows; NULL is written `NULL`, so it stands apart from the empty string.
struct LineWriter<'w> {
    out: &'w mut dyn Write,
    first: bool,
}

impl LineWriter<'_> {
    fn write(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        let schema = batch.schema();
        let width = schema
            .fields()
            .iter()
            .map(|f| f.name().chars().count())
            .max()
            .unwrap_or(0);
        let options = FormatOptions::default().with_null("NULL");
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        for row in 0..batch.num_rows() {
            if !std::mem::take(&mut self.first) {
                writeln!(self.out)?;
            }
            for (field, value) in schema.fields().iter().zip(&formatters) {
                writeln!(self.out, "{:>width$} = {}", field.name(), value.value(row))?;
            }
        }
        Ok(())
    }
}

/// How a table is fitted to a screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit {
    /// Most rows shown (`None`: all).
    pub max_rows: Option<usize>,
    /// The screen's width in characters (`None`: as wide as the values, for pipes and files).
    pub width: Option<usize>,
}

impl Fit {
    /// The width of the terminal on stdout (`COLUMNS` overrides it), or `None` when stdout is
    /// not a terminal: pipes and files get every value whole.
    pub fn terminal_width() -> Option<usize> {
        super::pager::terminal_width()
    }
}

/// Writes `batches` to `out` with a [`Printer`]. Returns the number of rows.
pub fn write(
    format: Format,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    fit: Fit,
    out: &mut dyn Write,
) -> std::io::Result<usize> {
    // Arrow's writers report I/O failures as text; keep the real error to return it.
    let mut out = Remembering {
        inner: out,
        error: None,
    };
    let written = {
        let mut printer = Printer::new(format, schema, fit, &mut out);
        batches
            .iter()
            .try_for_each(|b| printer.write(b))
            .and_then(|()| printer.finish(schema))
    };
    match (written, out.error) {
        (Err(_), Some(original)) => Err(original),
        (written, _) => written,
    }
}

/// A writer that keeps the first I/O error of the writer it wraps.
pub struct Remembering<'w> {
    pub inner: &'w mut dyn Write,
    pub error: Option<std::io::Error>,
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
fn io(e: ArrowError) -> std::io::Error {
    match e {
        ArrowError::IoError(_, source) => source,
        other => std::io::Error::other(other),
    }
}

/// Values longer than this many characters are cut (with `…`) when fitting a screen; on a narrow
/// screen, a quarter of its width, so that several columns fit.
const MAX_VALUE_CHARS: usize = 40;

/// Rows of a table kept in memory; beyond, they are set aside in a temporary file.
const TABLE_IN_MEMORY: usize = 4096;

/// A bordered text table. Fitted to a width, long values are cut with `…` and the columns that do
/// not fit are left out from the middle (a `…` column marks where), with a footer saying what was
/// not shown. NULL shows as `NULL`, apart from the empty string. Only the rows shown are kept:
/// the first [`TABLE_IN_MEMORY`] in memory, any more (no `max_rows`) in a temporary Arrow file,
/// read back once the widths are known; the others are only counted.
struct TableWriter {
    schema: SchemaRef,
    fit: Fit,
    /// Widest text of each column among the rows shown (and its name).
    widths: Vec<usize>,
    kept: Vec<RecordBatch>,
    /// Rows shown so far, and rows in all.
    shown: usize,
    rows: usize,
    spill: Option<arrow::ipc::writer::StreamWriter<std::io::BufWriter<std::fs::File>>>,
}

impl TableWriter {
    fn new(schema: SchemaRef, fit: Fit) -> Self {
        let widths = schema
            .fields()
            .iter()
            .map(|f| f.name().chars().count())
            .collect();
        TableWriter {
            schema,
            fit,
            widths,
            kept: Vec::new(),
            shown: 0,
            rows: 0,
            spill: None,
        }
    }

    fn push(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.rows += batch.num_rows();
        let room = self.fit.max_rows.map_or(usize::MAX, |max| max - self.shown);
        let take = batch.num_rows().min(room);
        if take == 0 {
            return Ok(());
        }
        let batch = batch.slice(0, take);
        self.shown += take;
        for (column, array) in batch.columns().iter().enumerate() {
            let texts = Texts::new(array, self.fit)?;
            for row in 0..take {
                let width = texts.get(row).chars().count();
                self.widths[column] = self.widths[column].max(width);
            }
        }
        if self.spill.is_none() && self.shown > TABLE_IN_MEMORY {
            let file = tempfile::tempfile()?;
            let mut spill = arrow::ipc::writer::StreamWriter::try_new(
                std::io::BufWriter::new(file),
                &batch.schema(),
            )
            .map_err(io)?;
            for kept in self.kept.drain(..) {
                spill.write(&kept).map_err(io)?;
            }
            self.spill = Some(spill);
        }
        match &mut self.spill {
            Some(spill) => spill.write(&batch).map_err(io),
            None => {
                self.kept.push(batch);
                Ok(())
            }
        }
    }

    fn finish(self, out: &mut dyn Write) -> std::io::Result<()> {
        let TableWriter {
            schema,
            fit,
            widths,
            kept,
            shown,
            rows,
            spill,
        } = self;
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let layout = Layout::new(widths, fit.width);
        layout.rule(out)?;
        layout.row(out, &|c| names[c].clone())?;
        layout.rule(out)?;
        let mut print = |batch: &RecordBatch| -> std::io::Result<()> {
            let texts = batch
                .columns()
                .iter()
                .map(|array| Texts::new(array, fit))
                .collect::<std::io::Result<Vec<_>>>()?;
            (0..batch.num_rows()).try_for_each(|r| layout.row(out, &|c| texts[c].get(r)))
        };
        match spill {
            Some(spill) => {
                let mut file = spill
                    .into_inner()
                    .map_err(io)?
                    .into_inner()
                    .map_err(|e| e.into_error())?;
                std::io::Seek::rewind(&mut file)?;
                let reader =
                    arrow::ipc::reader::StreamReader::try_new(std::io::BufReader::new(file), None)
                        .map_err(io)?;
                for batch in reader {
                    print(&batch.map_err(io)?)?;
                }
            }
            None => kept.iter().try_for_each(&mut print)?,
        }
        if shown > 0 {
            layout.rule(out)?;
        }
        if shown < rows {
            writeln!(
                out,
                "… {} more rows not shown (.maxrows {rows} shows them all)",
                rows - shown
            )?;
        }
        let hidden = names.len() - layout.shown.len();
        if hidden > 0 {
            writeln!(
                out,
                "{rows} row{}, {} columns, {hidden} not shown; every value: --format line or .mode line (.maxwidth 0 shows every column)",
                if rows == 1 { "" } else { "s" },
                names.len()
            )?;
        }
        Ok(())
    }
}

/// The text of each value of a column as a table shows it: on one line, cut to fit a screen.
struct Texts<'a> {
    formatter: ArrayFormatter<'a>,
    fit: Fit,
}

impl<'a> Texts<'a> {
    fn new(array: &'a ArrayRef, fit: Fit) -> std::io::Result<Self> {
        let options = FormatOptions::default().with_null("NULL");
        let formatter = ArrayFormatter::try_new(array.as_ref(), &options).map_err(io)?;
        Ok(Texts { formatter, fit })
    }

    fn get(&self, row: usize) -> String {
        let text = one_line(&self.formatter.value(row).to_string());
        match self.fit.width {
            Some(width) => cut(&text, (width / 4).clamp(8, MAX_VALUE_CHARS)),
            None => text,
        }
    }
}

/// Which columns of a table fit a width, and how wide each is.
struct Layout {
    widths: Vec<usize>,
    /// Columns shown, in order.
    shown: Vec<usize>,
    /// Where the `…` column of those left out goes (an index into `shown`).
    gap: Option<usize>,
}

impl Layout {
    /// From both ends towards the middle, keeping the first and last column.
    fn new(widths: Vec<usize>, width: Option<usize>) -> Self {
        let count = widths.len();
        let mut shown: Vec<usize> = (0..count).collect();
        let total = |cols: &[usize], marker: bool| -> usize {
            1 + cols.iter().map(|&c| widths[c] + 3).sum::<usize>() + if marker { 4 } else { 0 }
        };
        let mut gap = None;
        if let Some(width) = width
            && total(&shown, false) > width
        {
            let (mut front, mut back) = (Vec::new(), Vec::new());
            let (mut i, mut j) = (0, count);
            let mut from_front = true;
            while i < j {
                let next = if from_front { i } else { j - 1 };
                let mut trial: Vec<usize> = front.clone();
                trial.push(next);
                trial.extend(back.iter().rev());
                if total(&trial, true) > width && !(front.is_empty() && back.is_empty()) {
                    break;
                }
                match from_front {
                    true => {
                        front.push(i);
                        i += 1;
                    }
                    false => {
                        back.push(j - 1);
                        j -= 1;
                    }
                }
                from_front = !from_front;
            }
            gap = Some(front.len());
            shown = front;
            shown.extend(back.iter().rev());
        }
        let gap = gap.filter(|_| shown.len() < count);
        Layout { widths, shown, gap }
    }

    fn rule(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut line = String::from("+");
        for (k, &c) in self.shown.iter().enumerate() {
            if self.gap == Some(k) {
                line.push_str("---+");
            }
            line.push_str(&"-".repeat(self.widths[c] + 2));
            line.push('+');
        }
        if self.gap == Some(self.shown.len()) {
            line.push_str("---+");
        }
        writeln!(out, "{line}")
    }

    fn row(&self, out: &mut dyn Write, value: &dyn Fn(usize) -> String) -> std::io::Result<()> {
        let mut line = String::from("|");
        for (k, &c) in self.shown.iter().enumerate() {
            if self.gap == Some(k) {
                line.push_str(" … |");
            }
            let text = value(c);
            let pad = self.widths[c].saturating_sub(text.chars().count());
            line.push_str(&format!(" {text}{} |", " ".repeat(pad)));
        }
        if self.gap == Some(self.shown.len()) {
            line.push_str(" … |");
        }
        writeln!(out, "{line}")
    }
}

/// A value on one line: line breaks and tabs written as `\n` and `\t`.
fn one_line(text: &str) -> String {
    if !text.contains(['\n', '\r', '\t']) {
        return text.to_string();
    }
    text.replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

/// Every line of `text` cut to `width` characters (the last `…`), for listings on a screen.
pub fn cut_lines(text: &str, width: usize) -> String {
    text.lines().map(|l| cut(l, width) + "\n").collect()
}

/// `text` cut to `max` characters, the last being `…`.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// A Markdown table, row by row: no widths to know in advance.
struct MarkdownWriter<'w> {
    out: &'w mut dyn Write,
    schema: SchemaRef,
    header: bool,
}

impl MarkdownWriter<'_> {
    fn cell(text: &str) -> String {
        text.replace('|', "\\|").replace('\n', " ")
    }

    /// The header, once (also for a result without rows).
    fn header(&mut self) -> std::io::Result<()> {
        if std::mem::replace(&mut self.header, true) {
            return Ok(());
        }
        let names: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| Self::cell(f.name()))
            .collect();
        writeln!(self.out, "| {} |", names.join(" | "))?;
        writeln!(self.out, "|{}", "---|".repeat(names.len()))
    }

    fn write(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.header()?;
        let options = FormatOptions::default().with_null("");
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref() as &dyn Array, &options))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| Self::cell(&f.value(row).to_string()))
                .collect();
            writeln!(self.out, "| {} |", cells.join(" | "))?;
        }
        Ok(())
    }
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
        let fit = Fit {
            max_rows: max,
            width: None,
        };
        write(format, &schema, &batches, fit, &mut out).unwrap();
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
        write(
            Format::Csv,
            &batch.schema(),
            &[batch],
            Fit::default(),
            &mut out,
        )
        .unwrap();
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
            Format::Line,
        ] {
            let error = write(
                format,
                &schema,
                std::slice::from_ref(&batch),
                Fit::default(),
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
        assert_eq!(
            render(Format::Table, None, false),
            "+------+---+\n| name | n |\n+------+---+\n| a|b  | 1 |\n| NULL | 2 |\n| c    | 3 |\n+------+---+\n"
        );
        assert_eq!(
            render(Format::Line, None, false),
            "name = a|b\n   n = 1\n\nname = NULL\n   n = 2\n\nname = c\n   n = 3\n"
        );
    }

    #[test]
    fn tables_fit_the_width_with_cut_values_and_a_footer() {
        // Thirty columns of long values: far wider than 80 characters.
        let fields: Vec<Field> = (0..30)
            .map(|i| Field::new(format!("column_{i:02}"), DataType::Utf8, true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let long = "x".repeat(200);
        let columns: Vec<ArrayRef> = (0..30)
            .map(|i| -> ArrayRef {
                Arc::new(StringArray::from(vec![
                    Some(format!("{i}-{long}")),
                    (i != 29).then(String::new),
                ]))
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut out = Vec::new();
        let fit = Fit {
            max_rows: None,
            width: Some(80),
        };
        write(Format::Table, &schema, &[batch], fit, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (footer, table) = lines.split_last().unwrap();
        assert!(
            table.iter().all(|l| l.chars().count() <= 80),
            "a line is wider than 80:\n{text}"
        );
        // The first and last columns stay; the middle ones are marked as left out.
        assert!(table[1].starts_with("| column_00 "), "{text}");
        assert!(
            table[1]
                .trim_end_matches([' ', '|'])
                .ends_with("| column_29"),
            "{text}"
        );
        assert!(table[1].contains("| … |"), "{text}");
        assert!(
            table[3].contains("0-xxx") && table[3].contains("x… |"),
            "{text}"
        );
        let last = table[4].rsplit_once("| ").unwrap().1;
        assert_eq!(last.trim_end_matches([' ', '|']), "NULL", "{text}");
        assert!(
            table[4].starts_with("|                      |"),
            "empty, not NULL: {text}"
        );
        assert!(
            footer.starts_with("2 rows, 30 columns, 27 not shown"),
            "{footer}"
        );
    }
}
