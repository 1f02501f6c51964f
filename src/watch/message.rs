//! What a queue message says: the objects it announces, in every shape S3 and CloudTrail send.
//!
//! - S3 event notifications (`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":
//!   {"name":…},"object":{"key":…}}}]}`), keys URL-encoded with `+` for a space;
//! - the same inside an SNS envelope (`{"Type":"Notification","Message":"<JSON as a string>"}`),
//!   or delivered raw;
//! - CloudTrail's own SNS notification (`{"s3Bucket":…,"s3ObjectKey":[…]}`), keys as they are;
//! - EventBridge "Object Created" events (`{"detail-type":"Object Created","source":"aws.s3",
//!   "detail":{"bucket":{"name":…},"object":{"key":…}}}`), keys as they are;
//! - `s3:TestEvent`, which S3 sends once when notifications are set up.
//!
//! A message is parsed whole or not at all: one that is not JSON, or not one of these shapes,
//! is an error with a reason, and the watcher leaves it on the queue.

use serde_json::Value;

/// An object a message announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    /// The key as stored (URL decoding done).
    pub key: String,
}

/// What a message asks of the watcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Objects were created (at least one).
    Objects(Vec<ObjectRef>),
    /// S3's test event: nothing to read.
    Test,
    /// A notification of something else (an object removed, an SNS subscription confirmation):
    /// acknowledged, nothing to read.
    Other(String),
}

/// The SNS envelopes nest at most this deep (SNS → SQS of an S3 event is one level).
const MAX_NESTING: usize = 2;

/// Reads a message body.
pub fn parse(body: &str) -> Result<Notice, String> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| format!("not JSON ({e}): not a notification trailpq knows"))?;
    notice(&value, 0)
}

fn notice(value: &Value, depth: usize) -> Result<Notice, String> {
    let text = |v: &Value, path: &str| v.pointer(path).and_then(Value::as_str).map(str::to_string);
    if let Some(kind) = text(value, "/Type") {
        // An SNS envelope.
        if kind != "Notification" {
            return Ok(Notice::Other(format!("an SNS {kind} message")));
        }
        let inner = text(value, "/Message").ok_or("an SNS notification without a Message")?;
        if depth >= MAX_NESTING {
            return Err("SNS envelopes nested too deep".into());
        }
        let inner: Value = serde_json::from_str(&inner)
            .map_err(|e| format!("an SNS notification whose Message is not JSON ({e})"))?;
        return notice(&inner, depth + 1);
    }
    if text(value, "/Event").as_deref() == Some("s3:TestEvent") {
        return Ok(Notice::Test);
    }
    if let Some(records) = value.get("Records") {
        return s3_event(records);
    }
    if let Some(bucket) = value.get("s3Bucket") {
        return cloudtrail(bucket, value.get("s3ObjectKey"));
    }
    if let Some(detail_type) = text(value, "/detail-type") {
        return eventbridge(&detail_type, value);
    }
    Err("not a notification trailpq knows (S3 event, SNS, CloudTrail SNS or EventBridge)".into())
}

/// An S3 event notification: the records of created objects.
fn s3_event(records: &Value) -> Result<Notice, String> {
    let records = records
        .as_array()
        .ok_or("an S3 event whose Records is not a list")?;
    let mut objects = Vec::new();
    let mut others = Vec::new();
    for record in records {
        let name = record
            .get("eventName")
            .and_then(Value::as_str)
            .ok_or("an S3 event record without an eventName")?;
        if !name.starts_with("ObjectCreated:") {
            others.push(name.to_string());
            continue;
        }
        let bucket = string_at(record, "/s3/bucket/name", "an S3 event record")?;
        let key = string_at(record, "/s3/object/key", "an S3 event record")?;
        objects.push(ObjectRef {
            bucket,
            key: decode_key(&key)?,
        });
    }
    if objects.is_empty() {
        return Ok(Notice::Other(match others.is_empty() {
            true => "an S3 event without records".into(),
            false => format!("an S3 event of {}", others.join(", ")),
        }));
    }
    Ok(Notice::Objects(objects))
}

/// CloudTrail's notification of delivered log files.
fn cloudtrail(bucket: &Value, keys: Option<&Value>) -> Result<Notice, String> {
    let bucket = bucket
        .as_str()
        .filter(|b| !b.is_empty())
        .ok_or("a CloudTrail notification whose s3Bucket is not a name")?;
    let keys = keys
        .and_then(Value::as_array)
        .ok_or("a CloudTrail notification without an s3ObjectKey list")?;
    let objects = keys
        .iter()
        .map(|key| match key.as_str() {
            Some(key) if !key.is_empty() => Ok(ObjectRef {
                bucket: bucket.to_string(),
                key: key.to_string(),
            }),
            _ => Err("a CloudTrail notification with a key that is not text".to_string()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if objects.is_empty() {
        return Ok(Notice::Other(
            "a CloudTrail notification of no files".into(),
        ));
    }
    Ok(Notice::Objects(objects))
}

/// An EventBridge event from S3.
fn eventbridge(detail_type: &str, value: &Value) -> Result<Notice, String> {
    if value.get("source").and_then(Value::as_str) != Some("aws.s3") {
        return Err(format!(
            "an EventBridge event '{detail_type}' not from aws.s3: not a notification trailpq knows"
        ));
    }
    if detail_type != "Object Created" {
        return Ok(Notice::Other(format!(
            "an EventBridge '{detail_type}' event"
        )));
    }
    let what = "an EventBridge Object Created event";
    Ok(Notice::Objects(vec![ObjectRef {
        bucket: string_at(value, "/detail/bucket/name", what)?,
        key: string_at(value, "/detail/object/key", what)?,
    }]))
}

fn string_at(value: &Value, path: &str, what: &str) -> Result<String, String> {
    match value.pointer(path).and_then(Value::as_str) {
        Some(text) if !text.is_empty() => Ok(text.to_string()),
        _ => Err(format!("{what} without {}", path.replace('/', "."))),
    }
}

/// An S3 event's key: URL-encoded, with `+` for a space.
fn decode_key(key: &str) -> Result<String, String> {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("an S3 event key that is not UTF-8 once decoded: {key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/x.json.gz";

    fn object(bucket: &str, key: &str) -> ObjectRef {
        ObjectRef {
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    fn s3_event(key: &str) -> String {
        serde_json::json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "trail"}, "object": {"key": key, "size": 5, "sequencer": "0A"}}
        }]})
        .to_string()
    }

    #[test]
    fn s3_events_decode_their_keys() {
        assert_eq!(
            parse(&s3_event(KEY)),
            Ok(Notice::Objects(vec![object("trail", KEY)]))
        );
        assert_eq!(
            parse(&s3_event("logs+2024/a%2Bb%20c.json.gz")),
            Ok(Notice::Objects(vec![object(
                "trail",
                "logs 2024/a+b c.json.gz"
            )]))
        );
    }

    #[test]
    fn sns_envelopes_are_opened() {
        let envelope = serde_json::json!({
            "Type": "Notification", "MessageId": "1", "TopicArn": "arn:aws:sns:us-east-1:1:t",
            "Message": s3_event(KEY)
        });
        assert_eq!(
            parse(&envelope.to_string()),
            Ok(Notice::Objects(vec![object("trail", KEY)]))
        );
        let trail = serde_json::json!({
            "Type": "Notification",
            "Message": serde_json::json!({"s3Bucket": "org", "s3ObjectKey": [KEY, "b.json.gz"]}).to_string()
        });
        assert_eq!(
            parse(&trail.to_string()),
            Ok(Notice::Objects(vec![
                object("org", KEY),
                object("org", "b.json.gz")
            ]))
        );
        let confirm = r#"{"Type":"SubscriptionConfirmation","Message":"You have chosen"}"#;
        assert!(matches!(parse(confirm), Ok(Notice::Other(_))));
    }

    #[test]
    fn cloudtrail_and_eventbridge_keys_are_taken_as_they_are() {
        let raw = serde_json::json!({"s3Bucket": "org", "s3ObjectKey": ["a+b.json.gz"]});
        assert_eq!(
            parse(&raw.to_string()),
            Ok(Notice::Objects(vec![object("org", "a+b.json.gz")]))
        );
        let event = serde_json::json!({
            "version": "0", "detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "trail"}, "object": {"key": KEY, "size": 5}}
        });
        assert_eq!(
            parse(&event.to_string()),
            Ok(Notice::Objects(vec![object("trail", KEY)]))
        );
        let deleted = event
            .to_string()
            .replace("Object Created", "Object Deleted");
        assert!(matches!(parse(&deleted), Ok(Notice::Other(_))));
    }

    #[test]
    fn test_events_and_removals_need_no_reading() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"trail"}"#;
        assert_eq!(parse(test), Ok(Notice::Test));
        let removed = s3_event(KEY).replace("ObjectCreated:Put", "ObjectRemoved:Delete");
        assert_eq!(
            parse(&removed),
            Ok(Notice::Other("an S3 event of ObjectRemoved:Delete".into()))
        );
    }

    #[test]
    fn anything_else_is_an_error_with_a_reason() {
        for (body, needle) in [
            ("hello", "not JSON"),
            ("{}", "not a notification"),
            (r#"{"Records": 3}"#, "not a list"),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{}}}]}"#,
                "without .s3.bucket.name",
            ),
            (r#"{"Type":"Notification","Message":"{nope"}"#, "not JSON"),
            (r#"{"s3Bucket":"b","s3ObjectKey":[1]}"#, "not text"),
            (
                r#"{"detail-type":"Object Created","source":"aws.ec2"}"#,
                "not from aws.s3",
            ),
        ] {
            let error = parse(body).unwrap_err();
            assert!(error.contains(needle), "{body}: {error}");
        }
    }
}
