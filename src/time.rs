//! CloudTrail times: lenient parsing into UTC milliseconds, and the canonical spelling.
//!
//! CloudTrail writes `eventTime` as `2019-08-15T06:40:55Z`. Other tools and older docs write
//! fractions, offsets, a space instead of `T`, no zone at all, or the ISO basic form
//! (`20131102T010628Z`). All of these parse; a value whose canonical spelling differs from the
//! input keeps its original text in the `extra` column so that `export` gives it back unchanged.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parses a time string into milliseconds since the Unix epoch (UTC), and says whether `s` is
/// exactly the canonical spelling of that time. Sub-millisecond digits are truncated. Returns
/// `None` for anything that is not a recognisable date-time.
pub fn parse_millis(s: &str) -> Option<(i64, bool)> {
    if let Some(ms) = parse_canonical(s.as_bytes()) {
        return Some((ms, true));
    }
    let ms = parse_lenient(s.trim())?;
    // Fractions are rare; compare against the formatted value.
    Some((ms, s.len() == 24 && format_millis(ms) == s))
}

/// The canonical spelling: `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` when there are milliseconds.
pub fn format_millis(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(t) if ms.rem_euclid(1000) == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => ms.to_string(),
    }
}

/// Days since the Unix epoch of a millisecond timestamp (the UTC date).
pub fn epoch_days(ms: i64) -> i32 {
    ms.div_euclid(86_400_000) as i32
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(days: i32) -> String {
    const UNIX_EPOCH_FROM_CE: i32 = 719_163;
    match days
        .checked_add(UNIX_EPOCH_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
    {
        Some(d) => d.format("%Y-%m-%d").to_string(),
        None => days.to_string(),
    }
}

/// The fast path: exactly `YYYY-MM-DDTHH:MM:SSZ` with a valid date and time.
fn parse_canonical(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let days = date
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?)
        .num_days();
    Some(
        ((days * 24 + i64::from(hour)) * 60 + i64::from(minute)) * 60_000
            + i64::from(second) * 1000,
    )
}

fn parse_lenient(s: &str) -> Option<i64> {
    // RFC 3339 with any offset, `T` or space, optional fraction.
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let with_t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&with_t) {
        return Some(t.timestamp_millis());
    }
    // Offsets without a colon (`+0000`), and the ISO basic form.
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y%m%dT%H%M%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(&with_t, format) {
            return Some(t.timestamp_millis());
        }
    }
    // No zone at all: CloudTrail times are UTC.
    let naive = with_t.strip_suffix('Z').unwrap_or(&with_t);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y%m%dT%H%M%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

/// Parses `--since`/`--until`: `YYYY-MM-DD`, `today`, `yesterday`, or a number of days or weeks
/// back (`7d`, `2w`), counted from today's UTC date.
pub fn parse_day(text: &str) -> std::result::Result<NaiveDate, String> {
    parse_day_from(text, crate::hooks::today())
}

/// [`parse_day`] with "today" given.
fn parse_day_from(text: &str, today: NaiveDate) -> std::result::Result<NaiveDate, String> {
    let text = text.trim();
    let back = |days: u64| {
        today
            .checked_sub_days(chrono::Days::new(days))
            .ok_or("too far back")
    };
    let unit = |suffix: char, days: u64| {
        text.strip_suffix(suffix)
            .and_then(|n| n.parse::<u64>().ok())
            .map(|n| n * days)
    };
    match text {
        "today" => Ok(today),
        "yesterday" => back(1).map_err(String::from),
        _ => {
            if let Some(days) = unit('d', 1).or_else(|| unit('w', 7)) {
                return back(days).map_err(String::from);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                format!("'{text}' is not a day: write YYYY-MM-DD, today, yesterday, 7d or 2w")
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_565_851_255_000; // 2019-08-15T06:40:55Z

    #[test]
    fn canonical_round_trips() {
        assert_eq!(parse_millis("2019-08-15T06:40:55Z"), Some((T, true)));
        assert_eq!(format_millis(T), "2019-08-15T06:40:55Z");
        assert_eq!(format_millis(T + 123), "2019-08-15T06:40:55.123Z");
        assert_eq!(
            parse_millis("2019-08-15T06:40:55.123Z"),
            Some((T + 123, true))
        );
    }

    #[test]
    fn other_spellings_parse_but_are_not_canonical() {
        for s in [
            "2019-08-15 06:40:55",
            "2019-08-15 06:40:55.000000000",
            "2019-08-15T06:40:55.000Z",
            "2019-08-15T16:40:55+10:00",
            "2019-08-15T06:40:55+0000",
            "20190815T064055Z",
            "2019-08-15T06:40:55",
            " 2019-08-15T06:40:55Z",
        ] {
            assert_eq!(parse_millis(s), Some((T, false)), "{s}");
        }
        assert_eq!(
            parse_millis("2022-02-08 09:23:37+11:00"),
            Some((1_644_272_617_000, false))
        );
    }

    #[test]
    fn garbage_is_rejected() {
        for s in [
            "",
            "eventTime",
            "...",
            "timestamp",
            "2019-02-30T00:00:00Z",
            "2019-08-15T24:00:00Z",
            "1565851255",
        ] {
            assert_eq!(parse_millis(s), None, "{s}");
        }
    }

    #[test]
    fn dates_are_utc_days() {
        assert_eq!(format_date(epoch_days(T)), "2019-08-15");
        assert_eq!(format_date(epoch_days(-1)), "1969-12-31");
        assert_eq!(format_date(0), "1970-01-01");
    }

    #[test]
    fn days_parse_absolute_and_relative() {
        // A fixed "today": the answer must not depend on when the test runs.
        let today = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let d = |s| parse_day_from(s, today);
        assert_eq!(
            d("2024-05-06"),
            Ok(NaiveDate::from_ymd_opt(2024, 5, 6).unwrap())
        );
        assert_eq!(d("today"), Ok(today));
        assert_eq!(
            d("yesterday"),
            Ok(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        assert_eq!(d("7d"), Ok(today - chrono::Days::new(7)));
        assert_eq!(d("2w"), Ok(today - chrono::Days::new(14)));
        assert!(d("last week").unwrap_err().contains("YYYY-MM-DD"));
    }
}
