//! trailpq's integration tests: one binary (every test binary links all of DataFusion), with a
//! module per area. Each test runs the real `trailpq` binary on real files.
