//! Columns computed from a record's own typed columns, answering what analysts otherwise work
//! out with the same fiddly expressions every time: did the call fail (`outcome`), is the source
//! an address (`source_ip`), and which Insight is this (`insight_*`).
//!
//! They are computed on whole batches of rows as stored, in one place: when `convert` finishes a
//! batch ([`crate::flatten`]) and when `compact` rewrites a partition (which is how a table
//! written before these columns existed gets them: see the README). `export` does not write
//! them: they are not part of the record.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use serde_json::Value;

use crate::schema::{self, COLUMNS, Computed, Origin};

/// The response elements' keys that say how a sign-in went: sign-in events fail with
/// `"ConsoleLogin": "Failure"` (and the like) and no error code.
const SIGN_IN_RESULTS: [&str; 3] = ["ConsoleLogin", "SwitchRole", "CheckMfa"];

/// `failure` when the record has an error code or its response elements say a sign-in step
/// failed; `success` otherwise.
pub fn outcome(error_code: Option<&str>, response_elements: Option<&str>) -> &'static str {
    let failed_sign_in = || {
        let text = response_elements?;
        memchr::memmem::find(text.as_bytes(), b"Failure")?;
        let value: Value = serde_json::from_str(text).ok()?;
        SIGN_IN_RESULTS
            .iter()
            .any(|key| value.get(key).and_then(Value::as_str) == Some("Failure"))
            .then_some(())
    };
    match error_code.is_some() || failed_sign_in().is_some() {
        true => "failure",
        false => "success",
    }
}

/// The source IP address when `sourceIPAddress` is one (IPv4 or IPv6); not a service name
/// (`ec2.amazonaws.com`), `AWS Internal`, a list of addresses or anything else.
pub fn source_ip(address: Option<&str>) -> Option<&str> {
    address.filter(|a| a.parse::<std::net::IpAddr>().is_ok())
}

/// What an Insight record's `insightDetails` says, lifted out.
#[derive(Debug, Default, PartialEq)]
pub struct Insight {
    pub insight_type: Option<String>,
    pub state: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub error_code: Option<String>,
    pub average: Option<f64>,
    pub baseline_average: Option<f64>,
    pub duration: Option<i64>,
    pub baseline_duration: Option<i64>,
    pub top_user_arn: Option<String>,
    pub top_user_agent: Option<String>,
    pub top_error_code: Option<String>,
}

impl Insight {
    pub fn parse(details: &str) -> Self {
        let Ok(value) = serde_json::from_str::<Value>(details) else {
            return Insight::default();
        };
        let text = |path: &str| {
            value
                .pointer(path)
                .and_then(Value::as_str)
                .map(String::from)
        };
        let statistics = "/insightContext/statistics";
        let number = |path: &str| value.pointer(&format!("{statistics}{path}"));
        let top = |attribute: &str| {
            let attributions = value.pointer("/insightContext/attributions")?.as_array()?;
            let values = attributions
                .iter()
                .find(|a| a.get("attribute").and_then(Value::as_str) == Some(attribute))?
                .get("insight")?
                .as_array()?;
            // The value with the highest average during the Insight; the first on ties.
            let mut best: Option<(&str, f64)> = None;
            for entry in values {
                let (Some(v), average) = (
                    entry.get("value").and_then(Value::as_str),
                    entry.get("average").and_then(Value::as_f64).unwrap_or(0.0),
                ) else {
                    continue;
                };
                if best.is_none_or(|(_, a)| average > a) {
                    best = Some((v, average));
                }
            }
            best.map(|(v, _)| v.to_string())
        };
        Insight {
            insight_type: text("/insightType"),
            state: text("/state"),
            event_source: text("/eventSource"),
            event_name: text("/eventName"),
            error_code: text("/errorCode"),
            average: number("/insight/average").and_then(Value::as_f64),
            baseline_average: number("/baseline/average").and_then(Value::as_f64),
            duration: number("/insightDuration").and_then(Value::as_i64),
            baseline_duration: number("/baselineDuration").and_then(Value::as_i64),
            top_user_arn: top("userIdentityArn"),
            top_user_agent: top("userAgent"),
            top_error_code: top("errorCode"),
        }
    }
}

/// Row `i` of a string column, if it is not null.
fn get(array: &StringArray, i: usize) -> Option<&str> {
    array.is_valid(i).then(|| array.value(i))
}

/// The batch with every computed column computed from its typed columns (a batch being built).
pub fn fill(batch: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    compute(batch, false).map(|(batch, _)| batch)
}

/// The batch with every computed column computed again, and whether any value differs from what
/// the batch held (a batch of a file written before the column existed).
pub fn refill(batch: &RecordBatch) -> Result<(RecordBatch, bool), arrow::error::ArrowError> {
    compute(batch, true)
}

fn compute(
    batch: &RecordBatch,
    compare: bool,
) -> Result<(RecordBatch, bool), arrow::error::ArrowError> {
    let text = |name: &str| -> Result<StringArray, arrow::error::ArrowError> {
        let index = schema::column_index(name).expect("a schema column");
        let column = cast(batch.column(index), &DataType::Utf8)?;
        Ok(column
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("cast to Utf8")
            .clone())
    };
    let errors = text("error_code")?;
    let responses = text("response_elements")?;
    let addresses = text("source_ip_address")?;
    let details = text("insight_details")?;
    let insights: Vec<Option<Insight>> = (0..batch.num_rows())
        .map(|i| get(&details, i).map(Insight::parse))
        .collect();
    // One Insight field of every row, as a column.
    let texts = |field: fn(&Insight) -> &Option<String>| -> ArrayRef {
        Arc::new(StringArray::from_iter(
            insights
                .iter()
                .map(|x| x.as_ref().and_then(|x| field(x).as_deref())),
        ))
    };
    let floats = |field: fn(&Insight) -> Option<f64>| -> ArrayRef {
        Arc::new(Float64Array::from_iter(
            insights.iter().map(|x| x.as_ref().and_then(field)),
        ))
    };
    let ints = |field: fn(&Insight) -> Option<i64>| -> ArrayRef {
        Arc::new(Int64Array::from_iter(
            insights.iter().map(|x| x.as_ref().and_then(field)),
        ))
    };
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    let mut changed = false;
    for (index, column) in COLUMNS.iter().enumerate() {
        let Origin::Computed(which) = column.origin else {
            continue;
        };
        let rows = batch.num_rows();
        let array: ArrayRef = match which {
            Computed::Outcome => Arc::new(StringArray::from_iter_values(
                (0..rows).map(|i| outcome(get(&errors, i), get(&responses, i))),
            )),
            Computed::SourceIp => Arc::new(StringArray::from_iter(
                (0..rows).map(|i| source_ip(get(&addresses, i))),
            )),
            Computed::InsightType => texts(|x| &x.insight_type),
            Computed::InsightState => texts(|x| &x.state),
            Computed::InsightEventSource => texts(|x| &x.event_source),
            Computed::InsightEventName => texts(|x| &x.event_name),
            Computed::InsightErrorCode => texts(|x| &x.error_code),
            Computed::InsightTopUserArn => texts(|x| &x.top_user_arn),
            Computed::InsightTopUserAgent => texts(|x| &x.top_user_agent),
            Computed::InsightTopErrorCode => texts(|x| &x.top_error_code),
            Computed::InsightAverage => floats(|x| x.average),
            Computed::InsightBaselineAverage => floats(|x| x.baseline_average),
            Computed::InsightDuration => ints(|x| x.duration),
            Computed::InsightBaselineDuration => ints(|x| x.baseline_duration),
        };
        changed |= compare && columns[index].to_data() != array.to_data();
        columns[index] = array;
    }
    Ok((RecordBatch::try_new(batch.schema(), columns)?, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_sign_ins_fail_without_an_error_code() {
        assert_eq!(outcome(None, None), "success");
        assert_eq!(outcome(Some("AccessDenied"), None), "failure");
        assert_eq!(
            outcome(None, Some(r#"{"ConsoleLogin":"Failure"}"#)),
            "failure"
        );
        assert_eq!(
            outcome(None, Some(r#"{"SwitchRole":"Failure"}"#)),
            "failure"
        );
        assert_eq!(outcome(None, Some(r#"{"CheckMfa":"Failure"}"#)), "failure");
        assert_eq!(
            outcome(None, Some(r#"{"ConsoleLogin":"Success"}"#)),
            "success"
        );
        // A failure somewhere else in the response is not a failed call.
        assert_eq!(
            outcome(
                None,
                Some(r#"{"status":"Failure","detail":{"ConsoleLogin":"Failure"}}"#)
            ),
            "success"
        );
    }

    #[test]
    fn only_addresses_are_source_ips() {
        for address in ["203.0.113.7", "2001:db8::1", "::1", "::ffff:192.0.2.1"] {
            assert_eq!(source_ip(Some(address)), Some(address));
        }
        for other in [
            "ec2.amazonaws.com",
            "AWS Internal",
            "203.0.113.7, 198.51.100.2",
            "203.0.113.256",
            "",
            "fe80::1%eth0x",
        ] {
            assert_eq!(source_ip(Some(other)), None, "{other}");
        }
        assert_eq!(source_ip(None), None);
    }

    #[test]
    fn insights_give_their_type_state_statistics_and_top_attributions() {
        let start = r#"{"state":"Start","eventSource":"autoscaling.amazonaws.com","eventName":"CompleteLifecycleAction","insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":8.82145e-05},"insight":{"average":0.6},"insightDuration":5,"baselineDuration":11336},"attributions":[{"attribute":"userIdentityArn","insight":[{"value":"arn:a","average":0.2},{"value":"arn:b","average":0.4}],"baseline":[]},{"attribute":"userAgent","insight":[{"value":"codedeploy.amazonaws.com","average":0.6}]},{"attribute":"errorCode","insight":[{"value":"null","average":0.6}]}]}}"#;
        assert_eq!(
            Insight::parse(start),
            Insight {
                insight_type: Some("ApiCallRateInsight".into()),
                state: Some("Start".into()),
                event_source: Some("autoscaling.amazonaws.com".into()),
                event_name: Some("CompleteLifecycleAction".into()),
                error_code: None,
                average: Some(0.6),
                baseline_average: Some(8.82145e-05),
                duration: Some(5),
                baseline_duration: Some(11336),
                top_user_arn: Some("arn:b".into()),
                top_user_agent: Some("codedeploy.amazonaws.com".into()),
                top_error_code: Some("null".into()),
            }
        );
        let end = r#"{"state":"End","insightType":"ApiErrorRateInsight","errorCode":"AccessDenied","insightContext":{"statistics":{"insight":{"average":664},"insightDuration":1}}}"#;
        let end = Insight::parse(end);
        assert_eq!(end.state.as_deref(), Some("End"));
        assert_eq!(end.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!((end.average, end.duration), (Some(664.0), Some(1)));
        assert_eq!(end.top_user_arn, None);
        assert_eq!(Insight::parse("not json"), Insight::default());
    }
}
