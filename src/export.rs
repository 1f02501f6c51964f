//! The `export` command: the original CloudTrail records, rebuilt from the Parquet, as NDJSON.
//!
//! A record is rebuilt from its typed columns along the schema's paths, then the `extra` column
//! is laid over it: its members replace or add to the rebuilt ones, merging into known objects.
//! The result equals the input record value for value.

use std::collections::BTreeMap;
use std::io::Write;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, ListArray, RecordBatch, StructArray};
use arrow::datatypes::TimestampMillisecondType;
use datafusion::prelude::SessionConfig;
use futures::StreamExt;

use crate::error::{Error, Result};
use crate::schema::{self, BoolForm, COLUMNS, Kind, Origin, RESOURCE_KEYS};
use crate::shape::json::{self, Members};
use crate::sql::Dataset;
use crate::sql::session::TABLE;
use crate::table::NULL_VALUE;
use crate::time;

/// Writes the records of `data` matching `predicate` (SQL) to `out` as NDJSON, ordered by time.
/// Returns the number of records.
///
/// Every file of the table is sorted by time (see [`crate::writer::parquet::encode`]), so the
/// order comes from merging files, never from sorting the table again: memory stays bounded by a
/// batch per file, whatever the size. When the table is partitioned by day, the days are merged
/// one after another, in order (the day of an event is the day of its time); events without a
/// time come last.
pub async fn run(
    data: &str,
    predicate: Option<&str>,
    memory_limit: Option<usize>,
    as_of: Option<&crate::table::delta::AsOf>,
    out: &mut dyn Write,
) -> Result<u64> {
    let dataset = Dataset::open(data, as_of).await?;
    let files = dataset.files().await?;
    let by_day = dataset.partition_by.iter().any(|p| p == "event_date");
    // Files per day (`None`: no day partition, or events without a time).
    let mut days: BTreeMap<Option<String>, usize> = BTreeMap::new();
    for file in &files {
        let day = match by_day {
            true => file
                .split('/')
                .find_map(|s| s.strip_prefix("event_date="))
                .filter(|d| *d != NULL_VALUE)
                .map(str::to_string),
            false => None,
        };
        *days.entry(day).or_default() += 1;
    }
    // Days in order, then the events without a time.
    let mut order: Vec<(Option<String>, usize)> = days.into_iter().collect();
    let timeless_first = order.first().is_some_and(|(d, _)| d.is_none());
    order.rotate_left(usize::from(timeless_first));
    let columns: Vec<String> = COLUMNS.iter().map(|c| format!("\"{}\"", c.name)).collect();
    // A scan partition per file of the largest day (at least): each file is sorted, so DataFusion
    // merges them and plans no sort. Small batches keep a batch per file cheap.
    let most = order.iter().map(|(_, files)| *files).max().unwrap_or(1);
    let config = SessionConfig::new()
        .with_target_partitions(most.max(1))
        .with_batch_size(1024);
    let options = crate::sql::SessionOptions {
        memory_limit,
        ..Default::default()
    };
    let ctx = dataset.context_with(&options, config).await?;
    let mut count = 0u64;
    let mut line = String::new();
    for (day, _) in order {
        let mut filters = Vec::new();
        if by_day {
            filters.push(match &day {
                Some(d) => format!("event_date = DATE '{d}'"),
                None => "event_date IS NULL".to_string(),
            });
        }
        if let Some(p) = predicate {
            filters.push(format!("({p})"));
        }
        let filter = match filters.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", filters.join(" AND ")),
        };
        let sql = format!(
            "SELECT {} FROM {TABLE}{filter} ORDER BY event_time NULLS LAST, source_key, source_index",
            columns.join(", ")
        );
        let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            let batch = Columns::new(&batch?)?;
            for row in 0..batch.rows {
                line.clear();
                batch.record(row, &mut line);
                line.push('\n');
                out.write_all(line.as_bytes())
                    .map_err(|e| Error::io("cannot write the export", e))?;
                count += 1;
            }
        }
    }
    out.flush()
        .map_err(|e| Error::io("cannot write the export", e))?;
    Ok(count)
}

/// A batch's columns, cast to the stored types (DataFusion may read strings as views).
pub struct Columns {
    arrays: Vec<ArrayRef>,
    /// Which of them is `extra`.
    extra: usize,
    pub rows: usize,
}

impl Columns {
    pub fn new(batch: &RecordBatch) -> Result<Self> {
        let arrays = crate::sql::session::as_stored(batch)?.columns().to_vec();
        Ok(Columns {
            arrays,
            extra: schema::origin_index(Origin::Extra),
            rows: batch.num_rows(),
        })
    }

    /// Appends the JSON of one record to `out`.
    pub fn record(&self, row: usize, out: &mut String) {
        let mut root = self.object(0, row);
        let extra = self.arrays[self.extra].as_string::<i32>();
        if extra.is_valid(row)
            && let Ok(members) = Members::parse(extra.value(row))
        {
            root.overlay(&members);
        }
        root.write(out);
    }

    /// Rebuilds the object at a node of the path tree from the typed columns.
    fn object(&self, node: usize, row: usize) -> Obj {
        let tree = schema::path_tree();
        let mut obj = Obj::default();
        for key in &tree[node].order {
            let child = tree[node].children[key];
            match tree[child].column {
                Some(column) => {
                    if let Some(value) = self.value(column, row) {
                        obj.members.push((key.to_string(), Val::Text(value)));
                    }
                }
                None => {
                    let inner = self.object(child, row);
                    if !inner.members.is_empty() {
                        obj.members.push((key.to_string(), Val::Obj(inner)));
                    }
                }
            }
        }
        obj
    }

    /// The JSON text of a typed column's value, if it is not null.
    fn value(&self, column: usize, row: usize) -> Option<String> {
        let array = &self.arrays[column];
        if array.is_null(row) {
            return None;
        }
        let Origin::Record(_, kind) = COLUMNS[column].origin else {
            return None;
        };
        let mut out = String::new();
        match kind {
            Kind::Str => json::write_str(&mut out, array.as_string::<i32>().value(row)),
            Kind::Json => out.push_str(array.as_string::<i32>().value(row)),
            Kind::Bool(form) => {
                let value = array.as_any().downcast_ref::<BooleanArray>()?.value(row);
                match form {
                    BoolForm::Json => out.push_str(if value { "true" } else { "false" }),
                    BoolForm::Text => out.push_str(if value { "\"true\"" } else { "\"false\"" }),
                }
            }
            Kind::Time => {
                let ms = array.as_primitive::<TimestampMillisecondType>().value(row);
                json::write_str(&mut out, &time::format_millis(ms));
            }
            Kind::Resources => {
                let list = array.as_any().downcast_ref::<ListArray>()?.value(row);
                let items = list.as_any().downcast_ref::<StructArray>()?;
                out.push('[');
                for i in 0..items.len() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('{');
                    let mut first = true;
                    for (field, key) in RESOURCE_KEYS.iter().enumerate() {
                        let values = items.column(field).as_string::<i32>();
                        if values.is_valid(i) {
                            if !first {
                                out.push(',');
                            }
                            first = false;
                            json::write_key(&mut out, key);
                            json::write_str(&mut out, values.value(i));
                        }
                    }
                    out.push('}');
                }
                out.push(']');
            }
        }
        Some(out)
    }
}

/// A JSON object under construction; values are JSON text.
#[derive(Debug, Default)]
struct Obj {
    members: Vec<(String, Val)>,
}

#[derive(Debug)]
enum Val {
    Text(String),
    Obj(Obj),
}

impl Obj {
    /// Lays `extra` over the object: members replace or add, objects merge.
    fn overlay(&mut self, extra: &Members<'_>) {
        for (key, raw) in &extra.0 {
            let text = raw.get();
            match self.members.iter_mut().find(|(k, _)| k == key) {
                Some((_, Val::Obj(inner))) if text.starts_with('{') => {
                    if let Ok(members) = Members::parse(text) {
                        inner.overlay(&members);
                    }
                }
                Some((_, value)) => *value = Val::Text(text.to_string()),
                None => self
                    .members
                    .push((key.to_string(), Val::Text(text.to_string()))),
            }
        }
    }

    fn write(&self, out: &mut String) {
        out.push('{');
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_key(out, key);
            match value {
                Val::Text(text) => out.push_str(text),
                Val::Obj(obj) => obj.write(out),
            }
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flatten::{BatchBuilder, Provenance};

    /// Flatten then rebuild: the records come back equal, value for value.
    fn round_trip(records: &[&str]) {
        let mut builder = BatchBuilder::new();
        for (i, r) in records.iter().enumerate() {
            builder
                .push(
                    r,
                    Provenance {
                        source_key: "k",
                        index: i as u64,
                        envelope: None,
                    },
                )
                .unwrap();
        }
        let columns = Columns::new(&builder.finish()).unwrap();
        for (row, input) in records.iter().enumerate() {
            let mut out = String::new();
            columns.record(row, &mut out);
            let (a, b): (serde_json::Value, serde_json::Value) = (
                serde_json::from_str(input).unwrap(),
                serde_json::from_str(&out).unwrap(),
            );
            assert_eq!(a, b, "\ninput:  {input}\noutput: {out}");
        }
    }

    #[test]
    fn records_come_back_equal() {
        round_trip(&[
            r#"{"eventVersion":"1.05","userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2019-08-15T06:40:14Z"},"sessionIssuer":{},"webIdFederationData":{}}},"eventTime":"2019-08-15T06:40:55Z","requestParameters":{"a":[1,2.50,{"b":null}]},"responseElements":null,"readOnly":true,"resources":[{"ARN":"x","type":"T"},{}]}"#,
            r#"{"eventTime":"2019-08-15 06:40:55","readOnly":"true","sessionCredentialFromConsole":true,"userIdentity":{"type":null,"arn":"a","newThing":{"x":1},"sessionContext":{"attributes":{"mfaAuthenticated":false,"extra":1}}},"eventName":5,"p_any":["a"]}"#,
            r#"{"resources":[{"ARN":"a","accountId":null},"oops"],"userIdentity":"weird","tlsDetails":{"tlsVersion":"TLSv1.3","clientProvidedHostHeader":"h"}}"#,
            r#"{"requestParameters":"{\"a\":1}","responseElements":[1],"additionalEventData":{},"insightDetails":{"state":"Start","insightContext":{"statistics":{"baseline":{"average":9.82222E-5}}}}}"#,
            r#"{}"#,
            r#"{"eventVersion":1.05,"eventTime":"2024-01-01T00:00:00.123Z","userIdentity":{"sessionContext":{"attributes":{"creationDate":"20131102T010628Z"}}}}"#,
        ]);
    }
}
