//! Hive partitions: which columns, each row's values, and values as safe directory names.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use arrow::array::{
    Array, AsArray, RecordBatch, StringArray, TimestampMillisecondArray, UInt32Array,
};
use arrow::compute::take_record_batch;
use arrow::datatypes::TimestampMillisecondType;

use crate::schema::{self, PARTITION_COLUMNS};
use crate::table::NULL_VALUE;
use crate::time;

/// Escaped values longer than this are cut and given a hash suffix, to keep paths short.
const MAX_VALUE_LEN: usize = 128;

/// A column the output can be partitioned by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionColumn {
    AccountId,
    Region,
    EventDate,
}

impl PartitionColumn {
    pub const ALL: [PartitionColumn; 3] = [Self::AccountId, Self::Region, Self::EventDate];

    pub fn name(self) -> &'static str {
        PARTITION_COLUMNS[self as usize].name
    }

    /// The stored column the value is derived from.
    fn source_column(self) -> &'static str {
        match self {
            Self::AccountId => "recipient_account_id",
            Self::Region => "aws_region",
            Self::EventDate => "event_time",
        }
    }
}

/// The ordered partition columns of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionSpec(pub Vec<PartitionColumn>);

impl Default for PartitionSpec {
    fn default() -> Self {
        PartitionSpec(vec![PartitionColumn::EventDate])
    }
}

impl fmt::Display for PartitionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(","))
    }
}

impl FromStr for PartitionSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut columns = Vec::new();
        for name in s.split(',').map(str::trim) {
            let column = PartitionColumn::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .ok_or_else(|| {
                    format!("unknown partition column '{name}'; choose from account_id, region, event_date")
                })?;
            if columns.contains(&column) {
                return Err(format!("partition column '{name}' is given twice"));
            }
            columns.push(column);
        }
        Ok(PartitionSpec(columns))
    }
}

/// One row's value of one partition column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Value<'a> {
    Unused,
    Text(Option<&'a str>),
    Date(Option<i32>),
}

/// The stored column a partition value is read from.
enum Source<'a> {
    Time(&'a TimestampMillisecondArray),
    Text(&'a StringArray),
}

impl<'a> Source<'a> {
    fn value(&self, row: usize) -> Value<'a> {
        match self {
            Source::Time(times) => Value::Date(
                times
                    .is_valid(row)
                    .then(|| time::epoch_days(times.value(row))),
            ),
            Source::Text(strings) => Value::Text(strings.is_valid(row).then(|| strings.value(row))),
        }
    }
}

impl PartitionSpec {
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|c| c.name()).collect()
    }

    /// Splits a batch by partition: `(directory path, rows)` pairs, such as
    /// `("account_id=1/event_date=2024-05-01", batch)`.
    pub fn split(&self, batch: &RecordBatch) -> Vec<(String, RecordBatch)> {
        let sources: Vec<Source<'_>> = self
            .0
            .iter()
            .map(|&c| {
                let column =
                    batch.column(schema::column_index(c.source_column()).expect("schema column"));
                match c {
                    PartitionColumn::EventDate => {
                        Source::Time(column.as_primitive::<TimestampMillisecondType>())
                    }
                    _ => Source::Text(column.as_string::<i32>()),
                }
            })
            .collect();
        let key_of = |row: usize| {
            let mut key = [Value::Unused; 3];
            for (slot, source) in key.iter_mut().zip(&sources) {
                *slot = source.value(row);
            }
            key
        };

        let mut order: Vec<[Value<'_>; 3]> = Vec::new();
        let mut rows: HashMap<[Value<'_>; 3], Vec<u32>> = HashMap::new();
        for row in 0..batch.num_rows() {
            let key = key_of(row);
            rows.entry(key)
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push(row as u32);
        }
        if order.len() == 1 {
            return vec![(self.path(&order[0]), batch.clone())];
        }
        order
            .iter()
            .map(|key| {
                let indices = UInt32Array::from(std::mem::take(rows.get_mut(key).unwrap()));
                let part = take_record_batch(batch, &indices).expect("indices are in range");
                (self.path(key), part)
            })
            .collect()
    }

    fn path(&self, key: &[Value<'_>; 3]) -> String {
        self.0
            .iter()
            .zip(key)
            .map(|(column, value)| {
                let text = match value {
                    Value::Text(Some(s)) => escape(s),
                    Value::Date(Some(days)) => time::format_date(*days),
                    _ => NULL_VALUE.to_string(),
                };
                format!("{}={text}", column.name())
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Escapes a partition value the way Hive does (`%XX` for `/`, `=`, `%`, `:`, quotes, control
/// characters, …), so that no value can add a directory level or leave the table. Empty values
/// become [`NULL_VALUE`]; very long ones are cut and made unique with a hash.
pub fn escape(value: &str) -> String {
    if value.is_empty() {
        return NULL_VALUE.to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_ascii_control() || "\"#%'*/:=?\\{[]^".contains(c) {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    if out.len() > MAX_VALUE_LEN {
        let mut cut = MAX_VALUE_LEN - 17;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        // FNV-1a, a stable hash: a long value always maps to the same directory.
        out = format!("{}~{:016x}", &out[..cut], crate::sources::fnv64(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flatten::{BatchBuilder, Provenance};

    #[test]
    fn specs_parse_and_reject_mistakes() {
        let spec: PartitionSpec = "account_id, region,event_date".parse().unwrap();
        assert_eq!(spec.names(), ["account_id", "region", "event_date"]);
        assert!(
            "event_date,event_date"
                .parse::<PartitionSpec>()
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            "day"
                .parse::<PartitionSpec>()
                .unwrap_err()
                .contains("unknown partition column 'day'")
        );
        assert_eq!(PartitionSpec::default().to_string(), "event_date");
    }

    #[test]
    fn escaping_keeps_values_inside_one_level() {
        assert_eq!(escape("us-east-1"), "us-east-1");
        assert_eq!(escape("../etc"), "..%2Fetc");
        assert_eq!(escape("a=b%c/d"), "a%3Db%25c%2Fd");
        assert_eq!(escape("x\ny"), "x%0Ay");
        assert_eq!(escape(""), NULL_VALUE);
        let long = escape(&"é".repeat(200));
        assert!(long.len() <= MAX_VALUE_LEN && long.contains('~'), "{long}");
        assert_eq!(long, escape(&"é".repeat(200)));
        assert_ne!(long, escape(&"é".repeat(201)));
    }

    #[test]
    fn rows_are_split_by_partition() {
        let mut b = BatchBuilder::new();
        for (i, r) in [
            r#"{"eventTime":"2024-05-01T10:00:00Z","recipientAccountId":"012345678901","awsRegion":"us-east-1"}"#,
            r#"{"eventTime":"2024-05-02T00:00:00Z","recipientAccountId":"012345678901","awsRegion":"../x"}"#,
            r#"{"eventTime":"2024-05-01T23:59:59Z","recipientAccountId":"012345678901","awsRegion":"us-east-1"}"#,
            r#"{"eventTime":"not a time"}"#,
        ]
        .iter()
        .enumerate()
        {
            b.push(r, Provenance { source_key: "k", index: i as u64, envelope: None }).unwrap();
        }
        let batch = b.finish();
        let spec: PartitionSpec = "account_id,region,event_date".parse().unwrap();
        let parts: Vec<(String, usize)> = spec
            .split(&batch)
            .into_iter()
            .map(|(p, b)| (p, b.num_rows()))
            .collect();
        assert_eq!(
            parts,
            [
                (
                    "account_id=012345678901/region=us-east-1/event_date=2024-05-01".to_string(),
                    2
                ),
                (
                    "account_id=012345678901/region=..%2Fx/event_date=2024-05-02".to_string(),
                    1
                ),
                (
                    format!("account_id={NULL_VALUE}/region={NULL_VALUE}/event_date={NULL_VALUE}"),
                    1
                ),
            ]
        );
    }
}
