//! trailpq: convert AWS CloudTrail logs into partitioned Parquet, losslessly, and query them.
//!
//! The binary (`main.rs`) only calls [`commands::main`]; the integration tests reach
//! [`schema`] besides. Every other module is internal, listed here in the order of the
//! pipeline:
//!
//! - `cli`: the command-line arguments (clap), kept apart from the work;
//! - [`commands`]: running a command, errors as one line, exit codes;
//! - `store`: object-store access (S3, GCS, Azure, local files) and AWS credentials;
//! - `sources`: what a source key says about itself (the CloudTrail delivery layout);
//! - `listing`: resolving SOURCEs and listing them by that layout;
//! - `shape`: recognising input shapes and finding the records in a file;
//! - [`schema`]: the one definition of the table;
//! - `time`: CloudTrail times and the days of `--since`/`--until`;
//! - `flatten`: records into typed Arrow rows, nothing lost;
//! - `writer`: the partitioned, sorted Parquet writer;
//! - `table`: DEST's layout, lease, checkpoint commits, converted-sources state, and the Delta
//!   log of Delta tables;
//! - `convert`: the convert command, tying the above together; `report` and `progress` its
//!   report and progress bar;
//! - `digest` and `verify`: CloudTrail digests and log-file integrity validation;
//! - `compact`: rewriting partitions into few files, duplicates removed;
//! - `export`: the original records, rebuilt from the Parquet;
//! - `sql`: the DataFusion session, memory, canned queries, printing results; `query` and
//!   `shell` its two front ends;
//! - `ddl`: table definitions for DuckDB, Athena and Spark;
//! - `generate`: the seeded generator of test and demo data;
//! - `error`: the library's error type;
//! - `hooks`: test hooks, compiled only with the `test-hooks` feature.

mod compact;
mod computed;
mod convert;
mod digest;
mod error;
mod flatten;
mod hooks;
mod listing;
mod ocsf;
mod progress;
mod report;
pub mod schema;
mod shape;
mod sources;
mod store;
mod table;
mod time;
mod writer;

pub use error::{Error, Result};
mod cli;
pub mod commands;
mod ddl;
mod export;
mod generate;
mod query;
mod shell;
mod sql;
mod verify;
mod watch;
