//! trailpq's integration tests: one binary (every test binary links all of DataFusion), with a
//! module per area. Each test runs the real `trailpq` binary on real files; S3 tests talk to a
//! real S3-protocol server on loopback and reader tests to real DuckDB (`make test-deps`).

// Without the features `make test` turns on, the tests that need them are compiled out, and the
// helpers only they use would be dead code.
#![cfg_attr(
    not(all(feature = "slow-tests", feature = "test-hooks")),
    allow(dead_code, unused_imports)
)]

mod common;

mod cli;
mod cloudwatch;
mod compact;
mod computed;
mod convert;
mod credentials;
mod delta;
mod engines;
mod faults;
mod listing;
mod malformed;
mod query;
mod s3;
mod shell;
mod sources;
mod verify;
mod watch;
