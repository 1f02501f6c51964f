//! An independent, deliberately simple reading of CloudTrail files (whole file into
//! `serde_json::Value`), to check trailpq's streaming reader and its lossless round trip against.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

/// Every record in the files under `dir` (unwrapping Records, Events, arrays, NDJSON and
/// concatenated JSON, EventBridge envelopes, event-history rows and CloudWatch Logs subscription
/// messages; skipping digests, control messages, non-objects and unreadable files).
pub fn records_under(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for rel in super::files_under(dir) {
        out.extend(records_in(&dir.join(rel)));
    }
    out
}

pub fn records_in(path: &Path) -> Vec<Value> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let text = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        if flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .is_err()
        {
            return Vec::new();
        }
        text
    } else {
        match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Vec::new(),
        }
    };
    let text = text.trim_start_matches('\u{feff}');
    // One value, NDJSON, or values back to back (as Kinesis Data Firehose concatenates them).
    let values: Result<Vec<Value>, _> = serde_json::Deserializer::from_str(text)
        .into_iter()
        .collect();
    values
        .unwrap_or_default()
        .into_iter()
        .flat_map(unwrap)
        .collect()
}

fn unwrap(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.into_iter().flat_map(unwrap).collect(),
        Value::Object(mut obj) => {
            if let Some(Value::Array(records)) = obj.remove("Records") {
                return records.into_iter().filter(Value::is_object).collect();
            }
            if let Some(Value::Array(events)) = obj.remove("Events") {
                return events.into_iter().flat_map(unwrap).collect();
            }
            if obj.contains_key("digestStartTime") {
                return Vec::new();
            }
            if let Some(Value::String(kind)) = obj.get("messageType")
                && obj.contains_key("logEvents")
            {
                // A CloudWatch Logs subscription message: each log event's message is a record as
                // a JSON string. A CONTROL_MESSAGE's are plain text, not records.
                if kind != "DATA_MESSAGE" {
                    return Vec::new();
                }
                let Some(Value::Array(events)) = obj.get("logEvents") else {
                    return Vec::new();
                };
                return events
                    .iter()
                    .filter_map(|event| event.get("message")?.as_str())
                    .filter_map(|message| serde_json::from_str::<Value>(message).ok())
                    .filter(Value::is_object)
                    .collect();
            }
            if let Some(Value::String(inner)) = obj.get("CloudTrailEvent") {
                return serde_json::from_str::<Value>(inner)
                    .ok()
                    .filter(Value::is_object)
                    .into_iter()
                    .collect();
            }
            if obj.contains_key("detail-type")
                && let Some(detail) = obj.get("detail")
            {
                return detail
                    .is_object()
                    .then(|| detail.clone())
                    .into_iter()
                    .collect();
            }
            vec![Value::Object(obj)]
        }
        _ => Vec::new(),
    }
}

/// Counts of each distinct record (canonical JSON text: keys sorted, numbers normalised).
pub fn multiset(values: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for v in values {
        *out.entry(serde_json::to_string(v).unwrap()).or_insert(0) += 1;
    }
    out
}

/// Asserts two record collections are equal as multisets, showing a few differences.
#[track_caller]
pub fn assert_same_records(expected: &[Value], actual: &[Value]) {
    let (e, a) = (multiset(expected), multiset(actual));
    if e == a {
        return;
    }
    let missing: Vec<&String> = e
        .iter()
        .filter(|(k, n)| a.get(*k) != Some(n))
        .map(|(k, _)| k)
        .take(3)
        .collect();
    let extra: Vec<&String> = a
        .iter()
        .filter(|(k, n)| e.get(*k) != Some(n))
        .map(|(k, _)| k)
        .take(3)
        .collect();
    panic!(
        "records differ: expected {}, got {}\nmissing or miscounted:\n{}\nunexpected:\n{}",
        expected.len(),
        actual.len(),
        missing
            .iter()
            .map(|s| format!("  {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
        extra
            .iter()
            .map(|s| format!("  {s}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
