//! Command-line arguments (clap), kept apart from the work the commands do.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::writer::partition::PartitionSpec;

const AFTER_HELP: &str = "\
Exit codes: 0 all converted; 3 finished, but something was quarantined (see the report);
4 finished, but the store would not give some files (the next run reads them again);
2 usage error; 1 could not run or failed (unreadable SOURCE, unwritable DEST, DEST in use, …);
checkpoints committed before a failure stay committed.

Object stores: S3 credentials are found as the AWS CLI finds them: keys in the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else the profile (--profile or
AWS_PROFILE, in ~/.aws/config and ~/.aws/credentials: keys, SSO after `aws sso login`,
credential_process, role_arn), web identity, container or EC2 instance credentials. Region from
AWS_REGION or the profile; AWS_ENDPOINT_URL, AWS_ALLOW_HTTP for S3-compatible servers. GCS and
Azure: GOOGLE_SERVICE_ACCOUNT; AZURE_STORAGE_ACCOUNT_NAME, AZURE_STORAGE_ACCOUNT_KEY, ….";

#[derive(Debug, Parser)]
#[command(
    name = "trailpq",
    version,
    about = "Convert AWS CloudTrail logs into partitioned Parquet, losslessly, and query them with SQL",
    after_help = AFTER_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// AWS profile for s3:// locations, from ~/.aws/config and ~/.aws/credentials: its keys, SSO
    /// session (after `aws sso login --profile NAME`), credential_process or role, and its region.
    /// Overrides AWS_PROFILE and keys in the environment
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert CloudTrail logs (S3 prefixes, folders, files) into partitioned Parquet (Hive or Delta)
    Convert(ConvertArgs),
    /// Write the original CloudTrail records back out as NDJSON, rebuilt from the Parquet
    Export(ExportArgs),
    /// Run SQL or a canned query over converted data, once
    Query(QueryArgs),
    /// Explore converted data in an interactive SQL shell
    Shell(ShellArgs),
    /// Print the table definition for DuckDB, Athena or Spark, generated from the schema and the data
    Ddl(DdlArgs),
    /// Print every column of the table: name, type, JSON path and meaning
    Schema(SchemaArgs),
    /// Generate realistic CloudTrail logs of Amazon Connect and Amazon Chime, for tests and demos
    Generate(GenerateArgs),
    /// Check CloudTrail logs against their digest files: hashes, the digest chain, signatures
    Verify(VerifyArgs),
    /// Rewrite each partition into few files in time order, removing duplicate deliveries
    Compact(CompactArgs),
    /// Convert CloudTrail objects as S3 announces them on an SQS queue, until stopped
    Watch(WatchArgs),
    /// Delete the files a Delta table no longer has (replaced by compact) once older than --retain
    Vacuum(VacuumArgs),
    /// Turn a Hive table into a Delta table in place, without rewriting its files
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// Converted data: the DEST of a convert into a Delta table (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: String,

    /// Keep removed files this much longer after their removal: readers of snapshots younger than
    /// this still find every file (e.g. 168h, 30d, 0s)
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
    pub retain: std::time::Duration,

    /// Only list the files that would be deleted
    #[arg(long)]
    pub dry_run: bool,

    /// Write what was deleted as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: String,

    /// The format to turn the table into
    #[arg(long, value_name = "FORMAT", value_parser = parse_table_format)]
    pub to: crate::table::TableFormat,

    /// If a convert or compact holds DATA, wait up to DURATION for it (e.g. 30m) instead of failing
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
}

const WATCH_AFTER_HELP: &str = "\
Messages: S3 event notifications (directly, or through SNS, raw or not), CloudTrail's own SNS
notifications, and EventBridge \"Object Created\" events, mixed in one queue. A message is deleted
only once the records of its objects are committed; one that cannot be read, or names an object
outside every SOURCE or one the store would not give, is reported and left to the queue's redrive
policy. SIGTERM or Ctrl-C commit the batch in flight, acknowledge it and exit 0.

Exit codes: 0 done; 3 (with --drain) messages were left on the queue, or something was
quarantined; 2 usage error; 1 could not run or failed (what was committed stays committed, and
the batch's messages come back from the queue).

SQS: credentials and region as for S3 (--profile, AWS_REGION, else the queue URL's region);
AWS_ENDPOINT_URL_SQS for a local SQS-protocol server.";

#[derive(Debug, Args)]
#[command(after_help = WATCH_AFTER_HELP)]
pub struct WatchArgs {
    /// The buckets or prefixes the watcher may read (s3://bucket/AWSLogs/); a message naming
    /// any other object is refused
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// The SQS queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)
    #[arg(long, value_name = "URL")]
    pub queue: String,

    /// Where to write: a folder or an object-store URL, as for convert
    #[arg(long, value_name = "DEST")]
    pub out: String,

    /// Process messages until the queue is empty, then exit (for cron, CI and tests)
    #[arg(long)]
    pub drain: bool,

    /// Commit a batch after this much time since its first message, or this much input
    /// (durations and sizes, comma-separated)
    #[arg(long, value_name = "EVERY", default_value = "2m,1GiB", value_parser = parse_checkpoint)]
    pub checkpoint: crate::convert::CheckpointEvery,

    /// How long received messages stay hidden from other consumers; extended while their batch
    /// works, so only a watcher that died lets them come back sooner than this
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub visibility: std::time::Duration,

    /// Write a JSON report (messages received, acknowledged, refused and left; files and
    /// records) to FILE, rewritten after each checkpoint and at exit
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Partition columns of a new table, outermost first, from account_id, region and event_date
    #[arg(long, value_name = "COLS", default_value = "event_date", value_parser = parse_partition_spec)]
    pub partition_by: PartitionSpec,

    /// Format of a new table: hive (Parquet in partition folders) or delta (the same, with a
    /// Delta Lake log: readers see whole commits only, earlier snapshots stay readable); an
    /// existing table keeps its own [default: hive]
    #[arg(long, value_name = "FORMAT", value_parser = parse_table_format)]
    pub table_format: Option<crate::table::TableFormat>,

    /// Worker threads for parsing and encoding [default: the number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// If a convert holds DEST, wait up to this long for it before a batch fails
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub wait: std::time::Duration,

    /// Print nothing but errors and warnings (no progress line)
    #[arg(long, short)]
    pub quiet: bool,

    /// Length of the lease on DEST, in seconds (tests only: it is renewed while the run lasts)
    #[cfg(feature = "test-hooks")]
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, hide = true)]
    pub lease_seconds: f64,
}

#[derive(Debug, Args)]
pub struct CompactArgs {
    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: String,

    /// Only the partitions of days on or after this UTC day (needs an event_date partition)
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub since: Option<chrono::NaiveDate>,

    /// Only the partitions of days on or before this UTC day
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub until: Option<chrono::NaiveDate>,

    /// If a convert or compact holds DATA, wait up to DURATION for it (e.g. 30m) instead of failing
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,

    /// Length of the lease on DATA, in seconds (tests only: it is renewed while the run lasts)
    #[cfg(feature = "test-hooks")]
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, hide = true)]
    pub lease_seconds: f64,

    #[command(flatten)]
    pub memory: MemoryArgs,

    /// Write what was done as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// CloudTrail logs with their digests: folders or object-store prefixes (s3://bucket/AWSLogs/)
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Only digests delivered on or after this UTC day: YYYY-MM-DD, today, yesterday, 7d, 2w
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub since: Option<chrono::NaiveDate>,

    /// Only digests delivered on or before this UTC day
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub until: Option<chrono::NaiveDate>,

    /// Check signatures with these keys: the JSON of `aws cloudtrail list-public-keys`
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,

    /// Write the findings as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ConvertArgs {
    /// CloudTrail logs: files, folders or object-store prefixes (s3://bucket/AWSLogs/), walked recursively
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Where to write: a folder or an object-store URL; the table goes to DEST/cloudtrail/
    #[arg(long, value_name = "DEST")]
    pub out: String,

    /// Write a JSON report of the run (counts, skipped and quarantined files and records) to FILE
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Partition columns, outermost first, from account_id, region and event_date
    #[arg(long, value_name = "COLS", default_value = "event_date", value_parser = parse_partition_spec)]
    pub partition_by: PartitionSpec,

    /// Format of a new table: hive (Parquet in partition folders) or delta (the same, with a
    /// Delta Lake log: readers see whole commits only, earlier snapshots stay readable); an
    /// existing table keeps its own [default: hive]
    #[arg(long, value_name = "FORMAT", value_parser = parse_table_format)]
    pub table_format: Option<crate::table::TableFormat>,

    /// Worker threads for parsing and encoding [default: the number of CPUs]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,

    /// Print nothing but errors and warnings (no progress bar, no summary)
    #[arg(long, short)]
    pub quiet: bool,

    /// Commit what is done so far after this much time or input, whichever comes first:
    /// durations (30s, 10m, 1h) and sizes of input read (500MB, 1GiB), comma-separated. A crash
    /// or failure loses at most the checkpoint in flight
    #[arg(long, value_name = "EVERY", default_value = "10m,1GiB", value_parser = parse_checkpoint)]
    pub checkpoint: crate::convert::CheckpointEvery,

    /// Convert only log files that a valid CloudTrail digest under SOURCE vouches for (same
    /// SHA-256); quarantine the others with the reason (see `trailpq verify`)
    #[arg(long)]
    pub verify: bool,

    /// If another convert holds DEST, wait up to this long for it (e.g. 30s, 10m, 2h) instead of
    /// failing; a lease its holder stopped renewing is taken over once it expires
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,

    /// Only deliveries of this UTC day or later, by the day folder of their key
    /// (AWSLogs/…/REGION/YYYY/MM/DD/): YYYY-MM-DD, today, yesterday, 7d, 2w. Rows still land in
    /// partitions by event time
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub since: Option<chrono::NaiveDate>,

    /// Only deliveries of this UTC day or earlier, by the day folder of their key
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub until: Option<chrono::NaiveDate>,

    /// Only these accounts (12-digit ids, comma-separated), by the account folder of their key
    #[arg(long, value_name = "ID,…", value_delimiter = ',', value_parser = parse_account)]
    pub accounts: Vec<String>,

    /// Only these regions (comma-separated), by the region folder of their key
    #[arg(long, value_name = "REGION,…", value_delimiter = ',', value_parser = parse_region)]
    pub regions: Vec<String>,

    /// List every delivery day. Without it (and without --since), a run lists each account and
    /// region of a CloudTrail layout from the day before the newest day it already converted
    #[arg(long)]
    pub full_scan: bool,

    /// Show what would be converted (accounts, regions, days, files, bytes, listing requests)
    /// and write nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Convert only share I of N (I from 0): N workers with the same N can convert one SOURCE
    /// into one DEST at once. auto/N takes I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)
    /// or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array job)
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::convert::Shard>,

    /// Length of the lease on DEST, in seconds (tests only: it is renewed while the run lasts)
    #[cfg(feature = "test-hooks")]
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0, hide = true)]
    pub lease_seconds: f64,

    /// Largest record accepted, in bytes (CloudTrail caps events at 256 KB)
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20, hide = true)]
    pub max_record_bytes: usize,

    /// Most rows in one output file
    #[arg(long, value_name = "ROWS", default_value_t = 1_000_000, hide = true)]
    pub file_rows: usize,

    /// Most rows in one Parquet row group
    #[arg(long, value_name = "ROWS", default_value_t = 128 * 1024, hide = true)]
    pub row_group_rows: usize,

    /// Memory for buffering rows before they are written, in MiB
    #[arg(long, value_name = "MIB", default_value_t = crate::writer::DEFAULT_BUFFER_MIB, hide = true)]
    pub buffer_mib: usize,

    /// Files whose rows take more than this (MiB) are read twice instead of held
    #[arg(long, value_name = "MIB", default_value_t = 64, hide = true)]
    pub hold_mib: usize,
}

fn parse_partition_spec(s: &str) -> Result<PartitionSpec, String> {
    s.parse()
}

fn parse_shard(s: &str) -> Result<crate::convert::Shard, String> {
    s.parse()
}

fn parse_account(s: &str) -> Result<String, String> {
    let s = s.trim();
    match crate::sources::is_account(s) {
        true => Ok(s.to_string()),
        false => Err(format!("'{s}' is not an AWS account id (12 digits)")),
    }
}

fn parse_region(s: &str) -> Result<String, String> {
    let s = s.trim();
    match crate::sources::is_region(s) {
        true => Ok(s.to_string()),
        false => Err(format!("'{s}' is not an AWS region (such as us-east-1)")),
    }
}

fn parse_checkpoint(s: &str) -> Result<crate::convert::CheckpointEvery, String> {
    s.parse()
}

fn parse_table_format(s: &str) -> Result<crate::table::TableFormat, String> {
    s.parse()
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|_| format!("'{s}' is not a duration: write 30s, 10m or 2h"))
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: String,

    /// Export only records matching this SQL predicate, e.g. "event_source = 'connect.amazonaws.com'"
    #[arg(long = "where", value_name = "SQL_PREDICATE")]
    pub predicate: Option<String>,

    /// Write to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Read a Delta table as it was at this version (a number) or time (2024-05-01T12:00:00Z,
    /// 2024-05-01) instead of its latest snapshot
    #[arg(long, value_name = "VERSION|TIME")]
    pub as_of: Option<crate::table::delta::AsOf>,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// Memory for queries: shared by `query`, `shell`, `export` and `compact`.
#[derive(Debug, Args)]
pub struct MemoryArgs {
    /// Memory a query may use before sorts, joins and aggregations spill to disk: 512MB, 4GiB
    /// [default: a quarter of this machine's or container's memory]
    #[arg(long, value_name = "SIZE", env = "TRAILPQ_MEMORY_LIMIT", value_parser = parse_memory)]
    pub memory_limit: Option<usize>,
}

fn parse_memory(s: &str) -> Result<usize, String> {
    // A plain number is bytes.
    s.trim()
        .parse::<u64>()
        .ok()
        .or_else(|| crate::convert::parse_size(s))
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .ok_or_else(|| format!("'{s}' is not an amount of memory: write 512MB, 4GiB or 8GB"))
}

/// How the converted data is seen: shared by `query` and `shell`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// Only events on or after this UTC day: YYYY-MM-DD, today, yesterday, 7d, 2w
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub since: Option<chrono::NaiveDate>,

    /// Only events on or before this UTC day: YYYY-MM-DD, today, yesterday, 7d, 2w
    #[arg(long, value_name = "DAY", value_parser = parse_day)]
    pub until: Option<chrono::NaiveDate>,

    /// A folder of your own canned queries (*.sql with a header; see queries/ for the format)
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Read a Delta table as it was at this version (a number) or time (2024-05-01T12:00:00Z,
    /// 2024-05-01) instead of its latest snapshot
    #[arg(long, value_name = "VERSION|TIME")]
    pub as_of: Option<crate::table::delta::AsOf>,

    #[command(flatten)]
    pub memory: MemoryArgs,
}

impl From<&ViewArgs> for crate::sql::SessionOptions {
    fn from(view: &ViewArgs) -> Self {
        crate::sql::SessionOptions {
            since: view.since,
            until: view.until,
            queries: view.queries.clone(),
            memory_limit: view.memory.memory_limit,
            as_of: view.as_of.clone(),
        }
    }
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date; write it as YYYY-MM-DD"))
}

fn parse_day(s: &str) -> Result<chrono::NaiveDate, String> {
    crate::time::parse_day(s)
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    crate::sql::catalog::parse_assignment(s)
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["sql", "name", "file", "list"])))]
pub struct QueryArgs {
    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA", required_unless_present_any = ["list", "show_sql"])]
    pub data: Option<String>,

    /// The SQL to run (the table is `cloudtrail`)
    #[arg(long, value_name = "SQL")]
    pub sql: Option<String>,

    /// A canned query to run, by name (see --list)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// A file of SQL to run (it may have a canned-query header with parameters)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// A parameter of the canned query, as KEY=VALUE (repeatable)
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,

    /// List the canned queries: name, description, parameters
    #[arg(long)]
    pub list: bool,

    /// Print the SQL of --name or --file with its parameters filled in, and run nothing (to take
    /// a canned query to DuckDB, Athena or Spark)
    #[arg(long, conflicts_with = "list")]
    pub show_sql: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = crate::sql::format::Format::Table)]
    pub format: crate::sql::format::Format,

    /// Write the results to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: Option<String>,

    #[command(flatten)]
    pub view: ViewArgs,
}

#[derive(Debug, Args)]
pub struct DdlArgs {
    /// The engine to write DDL for
    #[arg(value_enum, value_name = "ENGINE")]
    pub engine: crate::ddl::Engine,

    /// Converted data: the DEST of a convert (folder or object-store URL)
    #[arg(value_name = "DATA")]
    pub data: String,

    /// Name of the table or view
    #[arg(long, value_name = "NAME", default_value = "cloudtrail")]
    pub table: String,

    /// Athena: the database (created if missing)
    #[arg(long, value_name = "NAME")]
    pub database: Option<String>,

    /// Athena: where DATA is, or will be, in S3 (default: DATA, when it is an s3:// URL)
    #[arg(long, value_name = "S3_URL")]
    pub location: Option<String>,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
    pub format: SchemaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Table,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of events
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub events: u64,

    /// Seed; the same seed always gives the same files
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    pub seed: u64,

    /// First day of activity (UTC)
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "2024-05-01", value_parser = parse_date)]
    pub start: chrono::NaiveDate,

    /// Days of activity
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub days: u32,

    /// Also write the public key of the generated digests' signatures to FILE, as
    /// `aws cloudtrail list-public-keys` prints keys (for `trailpq verify --public-keys`). The
    /// digests are signed with a TEST KEY whose private half ships with trailpq: it proves nothing
    /// about real logs; never add it to the keys you verify real trails with
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,

    /// Make each record larger: N-1 times more resources, tags and additional event data (1: the
    /// usual records). The same seed gives the same events at every scale; for benchmarks
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub records_scale: u32,
}
