//! The SQL session over converted data: the `cloudtrail` table, with typed partition columns.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext, col};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;

use crate::error::{Error, Result};
use crate::schema;
use crate::store::{Location, StoreError, describe};
use crate::writer::commit::{META_DIR, TABLE_DIR, TableMeta};
use crate::writer::partition::NULL_VALUE;

/// The table users query.
pub const TABLE: &str = "cloudtrail";
/// The files themselves, with partition values as written in the paths.
pub const FILES_TABLE: &str = "cloudtrail_files";

/// Memory for query execution; beyond it, sorts and aggregations spill to disk.
const MEMORY_LIMIT: usize = 1 << 30;

/// What was found at DATA.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub location: Location,
    /// Partition columns, outermost first, as found in the folder names.
    pub partition_by: Vec<String>,
}

impl Dataset {
    /// Finds the converted table at `data` (the DEST of a `convert`).
    pub async fn open(data: &str) -> Result<Self> {
        let location = Location::parse(data)?;
        let table = location.child(&[TABLE_DIR]);
        let first = location
            .store
            .list(Some(&table))
            .try_filter(|m| std::future::ready(m.location.as_ref().ends_with(".parquet")))
            .try_next()
            .await
            .map_err(|e| StoreError::Access {
                location: data.into(),
                message: describe(&e),
            })?;
        let partition_by = match first {
            // The folder names between the table and the file are `name=value`.
            Some(meta) => {
                let rel = location.relative(&meta.location);
                let mut names: Vec<String> = rel
                    .split('/')
                    .skip(1)
                    .filter_map(|segment| segment.split_once('=').map(|(name, _)| name.to_string()))
                    .collect();
                names.retain(|n| schema::PARTITION_COLUMNS.iter().any(|p| p.name == n));
                names
            }
            None => {
                // An empty table still has its settings.
                let meta_path = location.child(&[META_DIR, "table.json"]);
                match location.store.get(&meta_path).await {
                    Ok(got) => {
                        let bytes = got.bytes().await.map_err(|e| Error::Failed(describe(&e)))?;
                        let meta: TableMeta = serde_json::from_slice(&bytes).map_err(|e| {
                            Error::Failed(format!("{}: {e}", location.display(&meta_path)))
                        })?;
                        meta.partition_by
                    }
                    Err(_) => {
                        return Err(Error::Failed(format!(
                            "{data} holds no converted CloudTrail data (no {TABLE_DIR}/ folder with Parquet files); \
                             create it with: trailpq convert SOURCE --out {data}"
                        )));
                    }
                }
            }
        };
        Ok(Dataset {
            location,
            partition_by,
        })
    }

    /// A session with the `cloudtrail` table registered.
    pub async fn session(&self) -> Result<SessionContext> {
        let config = SessionConfig::new()
            .with_information_schema(true)
            .set_bool("datafusion.execution.parquet.pushdown_filters", true);
        // Sorts and aggregates spill to disk past this, so memory stays bounded on any data size.
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(MEMORY_LIMIT, 1.0)
            .build_arc()?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        if let Some(base) = &self.location.base_url {
            ctx.runtime_env()
                .register_object_store(base, self.location.store.clone());
        }
        self.register(&ctx).await?;
        Ok(ctx)
    }

    /// Registers [`FILES_TABLE`] (partition values as text) and the [`TABLE`] view, whose
    /// partition columns are typed: `event_date` a DATE, `account_id` and `region` strings, and
    /// Hive's NULL folder name read as NULL.
    pub async fn register(&self, ctx: &SessionContext) -> Result<()> {
        let url = ListingTableUrl::parse(self.location.table_url(&[TABLE_DIR]))?;
        // Every file is sorted like this (see writer::parquet::encode), so an ORDER BY on it
        // merges files instead of sorting them.
        let sort_order =
            ["event_time", "source_key", "source_index"].map(|name| col(name).sort(true, false));
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_file_sort_order(vec![sort_order.to_vec()])
            .with_table_partition_cols(
                self.partition_by
                    .iter()
                    .map(|name| (name.clone(), DataType::Utf8))
                    .collect(),
            );
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(schema::arrow_schema());
        ctx.register_table(FILES_TABLE, Arc::new(ListingTable::try_new(config)?))?;

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
        let view = format!(
            "CREATE VIEW {TABLE} AS SELECT {} FROM {FILES_TABLE}",
            columns.join(", ")
        );
        ctx.sql(&view).await?;
        Ok(())
    }
}
