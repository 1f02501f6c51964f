//! Recognising input shapes: which files are CloudTrail logs, and where their records are.
//!
//! Recognition is by content. A file may be gzip-compressed or plain; its JSON may be the S3
//! delivery format `{"Records":[...]}`, the `lookup-events` output `{"Events":[...]}`, a bare
//! array, NDJSON (CloudWatch Logs exports), or a single record. Each element may be a record, an
//! EventBridge envelope whose `detail` is the record, or an event-history row whose
//! `CloudTrailEvent` is the record as a JSON string. It may also be a CloudWatch Logs subscription
//! message (as Kinesis Data Firehose writes them, often several back to back), whose log events'
//! `message`s are the records as JSON strings: one element, many records. Digest files are
//! recognised and skipped.
//!
//! [`read_file`] streams a file through the [`scan::Scanner`] and hands each record to a callback;
//! it never holds more than one record, whatever the file's size.

pub mod json;
pub mod scan;

use std::borrow::Cow;
use std::io::{self, Read};
use std::ops::ControlFlow;

use flate2::read::MultiGzDecoder;

use crate::progress::CountingReader;
use json::{Members, value_kind};
use scan::{Container, Event, Markers, Rejection, Scanner};
use serde_json::value::RawValue;

/// Bounds on a single record.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest record (or wrapped record) in bytes. CloudTrail caps events at 256 KB.
    pub max_record_bytes: usize,
    /// Deepest nesting of objects and arrays in a record.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record_bytes: 4 << 20,
            max_depth: 128,
        }
    }
}

/// A record found in a file.
#[derive(Debug)]
pub enum Item<'a> {
    /// A record, with the wrapper it came in (as JSON), if any.
    Record {
        index: u64,
        text: Cow<'a, str>,
        envelope: Option<String>,
    },
    /// An element that is not a usable record; the rest of the file is fine.
    Bad { index: u64, reason: String },
}

/// What a file turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A CloudTrail log; its records were handed out.
    Log,
    /// Not a log (with the reason): skipped, not an error.
    Skip(String),
}

/// Why a file cannot be used. None of its records may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine(pub String);

impl std::fmt::Display for Quarantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a file name says it holds JSON logs. Content decides; the name only decides whether
/// a file whose content is not CloudTrail is skipped quietly (README.md) or reported (x.json.gz).
pub fn name_claims_log(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Reads one file: decompresses it if needed, recognises its shape and calls `on_item` for every
/// record. `on_item` may stop the file with a quarantine reason (e.g. a record is invalid JSON).
/// Returns what the file is and how many bytes of JSON (after decompression) were read.
pub fn read_file<R, F>(
    reader: R,
    name: &str,
    limits: Limits,
    mut on_item: F,
) -> Result<(Verdict, u64), Quarantine>
where
    R: Read,
    F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
{
    // Whether the source itself failed tells read errors from decompression errors.
    let mut source = CountingReader::new(reader, None);
    let mut head = Vec::with_capacity(8);
    read_head(&mut source, &mut head, 4).map_err(|e| Quarantine(format!("read failed: {e}")))?;

    let compression = Compression::sniff(&head);
    let mut input: Box<dyn Read + '_> = match compression {
        Compression::None => Box::new(io::Cursor::new(head).chain(&mut source)),
        Compression::Gzip => Box::new(MultiGzDecoder::new(
            io::Cursor::new(head).chain(&mut source),
        )),
        Compression::Other(kind) => {
            return not_a_log(name, NotLog::Compressed(kind)).map(|v| (v, 0));
        }
    };

    // One read buffer per thread, reused for every file: most files are small, and a fresh zeroed
    // buffer per file costs more than reading them.
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut buf = BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()));
    buf.resize(256 * 1024, 0);
    let result = read_chunks(&mut input, &mut buf, name, limits, &mut on_item);
    BUFFER.with(|b| *b.borrow_mut() = buf);
    drop(input);
    match result {
        Ok(done) => Ok(done),
        Err(ReadFailure::Quarantine(q)) => Err(q),
        Err(ReadFailure::Io(e)) => Err(Quarantine(read_error(&e, compression, source.failed))),
    }
}

enum ReadFailure {
    Io(io::Error),
    Quarantine(Quarantine),
}

impl From<Quarantine> for ReadFailure {
    fn from(q: Quarantine) -> Self {
        ReadFailure::Quarantine(q)
    }
}

/// The read loop of [`read_file`]: decompressed chunks through the scanner.
fn read_chunks<F>(
    input: &mut dyn Read,
    buf: &mut [u8],
    name: &str,
    limits: Limits,
    on_item: &mut F,
) -> Result<(Verdict, u64), ReadFailure>
where
    F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
{
    let mut scanner = Scanner::new(scan::Limits {
        max_item_bytes: limits.max_record_bytes,
        max_depth: limits.max_depth,
    });
    let mut state = FileState::default();
    let mut first_chunk = true;
    loop {
        let n = match input.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadFailure::Io(e)),
        };
        let chunk = &buf[..n];
        if first_chunk {
            first_chunk = false;
            match chunk.iter().find(|&&b| !json::is_ws(b)) {
                Some(b'{' | b'[') => {}
                Some(0xEF) => {} // a byte-order mark; the scanner checks what follows
                Some(&other) => return Ok(not_a_log(name, NotLog::NotJson(other)).map(|v| (v, 0))?),
                None => {}
            }
        }
        let flow = scanner
            .feed(chunk, &mut |event| state.on_event(event, limits, on_item))
            .map_err(|e| Quarantine(e.to_string()))?;
        if let ControlFlow::Break(()) = flow {
            return Ok(state.stopped(name).map(|v| (v, scanner.position()))?);
        }
    }
    if first_chunk {
        return Ok(not_a_log(name, NotLog::Empty).map(|v| (v, 0))?);
    }
    let flow = scanner
        .finish(&mut |event| state.on_event(event, limits, on_item))
        .map_err(|e| Quarantine(e.to_string()))?;
    let bytes = scanner.position();
    if let ControlFlow::Break(()) = flow {
        return Ok(state.stopped(name).map(|v| (v, bytes))?);
    }
    if !state.saw_value {
        return Ok(not_a_log(name, NotLog::Empty).map(|v| (v, bytes))?);
    }
    Ok((Verdict::Log, bytes))
}

/// Why a file is not a CloudTrail log.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NotLog {
    Empty,
    NotJson(u8),
    Compressed(&'static str),
    NotCloudTrail(String),
}

/// A file that is not a CloudTrail log: skipped, or quarantined when its name says it is one.
fn not_a_log(name: &str, why: NotLog) -> Result<Verdict, Quarantine> {
    if name_claims_log(name) {
        Err(Quarantine(match why {
            NotLog::Empty => "empty file; expected CloudTrail JSON".into(),
            NotLog::NotJson(first) => format!(
                "not JSON (it starts with {}); expected CloudTrail JSON",
                shown(first)
            ),
            NotLog::Compressed(kind) => format!("{kind}-compressed; only gzip is supported"),
            NotLog::NotCloudTrail(what) => format!("JSON, but not CloudTrail: {what}"),
        }))
    } else {
        Ok(Verdict::Skip(match why {
            NotLog::Empty => "empty file".into(),
            NotLog::NotJson(_) => "not a CloudTrail log (not JSON)".into(),
            NotLog::Compressed(kind) => format!("not a CloudTrail log ({kind}-compressed)"),
            NotLog::NotCloudTrail(_) => "not a CloudTrail log (JSON of another kind)".into(),
        }))
    }
}

fn shown(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}

/// Per-file progress of recognition.
#[derive(Default)]
struct FileState {
    saw_value: bool,
    /// The file has shown itself to be a log (a wrapper, or a first record that looks like one).
    decided: bool,
    /// A `Records`/`Events` wrapper was seen (so a broken value after it is trailing data).
    after_wrapper: bool,
    /// The index of the next item: a running count of the items handed out. An element gives one
    /// item, except a CloudWatch Logs message, which gives one per log event (none for a control
    /// message), so indexes stay unique and increasing within the file.
    next_index: u64,
    /// CloudWatch Logs subscription messages were seen: elements are messages, not records.
    subscription: bool,
    /// Why the scan was stopped, if it was.
    stop: Option<Stop>,
}

enum Stop {
    Digest,
    NotCloudTrail(String),
    Quarantine(Quarantine),
}

impl FileState {
    /// Takes one event of the scanner: hands out the records it holds, or stops the file.
    fn on_event<F>(&mut self, event: Event<'_>, limits: Limits, on_item: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        self.saw_value = true;
        match event {
            Event::Open(Container::Records | Container::Events) => {
                self.decided = true;
                self.after_wrapper = true;
                ControlFlow::Continue(())
            }
            Event::Open(_) => ControlFlow::Continue(()),
            Event::Tail(bytes) => self.check_tail(bytes),
            Event::Rejected { why, .. } => {
                let reason = self.rejection(why, limits);
                let index = self.take_index();
                self.deliver(on_item, Item::Bad { index, reason })
            }
            Event::Item {
                container,
                bytes,
                markers,
            } => self.element(container, bytes, markers, limits, on_item),
        }
    }

    /// Why the scanner skipped an element. It skips a too-large element unread, so what it was is
    /// not known. In a file of CloudWatch Logs messages it is a message: one bad item then stands
    /// for all its records, which cannot be counted unread, and the reason says so. Real
    /// subscription payloads hold at most about 1 MiB of log events (CloudWatch Logs' batch size),
    /// well under the default limit, which stays what bounds memory.
    fn rejection(&self, why: Rejection, limits: Limits) -> String {
        match why {
            Rejection::TooLarge { bytes } if self.subscription => format!(
                "CloudWatch Logs message is {bytes} bytes; the limit for a message with all its log events is {} (none of its records were read)",
                limits.max_record_bytes
            ),
            Rejection::TooDeep if self.subscription => format!(
                "CloudWatch Logs message is nested deeper than {} levels",
                limits.max_depth
            ),
            Rejection::TooLarge { bytes } => format!(
                "record is {bytes} bytes; the limit is {} (CloudTrail caps events at 256 KB)",
                limits.max_record_bytes
            ),
            Rejection::TooDeep => {
                format!("record is nested deeper than {} levels", limits.max_depth)
            }
        }
    }

    /// One element (or top-level value) of the file: classified, then handed out as what it is.
    fn element<F>(
        &mut self,
        container: Container,
        bytes: &[u8],
        markers: Markers,
        limits: Limits,
        on_item: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        // Messages about the element name the index its first item has (the scanner's own index
        // counts elements, which differs once a CloudWatch Logs message held several records).
        let index = self.next_index;
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                return self.quarantine(format!(
                    "invalid UTF-8 in record {index} at byte {} of the record",
                    e.valid_up_to()
                ));
            }
        };
        let stream = container == Container::Stream;
        match classify(text, markers, limits, !self.decided) {
            // A digest file is a single top-level object; an element with a digest's keys inside
            // a log is handed out like any other record.
            Ok(Shape::Digest) if !self.decided && stream => {
                self.stop = Some(Stop::Digest);
                ControlFlow::Break(())
            }
            Ok(Shape::Digest) => self.record(Cow::Borrowed(text), None, None, on_item),
            Ok(Shape::Record {
                text,
                envelope,
                looks_like_record,
            }) => {
                let first = if stream {
                    "its first object"
                } else {
                    "its first element"
                };
                let unlike = (!looks_like_record).then_some(first);
                self.record(text, envelope, unlike, on_item)
            }
            Ok(Shape::Subscription(message)) => self.subscription_message(message, limits, on_item),
            Err(ShapeError::Bad(reason)) => self.bad(reason, on_item),
            // After a wrapper, a top-level value that is not JSON is garbage after the records.
            Err(ShapeError::InvalidJson(e)) if stream && self.after_wrapper => {
                self.quarantine(format!("trailing data after the records: {e}"))
            }
            Err(ShapeError::InvalidJson(e)) => {
                self.quarantine(format!("invalid JSON in record {index}: {e}"))
            }
        }
    }

    /// Hands out a record, unless it is the file's first and has none of a record's keys: then
    /// the file is not CloudTrail. `unlike` is `Some(what the record is in the file)`, as in "its
    /// first element", when the record has none of the keys; it is only looked for in the file's
    /// first record.
    fn record<F>(
        &mut self,
        text: Cow<'_, str>,
        envelope: Option<String>,
        unlike: Option<&str>,
        on_item: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        if !self.decided
            && let Some(first) = unlike
        {
            self.stop = Some(Stop::NotCloudTrail(format!(
                "{first} has none of the keys of a CloudTrail record (eventVersion, eventTime, eventName, …)"
            )));
            return ControlFlow::Break(());
        }
        let index = self.take_index();
        self.deliver(
            on_item,
            Item::Record {
                index,
                text,
                envelope,
            },
        )
    }

    /// Reports an element that is not a usable record, unless it is the file's first: then the
    /// file is not CloudTrail.
    fn bad<F>(&mut self, reason: String, on_item: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        if !self.decided {
            self.stop = Some(Stop::NotCloudTrail(format!("its first value is {reason}")));
            return ControlFlow::Break(());
        }
        let index = self.take_index();
        self.deliver(on_item, Item::Bad { index, reason })
    }

    /// The index for the next item handed out.
    fn take_index(&mut self) -> u64 {
        let index = self.next_index;
        self.next_index += 1;
        index
    }

    /// Hands out the records of a CloudWatch Logs subscription message, one item per log event,
    /// in order. A control message (`None`) holds no records and does not decide that the file is
    /// CloudTrail; the first log event of a data message does, like the first record of any file
    /// (a subscription may carry any log group's events, not only a trail's).
    fn subscription_message<F>(
        &mut self,
        message: Option<DataMessage<'_>>,
        limits: Limits,
        on_item: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        self.subscription = true;
        let Some(DataMessage { envelope, events }) = message else {
            return ControlFlow::Continue(());
        };
        for event in events {
            match log_event(event, &envelope, limits) {
                Ok((text, envelope)) => {
                    // Parsed again only while the file is undecided: a record's keys are looked
                    // for in the first record only.
                    let unlike = (!self.decided && !looks_like_record(&text))
                        .then_some("its first CloudWatch Logs log event");
                    self.record(text, Some(envelope), unlike, on_item)?;
                }
                Err(reason) => self.bad(reason, on_item)?,
            }
        }
        ControlFlow::Continue(())
    }

    fn deliver<F>(&mut self, on_item: &mut F, item: Item<'_>) -> ControlFlow<()>
    where
        F: FnMut(Item<'_>) -> ControlFlow<Quarantine>,
    {
        self.decided = true;
        match on_item(item) {
            ControlFlow::Continue(()) => ControlFlow::Continue(()),
            ControlFlow::Break(q) => {
                self.stop = Some(Stop::Quarantine(q));
                ControlFlow::Break(())
            }
        }
    }

    fn quarantine(&mut self, reason: String) -> ControlFlow<()> {
        self.stop = Some(Stop::Quarantine(Quarantine(reason)));
        ControlFlow::Break(())
    }

    /// Members after the `Records`/`Events` array: only `lookup-events`' `NextToken` is expected.
    fn check_tail(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        let text = std::str::from_utf8(bytes).unwrap_or("");
        let unexpected: Vec<String> = match Members::parse(text) {
            Ok(members) => members
                .0
                .iter()
                .filter(|(k, _)| k != "NextToken")
                .map(|(k, _)| format!("\"{k}\""))
                .collect(),
            Err(_) => vec!["(unreadable)".into()],
        };
        if unexpected.is_empty() {
            return ControlFlow::Continue(());
        }
        self.quarantine(format!(
            "unexpected key {} beside the records array; expected {{\"Records\":[...]}}",
            unexpected.join(", ")
        ))
    }

    fn stopped(&mut self, name: &str) -> Result<Verdict, Quarantine> {
        match self.stop.take() {
            Some(Stop::Digest) => Ok(Verdict::Skip("CloudTrail digest file".into())),
            Some(Stop::NotCloudTrail(what)) => not_a_log(name, NotLog::NotCloudTrail(what)),
            Some(Stop::Quarantine(q)) => Err(q),
            None => Ok(Verdict::Log),
        }
    }
}

/// What one element of a log is.
#[derive(Debug)]
enum Shape<'a> {
    Record {
        text: Cow<'a, str>,
        envelope: Option<String>,
        looks_like_record: bool,
    },
    Digest,
    /// A CloudWatch Logs subscription message: a data message's records, or `None` for a control
    /// message.
    Subscription(Option<DataMessage<'a>>),
}

/// A CloudWatch Logs `DATA_MESSAGE`, its log events not yet read.
#[derive(Debug)]
struct DataMessage<'a> {
    /// The message without `logEvents`, as compact JSON.
    envelope: String,
    /// The elements of `logEvents`.
    events: Vec<&'a RawValue>,
}

#[derive(Debug)]
enum ShapeError {
    /// Not a record, for this reason (the element is skipped, the file is fine).
    Bad(String),
    /// The element is not valid JSON (the file is broken).
    InvalidJson(serde_json::Error),
}

/// Keys of which at least one is in every CloudTrail record (any case: some exports lower-case).
const RECORD_KEYS: &[&str] = &[
    "eventversion",
    "eventtime",
    "eventsource",
    "eventname",
    "eventid",
    "eventtype",
    "useridentity",
    "awsregion",
    "recipientaccountid",
    "eventcategory",
];

/// Classifies one element. Plain records are recognised without parsing them (the flattener
/// parses them); `first` asks for the check that the file's first element looks like CloudTrail.
fn classify(
    text: &str,
    markers: Markers,
    limits: Limits,
    first: bool,
) -> Result<Shape<'_>, ShapeError> {
    if !text.starts_with('{') {
        return Err(not_an_object(text));
    }
    if !first && !markers.any() {
        return Ok(Shape::Record {
            text: Cow::Borrowed(text),
            envelope: None,
            looks_like_record: true,
        });
    }
    let members = Members::parse(text).map_err(ShapeError::InvalidJson)?;
    if let Some(records) = members.get("Records") {
        return Err(ShapeError::Bad(misplaced_records(records)));
    }
    if markers.has(Markers::DIGEST) && members.get("digestStartTime").is_some() {
        return Ok(Shape::Digest);
    }
    if markers.has(Markers::SUBSCRIPTION)
        && let Some(shape) = subscription(&members)?
    {
        return Ok(shape);
    }
    if markers.has(Markers::WRAPPED)
        && let Some(shape) = wrapped_record(&members, limits)
    {
        return shape;
    }
    // Only the first element decides whether the file is CloudTrail.
    Ok(Shape::Record {
        text: Cow::Borrowed(text),
        envelope: None,
        looks_like_record: !first || has_record_keys(&members),
    })
}

/// Why an element that is not an object is not a record. It is validated first, so that broken
/// JSON breaks the file, not just this element.
fn not_an_object(text: &str) -> ShapeError {
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Err(e) => ShapeError::InvalidJson(e),
        Ok(_) => ShapeError::Bad(format!("{}, not a record object", value_kind(text))),
    }
}

/// Why an element with a `Records` key is not a record. The scanner reads `{"Records": [...]}`
/// itself, so here "Records" is not an array, or it follows other keys.
fn misplaced_records(records: &RawValue) -> String {
    if records.get().starts_with('[') {
        "an object with other keys before \"Records\"; expected {\"Records\":[...]}".into()
    } else {
        format!(
            "an object whose \"Records\" is {}, not an array",
            value_kind(records.get())
        )
    }
}

/// The record in an EventBridge envelope or an event-history row, if `members` are one.
fn wrapped_record<'a>(
    members: &Members<'a>,
    limits: Limits,
) -> Option<Result<Shape<'a>, ShapeError>> {
    if let (Some(_), Some(detail)) = (members.get("detail-type"), members.get("detail")) {
        // An EventBridge envelope: the record is `detail`.
        if !detail.get().starts_with('{') {
            return Some(Err(ShapeError::Bad(format!(
                "an EventBridge envelope whose detail is {}",
                value_kind(detail.get())
            ))));
        }
        return Some(Ok(Shape::Record {
            text: Cow::Borrowed(detail.get()),
            envelope: Some(members.to_json_without(&["detail"])),
            looks_like_record: true,
        }));
    }
    // An event-history row: the record is a JSON string.
    let event = members.get("CloudTrailEvent")?;
    let shape = embedded_record(event, EVENT_HISTORY_ROW, limits).map(|record| Shape::Record {
        text: record,
        envelope: Some(members.to_json_without(&["CloudTrailEvent"])),
        looks_like_record: true,
    });
    Some(shape.map_err(ShapeError::Bad))
}

/// A member that holds a record as a JSON string, as named in reasons.
struct Carrier {
    /// "<the element> whose <member>".
    what: &'static str,
    /// Whether the record may start with whitespace. Only a log event's message may: it is
    /// whatever was logged, and leading whitespace has always been accepted there; a
    /// `CloudTrailEvent` that starts with whitespace has always been reported instead.
    leading_ws: bool,
}

const EVENT_HISTORY_ROW: Carrier = Carrier {
    what: "an event-history row whose CloudTrailEvent",
    leading_ws: false,
};

const LOG_EVENT: Carrier = Carrier {
    what: "a CloudWatch Logs log event whose message",
    leading_ws: true,
};

/// The record that `raw`, a JSON string, holds: decoded, and checked to be a JSON object within
/// the depth limit (the scanner checked only the element around it). The error is the reason
/// the element is not a record.
fn embedded_record<'a>(
    raw: &'a RawValue,
    carrier: Carrier,
    limits: Limits,
) -> Result<Cow<'a, str>, String> {
    let what = carrier.what;
    let Ok(record) = json::decode_str(raw.get()) else {
        return Err(format!("{what} is {}, not a string", value_kind(raw.get())));
    };
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&record) {
        return Err(format!("{what} is not JSON: {e}"));
    }
    let start = if carrier.leading_ws {
        record.trim_start()
    } else {
        &record
    };
    if !start.starts_with('{') {
        return Err(format!("{what} holds {}", value_kind(&record)));
    }
    if json::max_depth(&record) > limits.max_depth {
        return Err(format!(
            "record is nested deeper than {} levels",
            limits.max_depth
        ));
    }
    Ok(record)
}

/// Whether an object has a key of a CloudTrail record.
fn has_record_keys(members: &Members<'_>) -> bool {
    members
        .0
        .iter()
        .any(|(k, _)| RECORD_KEYS.iter().any(|r| k.eq_ignore_ascii_case(r)))
}

/// Whether the JSON object `text` (valid JSON) has a key of a CloudTrail record.
fn looks_like_record(text: &str) -> bool {
    Members::parse(text).is_ok_and(|members| has_record_keys(&members))
}

/// A CloudWatch Logs subscription message, if `members` are one:
/// `{"messageType":"DATA_MESSAGE","owner":…,"logGroup":…,"logStream":…,"subscriptionFilters":[…],
/// "logEvents":[{"id":…,"timestamp":…,"message":…},…]}`, or a `CONTROL_MESSAGE`, which CloudWatch
/// Logs sends when a subscription is set up and whose log events hold plain text, not records.
/// An object with `messageType` and `logEvents` is taken for one whatever its `messageType`, so a
/// message of an unknown type is reported, not read as a record.
fn subscription<'a>(members: &Members<'a>) -> Result<Option<Shape<'a>>, ShapeError> {
    let Some(raw_kind) = members.get("messageType") else {
        return Ok(None);
    };
    let kind = json::decode_str(raw_kind.get()).ok();
    let events = members.get("logEvents");
    if events.is_none() && !matches!(kind.as_deref(), Some("DATA_MESSAGE" | "CONTROL_MESSAGE")) {
        return Ok(None);
    }
    for key in ["messageType", "logEvents"] {
        if members.0.iter().filter(|(k, _)| k == key).count() > 1 {
            return Err(ShapeError::Bad(format!(
                "a CloudWatch Logs message with \"{key}\" twice"
            )));
        }
    }
    match kind.as_deref() {
        Some("CONTROL_MESSAGE") => Ok(Some(Shape::Subscription(None))),
        Some("DATA_MESSAGE") => {
            let Some(events) = events else {
                return Err(ShapeError::Bad(
                    "a CloudWatch Logs DATA_MESSAGE without logEvents".into(),
                ));
            };
            if !events.get().starts_with('[') {
                return Err(ShapeError::Bad(format!(
                    "a CloudWatch Logs DATA_MESSAGE whose logEvents is {}, not an array",
                    value_kind(events.get())
                )));
            }
            let events = serde_json::from_str(events.get()).map_err(ShapeError::InvalidJson)?;
            Ok(Some(Shape::Subscription(Some(DataMessage {
                envelope: members.to_json_without(&["logEvents"]),
                events,
            }))))
        }
        // A short string is shown as written (escaped, so the reason stays one line).
        Some(_) if raw_kind.get().len() <= 42 => Err(ShapeError::Bad(format!(
            "a CloudWatch Logs message whose messageType is {}; expected DATA_MESSAGE or CONTROL_MESSAGE",
            raw_kind.get()
        ))),
        _ => Err(ShapeError::Bad(format!(
            "a CloudWatch Logs message whose messageType is {}; expected DATA_MESSAGE or CONTROL_MESSAGE",
            value_kind(raw_kind.get())
        ))),
    }
}

/// The record in one log event of a CloudWatch Logs `DATA_MESSAGE` (its `message`, a JSON string,
/// decoded), with its envelope: the message's `envelope` (without `logEvents`) plus this event's
/// own members but `message` (`id`, `timestamp`, any others) as `logEvent`, so that nothing of the
/// input is lost. A record is smaller than the message it came in, which the scanner's size limit
/// bounds.
fn log_event<'a>(
    event: &'a RawValue,
    envelope: &str,
    limits: Limits,
) -> Result<(Cow<'a, str>, String), String> {
    let text = event.get();
    let members = match Members::parse(text) {
        Ok(members) if text.starts_with('{') => members,
        _ => {
            return Err(format!(
                "a CloudWatch Logs log event that is {}, not an object",
                value_kind(text)
            ));
        }
    };
    let message = match members.0.iter().filter(|(k, _)| k == "message").count() {
        0 => return Err("a CloudWatch Logs log event without a message".into()),
        1 => members.get("message").expect("counted"),
        _ => return Err("a CloudWatch Logs log event with \"message\" twice".into()),
    };
    let record = embedded_record(message, LOG_EVENT, limits)?;
    // The envelope is `{…}`: the event goes in before its closing brace.
    let event_json = members.to_json_without(&["message"]);
    let open = &envelope[..envelope.len() - 1];
    let mut out = String::with_capacity(envelope.len() + event_json.len() + 12);
    out.push_str(open);
    if open.len() > 1 {
        out.push(',');
    }
    json::write_key(&mut out, "logEvent");
    out.push_str(&event_json);
    out.push('}');
    Ok((record, out))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Other(&'static str),
}

impl Compression {
    fn sniff(head: &[u8]) -> Self {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Other("zstd"),
            [b'B', b'Z', b'h', ..] => Compression::Other("bzip2"),
            [0xfd, b'7', b'z', b'X', ..] => Compression::Other("xz"),
            [b'P', b'K', 3, 4, ..] => Compression::Other("zip"),
            _ => Compression::None,
        }
    }
}

fn read_head<R: Read>(reader: &mut R, head: &mut Vec<u8>, want: usize) -> io::Result<()> {
    let mut buf = [0u8; 8];
    while head.len() < want {
        match reader.read(&mut buf[..want - head.len()]) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn read_error(e: &io::Error, compression: Compression, source_failed: bool) -> String {
    if source_failed || compression != Compression::Gzip {
        return format!("read failed: {e}");
    }
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "truncated gzip: the compressed data ends early".into(),
        _ => format!("corrupt gzip data: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Reads `bytes` as file `name`; returns the verdict and the items as strings.
    fn read(name: &str, bytes: &[u8]) -> (Result<Verdict, Quarantine>, Vec<String>) {
        let (verdict, items) = read_with_size(name, bytes);
        (verdict.map(|(v, _)| v), items)
    }

    fn read_with_size(
        name: &str,
        bytes: &[u8],
    ) -> (Result<(Verdict, u64), Quarantine>, Vec<String>) {
        read_with_limits(
            name,
            bytes,
            Limits {
                max_record_bytes: 200,
                max_depth: 8,
            },
        )
    }

    fn read_with_limits(
        name: &str,
        bytes: &[u8],
        limits: Limits,
    ) -> (Result<(Verdict, u64), Quarantine>, Vec<String>) {
        let mut items = Vec::new();
        let verdict = read_file(bytes, name, limits, |item| {
            // Like the flattener, stop the file at a record that is not JSON.
            if let Item::Record { index, text, .. } = &item
                && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text)
            {
                return ControlFlow::Break(Quarantine(format!(
                    "invalid JSON in record {index}: {e}"
                )));
            }
            items.push(match item {
                Item::Record {
                    index,
                    text,
                    envelope,
                } => {
                    format!(
                        "{index}: {text}{}",
                        envelope.map(|e| format!(" in {e}")).unwrap_or_default()
                    )
                }
                Item::Bad { index, reason } => format!("{index}: bad: {reason}"),
            });
            ControlFlow::Continue(())
        });
        (verdict, items)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn records_wrapper_plain_and_gzip() {
        let doc = br#"{"Records":[{"eventName":"A"},7,{"eventName":"B"}]}"#;
        for bytes in [doc.to_vec(), gzip(doc)] {
            let (verdict, items) = read_with_size("x.json.gz", &bytes);
            assert_eq!(verdict, Ok((Verdict::Log, doc.len() as u64)));
            assert_eq!(
                items,
                [
                    r#"0: {"eventName":"A"}"#,
                    "1: bad: a number, not a record object",
                    r#"2: {"eventName":"B"}"#
                ]
            );
        }
    }

    #[test]
    fn eventbridge_and_event_history_rows() {
        let ndjson = concat!(
            r#"{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"A"}}"#,
            "\n",
            r#"{"EventId":"e1","CloudTrailEvent":"{\"eventName\":\"B\"}","ReadOnly":"true"}"#,
            "\n",
            r#"{"detail-type":"x","detail":"oops"}"#,
            "\n",
            r#"{"EventId":"e2","CloudTrailEvent":12345}"#,
        );
        let (verdict, items) = read("events.jsonl", ndjson.as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(
            items,
            [
                r#"0: {"eventName":"A"} in {"version":"0","detail-type":"AWS API Call via CloudTrail"}"#,
                r#"1: {"eventName":"B"} in {"EventId":"e1","ReadOnly":"true"}"#,
                "2: bad: an EventBridge envelope whose detail is a string",
                "3: bad: an event-history row whose CloudTrailEvent is a number, not a string",
            ]
        );
    }

    #[test]
    fn a_record_that_mentions_detail_type_is_still_a_record() {
        let rec = br#"{"eventName":"PutRule","requestParameters":{"eventPattern":"{\"detail-type\":[\"x\"]}"}}"#;
        let (verdict, items) = read("r.json", rec);
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(items.len(), 1);
        assert!(!items[0].contains(" in "));
    }

    #[test]
    fn digests_and_non_logs_are_skipped() {
        let digest = br#"{"awsAccountId":"1","digestStartTime":"2020","logFiles":[]}"#;
        assert_eq!(
            read("d.json.gz", &gzip(digest)).0,
            Ok(Verdict::Skip("CloudTrail digest file".into()))
        );
        assert!(matches!(read("README.md", b"# hi").0, Ok(Verdict::Skip(_))));
        assert!(matches!(read("a.tsv", b"").0, Ok(Verdict::Skip(_))));
        assert!(matches!(
            read("package.yaml", b"{\"name\":\"x\"}").0,
            Ok(Verdict::Skip(_))
        ));
    }

    #[test]
    fn broken_logs_are_quarantined_with_a_reason() {
        let doc = br#"{"Records":[{"eventName":"A"}]}"#;
        let gz = gzip(doc);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("t.json.gz", gz[..gz.len() - 10].to_vec(), "truncated gzip"),
            (
                "c.json.gz",
                [&gz[..gz.len() - 8], &[0u8; 4][..], &gz[gz.len() - 4..]].concat(),
                "corrupt gzip",
            ),
            (
                "j.json",
                br#"{"Records":[{"eventName":"A"},{"x":}]}"#.to_vec(),
                "invalid JSON in record 1",
            ),
            (
                "g.json",
                [&doc[..], b" trailing"].concat(),
                "trailing data after the records",
            ),
            (
                "h.json",
                [&doc[..], b" <garbage>"].concat(),
                "invalid JSON at byte",
            ),
            (
                "u.json",
                b"{\"Records\":[{\"eventName\":\"\xff\"}]}".to_vec(),
                "invalid UTF-8 in record 0",
            ),
            (
                "n.json",
                br#"{"foo":[1]}"#.to_vec(),
                "JSON, but not CloudTrail: its first object has none of the keys",
            ),
            (
                "r.json",
                br#"{"Records":[],"Other":1}"#.to_vec(),
                "unexpected key \"Other\"",
            ),
            ("e.json.gz", Vec::new(), "empty"),
            (
                "z.json.gz",
                vec![0x28, 0xb5, 0x2f, 0xfd, 0],
                "zstd-compressed",
            ),
            ("text.json", b"hello".to_vec(), "not JSON"),
        ];
        for (name, bytes, reason) in cases {
            let (verdict, _) = read(name, &bytes);
            match verdict {
                Err(Quarantine(r)) => assert!(r.contains(reason), "{name}: {r}"),
                other => panic!("{name}: expected quarantine, got {other:?}"),
            }
        }
    }

    /// A source that is interrupted before every other read.
    struct Interrupting<'a> {
        bytes: &'a [u8],
        interrupt: bool,
    }

    impl Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::ErrorKind::Interrupted.into());
            }
            let n = self.bytes.len().min(buf.len()).min(7);
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn interrupted_reads_are_retried_not_failures() {
        let doc = br#"{"Records":[{"eventName":"A"}]}"#;
        let gz = gzip(doc);
        let corrupt = [&gz[..gz.len() - 8], &[0u8; 4][..], &gz[gz.len() - 4..]].concat();
        let read = |bytes: &[u8]| {
            let source = Interrupting {
                bytes,
                interrupt: false,
            };
            read_file(source, "x.json.gz", Limits::default(), |_| {
                ControlFlow::Continue(())
            })
        };
        assert_eq!(read(&gz), Ok((Verdict::Log, doc.len() as u64)));
        // Corrupt data is told from a failing source even after interruptions.
        match read(&corrupt) {
            Err(Quarantine(r)) => assert!(r.starts_with("corrupt gzip"), "{r}"),
            other => panic!("expected quarantine, got {other:?}"),
        }
    }

    #[test]
    fn lookup_events_output_with_next_token() {
        let doc = br#"{"Events":[{"EventId":"1","CloudTrailEvent":"{\"eventVersion\":\"1.08\"}"}],"NextToken":"abc"}"#;
        let (verdict, items) = read("lookup.json", doc);
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(items, [r#"0: {"eventVersion":"1.08"} in {"EventId":"1"}"#]);
    }

    #[test]
    fn limits_reject_single_records() {
        let big = format!(
            r#"[{{"eventName":"{}"}},{{"eventName":"ok"}}]"#,
            "x".repeat(300)
        );
        let (verdict, items) = read("big.json", big.as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        assert!(
            items[0].contains("bad: record is 316 bytes; the limit is 200"),
            "{}",
            items[0]
        );
        assert_eq!(items[1], r#"1: {"eventName":"ok"}"#);
    }

    /// A CloudWatch Logs subscription message as CloudWatch Logs writes it, with one log event
    /// per `(id, message)`; messages are given as JSON text and encoded as strings here.
    fn data_message(events: &[(&str, &str)]) -> String {
        let events: Vec<String> = events
            .iter()
            .enumerate()
            .map(|(i, (id, message))| {
                format!(
                    r#"{{"id":"{id}","timestamp":168899065000{i},"message":{}}}"#,
                    serde_json::to_string(message).unwrap()
                )
            })
            .collect();
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"aws-cloudtrail-logs-123456789012-abcdef12","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
            events.join(",")
        )
    }

    const ENVELOPE: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"aws-cloudtrail-logs-123456789012-abcdef12","logStream":"123456789012_CloudTrail_us-east-1","subscriptionFilters":["f"]"#;

    const CONTROL: &str = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;

    /// Large enough for the test messages; small enough to check the limits.
    const CWL_LIMITS: Limits = Limits {
        max_record_bytes: 4096,
        max_depth: 8,
    };

    fn read_cwl(name: &str, bytes: &[u8]) -> (Result<Verdict, Quarantine>, Vec<String>) {
        let (verdict, items) = read_with_limits(name, bytes, CWL_LIMITS);
        (verdict.map(|(v, _)| v), items)
    }

    #[test]
    fn cloudwatch_logs_messages_give_every_record_with_its_envelope() {
        let first = data_message(&[
            (
                "3195310660696698337880902507980421114328961542429822",
                r#"{"eventName":"A"}"#,
            ),
            (
                "3195310660696698337880902507980421114328961542429823",
                r#"{"eventName":"B"}"#,
            ),
        ]);
        let second = data_message(&[("3195", r#"{"eventName":"C"}"#)]);
        let expected = [
            format!(
                r#"0: {{"eventName":"A"}} in {ENVELOPE},"logEvent":{{"id":"3195310660696698337880902507980421114328961542429822","timestamp":1688990650000}}}}"#
            ),
            format!(
                r#"1: {{"eventName":"B"}} in {ENVELOPE},"logEvent":{{"id":"3195310660696698337880902507980421114328961542429823","timestamp":1688990650001}}}}"#
            ),
            format!(
                r#"2: {{"eventName":"C"}} in {ENVELOPE},"logEvent":{{"id":"3195","timestamp":1688990650000}}}}"#
            ),
        ];
        let concatenated = format!("{first}{second}");
        // One message; messages back to back, plain, in one gzip member, as gzip members, or
        // one per line. The index counts records, not messages.
        let files = [
            (first.clone().into_bytes(), 2),
            (concatenated.clone().into_bytes(), 3),
            (gzip(concatenated.as_bytes()), 3),
            (
                [gzip(first.as_bytes()), gzip(second.as_bytes())].concat(),
                3,
            ),
            (format!("{first}\n{second}\n").into_bytes(), 3),
        ];
        for (bytes, n) in files {
            // Content decides, not the name: Firehose objects have no extension.
            let (verdict, items) = read_cwl("cloudtrail-to-s3-1-2023-07-10-12-03-11-5d3c", &bytes);
            assert_eq!(verdict, Ok(Verdict::Log));
            assert_eq!(items, expected[..n]);
        }
    }

    #[test]
    fn cloudwatch_logs_envelopes_keep_every_member_as_written() {
        // Other key order, whitespace, an escaped key, and a log event with extractedFields.
        let message = concat!(
            "{ \"owner\" : \"123456789012\", \"logGroup\":\"g\\u00e9\",\n",
            "  \"messageType\": \"DATA_MESSAGE\", \"subscriptionFilters\": [ \"f\" ],\n",
            "  \"logEvents\": [ {\"timestamp\": 1.6889906500e12, \"message\": ",
            "\"{\\\"eventVersion\\\":\\\"1.08\\\"}\", \"id\": \"01\", ",
            "\"extractedFields\": {\"a\": \"b c\"}} ], \"logStream\": \"s\" }"
        );
        let (verdict, items) = read_cwl("x", message.as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(
            items,
            [concat!(
                r#"0: {"eventVersion":"1.08"} in {"owner":"123456789012","logGroup":"g\u00e9","#,
                r#""messageType":"DATA_MESSAGE","subscriptionFilters":["f"],"logStream":"s","#,
                r#""logEvent":{"timestamp":1.6889906500e12,"id":"01","extractedFields":{"a":"b c"}}}"#
            )]
        );
    }

    #[test]
    fn cloudwatch_logs_control_messages_give_no_records() {
        // A file of control messages only is a log with no records: converted, not skipped.
        for name in ["control.json.gz", "cloudtrail-to-s3-1-2023"] {
            let (verdict, items) = read_cwl(name, &gzip(CONTROL.as_bytes()));
            assert_eq!(verdict, Ok(Verdict::Log), "{name}");
            assert!(items.is_empty(), "{name}: {items:?}");
        }
        let data = data_message(&[("1", r#"{"eventName":"A"}"#), ("2", r#"{"eventName":"B"}"#)]);
        let file = [
            gzip(CONTROL.as_bytes()),
            gzip(data.as_bytes()),
            gzip(CONTROL.as_bytes()),
        ];
        let (verdict, items) = read_cwl("x.json.gz", &file.concat());
        assert_eq!(verdict, Ok(Verdict::Log));
        let indexes: Vec<&str> = items.iter().map(|i| &i[..2]).collect();
        assert_eq!(indexes, ["0:", "1:"]);
    }

    #[test]
    fn cloudwatch_logs_bad_messages_and_log_events_are_reported() {
        let good = data_message(&[("1", r#"{"eventName":"A"}"#)]);
        let bad_events = data_message(&[
            ("2", "not JSON at all"),
            ("3", "[1,2]"),
            ("4", r#"{"eventName":"D"}"#),
            ("5", r#"{"eventName":"E""#),
        ]);
        let messages = [
            good.as_str(),
            &bad_events,
            r#"{"messageType":"DATA_MESSAGE","owner":"1","logEvents":"oops"}"#,
            r#"{"messageType":"DATA_MESSAGE","owner":"1"}"#,
            r#"{"messageType":"SOMETHING_ELSE","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[],"logEvents":[{"message":"{}"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[7,{"id":"6"},{"message":{"eventName":"G"}},{"message":"{}","message":"{}"}]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[]}"#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"{\"a\":[[[[[[[[[1]]]]]]]]]}"}]}"#,
            &good,
        ];
        let (verdict, items) = read_cwl("x.json", messages.join("\n").as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        let items: Vec<String> = items
            .into_iter()
            .map(|i| i.split(" in {").next().unwrap().to_string())
            .collect();
        assert_eq!(
            items,
            [
                r#"0: {"eventName":"A"}"#,
                "1: bad: a CloudWatch Logs log event whose message is not JSON: expected ident at line 1 column 2",
                "2: bad: a CloudWatch Logs log event whose message holds an array",
                r#"3: {"eventName":"D"}"#,
                "4: bad: a CloudWatch Logs log event whose message is not JSON: EOF while parsing an object at line 1 column 16",
                "5: bad: a CloudWatch Logs DATA_MESSAGE whose logEvents is a string, not an array",
                "6: bad: a CloudWatch Logs DATA_MESSAGE without logEvents",
                "7: bad: a CloudWatch Logs message whose messageType is \"SOMETHING_ELSE\"; expected DATA_MESSAGE or CONTROL_MESSAGE",
                "8: bad: a CloudWatch Logs message with \"logEvents\" twice",
                "9: bad: a CloudWatch Logs log event that is a number, not an object",
                "10: bad: a CloudWatch Logs log event without a message",
                "11: bad: a CloudWatch Logs log event whose message is an object, not a string",
                "12: bad: a CloudWatch Logs log event with \"message\" twice",
                "13: bad: record is nested deeper than 8 levels",
                r#"14: {"eventName":"A"}"#,
            ]
        );
    }

    #[test]
    fn cloudwatch_logs_messages_of_other_logs_are_not_cloudtrail() {
        // A subscription on a Lambda function's log group: plain-text messages.
        let lambda = data_message(&[("1", "START RequestId: 8f5e Version: $LATEST")]);
        let flow_logs = data_message(&[("1", r#"{"version":2,"action":"ACCEPT"}"#)]);
        let cases = [
            (
                &lambda,
                "its first value is a CloudWatch Logs log event whose message is not JSON",
            ),
            (
                &flow_logs,
                "its first CloudWatch Logs log event has none of the keys of a CloudTrail record",
            ),
        ];
        for (message, reason) in cases {
            let file = [CONTROL, message].concat();
            match read_cwl("x.json", file.as_bytes()).0 {
                Err(Quarantine(r)) => {
                    assert!(r.starts_with("JSON, but not CloudTrail: "), "{r}");
                    assert!(r.contains(reason), "{r}");
                }
                other => panic!("expected quarantine, got {other:?}"),
            }
            // Firehose objects are named without an extension: skipped, not reported.
            assert_eq!(
                read_cwl("lambda-to-s3-1-2023", file.as_bytes()).0,
                Ok(Verdict::Skip(
                    "not a CloudTrail log (JSON of another kind)".into()
                ))
            );
        }
        // Invalid JSON breaks the file, as anywhere else.
        let broken = [
            data_message(&[("1", r#"{"eventName":"A"}"#)]),
            "{\"messageType\":".into(),
        ]
        .concat();
        match read_cwl("x.json", broken.as_bytes()).0 {
            Err(Quarantine(r)) => assert!(r.contains("unexpected end of input"), "{r}"),
            other => panic!("expected quarantine, got {other:?}"),
        }
    }

    #[test]
    fn cloudwatch_logs_messages_over_the_limit_say_what_they_are() {
        let small = data_message(&[("1", r#"{"eventName":"A"}"#)]);
        let big = data_message(&[("2", &format!(r#"{{"eventName":"{}"}}"#, "x".repeat(5000)))]);
        let (verdict, items) =
            read_cwl("x.json", [small.as_str(), &big, &small].concat().as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(items.len(), 3);
        assert!(
            items[1].starts_with(&format!(
                "1: bad: CloudWatch Logs message is {} bytes; the limit for a message with all its log events is 4096 (none of its records were read)",
                big.len()
            )),
            "{}",
            items[1]
        );
        assert!(
            items[2].starts_with(r#"2: {"eventName":"A"}"#),
            "{}",
            items[2]
        );
    }

    #[test]
    fn a_record_that_mentions_message_type_is_still_a_record() {
        let ndjson = concat!(
            r#"{"eventVersion":"1.08","eventName":"A"}"#,
            "\n",
            r#"{"eventName":"Publish","requestParameters":{"messageType":"DATA_MESSAGE","logEvents":[]}}"#,
            "\n",
            r#"{"eventName":"B","messageType":"x"}"#,
        );
        let (verdict, items) = read_cwl("r.json", ndjson.as_bytes());
        assert_eq!(verdict, Ok(Verdict::Log));
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| !i.contains(" in ")), "{items:?}");
    }
}
