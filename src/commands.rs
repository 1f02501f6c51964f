//! Running the commands: arguments in, exit code out. Errors become one line on stderr.

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::cli::{
    Cli, Command, CompactArgs, ConvertArgs, ExportArgs, GenerateArgs, MigrateArgs, QueryArgs,
    SchemaFormat, ShellArgs, VacuumArgs, VerifyArgs, WatchArgs,
};
use crate::convert::{self, ConvertOptions};
use crate::error::{Error, Result};
use crate::shape::Limits;
use crate::sql::SessionOptions;
use crate::writer::WriterConfig;

/// The whole program: parse arguments, run the command, report errors as one line.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("trailpq: {}", usage_line(&e));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("trailpq: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// clap's message in one line, with where to look for help.
fn usage_line(e: &clap::Error) -> String {
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let cli = <Cli as clap::CommandFactory>::command();
        let names: Vec<&str> = cli
            .get_subcommands()
            .map(|c| c.get_name())
            .filter(|n| *n != "help")
            .collect();
        return format!(
            "error: name a command: {}; see 'trailpq --help'",
            names.join(", ")
        );
    }
    let rendered = e.render().to_string();
    let mut lines = rendered.lines();
    let mut message = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .trim()
        .to_string();
    // "the following required arguments were not provided:" lists them on the next lines.
    if message.ends_with(':') {
        let items: Vec<&str> = lines
            .take_while(|l| l.starts_with("  "))
            .map(str::trim)
            .collect();
        message = format!("{message} {}", items.join(", "));
    }
    let usage = rendered
        .lines()
        .find_map(|l| l.trim().strip_prefix("Usage: "))
        .unwrap_or("trailpq");
    let command: Vec<&str> = usage
        .split_whitespace()
        .take_while(|w| !w.starts_with(['[', '<', '-']))
        .collect();
    format!("{message}; see '{} --help'", command.join(" "))
}

pub fn run(cli: Cli) -> Result<u8> {
    // Every s3:// location of the run takes its credentials and region from this profile.
    crate::store::configure(crate::store::StoreOptions {
        profile: cli.profile.clone(),
    });
    match cli.command {
        Command::Convert(args) => run_convert(args),
        Command::Export(args) => run_export(args),
        Command::Query(args) => run_query(args),
        Command::Shell(args) => run_shell(args),
        Command::Ddl(args) => {
            let options = crate::ddl::DdlOptions {
                engine: args.engine,
                table: args.table,
                database: args.database,
                location: args.location,
            };
            let text = runtime(1)?.block_on(crate::ddl::run(&args.data, &options))?;
            print_stdout(&text)?;
            Ok(0)
        }
        Command::Schema(args) => {
            let text = match args.format {
                SchemaFormat::Table => crate::schema::render_table(),
                SchemaFormat::Markdown => crate::schema::render_markdown(),
                SchemaFormat::Json => crate::schema::render_json(),
            };
            print_stdout(&text)?;
            Ok(0)
        }
        Command::Generate(args) => run_generate(args),
        Command::Verify(args) => run_verify(args),
        Command::Compact(args) => run_compact(args),
        Command::Watch(args) => run_watch(args, cli.profile),
        Command::Vacuum(args) => run_vacuum(args),
        Command::Migrate(args) => run_migrate(args),
    }
}

fn run_vacuum(args: VacuumArgs) -> Result<u8> {
    let runtime = runtime(convert::default_threads())?;
    let loc = crate::store::Location::parse(&args.data)?;
    let vacuumed = runtime.block_on(async {
        match crate::table::read_meta(&loc).await? {
            Some(meta) if meta.format == crate::table::TableFormat::Delta => {}
            _ => {
                return Err(Error::Usage(format!(
                    "{} is not a Delta table: vacuum is for tables converted with --table-format delta \
                     (a Hive table's compact deletes what it replaces at once)",
                    args.data
                )));
            }
        }
        Ok(crate::table::delta::vacuum(&loc, args.retain, args.dry_run).await?)
    })?;
    let verb = match args.dry_run {
        true => "would delete",
        false => "deleted",
    };
    for file in &vacuumed.files {
        eprintln!("trailpq: {verb} {file}");
    }
    eprintln!(
        "trailpq: {verb} {} file(s) removed from the table more than {} ago",
        vacuumed.files.len(),
        humantime::format_duration(args.retain)
    );
    write_report(args.report.as_deref(), &vacuumed)?;
    Ok(0)
}

fn run_migrate(args: MigrateArgs) -> Result<u8> {
    if args.to != crate::table::TableFormat::Delta {
        return Err(Error::Usage(
            "migrate turns Hive tables into Delta tables (--to delta); a Delta table stays one"
                .into(),
        ));
    }
    let runtime = runtime(convert::default_threads())?;
    let loc = crate::store::Location::parse(&args.data)?;
    let lease = crate::table::lease::LeaseOptions {
        wait: args.wait,
        ..crate::table::lease::LeaseOptions::new(crate::table::MAIN_LEASE)
    };
    let migrated = runtime.block_on(crate::table::delta::migrate(loc, lease))?;
    match migrated.already {
        true => eprintln!("trailpq: {} is a Delta table already", args.data),
        false => eprintln!(
            "trailpq: {} is a Delta table now: its {} file(s) are in the first commit, none rewritten",
            args.data, migrated.files
        ),
    }
    Ok(0)
}

fn runtime(threads: usize) -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.clamp(1, 8))
        .max_blocking_threads(threads * 2 + 8)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the runtime", e))
}

/// What convert and watch set alike from their flags: SOURCEs and DEST, worker threads, and
/// where the lease's messages and warnings go.
fn conversion(
    sources: Vec<String>,
    out: String,
    threads: Option<u16>,
    quiet: bool,
) -> ConvertOptions {
    let mut options = ConvertOptions::new(sources, out);
    options.threads = threads
        .map(usize::from)
        .unwrap_or_else(convert::default_threads);
    options.lease.say = match quiet {
        true => |_| {},
        false => |line| eprintln!("trailpq: {line}"),
    };
    options.warn = |line| eprintln!("trailpq: warning: {line}");
    options
}

fn run_convert(args: ConvertArgs) -> Result<u8> {
    let mut options = conversion(args.sources, args.out, args.threads, args.quiet);
    let threads = options.threads;
    options.partition_by = args.partition_by;
    options.table_format = args.table_format;
    options.limits = Limits {
        max_record_bytes: args.max_record_bytes,
        ..Limits::default()
    };
    options.writer = WriterConfig {
        file_rows: args.file_rows.max(1),
        buffer_bytes: args.buffer_mib.max(1) << 20,
        row_group_rows: args.row_group_rows.max(1),
    };
    options.hold_bytes = args.hold_mib << 20;
    options.progress = !args.quiet;
    options.checkpoint = args.checkpoint;
    options.lease.wait = args.wait;
    #[cfg(feature = "test-hooks")]
    {
        options.lease.ttl = lease_ttl(args.lease_seconds);
    }
    let set = |values: Vec<String>| (!values.is_empty()).then(|| values.into_iter().collect());
    options.listing = crate::listing::ListOptions {
        since: args.since,
        until: args.until,
        accounts: set(args.accounts),
        regions: set(args.regions),
        full_scan: args.full_scan,
        ..Default::default()
    };
    options.shard = args.shard;
    options.dry_run = args.dry_run;
    options.verify = args.verify;
    check_days(args.since, args.until)?;
    // Check that the report can be written before doing the work.
    write_report(args.report.as_deref(), &())?;
    let (report, result) = runtime(threads)?.block_on(convert::run(options));
    // The report is written on every exit, with `error` when the run failed.
    write_report(args.report.as_deref(), &report)?;
    if report.dry_run && result.is_ok() {
        print_stdout(&report.plan_summary())?;
        return Ok(0);
    }
    if !args.quiet && (result.is_ok() || report.files_read > 0) {
        eprint!("{}", report.summary());
    }
    result.map(|()| report.exit_code())
}

fn run_watch(args: WatchArgs, profile: Option<String>) -> Result<u8> {
    let mut conversion = conversion(args.sources, args.out, args.threads, args.quiet);
    let threads = conversion.threads;
    conversion.partition_by = args.partition_by;
    conversion.table_format = args.table_format;
    conversion.checkpoint = args.checkpoint;
    conversion.lease.wait = Some(args.wait);
    #[cfg(feature = "test-hooks")]
    {
        conversion.lease.ttl = lease_ttl(args.lease_seconds);
    }
    write_report(args.report.as_deref(), &())?;
    let report_path = args.report.clone();
    let options = crate::watch::WatchOptions {
        convert: conversion,
        queue_url: args.queue,
        drain: args.drain,
        visibility: args.visibility,
        profile,
        progress: !args.quiet,
        say: |line| eprintln!("trailpq: {line}"),
        on_report: Box::new(move |report| {
            if let Err(e) = write_report(report_path.as_deref(), report) {
                eprintln!("trailpq: warning: {e}");
            }
        }),
    };
    let (report, result) = runtime(threads)?.block_on(crate::watch::run(options));
    write_report(args.report.as_deref(), &report)?;
    if !args.quiet && result.is_ok() {
        let m = &report.messages;
        eprintln!(
            "trailpq: {} messages received, {} acknowledged, {} left on the queue ({} refused, \
             {} malformed, {} unreadable); {} files and {} records committed in {} checkpoints",
            m.received,
            m.acknowledged,
            m.left,
            m.refused,
            m.malformed,
            m.unreadable,
            report.files_converted,
            report.records_written,
            report.checkpoints
        );
    }
    result
}

/// Where `--out` sends results: the file, or stdout; with what to say when writing fails.
fn output(path: Option<&std::path::Path>) -> Result<(Box<dyn Write>, String)> {
    Ok(match path {
        Some(path) => {
            let cannot = format!("cannot write {}", path.display());
            let file = std::fs::File::create(path).map_err(|e| Error::io(cannot.clone(), e))?;
            (Box::new(std::io::BufWriter::new(file)), cannot)
        }
        None => (
            Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            "cannot write to stdout".into(),
        ),
    })
}

fn run_export(args: ExportArgs) -> Result<u8> {
    let runtime = runtime(convert::default_threads())?;
    let (mut out, _) = output(args.out.as_deref())?;
    let limit = memory_limit(&args.memory);
    let exported = runtime.block_on(crate::export::run(
        &args.data,
        args.predicate.as_deref(),
        limit,
        args.as_of.as_ref(),
        &mut out,
    ));
    let count = unless_reader_left(exported.map_err(|e| e.with_memory_limit(limit)))?;
    if let Some(path) = &args.out {
        eprintln!("trailpq: exported {count} records to {}", path.display());
    }
    Ok(0)
}

fn run_query(args: QueryArgs) -> Result<u8> {
    check_days(args.view.since, args.view.until)?;
    let runtime = runtime(convert::default_threads())?;
    let (mut out, cannot) = output(args.out.as_deref())?;
    use crate::query::{QueryOptions, Request};
    let request = match (args.sql, args.name, args.file) {
        (Some(sql), _, _) => Request::Sql(sql),
        (_, Some(name), _) => Request::Name(name),
        (_, _, Some(file)) => Request::File(file),
        _ => Request::List,
    };
    let options = QueryOptions {
        data: args.data,
        request,
        params: args.params,
        show_sql: args.show_sql,
        format: args.format,
        to_file: args.out.is_some(),
        session: SessionOptions::from(&args.view),
    };
    let result = runtime
        .block_on(crate::query::run(&options, &mut out))
        .and_then(|()| out.flush().map_err(|e| Error::io(cannot, e)));
    unless_reader_left(result).map(|()| 0)
}

/// Output whose reader went away (`trailpq export … | head`) is not an error: the one place that
/// decides so for every command.
fn unless_reader_left<T: Default>(result: Result<T>) -> Result<T> {
    match result {
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(T::default())
        }
        other => other,
    }
}

fn run_shell(args: ShellArgs) -> Result<u8> {
    check_days(args.view.since, args.view.until)?;
    let runtime = runtime(convert::default_threads())?;
    let options = crate::shell::ShellOptions {
        data: args.data,
        session: SessionOptions::from(&args.view),
    };
    crate::shell::run(options, &runtime)
}

fn run_generate(args: GenerateArgs) -> Result<u8> {
    let summary = crate::generate::run(&crate::generate::GenerateOptions {
        out: args.out,
        events: args.events,
        seed: args.seed,
        start: args.start,
        days: args.days,
        public_keys: args.public_keys,
        records_scale: args.records_scale,
    })?;
    eprintln!("{summary}");
    Ok(0)
}

fn run_verify(args: VerifyArgs) -> Result<u8> {
    let public_keys = match &args.public_keys {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Usage(format!("cannot read --public-keys {}: {e}", path.display()))
            })?;
            Some(serde_json::from_str(&text).map_err(|e| {
                Error::Usage(format!(
                    "--public-keys {} is not the JSON of 'aws cloudtrail list-public-keys' ({e})",
                    path.display()
                ))
            })?)
        }
    };
    let options = crate::verify::VerifyOptions {
        sources: args.sources,
        since: args.since,
        until: args.until,
        public_keys,
    };
    check_days(options.since, options.until)?;
    write_report(args.report.as_deref(), &())?;
    let runtime = runtime(convert::default_threads())?;
    let report = runtime.block_on(crate::verify::run(&options))?;
    if report.digests == 0 {
        return Err(Error::Failed(format!(
            "no digest files under {}: turn on log file validation for the trail, and give the folder or prefix that holds CloudTrail-Digest/",
            options.sources.join(", ")
        )));
    }
    print_stdout(&report.problems_text())?;
    eprint!("{}", report.summary(options.public_keys.is_some()));
    write_report(args.report.as_deref(), &report)?;
    Ok(if report.valid() { 0 } else { 3 })
}

fn run_compact(args: CompactArgs) -> Result<u8> {
    let options = crate::compact::CompactOptions {
        data: args.data,
        since: args.since,
        until: args.until,
        wait: args.wait,
        #[cfg(feature = "test-hooks")]
        lease_ttl: lease_ttl(args.lease_seconds),
        #[cfg(not(feature = "test-hooks"))]
        lease_ttl: crate::table::lease::LeaseOptions::new(crate::table::MAIN_LEASE).ttl,
        writer: WriterConfig::default(),
        memory_limit: memory_limit(&args.memory),
    };
    check_days(options.since, options.until)?;
    write_report(args.report.as_deref(), &())?;
    let runtime = runtime(convert::default_threads())?;
    let report = runtime
        .block_on(crate::compact::run(&options))
        .map_err(|e| e.with_memory_limit(options.memory_limit))?;
    for warning in &report.warnings {
        eprintln!("trailpq: warning: {warning}");
    }
    eprintln!(
        "trailpq: compacted {} of {} partitions: {} files into {}, {} rows into {} ({} duplicate deliveries removed)",
        report.partitions_rewritten,
        report.partitions,
        report.files_before,
        report.files_after,
        report.rows_in,
        report.rows_out,
        report.duplicates_removed
    );
    write_report(args.report.as_deref(), &report)?;
    Ok(0)
}

/// `--memory-limit`, or the default: known here so that a failure can name it.
fn memory_limit(args: &crate::cli::MemoryArgs) -> Option<usize> {
    Some(
        args.memory_limit
            .unwrap_or_else(crate::sql::memory::default_limit),
    )
}

/// `--since` must not be after `--until`.
fn check_days(since: Option<chrono::NaiveDate>, until: Option<chrono::NaiveDate>) -> Result<()> {
    match (since, until) {
        (Some(since), Some(until)) if since > until => Err(Error::Usage(format!(
            "--since {since} is after --until {until}"
        ))),
        _ => Ok(()),
    }
}

/// Writes a report as JSON to `--report FILE`, if one was asked for. Written once empty before
/// the work (`&()`), so that a path that cannot be written fails the run before it starts.
fn write_report(path: Option<&std::path::Path>, report: &impl serde::Serialize) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let json = match serde_json::to_value(report) {
        Ok(serde_json::Value::Null) => String::new(),
        Ok(value) => serde_json::to_string_pretty(&value).expect("JSON serialises") + "\n",
        Err(e) => return Err(Error::Failed(format!("cannot serialise the report: {e}"))),
    };
    std::fs::write(path, json)
        .map_err(|e| Error::io(format!("cannot write the report {}", path.display()), e))
}

/// The lease length the tests give (`--lease-seconds`, with the test hooks only).
#[cfg(feature = "test-hooks")]
fn lease_ttl(seconds: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(seconds.clamp(0.5, 86_400.0))
}

fn print_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    unless_reader_left(
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| Error::io("cannot write to stdout", e)),
    )
}
