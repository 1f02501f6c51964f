//! A seeded generator of realistic CloudTrail logs for Amazon Connect and Amazon Chime.
//!
//! Real Connect and Chime records are scarce in public data, so tests, the demo and the
//! benchmarks use records shaped after the documented examples: the APIs listed on the Amazon
//! Connect and Amazon Chime CloudTrail pages, PascalCase request parameters for Connect
//! (`InstanceId` as a bare id, an ARN or a URL-encoded ARN, as real callers send it), camelCase
//! for Chime, console, CLI and SDK callers, errors, and S3 delivery: gzip files of
//! `{"Records":[...]}` per account and region about every five minutes, under
//! `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, with digest files beside them. Records are
//! filed by delivery time, so events just before midnight land in the next day's folder.
//!
//! The same seed always gives the same bytes: the random generator is SplitMix64, written here,
//! so no library upgrade can change the data. Memory does not grow with the number of events.
//!
//! The Amazon Connect Participant Service APIs (chat) are logged by CloudTrail, but AWS does not
//! document their `eventSource`; they are generated with `connect.amazonaws.com`.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::error::{Error, Result};
use crate::shape::json::{write_key, write_str};

/// SplitMix64: small, fast and fixed forever.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn one_of(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len() as u64) as usize]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Picks by weight from `(weight, item)` pairs.
    pub fn weighted<'a, T>(&mut self, items: &'a [(u32, T)]) -> &'a T {
        let total: u64 = items.iter().map(|(w, _)| u64::from(*w)).sum();
        let mut at = self.below(total);
        for (w, item) in items {
            if at < u64::from(*w) {
                return item;
            }
            at -= u64::from(*w);
        }
        &items[items.len() - 1].1
    }

    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.next_u64(), self.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    pub fn alnum(&mut self, len: usize, upper: bool) -> String {
        let chars: &[u8] = if upper {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
        } else {
            b"abcdefghijklmnopqrstuvwxyz0123456789"
        };
        (0..len).map(|_| *self.pick(chars) as char).collect()
    }

    pub fn ip(&mut self) -> String {
        let n = self.next_u64();
        format!(
            "{}.{}.{}.{}",
            20 + n % 180,
            (n >> 8) % 256,
            (n >> 16) % 256,
            1 + (n >> 24) % 254
        )
    }
}

/// A JSON object written in key order.
#[derive(Default)]
struct Obj(String);

impl Obj {
    fn key(&mut self, key: &str) {
        self.0.push(if self.0.is_empty() { '{' } else { ',' });
        write_key(&mut self.0, key);
    }
    fn s(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        write_str(&mut self.0, value);
        self
    }
    fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.0.push_str(json);
        self
    }
    fn o(self, key: &str, value: Obj) -> Self {
        let text = value.end();
        self.raw(key, &text)
    }
    fn end(mut self) -> String {
        if self.0.is_empty() {
            self.0.push('{');
        }
        self.0.push('}');
        self.0
    }
}

fn strs(items: &[&str]) -> String {
    let mut out = String::from("[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, item);
    }
    out.push(']');
    out
}

/// The accounts, regions and resources events are about.
struct World {
    accounts: Vec<Account>,
}

struct Account {
    id: &'static str,
    regions: Vec<RegionSetup>,
    admins: Vec<Principal>,
    /// The contact centre's office addresses, where agents' consoles connect from.
    office_ips: Vec<String>,
    /// Chat customers' addresses.
    customer_ips: Vec<String>,
    chime_accounts: Vec<String>,
    chime_users: Vec<String>,
    voice_connectors: Vec<String>,
    meetings: Vec<String>,
}

struct RegionSetup {
    name: &'static str,
    instances: Vec<Instance>,
}

struct Instance {
    id: String,
    users: Vec<(String, String)>,
    routing_profiles: Vec<String>,
    queues: Vec<String>,
    flows: Vec<String>,
    security_profiles: Vec<String>,
    hierarchy_groups: Vec<String>,
    service_role_suffix: String,
}

#[derive(Clone)]
struct Principal {
    kind: PrincipalKind,
    name: String,
    key: String,
    principal_id: String,
    /// The addresses the principal calls from (home, office, VPN).
    ips: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PrincipalKind {
    /// A console user signed in as an IAM user.
    IamConsole,
    /// An IAM user calling through the CLI or an SDK.
    IamCli,
    /// An SSO or automation role.
    Role(&'static str),
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloe", "Dev", "Eva", "Femi", "Grace", "Hiro", "Ines", "Jon", "Kira", "Luis",
    "Maya", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tara",
];
const LAST: &[&str] = &[
    "Silva", "Okafor", "Martin", "Patel", "Nguyen", "Schmidt", "Kowalski", "Haddad", "Tanaka",
    "Moreau", "Ibrahim", "Jensen",
];
const CONSOLE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const AGENTS: &[&str] = &[
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/connect",
    "aws-sdk-java/2.25.14 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. exec-env/AWS_Lambda_java17",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-js/3.540.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.11.1 api/connect#3.540.0",
];

impl World {
    fn new(rng: &mut Rng) -> Self {
        let setups: [(&'static str, &[&'static str]); 2] = [
            ("012345678901", &["us-east-1", "eu-west-2"]),
            ("987654321098", &["us-west-2"]),
        ];
        let accounts = setups
            .iter()
            .map(|(id, regions)| {
                let regions = regions
                    .iter()
                    .map(|name| RegionSetup {
                        name,
                        instances: (0..2).map(|_| Instance::new(rng)).collect(),
                    })
                    .collect();
                let mut admins = Vec::new();
                for (kind, name) in [
                    (PrincipalKind::IamConsole, "alice"),
                    (PrincipalKind::IamConsole, "contractor-ops"),
                    (PrincipalKind::IamCli, "deploy-bot"),
                    (
                        PrincipalKind::Role("AWSReservedSSO_ConnectAdmin_5f1c2a9e3b7d4c10"),
                        "bob@example.com",
                    ),
                    (
                        PrincipalKind::Role("AWSReservedSSO_ConnectAdmin_5f1c2a9e3b7d4c10"),
                        "carol@example.com",
                    ),
                    (
                        PrincipalKind::Role("connect-provisioning-lambda-role"),
                        "connect-provisioner",
                    ),
                ] {
                    let key = match kind {
                        PrincipalKind::IamConsole | PrincipalKind::IamCli => {
                            format!("AKIA{}", rng.alnum(16, false).to_uppercase())
                        }
                        PrincipalKind::Role(_) => {
                            format!("ASIA{}", rng.alnum(16, false).to_uppercase())
                        }
                    };
                    let principal_id = format!("AIDA{}", rng.alnum(17, false).to_uppercase());
                    admins.push(Principal {
                        kind,
                        name: name.to_string(),
                        key,
                        principal_id,
                        ips: (0..2).map(|_| rng.ip()).collect(),
                    });
                }
                Account {
                    id,
                    regions,
                    admins,
                    office_ips: (0..3).map(|_| rng.ip()).collect(),
                    customer_ips: (0..2000).map(|_| rng.ip()).collect(),
                    chime_accounts: (0..2).map(|_| rng.uuid()).collect(),
                    chime_users: (0..25).map(|_| rng.uuid()).collect(),
                    voice_connectors: (0..3).map(|_| rng.alnum(20, false)).collect(),
                    meetings: (0..40).map(|_| rng.uuid()).collect(),
                }
            })
            .collect();
        World { accounts }
    }
}

impl Instance {
    fn new(rng: &mut Rng) -> Self {
        let users = (0..30)
            .map(|_| {
                let name = format!("{}.{}", rng.pick(FIRST), rng.pick(LAST)).to_lowercase();
                (rng.uuid(), name)
            })
            .collect();
        Instance {
            id: rng.uuid(),
            users,
            routing_profiles: (0..4).map(|_| rng.uuid()).collect(),
            queues: (0..6).map(|_| rng.uuid()).collect(),
            flows: (0..8).map(|_| rng.uuid()).collect(),
            security_profiles: (0..4).map(|_| rng.uuid()).collect(),
            hierarchy_groups: (0..3).map(|_| rng.uuid()).collect(),
            service_role_suffix: rng.alnum(10, false),
        }
    }
}

/// One event being generated.
struct Ctx<'w> {
    account: &'w Account,
    region: &'w str,
    time: DateTime<Utc>,
    /// `--records-scale`: 1 for the usual records; more makes each record larger.
    scale: u32,
}

/// Connect APIs and how often they are called.
const CONNECT_APIS: &[(u32, &str)] = &[
    (90, "GetFederationToken"),
    (80, "StartOutboundVoiceContact"),
    (60, "StartChatContact"),
    (50, "CreateParticipantConnection"),
    (120, "SendMessage"),
    (40, "SendEvent"),
    (25, "GetTranscript"),
    (45, "DisconnectParticipant"),
    (45, "StopContact"),
    (60, "GetContactAttributes"),
    (40, "UpdateContactAttributes"),
    (8, "CreateUser"),
    (4, "DeleteUser"),
    (6, "UpdateUserSecurityProfiles"),
    (6, "UpdateUserRoutingProfile"),
    (3, "UpdateUserHierarchy"),
    (4, "UpdateUserIdentityInfo"),
    (4, "UpdateUserPhoneConfig"),
    (2, "CreateRoutingProfile"),
    (1, "DeleteRoutingProfile"),
    (2, "UpdateRoutingProfileName"),
    (3, "UpdateRoutingProfileConcurrency"),
    (3, "UpdateRoutingProfileQueues"),
    (2, "AssociateRoutingProfileQueues"),
    (1, "DisassociateRoutingProfileQueues"),
    (2, "CreateContactFlow"),
    (4, "UpdateContactFlowContent"),
    (2, "UpdateContactFlowName"),
    (3, "TagResource"),
    (1, "UntagResource"),
    (20, "DescribeUser"),
    (25, "ListUsers"),
    (12, "ListQueues"),
    (10, "ListRoutingProfiles"),
    (8, "ListContactFlows"),
    (6, "DescribeContactFlow"),
    (5, "DescribeRoutingProfile"),
    (4, "ListPhoneNumbers"),
    (4, "ListSecurityProfiles"),
    (15, "GetCurrentMetricData"),
    (10, "GetMetricData"),
];

const CHIME_APIS: &[(u32, &str)] = &[
    (3, "CreateAccount"),
    (8, "InviteUsers"),
    (6, "ResetPersonalPIN"),
    (3, "AddDomain"),
    (10, "UpdateUser"),
    (10, "ListUsers"),
    (40, "CreateMeeting"),
    (80, "CreateAttendee"),
    (30, "DeleteMeeting"),
    (2, "CreateVoiceConnector"),
    (4, "UpdateVoiceConnector"),
    (4, "PutVoiceConnectorOrigination"),
    (1, "DeleteVoiceConnector"),
    (6, "CreateMediaCapturePipeline"),
];

fn is_read_only(api: &str) -> bool {
    ["Get", "List", "Describe", "Search"]
        .iter()
        .any(|p| api.starts_with(p))
        && api != "GetFederationToken"
}

impl Ctx<'_> {
    fn time_text(&self) -> String {
        self.time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    /// `sessionContext` of temporary credentials, with the role that issued them, if any.
    fn session_context(&self, issuer: Option<(&str, &str)>, mfa: bool) -> Obj {
        let acct = self.account.id;
        let created = (self.time - chrono::TimeDelta::minutes(rng_minutes(self.time, 5, 240)))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let mut context = Obj::default();
        if let Some((arn, name)) = issuer {
            context = context
                .o(
                    "sessionIssuer",
                    Obj::default()
                        .s("type", "Role")
                        .s(
                            "principalId",
                            &format!("AROA{}", &fnv_hex(name)[..16].to_uppercase()),
                        )
                        .s("arn", arn)
                        .s("accountId", acct)
                        .s("userName", name),
                )
                .raw("webIdFederationData", "{}");
        }
        context.o(
            "attributes",
            Obj::default()
                .s("creationDate", &created)
                .s("mfaAuthenticated", if mfa { "true" } else { "false" }),
        )
    }

    /// `userIdentity` of a principal.
    fn identity(&self, rng: &mut Rng, p: &Principal) -> String {
        let acct = self.account.id;
        match p.kind {
            PrincipalKind::IamConsole => Obj::default()
                .s("type", "IAMUser")
                .s("principalId", &p.principal_id)
                .s("arn", &format!("arn:aws:iam::{acct}:user/{}", p.name))
                .s("accountId", acct)
                .s("accessKeyId", &format!("ASIA{}", &p.key[4..]))
                .s("userName", &p.name)
                .o(
                    "sessionContext",
                    self.session_context(None, rng.chance(0.9)),
                )
                .end(),
            PrincipalKind::IamCli => Obj::default()
                .s("type", "IAMUser")
                .s("principalId", &p.principal_id)
                .s("arn", &format!("arn:aws:iam::{acct}:user/{}", p.name))
                .s("accountId", acct)
                .s("accessKeyId", &p.key)
                .s("userName", &p.name)
                .end(),
            PrincipalKind::Role(role) => {
                let role_arn = format!("arn:aws:iam::{acct}:role/{role}");
                Obj::default()
                    .s("type", "AssumedRole")
                    .s(
                        "principalId",
                        &format!("AROA{}:{}", &p.principal_id[4..], p.name),
                    )
                    .s(
                        "arn",
                        &format!("arn:aws:sts::{acct}:assumed-role/{role}/{}", p.name),
                    )
                    .s("accountId", acct)
                    .s("accessKeyId", &p.key)
                    .o(
                        "sessionContext",
                        self.session_context(Some((&role_arn, role)), false),
                    )
                    .end()
            }
        }
    }

    /// The Connect console acts for agents through the Connect service-linked role, with the
    /// agent's Connect user id as session name.
    fn connect_agent_identity(&self, instance: &Instance, user_id: &str) -> String {
        let acct = self.account.id;
        let role = format!(
            "AWSServiceRoleForAmazonConnect_{}",
            instance.service_role_suffix
        );
        let created = self.time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        Obj::default()
            .s("type", "AssumedRole")
            .s("principalId", &format!("AROAQWERTYUIOPASDFGH:{user_id}"))
            .s("arn", &format!("arn:aws:sts::{acct}:assumed-role/{role}/{user_id}"))
            .s("accountId", acct)
            .o(
                "sessionContext",
                Obj::default()
                    .o(
                        "sessionIssuer",
                        Obj::default()
                            .s("type", "Role")
                            .s("principalId", "AROAQWERTYUIOPASDFGH")
                            .s("arn", &format!("arn:aws:iam::{acct}:role/aws-service-role/connect.amazonaws.com/{role}"))
                            .s("accountId", acct)
                            .s("userName", &role),
                    )
                    .raw("webIdFederationData", "{}")
                    .o("attributes", Obj::default().s("creationDate", &created).s("mfaAuthenticated", "false")),
            )
            .end()
    }

    fn instance_ref(&self, rng: &mut Rng, instance: &Instance) -> String {
        let arn = format!(
            "arn:aws:connect:{}:{}:instance/{}",
            self.region, self.account.id, instance.id
        );
        match rng.below(10) {
            0..=5 => instance.id.clone(),
            6..=8 => arn,
            _ => arn.replace(':', "%3A").replace('/', "%2F"),
        }
    }
}

fn fnv_hex(s: &str) -> String {
    let h = crate::sources::fnv64(s);
    format!("{h:016x}{:016x}", h.rotate_left(29))
}

fn rng_minutes(time: DateTime<Utc>, lo: i64, hi: i64) -> i64 {
    // Derived from the time, so sessions look stable within a minute.
    lo + (time.timestamp() / 60).rem_euclid(hi - lo)
}

/// Who calls an Amazon Connect API.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnectCaller {
    /// An agent's console, mostly through the Connect service-linked role.
    Agent,
    /// The chat widget of a customer (bearer tokens, no AWS identity).
    Chat,
    /// An admin: a console user, the CLI, an SDK or a provisioning Lambda.
    Admin,
}

impl ConnectCaller {
    fn of(api: &str) -> Self {
        match api {
            "GetFederationToken"
            | "StopContact"
            | "GetContactAttributes"
            | "UpdateContactAttributes" => ConnectCaller::Agent,
            "CreateParticipantConnection"
            | "SendMessage"
            | "SendEvent"
            | "GetTranscript"
            | "DisconnectParticipant" => ConnectCaller::Chat,
            _ => ConnectCaller::Admin,
        }
    }
}

/// Writes one Connect event.
fn connect_event(rng: &mut Rng, ctx: &Ctx<'_>) -> String {
    let region = ctx
        .account
        .regions
        .iter()
        .find(|r| r.name == ctx.region)
        .expect("connect region");
    let instance = rng.pick(&region.instances);
    let api = *rng.weighted(CONNECT_APIS);
    let iref = ctx.instance_ref(rng, instance);
    let contact = rng.uuid();
    let (user_id, _) = rng.pick(&instance.users).clone();
    let admin = rng.pick(&ctx.account.admins).clone();
    let caller = ConnectCaller::of(api);
    let (identity, user_agent, ip) = connect_caller(rng, ctx, caller, instance, &user_id, &admin);

    let mut call = ConnectCall {
        ctx,
        api,
        instance,
        iref,
        contact,
        user_id,
    };
    let (request, response) = (connect_builder(api))(rng, &mut call);

    let error = connect_error(
        rng,
        ctx,
        api,
        caller == ConnectCaller::Admin,
        &admin,
        instance,
    );
    record(
        rng,
        ctx,
        "connect.amazonaws.com",
        api,
        &identity,
        &user_agent,
        &ip,
        &request,
        response.as_deref(),
        error,
    )
}

/// The `userIdentity`, user agent and source address of a Connect call. Agents' APIs are called
/// by an admin now and then.
fn connect_caller(
    rng: &mut Rng,
    ctx: &Ctx<'_>,
    caller: ConnectCaller,
    instance: &Instance,
    user_id: &str,
    admin: &Principal,
) -> (String, String, String) {
    if caller == ConnectCaller::Chat {
        return (
            Obj::default().s("type", "Unknown").s("principalId", "").s("accountId", ctx.account.id).end(),
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1".to_string(),
            rng.pick(&ctx.account.customer_ips).clone(),
        );
    }
    if caller == ConnectCaller::Agent && rng.chance(0.8) {
        return (
            ctx.connect_agent_identity(instance, user_id),
            CONSOLE_UA.to_string(),
            rng.pick(&ctx.account.office_ips).clone(),
        );
    }
    let ua = match admin.kind {
        PrincipalKind::IamConsole => CONSOLE_UA.to_string(),
        PrincipalKind::Role(r) if r.starts_with("AWSReserved") && rng.chance(0.6) => {
            CONSOLE_UA.to_string()
        }
        _ => rng.pick(AGENTS).to_string(),
    };
    let ip = if matches!(
        admin.kind,
        PrincipalKind::Role("connect-provisioning-lambda-role")
    ) {
        "lambda.amazonaws.com".to_string()
    } else {
        rng.pick(&admin.ips).clone()
    };
    // The identity draws from `rng` last: the order of draws fixes each seed's output.
    (ctx.identity(rng, admin), ua, ip)
}

/// The error of a Connect call, if it fails: a contractor denied admin APIs, duplicates,
/// missing users, throttled listings, and a few invalid parameters.
fn connect_error(
    rng: &mut Rng,
    ctx: &Ctx<'_>,
    api: &str,
    admin_api: bool,
    admin: &Principal,
    instance: &Instance,
) -> Option<(&'static str, String)> {
    match api {
        _ if admin.name == "contractor-ops" && admin_api && rng.chance(0.35) => Some((
            "AccessDeniedException",
            format!(
                "User: arn:aws:iam::{}:user/contractor-ops is not authorized to perform: connect:{api} on resource: {}",
                ctx.account.id, instance.id
            ),
        )),
        "CreateUser" if rng.chance(0.1) => Some((
            "DuplicateResourceException",
            "User with the username already exists".to_string(),
        )),
        "DeleteUser" if rng.chance(0.1) => {
            Some(("ResourceNotFoundException", "User not found".to_string()))
        }
        _ if api.starts_with("List") && rng.chance(0.03) => {
            Some(("ThrottlingException", "Rate exceeded".to_string()))
        }
        _ if rng.chance(0.01) => Some((
            "InvalidParameterException",
            "1 validation error detected".to_string(),
        )),
        _ => None,
    }
}

/// Request parameters and response elements (`None`: no response elements).
type Reply = (String, Option<String>);

/// Makes one Connect API's [`Reply`] from the event being written.
type ConnectBuilder = for<'a, 'b> fn(&mut Rng, &'b mut ConnectCall<'a>) -> Reply;

/// Makes one Chime API's [`Reply`]; it may change the event source.
type ChimeBuilder = for<'a, 'b> fn(&mut Rng, &'b mut ChimeCall<'a>) -> Reply;

/// What an Amazon Connect API builder may use.
struct ConnectCall<'a> {
    ctx: &'a Ctx<'a>,
    api: &'a str,
    instance: &'a Instance,
    /// The instance as the caller names it (id or ARN).
    iref: String,
    contact: String,
    user_id: String,
}

impl ConnectCall<'_> {
    fn user_obj(&self, o: Obj) -> Obj {
        o.s("InstanceId", &self.iref).s("UserId", &self.user_id)
    }
}

/// What an Amazon Chime API builder may use; a builder may change the event source.
struct ChimeCall<'a> {
    ctx: &'a Ctx<'a>,
    api: &'a str,
    chime_account: String,
    user: String,
    meeting: String,
    vc: String,
    source: &'static str,
}

fn pick(rng: &mut Rng, items: &[String]) -> String {
    rng.pick(items).clone()
}

/// The builder of each Amazon Connect API's request parameters and response elements.
fn connect_builder(api: &str) -> ConnectBuilder {
    match api {
        "GetFederationToken" => connect_get_federation_token,
        "StartOutboundVoiceContact" => connect_start_outbound_voice_contact,
        "StartChatContact" => connect_start_chat_contact,
        "CreateParticipantConnection" => connect_create_participant_connection,
        "SendMessage" => connect_send_message,
        "SendEvent" => connect_send_event,
        "GetTranscript" => connect_get_transcript,
        "DisconnectParticipant" => connect_disconnect_participant,
        "StopContact" => connect_stop_contact,
        "GetContactAttributes" => connect_get_contact_attributes,
        "UpdateContactAttributes" => connect_update_contact_attributes,
        "CreateUser" => connect_create_user,
        "DeleteUser" => connect_delete_user,
        "UpdateUserSecurityProfiles" => connect_update_user_security_profiles,
        "UpdateUserRoutingProfile" => connect_update_user_routing_profile,
        "UpdateUserHierarchy" => connect_update_user_hierarchy,
        "UpdateUserIdentityInfo" => connect_update_user_identity_info,
        "UpdateUserPhoneConfig" => connect_update_user_phone_config,
        "CreateRoutingProfile" => connect_create_routing_profile,
        "DeleteRoutingProfile" => connect_delete_routing_profile,
        "UpdateRoutingProfileName" => connect_delete_routing_profile,
        "UpdateRoutingProfileConcurrency" => connect_delete_routing_profile,
        "UpdateRoutingProfileQueues" => connect_delete_routing_profile,
        "AssociateRoutingProfileQueues" => connect_delete_routing_profile,
        "DisassociateRoutingProfileQueues" => connect_delete_routing_profile,
        "DescribeRoutingProfile" => connect_delete_routing_profile,
        "CreateContactFlow" => connect_create_contact_flow,
        "UpdateContactFlowContent" => connect_update_contact_flow_content,
        "UpdateContactFlowName" => connect_update_contact_flow_content,
        "DescribeContactFlow" => connect_update_contact_flow_content,
        "TagResource" => connect_tag_resource,
        "UntagResource" => connect_tag_resource,
        "DescribeUser" => connect_describe_user,
        "GetCurrentMetricData" => connect_get_current_metric_data,
        "GetMetricData" => connect_get_current_metric_data,
        _ => connect_other,
    }
}

/// GetFederationToken.
fn connect_get_federation_token(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (Obj::default().s("InstanceId", &c.iref).end(), None)
}

/// StartOutboundVoiceContact.
fn connect_start_outbound_voice_contact(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let destination = format!("+1206555{:04}", rng.below(10000));
    let destination = if rng.chance(0.15) {
        "HIDDEN_DUE_TO_SECURITY_REASONS".to_string()
    } else {
        destination
    };
    (
        Obj::default()
            .s("DestinationPhoneNumber", &destination)
            .s("ContactFlowId", &pick(rng, &c.instance.flows))
            .s("InstanceId", &c.iref)
            .s("QueueId", &pick(rng, &c.instance.queues))
            .o(
                "Attributes",
                Obj::default().s(
                    "campaign",
                    rng.one_of(&["renewals", "collections", "survey"]),
                ),
            )
            .end(),
        Some(Obj::default().s("ContactId", &c.contact).end()),
    )
}

/// StartChatContact.
fn connect_start_chat_contact(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .s("ContactFlowId", &pick(rng, &c.instance.flows))
            .o(
                "ParticipantDetails",
                Obj::default().s("DisplayName", "HIDDEN_DUE_TO_SECURITY_REASONS"),
            )
            .end(),
        Some(
            Obj::default()
                .s("ContactId", &c.contact)
                .s("ParticipantId", &rng.uuid())
                .s("ParticipantToken", "HIDDEN_DUE_TO_SECURITY_REASONS")
                .end(),
        ),
    )
}

/// CreateParticipantConnection.
fn connect_create_participant_connection(_rng: &mut Rng, _c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .raw("Type", &strs(&["WEBSOCKET", "CONNECTION_CREDENTIALS"]))
            .end(),
        None,
    )
}

/// SendMessage.
fn connect_send_message(rng: &mut Rng, _c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("ContentType", "text/plain")
            .s("Content", "HIDDEN_DUE_TO_SECURITY_REASONS")
            .end(),
        Some(Obj::default().s("Id", &rng.uuid()).end()),
    )
}

/// SendEvent.
fn connect_send_event(_rng: &mut Rng, _c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s(
                "ContentType",
                "application/vnd.amazonaws.connect.event.typing",
            )
            .end(),
        None,
    )
}

/// GetTranscript.
fn connect_get_transcript(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("ContactId", &c.contact)
            .s("SortOrder", "ASCENDING")
            .end(),
        None,
    )
}

/// DisconnectParticipant.
fn connect_disconnect_participant(rng: &mut Rng, _c: &mut ConnectCall<'_>) -> Reply {
    (Obj::default().s("ClientToken", &rng.uuid()).end(), None)
}

/// StopContact.
fn connect_stop_contact(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("ContactId", &c.contact)
            .s("InstanceId", &c.iref)
            .end(),
        None,
    )
}

/// GetContactAttributes.
fn connect_get_contact_attributes(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InitialContactId", &c.contact)
            .s("InstanceId", &c.iref)
            .end(),
        None,
    )
}

/// UpdateContactAttributes.
fn connect_update_contact_attributes(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InitialContactId", &c.contact)
            .s("InstanceId", &c.iref)
            .o(
                "Attributes",
                Obj::default().s(
                    "disposition",
                    rng.one_of(&["resolved", "callback", "escalated"]),
                ),
            )
            .end(),
        None,
    )
}

/// CreateUser.
fn connect_create_user(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let new_id = rng.uuid();
    let name = format!("{}.{}", rng.pick(FIRST), rng.pick(LAST)).to_lowercase();
    (
        Obj::default()
            .s("Username", &name)
            .o(
                "PhoneConfig",
                Obj::default()
                    .s("PhoneType", "SOFT_PHONE")
                    .raw("AutoAccept", "false")
                    .raw("AfterContactWorkTimeLimit", "60"),
            )
            .raw(
                "SecurityProfileIds",
                &strs(&[&pick(rng, &c.instance.security_profiles)]),
            )
            .s("RoutingProfileId", &pick(rng, &c.instance.routing_profiles))
            .s("InstanceId", &c.iref)
            .o(
                "IdentityInfo",
                Obj::default()
                    .s("FirstName", "HIDDEN_DUE_TO_SECURITY_REASONS")
                    .s("LastName", "HIDDEN_DUE_TO_SECURITY_REASONS"),
            )
            .end(),
        Some(
            Obj::default()
                .s("UserId", &new_id)
                .s(
                    "UserArn",
                    &format!(
                        "arn:aws:connect:{}:{}:instance/{}/agent/{new_id}",
                        c.ctx.region, c.ctx.account.id, c.instance.id
                    ),
                )
                .end(),
        ),
    )
}

/// DeleteUser.
fn connect_delete_user(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (c.user_obj(Obj::default()).end(), None)
}

/// UpdateUserSecurityProfiles.
fn connect_update_user_security_profiles(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        c.user_obj(Obj::default().raw(
            "SecurityProfileIds",
            &strs(&[&pick(rng, &c.instance.security_profiles)]),
        ))
        .end(),
        None,
    )
}

/// UpdateUserRoutingProfile.
fn connect_update_user_routing_profile(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        c.user_obj(Obj::default().s("RoutingProfileId", &pick(rng, &c.instance.routing_profiles)))
            .end(),
        None,
    )
}

/// UpdateUserHierarchy.
fn connect_update_user_hierarchy(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        c.user_obj(Obj::default().s("HierarchyGroupId", &pick(rng, &c.instance.hierarchy_groups)))
            .end(),
        None,
    )
}

/// UpdateUserIdentityInfo.
fn connect_update_user_identity_info(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        c.user_obj(Obj::default().o(
            "IdentityInfo",
            Obj::default().s("Email", "HIDDEN_DUE_TO_SECURITY_REASONS"),
        ))
        .end(),
        None,
    )
}

/// UpdateUserPhoneConfig.
fn connect_update_user_phone_config(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        c.user_obj(
            Obj::default().o(
                "PhoneConfig",
                Obj::default()
                    .s("PhoneType", rng.one_of(&["SOFT_PHONE", "DESK_PHONE"]))
                    .raw("AutoAccept", "true"),
            ),
        )
        .end(),
        None,
    )
}

/// CreateRoutingProfile.
fn connect_create_routing_profile(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let id = rng.uuid();
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .s(
                "Name",
                rng.one_of(&["Tier 2 Support", "Outbound Sales", "Chat Overflow"]),
            )
            .s("Description", "created by automation")
            .s("DefaultOutboundQueueId", &pick(rng, &c.instance.queues))
            .raw(
                "MediaConcurrencies",
                r#"[{"Channel":"VOICE","Concurrency":1},{"Channel":"CHAT","Concurrency":3}]"#,
            )
            .end(),
        Some(
            Obj::default()
                .s(
                    "RoutingProfileArn",
                    &format!(
                        "arn:aws:connect:{}:{}:instance/{}/routing-profile/{id}",
                        c.ctx.region, c.ctx.account.id, c.instance.id
                    ),
                )
                .s("RoutingProfileId", &id)
                .end(),
        ),
    )
}

/// DeleteRoutingProfile, UpdateRoutingProfileName, UpdateRoutingProfileConcurrency, UpdateRoutingProfileQueues, AssociateRoutingProfileQueues, DisassociateRoutingProfileQueues, DescribeRoutingProfile.
fn connect_delete_routing_profile(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let mut o = Obj::default()
        .s("InstanceId", &c.iref)
        .s("RoutingProfileId", &pick(rng, &c.instance.routing_profiles));
    o = match c.api {
        "UpdateRoutingProfileName" => o.s("Name", "Renamed profile"),
        "UpdateRoutingProfileConcurrency" => o.raw("MediaConcurrencies", r#"[{"Channel":"CHAT","Concurrency":2}]"#),
        "DisassociateRoutingProfileQueues" => o.raw(
            "QueueReferences",
            &format!(r#"[{{"QueueId":"{}","Channel":"VOICE"}}]"#, pick(rng, &c.instance.queues)),
        ),
        "DeleteRoutingProfile" | "DescribeRoutingProfile" => o,
        _ => o.raw(
            "QueueConfigs",
            &format!(
                r#"[{{"QueueReference":{{"QueueId":"{}","Channel":"VOICE"}},"Priority":1,"Delay":0}}]"#,
                pick(rng, &c.instance.queues)
            ),
        ),
    };
    (o.end(), None)
}

/// CreateContactFlow.
fn connect_create_contact_flow(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let id = rng.uuid();
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .s(
                "Name",
                rng.one_of(&["Main IVR", "After hours", "Callback flow"]),
            )
            .s("Type", "CONTACT_FLOW")
            .s("Content", "***")
            .end(),
        Some(
            Obj::default()
                .s("ContactFlowId", &id)
                .s(
                    "ContactFlowArn",
                    &format!(
                        "arn:aws:connect:{}:{}:instance/{}/contact-flow/{id}",
                        c.ctx.region, c.ctx.account.id, c.instance.id
                    ),
                )
                .end(),
        ),
    )
}

/// UpdateContactFlowContent, UpdateContactFlowName, DescribeContactFlow.
fn connect_update_contact_flow_content(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let o = Obj::default()
        .s("InstanceId", &c.iref)
        .s("ContactFlowId", &pick(rng, &c.instance.flows));
    let o = match c.api {
        "UpdateContactFlowContent" => o.s("Content", "***"),
        "UpdateContactFlowName" => o.s("Name", "Main IVR v2"),
        _ => o,
    };
    (o.end(), None)
}

/// TagResource, UntagResource.
fn connect_tag_resource(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    let arn = format!(
        "arn:aws:connect:{}:{}:instance/{}/queue/{}",
        c.ctx.region,
        c.ctx.account.id,
        c.instance.id,
        pick(rng, &c.instance.queues)
    );
    let o = Obj::default().s("resourceArn", &arn);
    let o = if c.api == "TagResource" {
        o.o(
            "tags",
            Obj::default().s("cost-center", rng.one_of(&["cc-100", "cc-200"])),
        )
    } else {
        o.raw("tagKeys", &strs(&["cost-center"]))
    };
    (o.end(), None)
}

/// DescribeUser.
fn connect_describe_user(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .s("UserId", &c.user_id)
            .end(),
        None,
    )
}

/// GetCurrentMetricData, GetMetricData.
fn connect_get_current_metric_data(rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .raw(
                "Filters",
                &format!(
                    r#"{{"Queues":["{}"],"Channels":["VOICE"]}}"#,
                    pick(rng, &c.instance.queues)
                ),
            )
            .raw(
                "CurrentMetrics",
                r#"[{"Name":"AGENTS_ONLINE","Unit":"COUNT"}]"#,
            )
            .end(),
        None,
    )
}

/// Every other API (reads: Describe…, List…, Get…).
fn connect_other(_rng: &mut Rng, c: &mut ConnectCall<'_>) -> Reply {
    (
        Obj::default()
            .s("InstanceId", &c.iref)
            .raw("MaxResults", "100")
            .end(),
        None,
    )
}

/// The builder of each Amazon Chime API's request parameters and response elements.
fn chime_builder(api: &str) -> ChimeBuilder {
    match api {
        "CreateAccount" => chime_create_account,
        "InviteUsers" => chime_invite_users,
        "ResetPersonalPIN" => chime_reset_personal_pin,
        "UpdateUser" => chime_reset_personal_pin,
        "AddDomain" => chime_add_domain,
        "ListUsers" => chime_list_users,
        "CreateMeeting" => chime_create_meeting,
        "CreateAttendee" => chime_create_attendee,
        "DeleteMeeting" => chime_delete_meeting,
        "CreateVoiceConnector" => chime_create_voice_connector,
        "UpdateVoiceConnector" => chime_update_voice_connector,
        "PutVoiceConnectorOrigination" => chime_update_voice_connector,
        "DeleteVoiceConnector" => chime_update_voice_connector,
        _ => chime_other,
    }
}

/// CreateAccount.
fn chime_create_account(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (
        Obj::default()
            .s("name", rng.one_of(&["Support", "Sales", "Engineering"]))
            .end(),
        Some(format!(
            r#"{{"account":{{"awsAccountId":"{}","accountId":"{}","accountType":"Team"}}}}"#,
            c.ctx.account.id,
            rng.uuid()
        )),
    )
}

/// InviteUsers.
fn chime_invite_users(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (
        Obj::default()
            .s("accountId", &c.chime_account)
            .raw("userEmailList", &strs(&["HIDDEN_DUE_TO_SECURITY_REASONS"]))
            .s("userType", "PrivateUser")
            .end(),
        Some(format!(
            r#"{{"invites":[{{"inviteId":"{}","status":"Pending"}}]}}"#,
            rng.uuid()
        )),
    )
}

/// ResetPersonalPIN, UpdateUser.
fn chime_reset_personal_pin(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    let o = Obj::default()
        .s("accountId", &c.chime_account)
        .s("userId", &c.user);
    let o = if c.api == "UpdateUser" {
        o.s("licenseType", rng.one_of(&["Pro", "Basic"]))
    } else {
        o
    };
    (o.end(), None)
}

/// AddDomain.
fn chime_add_domain(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (
        Obj::default()
            .s(
                "domainName",
                rng.one_of(&["example.com", "example.org", "corp.example.net"]),
            )
            .s("accountId", &c.chime_account)
            .end(),
        None,
    )
}

/// ListUsers.
fn chime_list_users(_rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (
        Obj::default()
            .s("accountId", &c.chime_account)
            .raw("maxResults", "50")
            .end(),
        None,
    )
}

/// CreateMeeting.
fn chime_create_meeting(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    let meeting = &c.meeting;
    (
        Obj::default()
            .s("clientRequestToken", &rng.uuid())
            .s("mediaRegion", c.ctx.region)
            .s("externalMeetingId", "HIDDEN_DUE_TO_SECURITY_REASONS")
            .end(),
        Some(format!(
            r#"{{"meeting":{{"meetingId":"{meeting}","mediaRegion":"{}"}}}}"#,
            c.ctx.region
        )),
    )
}

/// CreateAttendee.
fn chime_create_attendee(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (
        Obj::default()
            .s("meetingId", &c.meeting)
            .s("externalUserId", "HIDDEN_DUE_TO_SECURITY_REASONS")
            .end(),
        Some(format!(
            r#"{{"attendee":{{"attendeeId":"{}","joinToken":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}}"#,
            rng.uuid()
        )),
    )
}

/// DeleteMeeting.
fn chime_delete_meeting(_rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    (Obj::default().s("meetingId", &c.meeting).end(), None)
}

/// CreateVoiceConnector.
fn chime_create_voice_connector(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    let vc = &c.vc;
    if rng.chance(0.5) {
        c.source = "chime-sdk-voice.amazonaws.com";
    }
    (
        Obj::default()
            .s("name", "contact-center-trunk")
            .s("awsRegion", c.ctx.region)
            .raw("requireEncryption", "true")
            .end(),
        Some(format!(
            r#"{{"voiceConnector":{{"voiceConnectorId":"{vc}","awsRegion":"{}","outboundHostName":"{vc}.voiceconnector.chime.aws"}}}}"#,
            c.ctx.region
        )),
    )
}

/// UpdateVoiceConnector, PutVoiceConnectorOrigination, DeleteVoiceConnector.
fn chime_update_voice_connector(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    if rng.chance(0.5) {
        c.source = "chime-sdk-voice.amazonaws.com";
    }
    let o = Obj::default().s("voiceConnectorId", &c.vc);
    let o = match c.api {
        "UpdateVoiceConnector" => o.s("name", "contact-center-trunk").raw("requireEncryption", "true"),
        "PutVoiceConnectorOrigination" => o.raw(
            "origination",
            &format!(r#"{{"routes":[{{"host":"{}","port":5060,"protocol":"UDP","priority":1,"weight":10}}],"disabled":false}}"#, rng.ip()),
        ),
        _ => o,
    };
    (o.end(), None)
}

/// Every other API (reads: Describe…, List…, Get…).
fn chime_other(rng: &mut Rng, c: &mut ChimeCall<'_>) -> Reply {
    c.source = "chime-sdk-media-pipelines.amazonaws.com";
    (
        Obj::default()
            .s("sourceType", "ChimeSdkMeeting")
            .s("sourceArn", "Hidden_For_Security_Reasons")
            .s("sinkType", "S3Bucket")
            .s(
                "sinkArn",
                &format!("arn:aws:s3:::meeting-recordings-{}", c.ctx.account.id),
            )
            .end(),
        Some(format!(
            r#"{{"mediaCapturePipeline":{{"mediaPipelineId":"{}","status":"Initializing"}}}}"#,
            rng.uuid()
        )),
    )
}

/// Writes one Chime event.
fn chime_event(rng: &mut Rng, ctx: &Ctx<'_>) -> String {
    let acct = ctx.account;
    let api = *rng.weighted(CHIME_APIS);
    let admin = rng.pick(&acct.admins).clone();
    let identity = ctx.identity(rng, &admin);
    let user_agent = match admin.kind {
        PrincipalKind::IamConsole => CONSOLE_UA.to_string(),
        _ => rng.pick(AGENTS).replace("api/connect", "api/chime"),
    };
    let ip = rng.pick(&admin.ips).clone();
    let chime_account = rng.pick(&acct.chime_accounts).clone();
    let user = rng.pick(&acct.chime_users).clone();
    let meeting = rng.pick(&acct.meetings).clone();
    let vc = rng.pick(&acct.voice_connectors).clone();
    let mut call = ChimeCall {
        ctx,
        api,
        chime_account,
        user,
        meeting,
        vc,
        source: "chime.amazonaws.com",
    };
    let (request, response) = (chime_builder(api))(rng, &mut call);
    let source = call.source;
    let error = match api {
        "AddDomain" if rng.chance(0.4) => Some((
            "ConflictException",
            "Request could not be completed due to a conflict".to_string(),
        )),
        _ if admin.name == "contractor-ops" && rng.chance(0.3) => Some((
            "ForbiddenException",
            "The client is permanently forbidden from making the request.".to_string(),
        )),
        "DeleteMeeting" if rng.chance(0.1) => Some((
            "NotFoundException",
            "The requested resource does not exist.".to_string(),
        )),
        _ if rng.chance(0.01) => Some((
            "ThrottledClientException",
            "The client exceeded its request rate limit.".to_string(),
        )),
        _ => None,
    };
    record(
        rng,
        ctx,
        source,
        api,
        &identity,
        &user_agent,
        &ip,
        &request,
        response.as_deref(),
        error,
    )
}

#[allow(clippy::too_many_arguments)]
fn record(
    rng: &mut Rng,
    ctx: &Ctx<'_>,
    source: &str,
    api: &str,
    identity: &str,
    user_agent: &str,
    ip: &str,
    request: &str,
    response: Option<&str>,
    error: Option<(&str, String)>,
) -> String {
    let console = user_agent.starts_with("Mozilla");
    let mut o = Obj::default()
        .s("eventVersion", "1.09")
        .raw("userIdentity", identity)
        .s("eventTime", &ctx.time_text())
        .s("eventSource", source)
        .s("eventName", api)
        .s("awsRegion", ctx.region)
        .s("sourceIPAddress", ip)
        .s("userAgent", user_agent);
    if let Some((code, message)) = &error {
        o = o.s("errorCode", code).s("errorMessage", message);
    }
    o = o
        .raw("requestParameters", request)
        // A failed call has no response elements.
        .raw(
            "responseElements",
            response.filter(|_| error.is_none()).unwrap_or("null"),
        )
        .s("requestID", &rng.uuid())
        .s("eventID", &rng.uuid())
        .raw("readOnly", if is_read_only(api) { "true" } else { "false" })
        .s("eventType", "AwsApiCall")
        .raw("managementEvent", "true")
        .s("recipientAccountId", ctx.account.id)
        .s("eventCategory", "Management")
        .o(
            "tlsDetails",
            Obj::default()
                .s("tlsVersion", "TLSv1.3")
                .s("cipherSuite", "TLS_AES_128_GCM_SHA256")
                .s(
                    "clientProvidedHostHeader",
                    &format!(
                        "{}.{}.amazonaws.com",
                        source.split('.').next().unwrap_or("connect"),
                        ctx.region
                    ),
                ),
        );
    if console {
        o = o.s("sessionCredentialFromConsole", "true");
    }
    if ctx.scale > 1 {
        o = larger(o, ctx, source, api);
    }
    o.end()
}

/// What `--records-scale` adds to a record: the resources it touched, the additional data S3 and
/// IAM-style calls carry, and the tags of a provisioned resource, growing with the scale. Nothing
/// here draws from the random stream, so a seed gives the same events at every scale.
fn larger(o: Obj, ctx: &Ctx<'_>, source: &str, api: &str) -> Obj {
    let service = source.split('.').next().unwrap_or("connect");
    let (account, region) = (ctx.account.id, ctx.region);
    let extra = ctx.scale as usize - 1;
    let mut resources = String::from("[");
    for i in 0..extra * 2 {
        if i > 0 {
            resources.push(',');
        }
        resources.push_str(
            &Obj::default()
                .s("accountId", account)
                .s("type", &format!("AWS::{service}::Resource"))
                .s(
                    "ARN",
                    &format!(
                        "arn:aws:{service}:{region}:{account}:instance/5f2c1e8a-{i:04}-4b7e-9d3a-{api:.12}/resource/{i}"
                    ),
                )
                .end(),
        );
    }
    resources.push(']');
    let mut tags = Obj::default();
    for i in 0..extra * 4 {
        tags = tags.s(
            &format!("team-{i}"),
            &format!("contact-centre-{region}-{i}"),
        );
    }
    let data = Obj::default()
        .s("SignatureVersion", "SigV4")
        .s("CipherSuite", "TLS_AES_128_GCM_SHA256")
        .raw("bytesTransferredIn", &(api.len() * 37).to_string())
        .s("AuthenticationMethod", "AuthHeader")
        .s(
            "x-amz-id-2",
            &format!("{api}/{account}/{region}").repeat(extra.min(4)),
        )
        .o("tags", tags)
        .raw("bytesTransferredOut", &(api.len() * 91).to_string());
    o.raw("resources", &resources)
        .o("additionalEventData", data)
}

/// What was generated.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub events: u64,
    pub files: u64,
    pub digests: u64,
    pub json_bytes: u64,
    pub gzip_bytes: u64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "trailpq: generated {} events in {} log files ({:.1} MB of JSON, {:.1} MB gzipped) and {} digest files",
            self.events,
            self.files,
            self.json_bytes as f64 / 1e6,
            self.gzip_bytes as f64 / 1e6,
            self.digests
        )
    }
}

/// What `trailpq generate` writes.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Folder the S3 layout is written under.
    pub out: std::path::PathBuf,
    pub events: u64,
    pub seed: u64,
    /// First UTC day.
    pub start: NaiveDate,
    /// Days, at least one.
    pub days: u32,
    /// Where to write the digests' public key (`list-public-keys` JSON), if anywhere.
    pub public_keys: Option<std::path::PathBuf>,
    /// 1 for the usual records; N makes each record larger (more resources, tags and
    /// additional event data), for benchmarks of larger records.
    pub records_scale: u32,
}

/// Runs `trailpq generate`.
pub fn run(options: &GenerateOptions) -> Result<Summary> {
    if options.days == 0 {
        return Err(Error::Usage("--days must be at least 1".into()));
    }
    if !(1..=50).contains(&options.records_scale) {
        return Err(Error::Usage(
            "--records-scale must be between 1 and 50".into(),
        ));
    }
    let summary = generate(
        &options.out,
        options.seed,
        options.events,
        options.start,
        options.days,
        options.records_scale,
    )?;
    if let Some(path) = &options.public_keys {
        let origin = options
            .start
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc();
        let end = origin + chrono::TimeDelta::days(i64::from(options.days));
        std::fs::write(path, public_keys_json(origin, end))
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    }
    Ok(summary)
}

/// Five-minute windows, weighted towards office hours.
fn window_weights(days: u32) -> Vec<f64> {
    (0..days * 288)
        .map(|w| {
            let hour = (w % 288) / 12;
            let weekday = (w / 288) % 7 < 5;
            let office = if (8..18).contains(&hour) {
                4.0
            } else if (6..22).contains(&hour) {
                1.5
            } else {
                0.4
            };
            office * if weekday { 1.0 } else { 0.35 }
        })
        .collect()
}

pub fn generate(
    out: &Path,
    seed: u64,
    events: u64,
    start: NaiveDate,
    days: u32,
    scale: u32,
) -> Result<Summary> {
    let mut rng = Rng::new(seed);
    let world = World::new(&mut rng);
    let weights = window_weights(days);
    let total: f64 = weights.iter().sum();
    let origin = start.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let mut summary = Summary::default();
    let mut assigned = 0u64;
    let mut cumulative = 0.0;
    // Targets: every (account, region) pair gets a file per window it has events in.
    let targets: Vec<(usize, &'static str)> = world
        .accounts
        .iter()
        .enumerate()
        .flat_map(|(a, acct)| acct.regions.iter().map(move |r| (a, r.name)))
        .collect();
    let mut pending: Vec<Vec<Delivered>> = targets.iter().map(|_| Vec::new()).collect();
    let mut chains: Vec<Chain> = targets.iter().map(|_| Chain::default()).collect();
    for (window, weight) in weights.iter().enumerate() {
        cumulative += weight;
        let upto = ((cumulative / total) * events as f64).round() as u64;
        let n = upto.saturating_sub(assigned);
        assigned = upto;
        let window_start = origin + chrono::TimeDelta::minutes(5 * window as i64);
        let mut files: Vec<Vec<String>> = vec![Vec::new(); targets.len()];
        for _ in 0..n {
            let target = rng.below(targets.len() as u64) as usize;
            let (a, region) = targets[target];
            let account = &world.accounts[a];
            let time = window_start + chrono::TimeDelta::seconds(rng.below(300) as i64);
            // Chime is a global service logged in us-east-1.
            let chime = region == "us-east-1" && rng.chance(0.3);
            let ctx = Ctx {
                account,
                region,
                time,
                scale,
            };
            files[target].push(if chime {
                chime_event(&mut rng, &ctx)
            } else {
                connect_event(&mut rng, &ctx)
            });
        }
        for (target, records) in files.into_iter().enumerate() {
            if records.is_empty() {
                continue;
            }
            let (a, region) = targets[target];
            let delivered = window_start + chrono::TimeDelta::minutes(5 + rng.below(10) as i64);
            summary.events += records.len() as u64;
            let log = write_log(
                out,
                world.accounts[a].id,
                region,
                delivered,
                &records,
                &mut rng,
                &mut summary,
            )?;
            pending[target].push(log);
        }
        // One digest file per account, region and hour, as log-file validation writes them,
        // listing the log files delivered before its end (later ones go in the next).
        if window % 12 == 11 {
            let end = window_start + chrono::TimeDelta::minutes(5);
            for (target, &(a, region)) in targets.iter().enumerate() {
                let (listed, later): (Vec<Delivered>, Vec<Delivered>) =
                    std::mem::take(&mut pending[target])
                        .into_iter()
                        .partition(|l| l.at <= end);
                pending[target] = later;
                write_digest(
                    out,
                    world.accounts[a].id,
                    region,
                    end,
                    &listed,
                    &mut chains[target],
                    &mut summary,
                )?;
            }
        }
    }
    Ok(summary)
}

fn folder(out: &Path, account: &str, kind: &str, region: &str, at: DateTime<Utc>) -> PathBuf {
    out.join(format!(
        "AWSLogs/{account}/{kind}/{region}/{:04}/{:02}/{:02}",
        at.year(),
        at.month(),
        at.day()
    ))
}

fn write_log(
    out: &Path,
    account: &str,
    region: &str,
    delivered: DateTime<Utc>,
    records: &[String],
    rng: &mut Rng,
    summary: &mut Summary,
) -> Result<Delivered> {
    let dir = folder(out, account, "CloudTrail", region, delivered);
    let name = format!(
        "{account}_CloudTrail_{region}_{:04}{:02}{:02}T{:02}{:02}Z_{}.json.gz",
        delivered.year(),
        delivered.month(),
        delivered.day(),
        delivered.hour(),
        delivered.minute(),
        rng.alnum(16, true)
    );
    let mut json = String::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 16);
    json.push_str("{\"Records\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(r);
    }
    json.push_str("]}");
    let gz = write_gzip(&dir.join(&name), json.as_bytes())?;
    summary.files += 1;
    summary.json_bytes += json.len() as u64;
    summary.gzip_bytes += gz;
    let key = dir.strip_prefix(out).expect("under out").join(&name);
    Ok(Delivered {
        key: key.to_string_lossy().replace('\\', "/"),
        at: delivered,
        sha256: crate::digest::sha256_hex(json.as_bytes()),
    })
}

/// A log file written, for the digest that will list it.
struct Delivered {
    /// `AWSLogs/…`, as the digest names it.
    key: String,
    at: DateTime<Utc>,
    /// SHA-256 of the uncompressed content, hex.
    sha256: String,
}

/// The last digest of an account and region, which the next one chains to.
#[derive(Default)]
struct Chain {
    previous: Option<(String, String, String)>,
}

/// Writes one digest file the way CloudTrail log-file validation does: the log files delivered in
/// its hour with the SHA-256 of their uncompressed content, the hash and signature of the previous
/// digest, and its own SHA256withRSA signature (made with the generator's key, see
/// src/generator-key/), which CloudTrail keeps in the object's metadata and the next digest repeats.
fn write_digest(
    out: &Path,
    account: &str,
    region: &str,
    end: DateTime<Utc>,
    logs: &[Delivered],
    chain: &mut Chain,
    summary: &mut Summary,
) -> Result<()> {
    let dir = folder(out, account, "CloudTrail-Digest", region, end);
    let stamp = end.format("%Y%m%dT%H%M%SZ");
    let name =
        format!("{account}_CloudTrail-Digest_{region}_management-trail_us-east-1_{stamp}.json.gz");
    let object = dir.strip_prefix(out).expect("under out").join(&name);
    let object = object.to_string_lossy().replace('\\', "/");
    let start = end - chrono::TimeDelta::hours(1);
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let files: Vec<String> = logs
        .iter()
        .map(|l| {
            Obj::default()
                .s("s3Bucket", DIGEST_BUCKET)
                .s("s3Object", &l.key)
                .s("hashValue", &l.sha256)
                .s("hashAlgorithm", "SHA-256")
                .end()
        })
        .collect();
    let mut body = Obj::default()
        .s("awsAccountId", account)
        .s("digestStartTime", &time(start))
        .s("digestEndTime", &time(end))
        .s("digestS3Bucket", DIGEST_BUCKET)
        .s("digestS3Object", &object)
        .s(
            "digestPublicKeyFingerprint",
            &crate::digest::fingerprint(GENERATOR_PUBLIC_KEY),
        )
        .s("digestSignatureAlgorithm", "SHA256withRSA");
    body = match &chain.previous {
        Some((object, hash, signature)) => body
            .s("previousDigestS3Bucket", DIGEST_BUCKET)
            .s("previousDigestS3Object", object)
            .s("previousDigestHashValue", hash)
            .s("previousDigestHashAlgorithm", "SHA-256")
            .s("previousDigestSignature", signature),
        None => body
            .raw("previousDigestS3Bucket", "null")
            .raw("previousDigestS3Object", "null")
            .raw("previousDigestHashValue", "null")
            .raw("previousDigestHashAlgorithm", "null")
            .raw("previousDigestSignature", "null"),
    };
    let body = body
        .raw("logFiles", &format!("[{}]", files.join(",")))
        .end();
    let hash = crate::digest::sha256_hex(body.as_bytes());
    let previous_signature = chain.previous.as_ref().map(|(_, _, s)| s.as_str());
    let signed = crate::digest::signing_string(
        &time(end),
        &format!("{DIGEST_BUCKET}/{object}"),
        &hash,
        previous_signature,
    );
    let signature = sign(signed.as_bytes());
    write_gzip(&dir.join(name), body.as_bytes())?;
    chain.previous = Some((object, hash, signature));
    summary.digests += 1;
    Ok(())
}

/// The bucket generated digests name (the layout under OUT is what a sync of it gives).
const DIGEST_BUCKET: &str = "org-cloudtrail-logs";

/// The generator's key pair (src/generator-key/README.md): public on purpose.
const GENERATOR_PRIVATE_KEY: &[u8] = include_bytes!("generator-key/signing-key.der");
const GENERATOR_PUBLIC_KEY: &[u8] = include_bytes!("generator-key/public-key.der");

/// SHA256withRSA (PKCS#1 v1.5) with the generator's key, hex.
fn sign(data: &[u8]) -> String {
    use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
    static KEY: std::sync::LazyLock<RsaKeyPair> = std::sync::LazyLock::new(|| {
        RsaKeyPair::from_der(GENERATOR_PRIVATE_KEY).expect("the generator's key parses")
    });
    let key = &*KEY;
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        data,
        &mut signature,
    )
    .expect("signing with a valid key");
    hex::encode(signature)
}

/// The public keys of generated digests, as `aws cloudtrail list-public-keys` prints them.
fn public_keys_json(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    use base64::Engine;
    format!(
        "{{\"PublicKeyList\":[{{\"Value\":\"{}\",\"ValidityStartTime\":\"{}\",\"ValidityEndTime\":\"{}\",\"Fingerprint\":\"{}\"}}]}}\n",
        base64::engine::general_purpose::STANDARD.encode(GENERATOR_PUBLIC_KEY),
        start.format("%Y-%m-%dT%H:%M:%SZ"),
        end.format("%Y-%m-%dT%H:%M:%SZ"),
        crate::digest::fingerprint(GENERATOR_PUBLIC_KEY)
    )
}

fn write_gzip(path: &Path, bytes: &[u8]) -> Result<u64> {
    let io = |e| Error::io(format!("cannot write {}", path.display()), e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut gz = GzEncoder::new(Vec::with_capacity(bytes.len() / 8), Compression::default());
    gz.write_all(bytes).map_err(io)?;
    let data = gz.finish().map_err(io)?;
    std::fs::write(path, &data).map_err(io)?;
    Ok(data.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rng_is_fixed_forever() {
        // Changing these values changes every generated file: don't.
        let mut rng = Rng::new(1);
        assert_eq!([rng.below(1000), rng.below(1000), rng.below(1000)], PINNED);
        assert_eq!(Rng::new(7).uuid(), PINNED_UUID);
    }

    #[test]
    fn records_are_valid_json_and_deterministic() {
        let make = || {
            let mut rng = Rng::new(3);
            let world = World::new(&mut rng);
            let time = "2024-05-01T10:00:00Z".parse().unwrap();
            let ctx = Ctx {
                account: &world.accounts[0],
                region: "us-east-1",
                time,
                scale: 1,
            };
            (0..200)
                .map(|i| {
                    if i % 3 == 0 {
                        chime_event(&mut rng, &ctx)
                    } else {
                        connect_event(&mut rng, &ctx)
                    }
                })
                .collect::<Vec<_>>()
        };
        let records = make();
        assert_eq!(records, make());
        for r in &records {
            let v: serde_json::Value =
                serde_json::from_str(r).unwrap_or_else(|e| panic!("{e}: {r}"));
            assert_eq!(v["recipientAccountId"], "012345678901");
        }
    }

    /// A larger scale adds to each record and changes nothing else: the same seed gives the same
    /// events, so the two shapes of the benchmark hold the same activity.
    #[test]
    fn a_larger_scale_only_adds_to_the_records() {
        let make = |scale| {
            let mut rng = Rng::new(5);
            let world = World::new(&mut rng);
            let ctx = Ctx {
                account: &world.accounts[0],
                region: "us-east-1",
                time: "2024-05-01T10:00:00Z".parse().unwrap(),
                scale,
            };
            (0..100)
                .map(|_| connect_event(&mut rng, &ctx))
                .collect::<Vec<_>>()
        };
        let (usual, larger) = (make(1), make(3));
        let bytes = |records: &[String]| records.iter().map(String::len).sum::<usize>();
        assert!(
            2 * bytes(&larger) > 3 * bytes(&usual),
            "scale 3 adds half again at least"
        );
        for (a, b) in usual.iter().zip(&larger) {
            let a: serde_json::Value = serde_json::from_str(a).unwrap();
            let mut b: serde_json::Value = serde_json::from_str(b).unwrap();
            let added = b.as_object_mut().unwrap();
            assert_eq!(
                added.remove("resources").unwrap().as_array().unwrap().len(),
                4
            );
            assert!(added.remove("additionalEventData").unwrap()["tags"].is_object());
            assert_eq!(a, b);
        }
    }

    const PINNED: [u64; 3] = [475, 803, 342];
    const PINNED_UUID: &str = "d814e58a-040f-45a8-8c9d-2ae6cb419e52";
}
