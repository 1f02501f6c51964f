//! Hooks for the tests of crash safety, leases, dates and spilling. They are compiled in only with
//! the `test-hooks` feature (`make test` turns it on); a release build holds none of them, and
//! each function here is then what production does.

use chrono::NaiveDate;

/// Ends the process abruptly at `point` when `TRAILPQ_TEST_CRASH` names it (a crash mid-commit).
pub fn crash_point(point: &str) {
    #[cfg(feature = "test-hooks")]
    if std::env::var("TRAILPQ_TEST_CRASH").is_ok_and(|p| p == point) {
        eprintln!("trailpq: simulated crash at {point}");
        std::process::abort();
    }
    let _ = point;
}

/// Today's UTC date; with the hooks, `TRAILPQ_TODAY` (YYYY-MM-DD) when set.
pub fn today() -> NaiveDate {
    #[cfg(feature = "test-hooks")]
    if let Some(day) = std::env::var("TRAILPQ_TODAY")
        .ok()
        .and_then(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok())
    {
        return day;
    }
    chrono::Utc::now().date_naive()
}

/// Rows per query batch, with the hooks from `TRAILPQ_BATCH_ROWS` (tests shrink batches with the
/// memory limit, to keep a large table's proportions on a small one); otherwise DataFusion's.
pub fn batch_rows() -> Option<usize> {
    #[cfg(feature = "test-hooks")]
    if let Some(rows) = std::env::var("TRAILPQ_BATCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Some(rows);
    }
    None
}
