//! trailpq: convert AWS CloudTrail logs into partitioned Parquet, losslessly, and query them.
//!
//! The pipeline, one module per concern:
//! - [`store`]: object-store access (S3, GCS, Azure, local files) and listing sources;
//! - [`shape`]: recognising input shapes and finding the records in a file;
//! - [`schema`]: the one definition of the table;
//! - [`flatten`]: flattening records into Arrow;
//! - [`sources`]: what a source key says: the CloudTrail delivery layout;
//! - [`writer`]: the partitioned Parquet writer;
//! - [`table`]: the destination's layout, lease, checkpoint commits and converted-sources state;
//! - [`convert`]: the `convert` command, tying the above together;
//! - [`export`]: rebuilding the original records from the Parquet.

pub mod compact;
pub mod convert;
pub mod digest;
pub mod error;
pub mod flatten;
pub mod hooks;
pub mod listing;
pub mod progress;
pub mod report;
pub mod schema;
pub mod shape;
pub mod sources;
pub mod store;
pub mod table;
pub mod time;
pub mod writer;

pub use error::{Error, Result};
pub mod cli;
pub mod commands;
pub mod ddl;
pub mod export;
pub mod generate;
pub mod query;
pub mod shell;
pub mod sql;
pub mod verify;
