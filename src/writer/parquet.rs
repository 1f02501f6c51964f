//! Encoding one output file: rows sorted by time, Parquet settings that Athena, DuckDB and Spark
//! read well.

use arrow::array::RecordBatch;
use arrow::compute::{
    SortColumn, SortOptions, concat_batches, lexsort_to_indices, take_record_batch,
};
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::{KeyValue, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::schema;

/// Columns that are nearly unique per row: a dictionary would only fall back.
const NO_DICTIONARY: &[&str] = &["event_id", "request_id", "source_index", "extra"];

/// Columns looked up by equality (`WHERE event_id = …`): bloom filters let readers skip row groups.
const BLOOM_FILTERED: &[&str] = &["event_id", "request_id", "user_access_key_id"];

/// Writer settings: zstd, dictionaries, page-level statistics (which also writes the page index),
/// spec-compliant list naming, the sort order declared, and no unsigned or nanosecond types
/// (the schema has none).
pub fn properties(row_group_rows: usize) -> WriterProperties {
    let schema = schema::arrow_schema();
    let index = |name: &str| schema.index_of(name).expect("schema column");
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(3).expect("valid level"),
        ))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_coerce_types(true)
        .set_created_by(format!("trailpq version {}", env!("CARGO_PKG_VERSION")))
        .set_sorting_columns(Some(vec![SortingColumn {
            column_idx: index("event_time") as i32,
            descending: false,
            nulls_first: false,
        }]))
        .set_key_value_metadata(Some(vec![KeyValue::new(
            "trailpq.schema_version".to_string(),
            schema::SCHEMA_VERSION.to_string(),
        )]));
    for name in NO_DICTIONARY {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(*name), false);
    }
    for name in BLOOM_FILTERED {
        builder = builder
            .set_column_bloom_filter_enabled(ColumnPath::from(*name), true)
            .set_column_bloom_filter_max_ndv(ColumnPath::from(*name), row_group_rows as u64);
    }
    builder.build()
}

/// Sorts the rows by `event_time` (then by source and position, so files are reproducible) and
/// encodes them as one Parquet file.
pub fn encode(
    batches: &[RecordBatch],
    properties: &WriterProperties,
) -> Result<(Bytes, usize), ParquetError> {
    let schema = schema::arrow_schema();
    let all = concat_batches(&schema, batches)?;
    let by = |name: &str| SortColumn {
        values: all
            .column(schema.index_of(name).expect("schema column"))
            .clone(),
        options: Some(SortOptions {
            descending: false,
            nulls_first: false,
        }),
    };
    let order = lexsort_to_indices(
        &[by("event_time"), by("source_key"), by("source_index")],
        None,
    )?;
    let sorted = take_record_batch(&all, &order)?;
    drop(all);
    let mut writer = ArrowWriter::try_new(Vec::new(), schema, Some(properties.clone()))?;
    writer.write(&sorted)?;
    let rows = sorted.num_rows();
    drop(sorted);
    Ok((Bytes::from(writer.into_inner()?), rows))
}
