//! The `ddl` command: table definitions for the engines users take the Parquet to.
//!
//! Everything comes from the one schema definition ([`schema::COLUMNS`]) and from the data
//! itself: the partition columns are read from the folder names, and Athena's projection from the
//! values found there.

use std::collections::{BTreeMap, BTreeSet};

use arrow::datatypes::DataType;
use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::schema::{self, COLUMNS};
use crate::sql::Dataset;
use crate::table::NULL_VALUE;
use crate::table::TABLE_DIR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// A DuckDB view over read_parquet with typed Hive partitions
    Duckdb,
    /// An Athena table with partition projection (no crawler, no MSCK REPAIR)
    Athena,
    /// A Hive table that Spark SQL accepts, with MSCK REPAIR TABLE
    Spark,
}

/// Partition columns with more distinct values than this use Athena's `injected` projection
/// rather than `enum`: Athena advises keeping enums to a few dozen values.
const MAX_ENUM: usize = 50;

/// What the data's folders say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Partition columns, outermost first.
    pub partition_by: Vec<String>,
    /// The folder values of each partition column (escaped as on disk).
    pub values: BTreeMap<String, BTreeSet<String>>,
}

impl Layout {
    /// Reads the partition columns and their values from the paths of the data's files.
    pub async fn read(dataset: &Dataset) -> Result<Self> {
        let files = dataset.files().await?;
        let mut values: BTreeMap<String, BTreeSet<String>> = dataset
            .partition_by
            .iter()
            .map(|p| (p.clone(), BTreeSet::new()))
            .collect();
        for file in &files {
            for segment in file.split('/') {
                if let Some((name, value)) = segment.split_once('=')
                    && let Some(set) = values.get_mut(name)
                {
                    set.insert(value.to_string());
                }
            }
        }
        Ok(Layout {
            partition_by: dataset.partition_by.clone(),
            values,
        })
    }

    /// The earliest day of the data (for Athena's date projection).
    fn first_day(&self) -> Option<&str> {
        self.values
            .get("event_date")?
            .iter()
            .map(String::as_str)
            .find(|d| *d != NULL_VALUE)
    }
}

/// Options of `trailpq ddl`.
#[derive(Debug, Clone)]
pub struct DdlOptions {
    pub engine: Engine,
    pub table: String,
    pub database: Option<String>,
    /// Where DATA is in S3, for Athena.
    pub location: Option<String>,
}

/// Generates the DDL for DATA.
pub async fn run(data: &str, options: &DdlOptions) -> Result<String> {
    check_name("--table", &options.table)?;
    if let Some(database) = &options.database {
        check_name("--database", database)?;
    }
    if options.engine != Engine::Athena
        && (options.database.is_some() || options.location.is_some())
    {
        return Err(Error::Usage(
            "--database and --location are for athena".into(),
        ));
    }
    let dataset = Dataset::open(data, None).await?;
    let layout = Layout::read(&dataset).await?;
    let table_url = dataset.location.table_url(&[TABLE_DIR]);
    let delta = dataset.snapshot.is_some();
    let table_ddl = match options.engine {
        Engine::Duckdb if delta => {
            delta_duckdb(&options.table, &table_url, dataset.location.is_local())
        }
        Engine::Duckdb => duckdb(
            &options.table,
            &table_url,
            &layout,
            dataset.location.is_local(),
        ),
        Engine::Spark => {
            let location = match dataset.location.is_local() {
                true => format!("file:{table_url}"),
                false => table_url,
            };
            match delta {
                true => delta_spark(&options.table, &location),
                false => spark(&options.table, &location, &layout),
            }
        }
        Engine::Athena => {
            let location = match (&options.location, dataset.location.is_local()) {
                (Some(location), _) if location.starts_with("s3://") => {
                    format!("{}/{TABLE_DIR}/", location.trim_end_matches('/'))
                }
                (Some(location), _) => {
                    return Err(Error::Usage(format!(
                        "--location {location} is not an s3:// URL; give where DATA is, or will be, in S3"
                    )));
                }
                (None, false) if table_url.starts_with("s3://") => table_url,
                (None, false) => {
                    return Err(Error::Usage(format!(
                        "athena reads from S3, but DATA is {table_url}: give --location s3://BUCKET/PREFIX"
                    )));
                }
                (None, true) => {
                    return Err(Error::Usage(
                        "athena needs --location s3://BUCKET/PREFIX: where DATA is, or will be, in S3".into(),
                    ));
                }
            };
            match delta {
                true => delta_athena(options.database.as_deref(), &options.table, &location),
                false => athena(
                    options.database.as_deref(),
                    &options.table,
                    &location,
                    &layout,
                ),
            }
        }
    };
    Ok(table_ddl + &views(options))
}

/// The OCSF views over the table, in the engine's SQL ([`crate::ocsf`]).
fn views(options: &DdlOptions) -> String {
    use crate::ocsf::{Dialect, create_views};
    let table = &options.table;
    let (dialect, from, heading) = match options.engine {
        Engine::Duckdb => (Dialect::DuckDb, table.clone(), ""),
        Engine::Spark => (Dialect::Spark, format!("`{table}`"), ""),
        Engine::Athena => (
            Dialect::Athena,
            match &options.database {
                Some(db) => format!("\"{db}\".\"{table}\""),
                None => format!("\"{table}\""),
            },
            ATHENA_VIEWS,
        ),
    };
    let qualify = |name: &str| match (options.engine, &options.database) {
        (Engine::Athena, Some(db)) => format!("\"{db}\".\"{name}\""),
        (Engine::Athena, None) => format!("\"{name}\""),
        (Engine::Spark, _) => format!("`{name}`"),
        (Engine::Duckdb, _) => name.to_string(),
    };
    let mut out = format!(
        "\n-- OCSF 1.1 views of the table (trailpq schema and README: \"Derived columns and OCSF\"):\n\
         -- every record is in exactly one of ocsf_api_activity, ocsf_authentication and\n\
         -- ocsf_account_change.\n{heading}"
    );
    for view in create_views(dialect, &from, qualify) {
        out.push_str(&view);
        out.push_str(";\n");
    }
    out
}

/// Where the Athena DDL's views start: Athena SQL (Trino), one query each, not Hive DDL.
pub const ATHENA_VIEWS: &str =
    "-- Athena: run each view below as a query of its own (they are Athena SQL, not Hive DDL).\n";

fn check_name(flag: &str, name: &str) -> Result<()> {
    match !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        true => Ok(()),
        false => Err(Error::Usage(format!(
            "{flag} '{name}' should be letters, digits and '_'"
        ))),
    }
}

/// The Hive type of an Arrow type, as Athena and Spark spell it.
pub fn hive_type(data_type: &DataType) -> String {
    match data_type {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Int32 => "int".into(),
        DataType::Float64 => "double".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(..) => "timestamp".into(),
        DataType::List(item) => format!("array<{}>", hive_type(item.data_type())),
        DataType::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|f| format!("{}:{}", f.name(), hive_type(f.data_type())))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => unreachable!("the schema has no {other} column"),
    }
}

/// The column list of a Hive `CREATE TABLE`.
fn hive_columns() -> String {
    COLUMNS
        .iter()
        .map(|c| format!("  `{}` {}", c.name, hive_type(&c.data_type())))
        .collect::<Vec<_>>()
        .join(",\n")
}

fn partition_type(name: &str) -> DataType {
    schema::PARTITION_COLUMNS
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.data_type.clone())
        .unwrap_or(DataType::Utf8)
}

fn duckdb(table: &str, table_url: &str, layout: &Layout, local: bool) -> String {
    let types: Vec<String> = layout
        .partition_by
        .iter()
        .map(|p| {
            let ty = if partition_type(p) == DataType::Date32 {
                "DATE"
            } else {
                "VARCHAR"
            };
            format!("'{p}': {ty}")
        })
        .collect();
    // DuckDB puts partition columns in an order of its own; name them, in the data's order.
    let select = match layout.partition_by.is_empty() {
        true => "*".to_string(),
        false => {
            let partitions = layout.partition_by.join(", ");
            format!("* EXCLUDE ({partitions}), {partitions}")
        }
    };
    let remote = match local {
        true => String::new(),
        false => "-- The data is in an object store: load httpfs and give DuckDB credentials first, e.g.\n\
                  --   INSTALL httpfs; LOAD httpfs;\n\
                  --   CREATE SECRET (TYPE s3, PROVIDER credential_chain);\n"
            .to_string(),
    };
    format!(
        "-- DuckDB view of the CloudTrail table written by trailpq {version}.\n\
         -- Run it with: duckdb my.duckdb < {table}.sql   (or .read {table}.sql in the duckdb shell)\n\
         -- Check it with: SELECT count(*), min(event_time), max(event_time) FROM {table};\n\
         -- Partition columns are typed: account_id stays a string (leading zeros kept), event_date is\n\
         -- a DATE, and the folder __HIVE_DEFAULT_PARTITION__ reads as NULL. The canned queries\n\
         -- (trailpq query --name NAME --show-sql) run on this view unchanged.\n\
         {remote}\
         CREATE OR REPLACE VIEW {table} AS\n\
         SELECT {select} FROM read_parquet(\n    '{table_url}**/*.parquet',\n    hive_partitioning = true,\n    hive_types = {{{}}},\n    union_by_name = true\n);\n",
        types.join(", "),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// A Delta table in DuckDB: its delta extension reads the latest snapshot at each query.
fn delta_duckdb(table: &str, table_url: &str, local: bool) -> String {
    let remote = match local {
        true => "",
        false => {
            "-- The data is in an object store: give DuckDB credentials first, e.g.\n\
                   --   CREATE SECRET (TYPE s3, PROVIDER credential_chain);\n"
        }
    };
    format!(
        "-- DuckDB view of the Delta table written by trailpq {version}: each query reads the\n\
         -- table's latest snapshot, so it never sees a convert or compact half-done.\n\
         -- Run it with: duckdb my.duckdb < {table}.sql   (or .read {table}.sql in the duckdb shell)\n\
         -- Check it with: SELECT count(*), min(event_time), max(event_time) FROM {table};\n\
         -- The canned queries (trailpq query --name NAME --show-sql) run on this view unchanged.\n\
         {remote}\
         INSTALL delta;\n\
         LOAD delta;\n\
         CREATE OR REPLACE VIEW {table} AS\n\
         SELECT * FROM delta_scan('{}');\n",
        table_url.trim_end_matches('/'),
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// A Delta table in Spark: the schema and partitions come from the table's log.
fn delta_spark(table: &str, location: &str) -> String {
    format!(
        "-- Spark SQL table over the Delta table written by trailpq {version} (Spark with Delta Lake:\n\
         -- --packages io.delta:delta-spark_2.13:<version> and the Delta SQL extension and catalog).\n\
         -- Columns and partitions come from the table's log; every query reads its latest snapshot.\n\
         -- Check it with: SELECT count(*), min(event_time), max(event_time) FROM {table};\n\
         -- The canned queries (trailpq query --name NAME --show-sql) run on this table unchanged.\n\
         CREATE TABLE IF NOT EXISTS `{table}`\n\
         USING delta\n\
         LOCATION '{location}';\n",
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// A Delta table in Athena (engine version 3): a Glue table that points at the log.
fn delta_athena(database: Option<&str>, table: &str, location: &str) -> String {
    let qualified = match database {
        Some(db) => format!("`{db}`.`{table}`"),
        None => format!("`{table}`"),
    };
    format!(
        "-- Athena table over the Delta table written by trailpq {version}: Athena reads the schema\n\
         -- and partitions from the table's log, and each query its latest snapshot (no MSCK REPAIR,\n\
         -- no partition projection). Read-only: trailpq writes the table.\n\
         -- Check it with: SELECT count(*), min(event_time), max(event_time) FROM {qualified};\n\
         CREATE EXTERNAL TABLE {qualified}\n\
         LOCATION '{location}'\n\
         TBLPROPERTIES ('table_type' = 'DELTA');\n",
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn spark(table: &str, location: &str, layout: &Layout) -> String {
    let partitions = partition_clause(layout, |p| hive_type(&partition_type(p)));
    format!(
        "-- Hive table for Spark SQL (with Hive support: spark-sql, or\n\
         -- SparkSession.builder.enableHiveSupport()) over the CloudTrail table written by trailpq {version}.\n\
         -- MSCK REPAIR TABLE finds the partitions; run it again after each convert.\n\
         -- Check it with: SELECT count(*), min(event_time), max(event_time) FROM {table};\n\
         -- On open-source Spark, S3 locations are read through s3a:// (hadoop-aws).\n\
         -- The canned queries (trailpq query --name NAME --show-sql) run on this table unchanged.\n\
         CREATE EXTERNAL TABLE IF NOT EXISTS `{table}` (\n{columns}\n)\n\
         {partitions}\
         STORED AS PARQUET\n\
         LOCATION '{location}';\n\
         MSCK REPAIR TABLE `{table}`;\n",
        columns = hive_columns(),
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn athena(database: Option<&str>, table: &str, location: &str, layout: &Layout) -> String {
    let qualified = match database {
        Some(db) => format!("`{db}`.`{table}`"),
        None => format!("`{table}`"),
    };
    let check_name = match database {
        Some(db) => format!("{db}.{table}"),
        None => table.to_string(),
    };
    // Athena documents date projection over string partition keys; event_date compares as an
    // ISO string ('2024-05-01') or casts with date(event_date).
    let partitions = partition_clause(layout, |_| "string".into());
    let mut properties = vec![("projection.enabled".to_string(), "true".to_string())];
    let mut notes = Vec::new();
    let mut template = location.to_string();
    for p in &layout.partition_by {
        template.push_str(&format!("{p}=${{{p}}}/"));
        let values = layout.values.get(p).cloned().unwrap_or_default();
        if p == "event_date" {
            let first = layout
                .first_day()
                .map(str::to_string)
                .unwrap_or_else(|| "NOW".into());
            properties.extend([
                (format!("projection.{p}.type"), "date".into()),
                (format!("projection.{p}.format"), "yyyy-MM-dd".into()),
                (format!("projection.{p}.range"), format!("{first},NOW")),
                (format!("projection.{p}.interval"), "1".into()),
                (format!("projection.{p}.interval.unit"), "DAYS".into()),
            ]);
            if values.contains(NULL_VALUE) {
                notes.push(format!(
                    "-- Records without a usable eventTime are in {p}={NULL_VALUE}, which date projection\n\
                     -- does not reach; query them in DuckDB or Spark, or through a table without projection.\n"
                ));
            }
        } else if values.len() <= MAX_ENUM && !values.is_empty() {
            properties.push((format!("projection.{p}.type"), "enum".into()));
            properties.push((
                format!("projection.{p}.values"),
                values.iter().cloned().collect::<Vec<_>>().join(","),
            ));
            notes.push(format!(
                "-- {p}: the {} value(s) found in the data; regenerate this DDL when new ones appear.\n",
                values.len()
            ));
        } else {
            properties.push((format!("projection.{p}.type"), "injected".into()));
            notes.push(format!(
                "-- {p}: too many values for an enum ({}), so queries must name one: WHERE {p} = '…'.\n",
                values.len()
            ));
        }
    }
    properties.push((
        "storage.location.template".into(),
        template.trim_end_matches('/').to_string(),
    ));
    let properties: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("  '{k}' = '{}'", v.replace('\'', "''")))
        .collect();
    // Athena runs one statement per query, so the database is a step of its own.
    let create_database = match database {
        Some(db) => format!(
            "-- Create the database first if it does not exist: CREATE DATABASE IF NOT EXISTS `{db}`\n"
        ),
        None => String::new(),
    };
    format!(
        "-- Athena table over the CloudTrail table written by trailpq {version}.\n\
         -- Run it in the Athena query editor, or:\n\
         --   aws athena start-query-execution --query-string file://{table}.sql --result-configuration OutputLocation=s3://…\n\
         {create_database}\
         -- Partition projection finds the partitions: no crawler, no MSCK REPAIR TABLE.\n\
         -- The canned queries (trailpq query --name NAME --show-sql) need no helper views.\n\
         -- Check it with: SELECT event_date, count(*) FROM {check_name} GROUP BY 1 ORDER BY 1 DESC LIMIT 7;\n\
         {notes}\
         CREATE EXTERNAL TABLE IF NOT EXISTS {qualified} (\n{columns}\n)\n\
         {partitions}\
         STORED AS PARQUET\n\
         LOCATION '{location}'\n\
         TBLPROPERTIES (\n{properties}\n);\n",
        notes = notes.concat(),
        columns = hive_columns(),
        properties = properties.join(",\n"),
        version = env!("CARGO_PKG_VERSION"),
    )
}

fn partition_clause(layout: &Layout, ty: impl Fn(&str) -> String) -> String {
    if layout.partition_by.is_empty() {
        return String::new();
    }
    let columns: Vec<String> = layout
        .partition_by
        .iter()
        .map(|p| format!("`{p}` {}", ty(p)))
        .collect();
    format!("PARTITIONED BY ({})\n", columns.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        let mut values = BTreeMap::new();
        values.insert(
            "account_id".to_string(),
            ["012345678901", NULL_VALUE].map(String::from).into(),
        );
        values.insert(
            "event_date".to_string(),
            ["2024-05-06", "2024-05-07", NULL_VALUE]
                .map(String::from)
                .into(),
        );
        Layout {
            partition_by: vec!["account_id".into(), "event_date".into()],
            values,
        }
    }

    #[test]
    fn hive_types_follow_the_schema() {
        let resources = COLUMNS.iter().find(|c| c.name == "resources").unwrap();
        assert_eq!(
            hive_type(&resources.data_type()),
            "array<struct<arn:string,account_id:string,type:string>>"
        );
        let time = COLUMNS.iter().find(|c| c.name == "event_time").unwrap();
        assert_eq!(hive_type(&time.data_type()), "timestamp");
        assert!(hive_columns().lines().count() == COLUMNS.len());
    }

    #[test]
    fn athena_ddl_projects_the_partitions_found() {
        let ddl = athena(
            Some("trail"),
            "cloudtrail",
            "s3://lake/trail/cloudtrail/",
            &layout(),
        );
        for expected in [
            "CREATE EXTERNAL TABLE IF NOT EXISTS `trail`.`cloudtrail` (",
            "PARTITIONED BY (`account_id` string, `event_date` string)",
            "LOCATION 's3://lake/trail/cloudtrail/'",
            "'projection.enabled' = 'true'",
            "'projection.account_id.type' = 'enum'",
            "'projection.account_id.values' = '012345678901,__HIVE_DEFAULT_PARTITION__'",
            "'projection.event_date.type' = 'date'",
            "'projection.event_date.format' = 'yyyy-MM-dd'",
            "'projection.event_date.range' = '2024-05-06,NOW'",
            "'projection.event_date.interval.unit' = 'DAYS'",
            "'storage.location.template' = 's3://lake/trail/cloudtrail/account_id=${account_id}/event_date=${event_date}'",
            "date projection\n-- does not reach",
            "-- Create the database first if it does not exist: CREATE DATABASE IF NOT EXISTS `trail`\n",
        ] {
            assert!(ddl.contains(expected), "missing {expected}:\n{ddl}");
        }
        // Athena runs one statement per query.
        let statements = ddl
            .lines()
            .filter(|l| !l.starts_with("--") && l.trim_end().ends_with(';'))
            .count();
        assert_eq!(statements, 1, "{ddl}");
    }

    #[test]
    fn many_values_are_injected() {
        let mut many = layout();
        many.values.insert(
            "account_id".into(),
            (0..60).map(|i| format!("{i:012}")).collect(),
        );
        let ddl = athena(None, "t", "s3://b/t/", &many);
        assert!(
            ddl.contains("'projection.account_id.type' = 'injected'")
                && !ddl.contains("projection.account_id.values")
        );
        assert!(ddl.contains("WHERE account_id = '…'"));
    }

    #[test]
    fn spark_and_duckdb_ddl() {
        let spark = spark("cloudtrail", "file:/data/cloudtrail/", &layout());
        assert!(
            spark.contains("PARTITIONED BY (`account_id` string, `event_date` date)"),
            "{spark}"
        );
        assert!(spark.contains("MSCK REPAIR TABLE `cloudtrail`;"));
        let duck = duckdb("cloudtrail", "/data/cloudtrail/", &layout(), true);
        assert!(
            duck.contains("read_parquet(\n    '/data/cloudtrail/**/*.parquet'"),
            "{duck}"
        );
        assert!(
            duck.contains("hive_types = {'account_id': VARCHAR, 'event_date': DATE}"),
            "{duck}"
        );
        assert!(!duck.contains("httpfs"));
        assert!(duckdb("t", "s3://b/t/cloudtrail/", &layout(), false).contains("LOAD httpfs"));
    }
}
