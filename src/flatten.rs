//! Flattening records into Arrow: one typed row per record, with nothing lost.
//!
//! A record is walked along the path tree of [`schema::COLUMNS`]. A value lands in its typed
//! column when the column can hold it *exactly*, so that [`crate::export`] writes the same JSON
//! back. Everything else goes into the `extra` column, a JSON object shaped like the record:
//! unknown keys at any level, values of another JSON type, explicit nulls, empty objects, and the
//! original text of values that were typed but are spelled differently from the canonical form
//! (`"readOnly": "true"`, an `eventTime` with a space). Export rebuilds the record from the typed
//! columns and lays `extra` over it.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BooleanBuilder, Int64Builder, ListBuilder, RecordBatch, StringBuilder, StructBuilder,
    TimestampMillisecondBuilder, new_null_array,
};
use arrow::datatypes::{DataType, Field};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::schema::{self, BoolForm, COLUMNS, Kind, Normalize, Origin, RESOURCE_KEYS};
use crate::shape::json::{self, CowStr, Members};
use crate::time;

/// Where a record came from.
#[derive(Debug, Clone, Copy)]
pub struct Provenance<'a> {
    pub source_key: &'a str,
    pub index: u64,
    pub envelope: Option<&'a str>,
}

/// Why a record was not added.
#[derive(Debug)]
pub enum RecordError {
    /// The record is not valid JSON: its file is broken.
    InvalidJson(serde_json::Error),
    /// The record is valid JSON but cannot be stored faithfully (e.g. a key appears twice).
    Unusable(String),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            RecordError::Unusable(reason) => f.write_str(reason),
        }
    }
}

/// Accumulates records into Arrow arrays of the table schema.
pub struct BatchBuilder {
    builders: Vec<ColumnBuilder>,
    rows: usize,
    input_bytes: usize,
}

enum ColumnBuilder {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    Time(TimestampMillisecondBuilder),
    Int(Int64Builder),
    Resources(ListBuilder<StructBuilder>),
    /// Filled from the other columns when the batch is finished ([`crate::computed`]).
    Computed(DataType),
}

impl Default for BatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BatchBuilder {
    pub fn new() -> Self {
        // Most CloudTrail files hold a few records: start small and let the builders grow.
        const ROWS: usize = 8;
        let builders = COLUMNS
            .iter()
            .map(|c| match (c.origin, c.data_type()) {
                (Origin::Computed(_), data_type) => ColumnBuilder::Computed(data_type),
                (_, data_type) => match data_type {
                    DataType::Utf8 => {
                        ColumnBuilder::Str(StringBuilder::with_capacity(ROWS, ROWS * 32))
                    }
                    DataType::Boolean => ColumnBuilder::Bool(BooleanBuilder::with_capacity(ROWS)),
                    DataType::Int64 => ColumnBuilder::Int(Int64Builder::with_capacity(ROWS)),
                    DataType::Timestamp(..) => ColumnBuilder::Time(
                        TimestampMillisecondBuilder::with_capacity(ROWS).with_timezone("UTC"),
                    ),
                    DataType::List(_) => ColumnBuilder::Resources(resources_builder()),
                    other => unreachable!("no builder for {other}"),
                },
            })
            .collect();
        BatchBuilder {
            builders,
            rows: 0,
            input_bytes: 0,
        }
    }

    /// Rows added since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// JSON bytes added since the last [`finish`](Self::finish); Arrow needs about as much.
    pub fn input_bytes(&self) -> usize {
        self.input_bytes
    }

    /// Adds one record (the JSON text of an object). On error nothing is added.
    pub fn push(&mut self, text: &str, provenance: Provenance<'_>) -> Result<(), RecordError> {
        let mut row = Row::new();
        let mut extra = Extra::default();
        let mut de = serde_json::Deserializer::from_str(text);
        ObjectSeed {
            node: 0,
            row: &mut row,
            extra: &mut extra,
        }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(RecordError::InvalidJson)?;
        if let Some(problem) = row.problem {
            return Err(RecordError::Unusable(problem));
        }
        derive(&mut row.slots);
        self.append(row.slots, provenance, &extra);
        self.input_bytes += text.len();
        Ok(())
    }

    /// Takes the rows added so far as a batch.
    pub fn finish(&mut self) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    ColumnBuilder::Str(b) => Arc::new(b.finish()),
                    ColumnBuilder::Bool(b) => Arc::new(b.finish()),
                    ColumnBuilder::Time(b) => Arc::new(b.finish()),
                    ColumnBuilder::Int(b) => Arc::new(b.finish()),
                    ColumnBuilder::Resources(b) => Arc::new(b.finish()),
                    ColumnBuilder::Computed(data_type) => new_null_array(data_type, self.rows),
                }
            })
            .collect();
        self.rows = 0;
        self.input_bytes = 0;
        let batch = RecordBatch::try_new(schema::arrow_schema(), arrays)
            .expect("builders follow the schema");
        crate::computed::fill(&batch).expect("computed columns follow the schema")
    }

    fn append(&mut self, mut slots: Vec<Slot<'_>>, provenance: Provenance<'_>, extra: &Extra<'_>) {
        for (index, (column, builder)) in COLUMNS.iter().zip(self.builders.iter_mut()).enumerate() {
            match (builder, column.origin) {
                (ColumnBuilder::Str(b), Origin::Record(..) | Origin::Derived(_)) => {
                    match std::mem::take(&mut slots[index]) {
                        Slot::Str(s) => b.append_value(s),
                        _ => b.append_null(),
                    }
                }
                (ColumnBuilder::Bool(b), _) => match slots[index] {
                    Slot::Bool(v) => b.append_value(v),
                    _ => b.append_null(),
                },
                (ColumnBuilder::Time(b), _) => match slots[index] {
                    Slot::Time(ms) => b.append_value(ms),
                    _ => b.append_null(),
                },
                (ColumnBuilder::Resources(b), _) => match std::mem::take(&mut slots[index]) {
                    Slot::Resources(list) => {
                        for resource in list {
                            let item = b.values();
                            for (i, value) in resource.iter().enumerate() {
                                item.field_builder::<StringBuilder>(i)
                                    .expect("resource fields are strings")
                                    .append_option(value.as_deref());
                            }
                            item.append(true);
                        }
                        b.append(true);
                    }
                    _ => b.append(false),
                },
                (ColumnBuilder::Computed(_), _) => {}
                (ColumnBuilder::Str(b), Origin::SourceKey) => b.append_value(provenance.source_key),
                (ColumnBuilder::Int(b), Origin::SourceIndex) => {
                    b.append_value(provenance.index as i64)
                }
                (ColumnBuilder::Str(b), Origin::SourceEnvelope) => {
                    b.append_option(provenance.envelope)
                }
                (ColumnBuilder::Str(b), Origin::Extra) => {
                    if extra.is_empty() {
                        b.append_null();
                    } else {
                        // Written straight into the column's buffer, then closed as one value.
                        extra.write(b);
                        b.append_value("");
                    }
                }
                _ => unreachable!("column {} has a builder of another type", column.name),
            }
        }
        self.rows += 1;
    }
}

fn resources_builder() -> ListBuilder<StructBuilder> {
    let fields = schema::resource_fields();
    let DataType::List(item) = schema::resources_type() else {
        unreachable!()
    };
    ListBuilder::new(StructBuilder::from_fields(fields, 0))
        .with_field(Arc::new(Field::clone(&item)))
}

/// The typed value of one column for the record being read.
#[derive(Debug, Default)]
enum Slot<'a> {
    #[default]
    Empty,
    Str(Cow<'a, str>),
    Bool(bool),
    Time(i64),
    Resources(Vec<[Option<Cow<'a, str>>; 3]>),
}

/// One record being read.
struct Row<'a> {
    slots: Vec<Slot<'a>>,
    /// Which path-tree nodes were met, to find duplicate keys.
    seen: Vec<bool>,
    /// How many slots were filled (to tell an empty object from one with typed values).
    filled: usize,
    problem: Option<String>,
}

impl<'a> Row<'a> {
    fn new() -> Self {
        Row {
            slots: std::iter::repeat_with(Slot::default)
                .take(COLUMNS.len())
                .collect(),
            seen: vec![false; schema::path_tree().len()],
            filled: 0,
            problem: None,
        }
    }

    fn fill(&mut self, column: usize, slot: Slot<'a>) {
        self.slots[column] = slot;
        self.filled += 1;
    }

    fn problem(&mut self, message: impl FnOnce() -> String) {
        if self.problem.is_none() {
            self.problem = Some(message());
        }
    }

    /// A value at a typed leaf.
    fn leaf(&mut self, column: usize, key: Cow<'a, str>, raw: &'a RawValue, extra: &mut Extra<'a>) {
        let Origin::Record(_, kind) = COLUMNS[column].origin else {
            unreachable!()
        };
        let text = raw.get();
        let exact = match kind {
            Kind::Str => match json::decode_str(text) {
                Ok(s) => {
                    self.fill(column, Slot::Str(s));
                    true
                }
                Err(_) => false,
            },
            Kind::Json => {
                let is_object = text.starts_with('{');
                if is_object {
                    self.fill(column, Slot::Str(json::minify(text)));
                }
                is_object
            }
            Kind::Bool(form) => match parse_bool(text) {
                Some((value, spelling)) => {
                    self.fill(column, Slot::Bool(value));
                    spelling == Some(form)
                }
                None => false,
            },
            Kind::Time => match json::decode_str(text) {
                Ok(s) => match time::parse_millis(&s) {
                    Some((ms, canonical)) => {
                        self.fill(column, Slot::Time(ms));
                        canonical
                    }
                    None => false,
                },
                Err(_) => false,
            },
            Kind::Resources => {
                let (list, exact) = parse_resources(text);
                if let Some(list) = list {
                    self.fill(column, Slot::Resources(list));
                }
                exact
            }
        };
        if !exact {
            extra.push(key, ExtraValue::Raw(raw));
        }
    }

    /// A value at a known object (userIdentity, sessionContext, tlsDetails, …).
    fn object(
        &mut self,
        node: usize,
        key: Cow<'a, str>,
        raw: &'a RawValue,
        parent_extra: &mut Extra<'a>,
    ) -> Result<(), serde_json::Error> {
        if !raw.get().starts_with('{') {
            parent_extra.push(key, ExtraValue::Raw(raw));
            return Ok(());
        }
        let filled_before = self.filled;
        let mut extra = Extra::default();
        let mut de = serde_json::Deserializer::from_str(raw.get());
        ObjectSeed {
            node,
            row: self,
            extra: &mut extra,
        }
        .deserialize(&mut de)?;
        // Export writes an object when it has typed values or extra members; an object with
        // neither was `{}` and is kept as such.
        if !extra.is_empty() || self.filled == filled_before {
            parent_extra.push(key, ExtraValue::Object(extra));
        }
        Ok(())
    }
}

/// `true`/`false` as JSON booleans or strings. Returns the value and, when it is spelled the way
/// CloudTrail spells booleans, which form.
fn parse_bool(text: &str) -> Option<(bool, Option<BoolForm>)> {
    match text {
        "true" => Some((true, Some(BoolForm::Json))),
        "false" => Some((false, Some(BoolForm::Json))),
        "\"true\"" => Some((true, Some(BoolForm::Text))),
        "\"false\"" => Some((false, Some(BoolForm::Text))),
        _ => {
            let s = json::decode_str(text).ok()?;
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Some((true, None))
            } else if s.eq_ignore_ascii_case("false") {
                Some((false, None))
            } else {
                None
            }
        }
    }
}

/// Fills the derived identifier columns of Connect and Chime events from their request
/// parameters and response elements (each parsed once, and only for those services).
fn derive(slots: &mut [Slot<'_>]) {
    static INDEX: LazyLock<[usize; 3]> = LazyLock::new(|| {
        ["event_source", "request_parameters", "response_elements"]
            .map(|n| schema::column_index(n).expect("column"))
    });
    let [source, request, response] = *INDEX;
    fn text<'s>(slot: &'s Slot<'_>) -> Option<&'s str> {
        match slot {
            Slot::Str(s) => Some(s.as_ref()),
            _ => None,
        }
    }
    let Some(event_source) = text(&slots[source]) else {
        return;
    };
    let Some(service) = schema::service_of(event_source) else {
        return;
    };
    fn parse<'s>(slot: &'s Slot<'_>) -> Option<Members<'s>> {
        Members::parse(text(slot)?).ok()
    }
    let parts = [parse(&slots[request]), parse(&slots[response])];
    let mut values = Vec::new();
    for (index, column) in COLUMNS.iter().enumerate() {
        let Origin::Derived(derivation) = column.origin else {
            continue;
        };
        if derivation.service != service {
            continue;
        }
        let value = derivation.from.iter().find_map(|(part, path)| {
            let value = lookup(parts[*part as usize].as_ref()?, path)?;
            match derivation.normalize {
                Normalize::AsIs => Some(value),
                Normalize::ConnectInstance => connect_instance(&value),
            }
        });
        if let Some(value) = value {
            values.push((index, value));
        }
    }
    drop(parts);
    for (index, value) in values {
        slots[index] = Slot::Str(Cow::Owned(value));
    }
}

/// The string at `path` inside an object.
fn lookup(members: &Members<'_>, path: &[&str]) -> Option<String> {
    let (first, rest) = path.split_first()?;
    let raw = members.get(first)?.get();
    if rest.is_empty() {
        return json::decode_str(raw).ok().map(Cow::into_owned);
    }
    lookup(&Members::parse(raw).ok()?, rest)
}

/// The bare id of an Amazon Connect instance given as an id, an ARN, a URL-encoded ARN or the ARN
/// of a resource below the instance.
pub fn connect_instance(value: &str) -> Option<String> {
    // `%XX` escapes decoded; anything malformed is kept as it is.
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map_or_else(|_| value.to_string(), |d| d.into_owned());
    match decoded.strip_prefix("arn:") {
        Some(arn) => {
            let (_, after) = arn.split_once(":instance/")?;
            Some(after.split('/').next()?.to_string()).filter(|id| !id.is_empty())
        }
        None => Some(decoded).filter(|id| !id.is_empty()),
    }
}

type Resource<'a> = [Option<Cow<'a, str>>; 3];

/// The `resources` array. Returns the typed list (if it is an array) and whether the list
/// rebuilds the input exactly.
fn parse_resources(text: &str) -> (Option<Vec<Resource<'_>>>, bool) {
    if !text.starts_with('[') {
        return (None, false);
    }
    let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(text) else {
        return (None, false);
    };
    let mut exact = true;
    let mut list = Vec::with_capacity(elements.len());
    for element in elements {
        let Ok(members) = Members::parse(element.get()) else {
            exact = false;
            continue;
        };
        let mut resource: Resource<'_> = [None, None, None];
        for (key, value) in members.0 {
            let slot = RESOURCE_KEYS
                .iter()
                .position(|k| *k == key)
                .map(|i| &mut resource[i]);
            match slot {
                Some(slot @ None) => match json::decode_str(value.get()) {
                    Ok(s) => *slot = Some(s),
                    Err(_) => exact = false,
                },
                _ => exact = false,
            }
        }
        list.push(resource);
    }
    (Some(list), exact)
}

/// The `extra` object being built, shaped like the record.
#[derive(Debug, Default)]
struct Extra<'a> {
    members: Vec<(Cow<'a, str>, ExtraValue<'a>)>,
}

#[derive(Debug)]
enum ExtraValue<'a> {
    /// The original JSON text of a value.
    Raw(&'a RawValue),
    /// Members of a known object that its typed columns do not hold.
    Object(Extra<'a>),
}

impl<'a> Extra<'a> {
    fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    fn push(&mut self, key: Cow<'a, str>, value: ExtraValue<'a>) {
        self.members.push((key, value));
    }

    fn contains(&self, key: &str) -> bool {
        self.members.iter().any(|(k, _)| k == key)
    }

    fn write(&self, out: &mut impl fmt::Write) {
        // Writing to a String or a StringBuilder cannot fail.
        let _ = out.write_char('{');
        for (i, (key, value)) in self.members.iter().enumerate() {
            if i > 0 {
                let _ = out.write_char(',');
            }
            json::write_key(out, key);
            match value {
                ExtraValue::Raw(raw) => {
                    let _ = out.write_str(&json::minify(raw.get()));
                }
                ExtraValue::Object(object) => object.write(out),
            }
        }
        let _ = out.write_char('}');
    }
}

/// Reads one JSON object at a node of the path tree.
struct ObjectSeed<'r, 'a> {
    node: usize,
    row: &'r mut Row<'a>,
    extra: &'r mut Extra<'a>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let tree = schema::path_tree();
        let node = &tree[self.node];
        while let Some(CowStr(key)) = map.next_key()? {
            let raw: &'de RawValue = map.next_value()?;
            let duplicate = match node.children.get(key.as_ref()) {
                Some(&child) => {
                    let duplicate = std::mem::replace(&mut self.row.seen[child], true);
                    if !duplicate {
                        match tree[child].column {
                            Some(column) => self.row.leaf(column, key.clone(), raw, self.extra),
                            None => self
                                .row
                                .object(child, key.clone(), raw, self.extra)
                                .map_err(de::Error::custom)?,
                        }
                    }
                    duplicate
                }
                None if self.extra.contains(&key) => true,
                None => {
                    self.extra.push(key.clone(), ExtraValue::Raw(raw));
                    false
                }
            };
            if duplicate {
                let parent = node.key;
                self.row.problem(|| match parent {
                    "" => format!("key \"{key}\" appears twice"),
                    _ => format!("key \"{key}\" appears twice in {parent}"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::TimestampMillisecondType;

    fn build(records: &[&str]) -> RecordBatch {
        let mut b = BatchBuilder::new();
        for (i, r) in records.iter().enumerate() {
            let prov = Provenance {
                source_key: "k",
                index: i as u64,
                envelope: None,
            };
            b.push(r, prov).unwrap_or_else(|e| panic!("{r}: {e}"));
        }
        b.finish()
    }

    fn str_col<'b>(batch: &'b RecordBatch, name: &str) -> Vec<Option<&'b str>> {
        batch
            .column_by_name(name)
            .unwrap()
            .as_string::<i32>()
            .iter()
            .collect()
    }

    #[test]
    fn typed_columns_and_empty_extra_for_a_canonical_record() {
        let batch = build(&[
            r#"{"eventVersion":"1.05","userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2019-08-15T06:40:14Z"},"sessionIssuer":{"arn":"arn:aws:iam::1:role/John"}}},"eventTime":"2019-08-15T06:40:55Z","eventSource":"connect.amazonaws.com","requestParameters":{"InstanceId": "i-1"},"readOnly":true,"resources":[{"ARN":"arn:x","accountId":"1","type":"T"}]}"#,
        ]);
        assert_eq!(str_col(&batch, "user_type"), [Some("AssumedRole")]);
        assert_eq!(
            str_col(&batch, "session_issuer_arn"),
            [Some("arn:aws:iam::1:role/John")]
        );
        assert_eq!(
            str_col(&batch, "request_parameters"),
            [Some(r#"{"InstanceId":"i-1"}"#)]
        );
        assert_eq!(str_col(&batch, "extra"), [None]);
        let mfa = batch
            .column_by_name("session_mfa_authenticated")
            .unwrap()
            .as_boolean();
        assert!(!mfa.value(0) && mfa.is_valid(0));
        let t = batch
            .column_by_name("event_time")
            .unwrap()
            .as_primitive::<TimestampMillisecondType>();
        assert_eq!(t.value(0), 1_565_851_255_000);
        let res = batch.column_by_name("resources").unwrap().as_list::<i32>();
        assert_eq!(res.value(0).len(), 1);
    }

    #[test]
    fn what_does_not_fit_goes_to_extra() {
        let batch = build(&[
            r#"{"eventTime":"2019-08-15 06:40:55","readOnly":"true","responseElements":null,"p_log_type":"AWS.CloudTrail","userIdentity":{"type":"IAMUser","new":{"a":1},"sessionContext":{"webIdFederationData":{}}},"eventName":5}"#,
        ]);
        assert_eq!(
            str_col(&batch, "extra"),
            [Some(
                r#"{"eventTime":"2019-08-15 06:40:55","readOnly":"true","responseElements":null,"p_log_type":"AWS.CloudTrail","userIdentity":{"new":{"a":1},"sessionContext":{"webIdFederationData":{}}},"eventName":5}"#
            )]
        );
        // The typed columns still hold what could be typed.
        assert_eq!(str_col(&batch, "user_type"), [Some("IAMUser")]);
        assert!(
            batch
                .column_by_name("read_only")
                .unwrap()
                .as_boolean()
                .value(0)
        );
        assert!(batch.column_by_name("event_time").unwrap().is_valid(0));
        assert!(batch.column_by_name("event_name").unwrap().is_null(0));
    }

    #[test]
    fn only_the_services_own_sources_count_as_connect_or_chime() {
        let batch = build(&[
            r#"{"eventSource":"ec2-instance-connect.amazonaws.com","requestParameters":{"InstanceId":"i-0abc"}}"#,
            r#"{"eventSource":"directconnect.amazonaws.com","requestParameters":{"InstanceId":"dx-1"}}"#,
            r#"{"eventSource":"chimera.example.com","requestParameters":{"accountId":"x"}}"#,
            r#"{"eventSource":"connect.amazonaws.com","requestParameters":{"InstanceId":"i-1"}}"#,
            r#"{"eventSource":"chime-sdk-voice.amazonaws.com","requestParameters":{"accountId":"a-1"}}"#,
        ]);
        assert_eq!(
            str_col(&batch, "connect_instance_id"),
            [None, None, None, Some("i-1"), None]
        );
        assert_eq!(
            str_col(&batch, "chime_account_id"),
            [None, None, None, None, Some("a-1")]
        );
    }

    #[test]
    fn connect_and_chime_identifiers_are_lifted_out() {
        let batch = build(&[
            r#"{"eventSource":"connect.amazonaws.com","eventName":"CreateUser","requestParameters":{"InstanceId":"arn%3Aaws%3Aconnect%3Aus-east-1%3A1%3Ainstance%2Fi-1","RoutingProfileId":"rp-1"},"responseElements":{"UserId":"u-new"}}"#,
            r#"{"eventSource":"connect.amazonaws.com","eventName":"TagResource","requestParameters":{"resourceArn":"arn:aws:connect:us-east-1:1:instance/i-2/queue/q-9"}}"#,
            r#"{"eventSource":"connect.amazonaws.com","eventName":"GetContactAttributes","requestParameters":{"InitialContactId":"c-1","InstanceId":"i-3"}}"#,
            r#"{"eventSource":"chime.amazonaws.com","eventName":"CreateMeeting","requestParameters":{"accountId":"a-1"},"responseElements":{"meeting":{"meetingId":"m-1"}}}"#,
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"InstanceId":"not-connect"}}"#,
        ]);
        assert_eq!(
            str_col(&batch, "connect_instance_id"),
            [Some("i-1"), Some("i-2"), Some("i-3"), None, None]
        );
        assert_eq!(
            str_col(&batch, "connect_user_id"),
            [Some("u-new"), None, None, None, None]
        );
        assert_eq!(
            str_col(&batch, "connect_routing_profile_id"),
            [Some("rp-1"), None, None, None, None]
        );
        assert_eq!(
            str_col(&batch, "connect_contact_id"),
            [None, None, Some("c-1"), None, None]
        );
        assert_eq!(
            str_col(&batch, "connect_resource_arn")[1],
            Some("arn:aws:connect:us-east-1:1:instance/i-2/queue/q-9")
        );
        assert_eq!(
            str_col(&batch, "chime_account_id"),
            [None, None, None, Some("a-1"), None]
        );
        assert_eq!(
            str_col(&batch, "chime_meeting_id"),
            [None, None, None, Some("m-1"), None]
        );
        assert_eq!(connect_instance("arn:aws:s3:::bucket"), None);
        assert_eq!(connect_instance("%zz"), Some("%zz".into()));
    }

    #[test]
    fn odd_resources_are_kept_whole() {
        let batch = build(&[r#"{"resources":[{"ARN":"a","extraKey":1},"x"]}"#]);
        assert_eq!(
            str_col(&batch, "extra"),
            [Some(r#"{"resources":[{"ARN":"a","extraKey":1},"x"]}"#)]
        );
    }

    #[test]
    fn duplicate_keys_make_a_record_unusable() {
        let mut b = BatchBuilder::new();
        let prov = Provenance {
            source_key: "k",
            index: 0,
            envelope: None,
        };
        for (text, message) in [
            (
                r#"{"eventName":"A","eventName":"B"}"#,
                "key \"eventName\" appears twice",
            ),
            (r#"{"x":1,"x":2}"#, "key \"x\" appears twice"),
            (
                r#"{"userIdentity":{"arn":"a","arn":"b"}}"#,
                "twice in userIdentity",
            ),
        ] {
            match b.push(text, prov) {
                Err(RecordError::Unusable(m)) => assert!(m.contains(message), "{m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(
            b.push("{\"a\":}", prov),
            Err(RecordError::InvalidJson(_))
        ));
        assert!(b.is_empty());
    }
}
