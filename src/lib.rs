//! trailpq: convert AWS CloudTrail logs into partitioned Parquet, losslessly, and query them.
//!
//! The pipeline, one module per concern:
//! - [`store`]: object-store access (S3, GCS, Azure, local files) and listing sources;
//! - [`shape`]: recognising input shapes and finding the records in a file;
//! - [`schema`]: the one definition of the table;
//! - [`flatten`]: flattening records into Arrow;
//! - [`writer`]: the partitioned Parquet writer and its commit protocol;
//! - [`convert`]: the `convert` command, tying the above together;
//! - [`export`]: rebuilding the original records from the Parquet.

pub mod flatten;
pub mod schema;
pub mod shape;
pub mod time;
