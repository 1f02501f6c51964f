//! The one definition of the trailpq table.
//!
//! Every column is declared once in [`COLUMNS`]: its name, where its value comes from (a JSON path in
//! the CloudTrail record, or the file the record was read from), how the JSON value is typed, and a
//! one-line meaning. The Arrow schema, the flattener's path tree, `export`, `trailpq schema`, the
//! README's column table and the DDL generators all derive from this table.
//!
//! Partition columns are not stored in the Parquet files (Hive style); they are described in
//! [`PARTITION_COLUMNS`] and derived from record columns by the writer.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Version of the table layout, stored in each Parquet file's metadata.
pub const SCHEMA_VERSION: &str = "1";

/// How a JSON value is typed into its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string, stored as UTF-8.
    Str,
    /// A boolean. CloudTrail writes some flags as JSON booleans (`readOnly`) and some as the
    /// strings `"true"`/`"false"` (`mfaAuthenticated`); both become a boolean column, and the form
    /// named here is the one `export` writes back.
    Bool(BoolForm),
    /// An ISO-8601 time string, stored as a UTC timestamp in milliseconds.
    Time,
    /// A free-form JSON object, stored as its JSON text.
    Json,
    /// The `resources` array: a list of `{ARN, accountId, type}` objects.
    Resources,
}

/// The JSON spelling of a boolean that CloudTrail uses for a given field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolForm {
    /// `true` / `false`
    Json,
    /// `"true"` / `"false"`
    Text,
}

/// Where a column's values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A path of keys in the CloudTrail record, and how its value is typed.
    Record(&'static [&'static str], Kind),
    /// The object key or file path the record was read from.
    SourceKey,
    /// The record's position (0-based) among the records of its file.
    SourceIndex,
    /// The wrapper the record arrived in (EventBridge envelope, event-history row, CloudWatch Logs
    /// subscription message with the record's own log event), as JSON.
    SourceEnvelope,
    /// An identifier lifted out of the request parameters or response elements of one service's
    /// events, so queries need no JSON functions. Derived: `export` does not write it.
    Derived(&'static Derivation),
    /// Everything in the record that no typed column holds exactly, as JSON.
    Extra,
    /// An answer computed from the record's typed columns ([`crate::computed`]): not part of the
    /// record, so `export` does not write it.
    Computed(Computed),
}

/// The computed columns ([`crate::computed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    Outcome,
    SourceIp,
    InsightType,
    InsightState,
    InsightEventSource,
    InsightEventName,
    InsightErrorCode,
    InsightAverage,
    InsightBaselineAverage,
    InsightDuration,
    InsightBaselineDuration,
    InsightTopUserArn,
    InsightTopUserAgent,
    InsightTopErrorCode,
}

impl Computed {
    fn data_type(self) -> DataType {
        match self {
            Computed::InsightAverage | Computed::InsightBaselineAverage => DataType::Float64,
            Computed::InsightDuration | Computed::InsightBaselineDuration => DataType::Int64,
            _ => DataType::Utf8,
        }
    }

    /// Where it comes from, as readers know the record's paths.
    fn from(self) -> &'static str {
        match self {
            Computed::Outcome => "errorCode, responseElements.{ConsoleLogin,SwitchRole,CheckMfa}",
            Computed::SourceIp => "sourceIPAddress",
            Computed::InsightType => "insightDetails.insightType",
            Computed::InsightState => "insightDetails.state",
            Computed::InsightEventSource => "insightDetails.eventSource",
            Computed::InsightEventName => "insightDetails.eventName",
            Computed::InsightErrorCode => "insightDetails.errorCode",
            Computed::InsightAverage => "insightDetails.insightContext.statistics.insight.average",
            Computed::InsightBaselineAverage => {
                "insightDetails.insightContext.statistics.baseline.average"
            }
            Computed::InsightDuration => "insightDetails.insightContext.statistics.insightDuration",
            Computed::InsightBaselineDuration => {
                "insightDetails.insightContext.statistics.baselineDuration"
            }
            Computed::InsightTopUserArn => {
                "insightDetails.insightContext.attributions[userIdentityArn]"
            }
            Computed::InsightTopUserAgent => {
                "insightDetails.insightContext.attributions[userAgent]"
            }
            Computed::InsightTopErrorCode => {
                "insightDetails.insightContext.attributions[errorCode]"
            }
        }
    }
}

/// Where a derived identifier is found: the first of `from` that holds a string, in events of
/// `service` (see [`service_of`]).
#[derive(Debug, PartialEq, Eq)]
pub struct Derivation {
    pub service: &'static str,
    pub from: &'static [(Part, &'static [&'static str])],
    pub normalize: Normalize,
}

/// The event sources of the services whose identifiers are derived, exactly as CloudTrail writes
/// them (the services' CloudTrail pages and real logs). Matching is exact: `ec2-instance-connect`,
/// `directconnect` and `ssm-guiconnect` are not Amazon Connect. The Connect participant service's
/// source is not listed: no log at hand shows it.
pub const SERVICE_SOURCES: &[(&str, &[&str])] = &[
    ("connect", &["connect.amazonaws.com"]),
    (
        "chime",
        &[
            "chime.amazonaws.com",
            "chime-sdk-identity.amazonaws.com",
            "chime-sdk-media-pipelines.amazonaws.com",
            "chime-sdk-meetings.amazonaws.com",
            "chime-sdk-messaging.amazonaws.com",
            "chime-sdk-voice.amazonaws.com",
        ],
    ),
];

/// The service (`connect`, `chime`) an `eventSource` belongs to, if its identifiers are derived.
pub fn service_of(event_source: &str) -> Option<&'static str> {
    SERVICE_SOURCES
        .iter()
        .find(|(_, sources)| sources.contains(&event_source))
        .map(|(service, _)| *service)
}

/// The free-form object a derived value is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Request,
    Response,
}

impl Part {
    pub fn key(self) -> &'static str {
        match self {
            Part::Request => "requestParameters",
            Part::Response => "responseElements",
        }
    }
}

/// How a derived value is cleaned up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalize {
    AsIs,
    /// Callers pass an Amazon Connect instance as a bare id, an instance ARN, a URL-encoded ARN,
    /// or a resource ARN below the instance: all become the bare id.
    ConnectInstance,
}

/// One column of the table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub origin: Origin,
    pub doc: &'static str,
}

impl Column {
    /// The Arrow type this column is stored as.
    pub fn data_type(&self) -> DataType {
        match self.origin {
            Origin::SourceIndex => DataType::Int64,
            Origin::Computed(c) => c.data_type(),
            Origin::SourceKey | Origin::SourceEnvelope | Origin::Extra | Origin::Derived(_) => {
                DataType::Utf8
            }
            Origin::Record(_, kind) => match kind {
                Kind::Str | Kind::Json => DataType::Utf8,
                Kind::Bool(_) => DataType::Boolean,
                Kind::Time => timestamp_type(),
                Kind::Resources => resources_type(),
            },
        }
    }

    /// The JSON path as readers know it, e.g. `userIdentity.sessionContext.attributes.creationDate`.
    pub fn json_path(&self) -> String {
        match self.origin {
            Origin::Record(path, Kind::Resources) => format!("{}[]", path.join(".")),
            Origin::Record(path, _) => path.join("."),
            Origin::Derived(d) => {
                let paths: Vec<String> = d
                    .from
                    .iter()
                    .map(|(part, path)| format!("{}.{}", part.key(), path.join(".")))
                    .collect();
                format!("{} ({} events)", paths.join(" or "), d.service)
            }
            Origin::SourceKey => "(file)".into(),
            Origin::SourceIndex => "(position in file)".into(),
            Origin::SourceEnvelope => "(wrapper)".into(),
            Origin::Extra => "(anything else)".into(),
            Origin::Computed(c) => format!("(computed from {})", c.from()),
        }
    }

    /// The Arrow type, as Arrow writes it (`Utf8`, `Timestamp(ms, "UTC")`, …).
    pub fn type_name(&self) -> String {
        self.data_type().to_string()
    }
}

/// UTC timestamps in milliseconds: CloudTrail times have second precision, and Athena's
/// `timestamp` has millisecond precision.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The struct of one `resources[]` element.
pub fn resource_fields() -> Fields {
    Fields::from(vec![
        Field::new("arn", DataType::Utf8, true),
        Field::new("account_id", DataType::Utf8, true),
        Field::new("type", DataType::Utf8, true),
    ])
}

/// JSON keys of a `resources[]` element, in the order of [`resource_fields`].
pub const RESOURCE_KEYS: [&str; 3] = ["ARN", "accountId", "type"];

/// The list element is named `element`, as the Parquet spec names it.
pub fn resources_type() -> DataType {
    DataType::List(Arc::new(Field::new(
        "element",
        DataType::Struct(resource_fields()),
        true,
    )))
}

const fn rec(
    name: &'static str,
    path: &'static [&'static str],
    kind: Kind,
    doc: &'static str,
) -> Column {
    Column {
        name,
        origin: Origin::Record(path, kind),
        doc,
    }
}

const fn derived(name: &'static str, derivation: &'static Derivation, doc: &'static str) -> Column {
    Column {
        name,
        origin: Origin::Derived(derivation),
        doc,
    }
}

const fn computed(name: &'static str, which: Computed, doc: &'static str) -> Column {
    Column {
        name,
        origin: Origin::Computed(which),
        doc,
    }
}

const fn ids(
    service: &'static str,
    from: &'static [(Part, &'static [&'static str])],
) -> Derivation {
    Derivation {
        service,
        from,
        normalize: Normalize::AsIs,
    }
}

use Part::{Request as Req, Response as Resp};

// Amazon Connect and Amazon Chime identifiers, where their APIs carry them. Connect's parameters
// are PascalCase, Chime's camelCase, as in the services' API references.
const CONNECT_INSTANCE: Derivation = Derivation {
    service: "connect",
    from: &[
        (Req, &["InstanceId"]),
        (Req, &["resourceArn"]),
        (Req, &["ResourceArn"]),
    ],
    normalize: Normalize::ConnectInstance,
};
const CONNECT_USER: Derivation = ids("connect", &[(Req, &["UserId"]), (Resp, &["UserId"])]);
const CONNECT_CONTACT: Derivation = ids(
    "connect",
    &[
        (Req, &["ContactId"]),
        (Req, &["InitialContactId"]),
        (Resp, &["ContactId"]),
    ],
);
const CONNECT_FLOW: Derivation = ids(
    "connect",
    &[(Req, &["ContactFlowId"]), (Resp, &["ContactFlowId"])],
);
const CONNECT_ROUTING_PROFILE: Derivation = ids(
    "connect",
    &[(Req, &["RoutingProfileId"]), (Resp, &["RoutingProfileId"])],
);
const CONNECT_QUEUE: Derivation = ids("connect", &[(Req, &["QueueId"]), (Resp, &["QueueId"])]);
const CONNECT_DESTINATION: Derivation = ids("connect", &[(Req, &["DestinationPhoneNumber"])]);
const CONNECT_RESOURCE: Derivation = ids(
    "connect",
    &[(Req, &["resourceArn"]), (Req, &["ResourceArn"])],
);
const CHIME_ACCOUNT: Derivation = ids(
    "chime",
    &[(Req, &["accountId"]), (Resp, &["account", "accountId"])],
);
const CHIME_USER: Derivation = ids("chime", &[(Req, &["userId"]), (Resp, &["user", "userId"])]);
const CHIME_MEETING: Derivation = ids(
    "chime",
    &[(Req, &["meetingId"]), (Resp, &["meeting", "meetingId"])],
);
const CHIME_VOICE_CONNECTOR: Derivation = ids(
    "chime",
    &[
        (Req, &["voiceConnectorId"]),
        (Resp, &["voiceConnector", "voiceConnectorId"]),
    ],
);

use BoolForm::{Json as JsonBool, Text as TextBool};
use Kind::{Bool, Json, Resources, Str, Time};

const UI: &str = "userIdentity";
const SC: &str = "sessionContext";

/// Every column of the table, in the order of the Parquet files. Record columns follow the order
/// in which CloudTrail writes the keys, so `export` writes records in a familiar order.
#[rustfmt::skip]
pub static COLUMNS: &[Column] = &[
    rec("event_version", &["eventVersion"], Str, "Record format version, 1.0 to 1.11"),
    rec("user_type", &[UI, "type"], Str, "Kind of principal: Root, IAMUser, AssumedRole, AWSService, …"),
    rec("user_principal_id", &[UI, "principalId"], Str, "Unique id of the principal"),
    rec("user_arn", &[UI, "arn"], Str, "ARN of the principal that made the call"),
    rec("user_account_id", &[UI, "accountId"], Str, "Account that owns the principal"),
    rec("user_access_key_id", &[UI, "accessKeyId"], Str, "Access key used to sign the request"),
    rec("user_name", &[UI, "userName"], Str, "Friendly name of the principal"),
    rec("user_invoked_by", &[UI, "invokedBy"], Str, "AWS service that made the call on the principal's behalf"),
    rec("user_identity_provider", &[UI, "identityProvider"], Str, "Identity provider of a SAML or web-identity user"),
    rec("user_credential_id", &[UI, "credentialId"], Str, "Id of the bearer-token credential used"),
    rec("user_on_behalf_of_user_id", &[UI, "onBehalfOf", "userId"], Str, "IAM Identity Center user the call was made for"),
    rec("user_on_behalf_of_identity_store_arn", &[UI, "onBehalfOf", "identityStoreArn"], Str, "Identity store of that user"),
    rec("user_in_scope_of_source_arn", &[UI, "inScopeOf", "sourceArn"], Str, "Resource (Lambda, EC2, …) the credentials were issued to"),
    rec("user_in_scope_of_source_account", &[UI, "inScopeOf", "sourceAccount"], Str, "Account of that resource"),
    rec("user_in_scope_of_issuer_type", &[UI, "inScopeOf", "issuerType"], Str, "Type of that resource, e.g. AWS::Lambda::Function"),
    rec("user_in_scope_of_credentials_issued_to", &[UI, "inScopeOf", "credentialsIssuedTo"], Str, "What the credentials were issued to"),
    rec("user_invoked_by_delegate_account_id", &[UI, "invokedByDelegate", "accountId"], Str, "Account using temporary delegated access"),
    rec("session_creation_date", &[UI, SC, "attributes", "creationDate"], Time, "When the temporary credentials were issued (UTC)"),
    rec("session_mfa_authenticated", &[UI, SC, "attributes", "mfaAuthenticated"], Bool(TextBool), "Whether the session was authenticated with MFA"),
    rec("session_issuer_type", &[UI, SC, "sessionIssuer", "type"], Str, "Kind of entity that issued the session: Role, IAMUser, Root"),
    rec("session_issuer_principal_id", &[UI, SC, "sessionIssuer", "principalId"], Str, "Principal id of the session issuer"),
    rec("session_issuer_arn", &[UI, SC, "sessionIssuer", "arn"], Str, "ARN of the role or user that issued the session"),
    rec("session_issuer_account_id", &[UI, SC, "sessionIssuer", "accountId"], Str, "Account that owns the session issuer"),
    rec("session_issuer_user_name", &[UI, SC, "sessionIssuer", "userName"], Str, "Name of the role or user that issued the session"),
    rec("session_web_id_federated_provider", &[UI, SC, "webIdFederationData", "federatedProvider"], Str, "Web-identity provider (e.g. accounts.google.com)"),
    rec("session_web_id_attributes", &[UI, SC, "webIdFederationData", "attributes"], Json, "Provider-specific web-identity attributes, JSON"),
    rec("session_source_identity", &[UI, SC, "sourceIdentity"], Str, "Source identity carried through role chaining"),
    rec("session_ec2_role_delivery", &[UI, SC, "ec2RoleDelivery"], Str, "Instance metadata version that delivered EC2 role credentials"),
    rec("session_ec2_issued_in_vpc", &[UI, SC, "ec2IssuedInVPC"], Str, "VPC the EC2 role credentials were issued in"),
    rec("session_assumed_root", &[UI, SC, "assumedRoot"], Bool(TextBool), "Whether the session came from sts:AssumeRoot"),
    rec("session_sign_in_session_arn", &[UI, SC, "signInSessionArn"], Str, "Console sign-in session the call belongs to"),
    rec("event_time", &["eventTime"], Time, "When the request completed (UTC)"),
    rec("event_source", &["eventSource"], Str, "Service that received the call, e.g. connect.amazonaws.com"),
    rec("event_name", &["eventName"], Str, "API action or event, e.g. CreateUser"),
    rec("aws_region", &["awsRegion"], Str, "Region the request was made to"),
    rec("source_ip_address", &["sourceIPAddress"], Str, "Caller's IP address, or the calling service's name"),
    rec("user_agent", &["userAgent"], Str, "Client that made the request: console, SDK, CLI, service"),
    rec("error_code", &["errorCode"], Str, "Error code if the call failed"),
    rec("error_message", &["errorMessage"], Str, "Error message if the call failed"),
    rec("request_parameters", &["requestParameters"], Json, "Request parameters, JSON"),
    rec("response_elements", &["responseElements"], Json, "Response elements, JSON"),
    rec("additional_event_data", &["additionalEventData"], Json, "Additional data about the event, JSON"),
    rec("request_id", &["requestID"], Str, "Id of the request, set by the called service"),
    rec("event_id", &["eventID"], Str, "Id of the event, set by CloudTrail; duplicates share it"),
    rec("read_only", &["readOnly"], Bool(JsonBool), "Whether the operation only reads"),
    rec("resources", &["resources"], Resources, "Resources accessed: ARN, account and type"),
    rec("event_type", &["eventType"], Str, "AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, AwsConsoleAction, …"),
    rec("api_version", &["apiVersion"], Str, "API version of the call"),
    rec("management_event", &["managementEvent"], Bool(JsonBool), "Whether this is a management (control-plane) event"),
    rec("recipient_account_id", &["recipientAccountId"], Str, "Account that received this event"),
    rec("service_event_details", &["serviceEventDetails"], Json, "Details of a service event, JSON"),
    rec("shared_event_id", &["sharedEventID"], Str, "Id shared by the copies of one event delivered to several accounts"),
    rec("vpc_endpoint_id", &["vpcEndpointId"], Str, "VPC endpoint the request went through"),
    rec("vpc_endpoint_account_id", &["vpcEndpointAccountId"], Str, "Account that owns that VPC endpoint"),
    rec("event_category", &["eventCategory"], Str, "Management, Data, NetworkActivity or Insight"),
    rec("addendum_reason", &["addendum", "reason"], Str, "Why the event was delivered late or changed"),
    rec("addendum_updated_fields", &["addendum", "updatedFields"], Str, "Fields an updated event changed"),
    rec("addendum_original_request_id", &["addendum", "originalRequestID"], Str, "Request id of the original event"),
    rec("addendum_original_event_id", &["addendum", "originalEventID"], Str, "Event id of the original event"),
    rec("session_credential_from_console", &["sessionCredentialFromConsole"], Bool(TextBool), "Whether the credentials came from a console session"),
    rec("edge_device_details", &["edgeDeviceDetails"], Json, "Edge device (e.g. S3 on Outposts) details, JSON"),
    rec("tls_version", &["tlsDetails", "tlsVersion"], Str, "TLS version of the request"),
    rec("tls_cipher_suite", &["tlsDetails", "cipherSuite"], Str, "TLS cipher suite of the request"),
    rec("tls_client_provided_host_header", &["tlsDetails", "clientProvidedHostHeader"], Str, "Host name the client asked for"),
    rec("tls_key_exchange", &["tlsDetails", "keyExchange"], Str, "TLS key exchange group"),
    rec("insight_details", &["insightDetails"], Json, "CloudTrail Insights details, JSON"),
    rec("event_context", &["eventContext"], Json, "CloudTrail Lake enrichment context, JSON"),
    computed("outcome", Computed::Outcome, "failure when the record has an errorCode, or its responseElements say ConsoleLogin, SwitchRole or CheckMfa = Failure (failed sign-ins have no error code); success otherwise"),
    computed("source_ip", Computed::SourceIp, "sourceIPAddress when it is an IPv4 or IPv6 address; NULL for a service name, AWS Internal or anything else"),
    computed("insight_type", Computed::InsightType, "Insight records: ApiCallRateInsight or ApiErrorRateInsight"),
    computed("insight_state", Computed::InsightState, "Insight records: Start or End of the unusual activity"),
    computed("insight_event_source", Computed::InsightEventSource, "Insight records: the service whose calls were unusual"),
    computed("insight_event_name", Computed::InsightEventName, "Insight records: the API whose calls were unusual"),
    computed("insight_error_code", Computed::InsightErrorCode, "Insight records of error rates: the error code"),
    computed("insight_average", Computed::InsightAverage, "Insight records: calls (or errors) per minute during the Insight"),
    computed("insight_baseline_average", Computed::InsightBaselineAverage, "Insight records: calls (or errors) per minute in the baseline"),
    computed("insight_duration", Computed::InsightDuration, "Insight records: minutes the Insight lasted (End records)"),
    computed("insight_baseline_duration", Computed::InsightBaselineDuration, "Insight records: minutes of the baseline"),
    computed("insight_top_user_arn", Computed::InsightTopUserArn, "Insight records: the caller ARN with the most calls during the Insight"),
    computed("insight_top_user_agent", Computed::InsightTopUserAgent, "Insight records: the user agent with the most calls during the Insight"),
    computed("insight_top_error_code", Computed::InsightTopErrorCode, "Insight records: the error code most seen during the Insight ('null' for none), as CloudTrail writes it"),
    derived("connect_instance_id", &CONNECT_INSTANCE, "Amazon Connect instance the call is about (the bare id, whatever form the caller used)"),
    derived("connect_user_id", &CONNECT_USER, "Amazon Connect user the call is about (for CreateUser, the new user)"),
    derived("connect_contact_id", &CONNECT_CONTACT, "Amazon Connect contact the call is about, or that it started"),
    derived("connect_contact_flow_id", &CONNECT_FLOW, "Amazon Connect contact flow the call is about, or that it created"),
    derived("connect_routing_profile_id", &CONNECT_ROUTING_PROFILE, "Amazon Connect routing profile the call is about, or that it created"),
    derived("connect_queue_id", &CONNECT_QUEUE, "Amazon Connect queue the call is about"),
    derived("connect_destination_phone", &CONNECT_DESTINATION, "Number an outbound call dialled, when CloudTrail logs it"),
    derived("connect_resource_arn", &CONNECT_RESOURCE, "Amazon Connect resource a tagging call changed"),
    derived("chime_account_id", &CHIME_ACCOUNT, "Amazon Chime account the call is about, or that it created"),
    derived("chime_user_id", &CHIME_USER, "Amazon Chime user the call is about"),
    derived("chime_meeting_id", &CHIME_MEETING, "Amazon Chime meeting the call is about, or that it created"),
    derived("chime_voice_connector_id", &CHIME_VOICE_CONNECTOR, "Amazon Chime Voice Connector the call is about, or that it created"),
    Column { name: "source_key", origin: Origin::SourceKey, doc: "Object URL or file path the record was read from" },
    Column { name: "source_index", origin: Origin::SourceIndex, doc: "Position of the record in that file, from 0" },
    Column { name: "source_envelope", origin: Origin::SourceEnvelope, doc: "EventBridge envelope, event-history row or CloudWatch Logs message (with the record's own log event as logEvent) the record came in, without the record, JSON" },
    Column { name: "extra", origin: Origin::Extra, doc: "Everything no typed column holds exactly (unknown keys, other types, nulls, non-canonical times), JSON shaped like the record" },
];

/// A partition column: derived from the record, encoded in the directory names, not in the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionColumn {
    pub name: &'static str,
    /// The type queries see (the folder name holds it as text).
    pub data_type: DataType,
    pub derived_from: &'static str,
    pub doc: &'static str,
}

pub static PARTITION_COLUMNS: &[PartitionColumn] = &[
    PartitionColumn {
        name: "account_id",
        data_type: DataType::Utf8,
        derived_from: "recipientAccountId",
        doc: "Partition: the account that received the event",
    },
    PartitionColumn {
        name: "region",
        data_type: DataType::Utf8,
        derived_from: "awsRegion",
        doc: "Partition: the region of the event",
    },
    PartitionColumn {
        name: "event_date",
        data_type: DataType::Date32,
        derived_from: "eventTime",
        doc: "Partition: UTC date of event_time",
    },
];

/// Index of a column in [`COLUMNS`] (and in the Arrow schema).
pub fn column_index(name: &str) -> Option<usize> {
    static INDEX: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
        COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name, i))
            .collect()
    });
    INDEX.get(name).copied()
}

/// Index of the column with the given origin (for the non-record columns).
pub fn origin_index(origin: Origin) -> usize {
    COLUMNS
        .iter()
        .position(|c| c.origin == origin)
        .expect("every non-record origin has a column")
}

/// The Arrow schema of the stored files.
pub fn arrow_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(
            COLUMNS
                .iter()
                .map(|c| Field::new(c.name, c.data_type(), true))
                .collect::<Vec<_>>(),
        ))
    });
    SCHEMA.clone()
}

/// FNV-1a, for the short keys of the path tree: looked up for every key of every record, where
/// SipHash's protection against crafted collisions buys nothing (the table is fixed).
#[derive(Default)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// A node of the tree of JSON paths that typed columns come from.
#[derive(Debug, Default)]
pub struct PathNode {
    /// The node's own key ("" for the record).
    pub key: &'static str,
    /// Set for a leaf: the column it fills.
    pub column: Option<usize>,
    /// Set for an object: its known keys.
    pub children: FnvMap<&'static str, usize>,
    /// Key order of the children as declared, for `export`.
    pub order: Vec<&'static str>,
}

/// The tree of record paths, as a flat arena; node 0 is the record itself.
pub fn path_tree() -> &'static [PathNode] {
    static TREE: LazyLock<Vec<PathNode>> = LazyLock::new(|| {
        let mut nodes = vec![PathNode::default()];
        for (index, column) in COLUMNS.iter().enumerate() {
            let Origin::Record(path, _) = column.origin else {
                continue;
            };
            let mut at = 0;
            for key in path.iter() {
                at = match nodes[at].children.get(key) {
                    Some(&next) => next,
                    None => {
                        nodes.push(PathNode {
                            key,
                            ..PathNode::default()
                        });
                        let next = nodes.len() - 1;
                        nodes[at].children.insert(key, next);
                        nodes[at].order.push(key);
                        next
                    }
                };
            }
            assert!(
                nodes[at].column.is_none(),
                "two columns share the path {path:?}"
            );
            nodes[at].column = Some(index);
        }
        nodes
    });
    &TREE
}

/// One row of the column documentation: every stored and partition column.
pub struct ColumnDoc {
    pub name: &'static str,
    pub type_name: String,
    pub json_path: String,
    pub doc: &'static str,
}

/// The documentation rows, stored columns first, then partition columns.
pub fn column_docs() -> Vec<ColumnDoc> {
    let stored = COLUMNS.iter().map(|c| ColumnDoc {
        name: c.name,
        type_name: c.type_name(),
        json_path: c.json_path(),
        doc: c.doc,
    });
    let partitions = PARTITION_COLUMNS.iter().map(|p| ColumnDoc {
        name: p.name,
        type_name: p.data_type.to_string(),
        json_path: format!("(folder, from {})", p.derived_from),
        doc: p.doc,
    });
    stored.chain(partitions).collect()
}

/// The columns as an aligned text table.
pub fn render_table() -> String {
    let docs = column_docs();
    let width = |f: fn(&ColumnDoc) -> usize| docs.iter().map(f).max().unwrap_or(0);
    let (w0, w1, w2) = (
        width(|d| d.name.len()),
        width(|d| d.type_name.len()),
        width(|d| d.json_path.len()),
    );
    let mut out = format!(
        "{:w0$}  {:w1$}  {:w2$}  {}\n",
        "COLUMN", "TYPE", "FROM", "MEANING"
    );
    for d in &docs {
        out.push_str(&format!(
            "{:w0$}  {:w1$}  {:w2$}  {}\n",
            d.name, d.type_name, d.json_path, d.doc
        ));
    }
    out
}

/// The columns as a Markdown table (the README's column table is this output).
pub fn render_markdown() -> String {
    let mut out = String::from("| column | type | from | meaning |\n|---|---|---|---|\n");
    for d in column_docs() {
        let path = d.json_path.replace('|', "\\|");
        out.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            d.name, d.type_name, path, d.doc
        ));
    }
    out
}

/// The columns as JSON.
pub fn render_json() -> String {
    let docs: Vec<serde_json::Value> = column_docs()
        .iter()
        .map(|d| {
            serde_json::json!({"name": d.name, "type": d.type_name, "from": d.json_path, "meaning": d.doc})
        })
        .collect();
    serde_json::to_string_pretty(&docs).expect("docs serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        let partitions = PARTITION_COLUMNS.iter().map(|p| p.name);
        for name in COLUMNS.iter().map(|c| c.name).chain(partitions) {
            assert!(seen.insert(name), "duplicate column {name}");
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} is not snake_case"
            );
        }
    }

    #[test]
    fn leaves_are_never_interior_nodes() {
        for node in path_tree() {
            assert!(
                node.column.is_none() || node.children.is_empty(),
                "a path is both a column and an object"
            );
        }
    }

    #[test]
    fn arrow_types_are_reader_friendly() {
        for field in arrow_schema().fields() {
            let dt = field.data_type();
            assert!(!dt.is_unsigned_integer(), "{} is unsigned", field.name());
            if let DataType::Timestamp(unit, tz) = dt {
                assert_eq!(*unit, TimeUnit::Millisecond);
                assert_eq!(tz.as_deref(), Some("UTC"));
            }
        }
    }

    #[test]
    fn paths_render_like_cloudtrail_docs() {
        let c = &COLUMNS[column_index("session_issuer_arn").unwrap()];
        assert_eq!(
            c.json_path(),
            "userIdentity.sessionContext.sessionIssuer.arn"
        );
        let r = &COLUMNS[column_index("resources").unwrap()];
        assert_eq!(r.json_path(), "resources[]");
        assert_eq!(
            r.type_name(),
            r#"List(Struct("arn": Utf8, "account_id": Utf8, "type": Utf8), field: 'element')"#
        );
    }
}
