//! The SQL session over converted data: the `cloudtrail` table, typed partition columns, JSON
//! functions, and the canned-query catalogue.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::{SessionConfig, SessionContext, cast as cast_to, col, ident};
use futures::TryStreamExt;

use super::catalog::Catalog;
use super::memory;
use crate::error::{Error, Result};
use crate::schema;
use crate::store::Location;
use crate::table::NULL_VALUE;
use crate::table::delta::{self, AsOf};
use crate::table::{self, TABLE_DIR, TableFormat};

/// The table users query.
pub const TABLE: &str = "cloudtrail";
/// Where the files themselves are registered (partition values as written in the paths), out of
/// the way of `.tables`.
pub const FILES_TABLE: &str = "trailpq.cloudtrail_files";

/// The table with each event once (duplicate deliveries left out), as a view.
pub const UNIQUE_TABLE: &str = "cloudtrail_unique";

/// What was found at DATA.
#[derive(Clone)]
pub struct Dataset {
    pub location: Location,
    /// Partition columns, outermost first, as found in the folder names.
    pub partition_by: Vec<String>,
    /// A Delta table's snapshot (the latest, or the one `--as-of` asked for): everything this
    /// dataset reads, its files and its rows, is that snapshot's. `None`: a Hive table.
    pub snapshot: Option<Arc<deltalake::DeltaTable>>,
}

/// How a session sees the data.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Only events on or after this UTC date.
    pub since: Option<NaiveDate>,
    /// Only events on or before this UTC date.
    pub until: Option<NaiveDate>,
    /// A folder of the user's own canned queries.
    pub queries: Option<PathBuf>,
    /// Memory for query execution, in bytes (beyond it, sorts and aggregations spill to disk);
    /// `None`: [`memory::default_limit`].
    pub memory_limit: Option<usize>,
    /// A Delta table's earlier snapshot to read instead of the latest.
    pub as_of: Option<AsOf>,
}

impl Dataset {
    /// Finds the converted table at `data` (the DEST of a `convert`); for a Delta table, the
    /// snapshot `as_of` names (`None`: the latest).
    pub async fn open(data: &str, as_of: Option<&AsOf>) -> Result<Self> {
        let location = Location::parse(data)?;
        // A store that refuses access is reported by the listing below, with its advice.
        let meta = table::read_meta(&location).await.ok().flatten();
        let delta = match &meta {
            Some(meta) => meta.format == TableFormat::Delta,
            // Copied without trailpq's bookkeeping: the log says.
            None => delta::exists(&location).await.unwrap_or(false),
        };
        if delta {
            let snapshot = delta::load(&location, as_of).await?;
            let partition_by = snapshot
                .snapshot()
                .map_err(|e| Error::Failed(e.to_string()))?
                .metadata()
                .partition_columns()
                .to_vec();
            return Ok(Dataset {
                location,
                partition_by,
                snapshot: Some(Arc::new(snapshot)),
            });
        }
        if as_of.is_some() {
            return Err(Error::Usage(format!(
                "{data} is a Hive table, which keeps no earlier snapshots; --as-of reads Delta tables \
                 (trailpq migrate {data} --to delta makes it one)"
            )));
        }
        let partition_by = match table::partition_columns(&location).await? {
            Some(names) => names,
            // An empty table still has its settings.
            None => match table::read_meta(&location).await {
                Ok(Some(meta)) => meta.partition_by,
                Ok(None) => {
                    return Err(Error::Failed(format!(
                        "{data} holds no converted CloudTrail data (no {TABLE_DIR}/ folder with Parquet files); \
                         create it with: trailpq convert SOURCE --out {data}"
                    )));
                }
                Err(e) => return Err(e.into()),
            },
        };
        Ok(Dataset {
            location,
            partition_by,
            snapshot: None,
        })
    }

    /// The table's Parquet files, relative to DATA (`cloudtrail/…/part-….parquet`).
    pub async fn files(&self) -> Result<Vec<String>> {
        match &self.snapshot {
            Some(table) => Ok(delta::snapshot_files(&self.location, table)?),
            None => Ok(table::parquet_files(&self.location).try_collect().await?),
        }
    }

    /// How many Parquet files and partition folders the table has.
    pub async fn layout(&self) -> Result<(usize, usize)> {
        let files = self.files().await?;
        let folders: std::collections::BTreeSet<&str> = files
            .iter()
            .filter_map(|f| f.rsplit_once('/').map(|(dir, _)| dir))
            .collect();
        Ok((files.len(), folders.len()))
    }

    /// A DataFusion session with the `cloudtrail` table registered.
    pub async fn context(&self, options: &SessionOptions) -> Result<SessionContext> {
        self.context_with(options, SessionConfig::new()).await
    }

    /// [`context`](Self::context) from a configuration the caller has tuned.
    pub async fn context_with(
        &self,
        options: &SessionOptions,
        config: SessionConfig,
    ) -> Result<SessionContext> {
        let limit = options.memory_limit.unwrap_or_else(memory::default_limit);
        let config = match crate::hooks::batch_rows() {
            Some(rows) => config.with_batch_size(rows),
            None => config,
        };
        let config = config
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true);
        // Sorts and aggregates spill to disk past the limit, so memory stays bounded on any data.
        let config = memory::configure(config, limit);
        let runtime = memory::runtime(limit)?;
        let mut ctx = SessionContext::new_with_config_rt(config, runtime);
        if let Some(base) = &self.location.base_url {
            ctx.runtime_env()
                .register_object_store(base, self.location.store.clone());
        }
        datafusion_functions_json::register_all(&mut ctx)?;
        ctx.register_udf(super::to_json::udf());
        self.register(&ctx, options).await?;
        Ok(ctx)
    }

    /// Registers [`FILES_TABLE`] and the [`TABLE`] view over it, whose partition columns are
    /// typed (`event_date` a DATE; `account_id` and `region` strings) with Hive's NULL folder name
    /// read as NULL, and which holds only the days asked for.
    async fn register(&self, ctx: &SessionContext, options: &SessionOptions) -> Result<()> {
        let internal = ctx
            .catalog("datafusion")
            .expect("the default catalog exists");
        internal.register_schema("trailpq", Arc::new(MemorySchemaProvider::new()))?;
        match &self.snapshot {
            Some(table) => self.register_delta(ctx, table).await?,
            None => {
                let url = ListingTableUrl::parse(self.location.table_url(&[TABLE_DIR]))?;
                let listing = sorted_parquet().with_table_partition_cols(
                    self.partition_by
                        .iter()
                        .map(|name| (name.clone(), DataType::Utf8))
                        .collect(),
                );
                let config = ListingTableConfig::new(url)
                    .with_listing_options(listing)
                    .with_schema(schema::arrow_schema());
                ctx.register_table(FILES_TABLE, Arc::new(ListingTable::try_new(config)?))?;
            }
        }

        let mut columns: Vec<String> = schema::COLUMNS
            .iter()
            .map(|c| format!("\"{}\"", c.name))
            .collect();
        for name in &self.partition_by {
            let value = format!("NULLIF(\"{name}\", '{NULL_VALUE}')");
            columns.push(match name.as_str() {
                "event_date" => format!("CAST({value} AS DATE) AS \"{name}\""),
                _ => format!("{value} AS \"{name}\""),
            });
        }
        // The days asked for, on the partition column when there is one (whole folders skipped),
        // and always on `event_time` itself, uncast, so that the Parquet statistics of files,
        // row groups and pages skip what lies outside whatever the partitioning.
        let mut filters = Vec::new();
        let by_day = self.partition_by.iter().any(|p| p == "event_date");
        let day = format!("CAST(NULLIF(event_date, '{NULL_VALUE}') AS DATE)");
        let instant = |d: NaiveDate| format!("TIMESTAMP '{d}T00:00:00Z'");
        if let Some(since) = options.since {
            if by_day {
                filters.push(format!("{day} >= DATE '{since}'"));
            }
            filters.push(format!("event_time >= {}", instant(since)));
        }
        if let Some(until) = options.until {
            if by_day {
                filters.push(format!("{day} <= DATE '{until}'"));
            }
            match until.succ_opt() {
                Some(next) => filters.push(format!("event_time < {}", instant(next))),
                None => filters.push(format!("CAST(event_time AS DATE) <= DATE '{until}'")),
            }
        }
        let filter = match filters.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", filters.join(" AND ")),
        };
        let view = format!(
            "CREATE VIEW {TABLE} AS SELECT {} FROM {FILES_TABLE}{filter}",
            columns.join(", ")
        );
        ctx.sql(&view).await?;
        // Each event once, before `trailpq compact` removes duplicate deliveries: the first copy
        // of each eventID in the table's order; records without an eventID all stay.
        let unique = format!(
            "CREATE VIEW {UNIQUE_TABLE} AS \
             SELECT * FROM {TABLE} WHERE event_id IS NULL \
             UNION ALL \
             SELECT * FROM (SELECT DISTINCT ON (event_id) * FROM {TABLE} WHERE event_id IS NOT NULL \
             ORDER BY event_id, event_time, source_key, source_index)"
        );
        ctx.sql(&unique).await?;
        for view in
            crate::ocsf::create_views(crate::ocsf::Dialect::DataFusion, TABLE, |n| n.to_string())
        {
            ctx.sql(&view).await?;
        }
        Ok(())
    }
}

impl Dataset {
    /// Registers [`FILES_TABLE`] over a Delta snapshot, shaped as the Hive listing gives it: the
    /// stored column types (Delta widens timestamps to microseconds) and partition values as
    /// text, so that everything above reads both formats alike.
    async fn register_delta(
        &self,
        ctx: &SessionContext,
        table: &deltalake::DeltaTable,
    ) -> Result<()> {
        let failed = |e: deltalake::DeltaTableError| Error::Failed(e.to_string());
        table
            .update_datafusion_session(&ctx.state())
            .map_err(failed)?;
        let provider = table.table_provider().await?;
        ctx.register_table(DELTA_TABLE, provider)?;
        let stored = schema::arrow_schema();
        let mut columns: Vec<datafusion::prelude::Expr> = stored
            .fields()
            .iter()
            .map(|f| cast_to(ident(f.name()), f.data_type().clone()).alias(f.name()))
            .collect();
        for name in &self.partition_by {
            columns.push(cast_to(ident(name), DataType::Utf8).alias(name));
        }
        let view = ctx.table(DELTA_TABLE).await?.select(columns)?.into_view();
        ctx.register_table(FILES_TABLE, view)?;
        Ok(())
    }
}

/// Where a Delta snapshot is registered, beneath [`FILES_TABLE`].
const DELTA_TABLE: &str = "trailpq.cloudtrail_delta";

/// The table's Parquet files, declared sorted the way every file is (see
/// writer::parquet::encode), so an ORDER BY on that order merges files instead of sorting them.
fn sorted_parquet() -> ListingOptions {
    let sort_order =
        ["event_time", "source_key", "source_index"].map(|name| col(name).sort(true, false));
    ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_file_sort_order(vec![sort_order.to_vec()])
}

/// The rows of one partition's files (`files`, relative to DEST) in the table's order (time, then
/// source and position), merged from the files, which are each sorted already: memory stays at a
/// batch per file. Columns as stored.
pub async fn merged_files(
    location: &Location,
    files: &[String],
    memory_limit: usize,
) -> Result<SendableRecordBatchStream> {
    let config = SessionConfig::new()
        .with_target_partitions(files.len().max(1))
        .with_batch_size(4096);
    let config = memory::configure(config, memory_limit);
    let runtime = memory::runtime(memory_limit)?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    if let Some(base) = &location.base_url {
        ctx.runtime_env()
            .register_object_store(base, location.store.clone());
    }
    // The files named, not the folder: a Delta table's folder also holds files it no longer has.
    let urls = files
        .iter()
        .map(|rel| ListingTableUrl::parse(location.display(&location.child(&[rel]))))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(sorted_parquet())
        .with_schema(schema::arrow_schema());
    ctx.register_table("part", Arc::new(ListingTable::try_new(config)?))?;
    let columns: Vec<String> = schema::COLUMNS
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    let sql = format!(
        "SELECT {} FROM part ORDER BY event_time NULLS LAST, source_key, source_index",
        columns.join(", ")
    );
    Ok(ctx.sql(&sql).await?.execute_stream().await?)
}

/// A batch with the stored column types (DataFusion may read strings as views).
pub fn as_stored(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = schema::arrow_schema();
    let arrays = schema
        .fields()
        .iter()
        .map(|field| {
            let array = batch
                .column_by_name(field.name())
                .ok_or_else(|| Error::Failed(format!("column {} is missing", field.name())))?;
            cast(array, field.data_type()).map_err(|e| Error::Failed(e.to_string()))
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    RecordBatch::try_new(schema, arrays).map_err(|e| Error::Failed(e.to_string()))
}

/// A session: the data, the DataFusion context and the catalogue of canned queries.
pub struct Session {
    pub dataset: Dataset,
    pub ctx: SessionContext,
    pub catalog: Catalog,
}

impl Session {
    /// Opens DATA; `catalog` is the canned queries (see [`Catalog::with_dir`]).
    pub async fn open(data: &str, options: &SessionOptions, catalog: Catalog) -> Result<Self> {
        let dataset = Dataset::open(data, options.as_of.as_ref()).await?;
        let ctx = dataset.context(options).await?;
        Ok(Session {
            dataset,
            ctx,
            catalog,
        })
    }

    /// Runs one statement to the end: the schema of its result, and its rows.
    pub async fn collect(
        &self,
        sql: &str,
        access: Access,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let stream = self.stream(sql, access).await?;
        let schema = stream.schema();
        Ok((schema, stream.try_collect().await?))
    }

    /// Starts one statement: its rows as they come.
    pub async fn stream(&self, sql: &str, access: Access) -> Result<SendableRecordBatchStream> {
        let options = match access {
            Access::ReadOnly => SQLOptions::new()
                .with_allow_ddl(false)
                .with_allow_dml(false)
                .with_allow_statements(false),
            Access::Full => SQLOptions::new(),
        };
        let frame = self.ctx.sql_with_options(sql, options).await?;
        // `SET datafusion.runtime.memory_limit` swaps in DataFusion's own pool: put ours back.
        memory::keep_pool(&self.ctx)?;
        Ok(frame.execute_stream().await?)
    }
}

/// What a statement may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Canned queries (built in, `--queries`, `--file` with a header, `.run`): queries only, no
    /// DDL (`CREATE`, `DROP`), DML (`COPY … TO`, `INSERT`) or `SET`.
    ReadOnly,
    /// SQL the user typed (`--sql`, plain `--file`, the shell): `COPY … TO` may save results.
    Full,
}
