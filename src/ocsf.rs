//! OCSF views of the table: every record in exactly one of API Activity (6003), Authentication
//! (3002) and Account Change (3001), with flat columns named after OCSF paths (`.` as `_`),
//! following the public OCSF 1.1 mapping of CloudTrail (ocsf/examples,
//! `mappings/bloblang/AWS/CloudTrail/v1.1.0`).
//!
//! Defined once, here, as SQL over the `cloudtrail` table, and rendered in each engine's dialect
//! (the SQL session's, and the DDL for DuckDB, Spark and Athena): the views use only CASE, IN,
//! LIKE and column references, plus two functions each engine spells its own way (reading a
//! JSON member, and building the `unmapped` JSON object).
//!
//! Where this differs from the mapping, on purpose: Account Change takes the mapping's event
//! names only from IAM, sign-in and account management (`CreateUser` of Amazon Connect is not an
//! IAM account change); `status` is the table's `outcome` (a failed sign-in is a failure even
//! without an error code); `src_endpoint_ip` holds only addresses (`source_ip`), service names go
//! to `src_endpoint_domain`; `time` is the event time as a timestamp.

use crate::schema::{self, COLUMNS};

/// The SQL dialects the views are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DataFusion,
    DuckDb,
    Spark,
    Athena,
}

/// The Authentication class: these event names (the mapping's list).
const AUTHENTICATION: &[&str] = &[
    "ConsoleLogin",
    "ExternalIdPDirectoryLogin",
    "CheckMfa",
    "CredentialChallenge",
    "CredentialVerification",
    "UserAuthentication",
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
];

/// The Account Change class: these event names (the mapping's list) from these services.
const ACCOUNT_CHANGE: &[&str] = &[
    "AddRoleToInstanceProfile",
    "AddUserToGroup",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "ChangePassword",
    "CreateAccessKey",
    "CreateAccountAlias",
    "CreateInstanceProfile",
    "CreateLoginProfile",
    "CreateRole",
    "CreateServiceLinkedRole",
    "CreateUser",
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteAccessKey",
    "DeleteAccountAlias",
    "DeleteAccountPasswordPolicy",
    "DeleteGroup",
    "DeleteGroupPolicy",
    "DeleteInstanceProfile",
    "DeleteLoginProfile",
    "DeletePolicy",
    "DeleteRole",
    "DeleteRolePermissionsBoundary",
    "DeleteRolePolicy",
    "DeleteServiceLinkedRole",
    "DeleteUser",
    "DeleteUserPermissionsBoundary",
    "DeleteUserPolicy",
    "DeleteVirtualMFADevice",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "EmailUpdated",
    "EnableMFADevice",
    "FinalizeSmsMfaRegistration",
    "AccountNameUpdated",
    "PasswordUpdated",
    "PutGroupPolicy",
    "PutRolePermissionsBoundary",
    "PutRolePolicy",
    "PutUserPermissionsBoundary",
    "PutUserPolicy",
    "RemoveRoleFromInstanceProfile",
    "RemoveUserFromGroup",
    "RequestSmsMfaRegistration",
    "ResyncMFADevice",
    "TagInstanceProfile",
    "TagRole",
    "TagUser",
    "UntagInstanceProfile",
    "UntagRole",
    "UntagUser",
    "UpdateAccessKey",
    "UpdateAccountEmailAddress",
    "UpdateAccountName",
    "UpdateAccountPasswordPolicy",
    "UpdateAssumeRolePolicy",
    "UpdateGroup",
    "UpdateLoginProfile",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateUser",
];
const ACCOUNT_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "signin.amazonaws.com",
    "account.amazonaws.com",
];

/// How an activity is recognised: the event name equals one of `names`, or contains one of
/// `parts`.
struct Activity {
    id: u32,
    name: &'static str,
    names: &'static [&'static str],
    parts: &'static [&'static str],
}

const fn activity(
    id: u32,
    name: &'static str,
    names: &'static [&'static str],
    parts: &'static [&'static str],
) -> Activity {
    Activity {
        id,
        name,
        names,
        parts,
    }
}

/// One view: its class, which records it holds, and how their activity is told (first match).
pub struct View {
    pub name: &'static str,
    pub class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activities: &'static [Activity],
}

const IAM: &str = "Identity & Access Management";

pub const VIEWS: [View; 3] = [
    View {
        name: "ocsf_api_activity",
        class_uid: 6003,
        class_name: "API Activity",
        category_uid: 6,
        category_name: "Application Activity",
        activities: &[
            activity(1, "Create", &[], &["Create", "Run", "Generate"]),
            activity(
                2,
                "Read",
                &[],
                &["Get", "List", "Describe", "Search", "Lookup"],
            ),
            activity(
                3,
                "Update",
                &[],
                &[
                    "Update",
                    "Put",
                    "Modify",
                    "Add",
                    "Remove",
                    "Start",
                    "Stop",
                    "Attach",
                    "Detach",
                    "Associate",
                    "Tag",
                    "Enable",
                    "Disable",
                    "Register",
                ],
            ),
            activity(4, "Delete", &[], &["Delete", "Terminate"]),
        ],
    },
    View {
        name: "ocsf_authentication",
        class_uid: 3002,
        class_name: "Authentication",
        category_uid: 3,
        category_name: IAM,
        activities: &[activity(
            1,
            "Logon",
            &[
                "ConsoleLogin",
                "ExternalIdPDirectoryLogin",
                "UserAuthentication",
            ],
            &["AssumeRole"],
        )],
    },
    View {
        name: "ocsf_account_change",
        class_uid: 3001,
        class_name: "Account Change",
        category_uid: 3,
        category_name: IAM,
        activities: &[
            activity(
                1,
                "Create",
                &["ResyncMFADevice", "EnableMFADevice"],
                &["Create"],
            ),
            activity(
                3,
                "Password Change",
                &["ChangePassword", "PasswordUpdated"],
                &[],
            ),
            activity(7, "Attach Policy", &["AddUserToGroup"], &["Attach", "Put"]),
            activity(8, "Detach Policy", &[], &["Detach", "Remove"]),
            activity(
                99,
                "Other",
                &[],
                &[
                    "DeleteSSH",
                    "DeleteServer",
                    "DeleteSign",
                    "DeleteAccount",
                    "DeleteCloudFront",
                    "DeleteService",
                ],
            ),
            activity(6, "Delete", &[], &["Delete"]),
        ],
    },
];

/// Columns of the record that no view column holds, kept in `unmapped`.
const UNMAPPED: &[&str] = &[
    "read_only",
    "management_event",
    "recipient_account_id",
    "shared_event_id",
    "additional_event_data",
    "service_event_details",
    "vpc_endpoint_account_id",
    "tls_version",
    "tls_cipher_suite",
    "tls_client_provided_host_header",
    "session_credential_from_console",
    "session_source_identity",
    "insight_details",
];

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| quoted(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which records a view holds: each record is in exactly one (no NULL escapes a test).
fn filter(view: &View) -> String {
    let authentication = format!("COALESCE(event_name, '') IN ({})", list(AUTHENTICATION));
    let account_change = format!(
        "(COALESCE(event_name, '') IN ({}) AND COALESCE(event_source, '') IN ({}))",
        list(ACCOUNT_CHANGE),
        list(ACCOUNT_SOURCES)
    );
    match view.class_uid {
        3002 => authentication,
        3001 => account_change,
        _ => format!("NOT ({authentication}) AND NOT {account_change}"),
    }
}

/// The activity's id or name, by the view's rules in order.
fn activity_case(view: &View, name: bool) -> String {
    let mut out = String::from("CASE");
    for a in view.activities {
        let mut tests: Vec<String> = Vec::new();
        if !a.names.is_empty() {
            tests.push(format!("event_name IN ({})", list(a.names)));
        }
        tests.extend(a.parts.iter().map(|p| format!("event_name LIKE '%{p}%'")));
        let value = match name {
            true => quoted(a.name),
            false => a.id.to_string(),
        };
        out.push_str(&format!(" WHEN {} THEN {value}", tests.join(" OR ")));
    }
    out.push_str(match name {
        true => " ELSE 'Other' END",
        false => " ELSE 99 END",
    });
    out
}

/// A string member of a JSON-text column, by path.
fn json_get(dialect: Dialect, column: &str, path: &[&str]) -> String {
    let dotted = format!("$.{}", path.join("."));
    match dialect {
        Dialect::DataFusion => format!("json_get_str({column}, {})", list(path)),
        Dialect::DuckDb => format!("json_extract_string({column}, '{dotted}')"),
        Dialect::Spark => format!("get_json_object({column}, '{dotted}')"),
        Dialect::Athena => format!("json_extract_scalar({column}, '{dotted}')"),
    }
}

/// A JSON object (as text) of these columns, nulls left out where the engine can.
fn json_object(dialect: Dialect, columns: &[&str]) -> String {
    match dialect {
        Dialect::DataFusion | Dialect::Spark => format!(
            "to_json(named_struct({}))",
            columns
                .iter()
                .map(|c| format!("'{c}', {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // A merge patch into `{}` drops the null members, as Spark's to_json does.
        Dialect::DuckDb => format!(
            "CAST(json_merge_patch('{{}}', to_json(struct_pack({}))) AS VARCHAR)",
            columns
                .iter()
                .map(|c| format!("{c} := {c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Dialect::Athena => {
            let types = columns
                .iter()
                .map(|c| {
                    let index = schema::column_index(c).expect("a schema column");
                    let ty = match COLUMNS[index].data_type() {
                        arrow::datatypes::DataType::Boolean => "boolean",
                        _ => "varchar",
                    };
                    format!("{c} {ty}")
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "json_format(CAST(CAST(ROW({}) AS ROW({types})) AS JSON))",
                columns.join(", ")
            )
        }
    }
}

/// The SELECT of a view over `table`, in `dialect`.
pub fn select(view: &View, dialect: Dialect, table: &str) -> String {
    let mut columns = common_columns(view, dialect);
    match view.class_uid {
        3002 => columns.push((
            json_get(dialect, "additional_event_data", &["LoginTo"]),
            "dst_endpoint_svc_name",
        )),
        3001 => columns.push((
            format!(
                "COALESCE({}, {})",
                json_get(dialect, "request_parameters", &["userName"]),
                json_get(dialect, "request_parameters", &["roleName"])
            ),
            "user_name",
        )),
        _ => {}
    }
    columns.push((json_object(dialect, UNMAPPED), "unmapped"));
    // Where the rows came from, as in the table, to get back to the record.
    columns.extend([
        ("source_key".to_string(), "source_key"),
        ("source_index".to_string(), "source_index"),
    ]);
    let columns: Vec<String> = columns
        .iter()
        .map(|(expr, name)| format!("  {expr} AS {name}"))
        .collect();
    format!(
        "SELECT\n{}\nFROM {table}\nWHERE {}",
        columns.join(",\n"),
        filter(view)
    )
}

/// The columns every view has: (expression, name).
fn common_columns(view: &View, dialect: Dialect) -> Vec<(String, &'static str)> {
    let failed = "(outcome = 'failure' OR (outcome IS NULL AND error_code IS NOT NULL))";
    vec![
        (view.class_uid.to_string(), "class_uid"),
        (quoted(view.class_name), "class_name"),
        (view.category_uid.to_string(), "category_uid"),
        (quoted(view.category_name), "category_name"),
        (activity_case(view, false), "activity_id"),
        (activity_case(view, true), "activity_name"),
        (
            format!("{} + {}", view.class_uid * 100, activity_case(view, false)),
            "type_uid",
        ),
        ("1".into(), "severity_id"),
        ("'Informational'".into(), "severity"),
        ("event_time".into(), "time"),
        (
            format!("CASE WHEN {failed} THEN 'Failure' ELSE 'Success' END"),
            "status",
        ),
        (format!("CASE WHEN {failed} THEN 2 ELSE 1 END"), "status_id"),
        ("event_name".into(), "api_operation"),
        ("event_source".into(), "api_service_name"),
        ("request_id".into(), "api_request_uid"),
        ("api_version".into(), "api_version"),
        ("request_parameters".into(), "api_request_data"),
        ("response_elements".into(), "api_response_data"),
        ("error_code".into(), "api_response_error"),
        ("error_message".into(), "api_response_message"),
        ("user_type".into(), "actor_user_type"),
        ("user_arn".into(), "actor_user_uid"),
        ("user_principal_id".into(), "actor_user_uid_alt"),
        ("user_name".into(), "actor_user_name"),
        ("user_account_id".into(), "actor_user_account_uid"),
        ("user_access_key_id".into(), "actor_user_credential_uid"),
        (
            "session_creation_date".into(),
            "actor_session_created_time_dt",
        ),
        ("session_mfa_authenticated".into(), "actor_session_is_mfa"),
        ("session_issuer_arn".into(), "actor_session_issuer"),
        ("user_invoked_by".into(), "actor_invoked_by"),
        (
            "COALESCE(session_web_id_federated_provider, user_identity_provider)".into(),
            "actor_idp_name",
        ),
        ("source_ip".into(), "src_endpoint_ip"),
        (
            "CASE WHEN source_ip IS NULL THEN source_ip_address END".into(),
            "src_endpoint_domain",
        ),
        ("vpc_endpoint_id".into(), "src_endpoint_uid"),
        ("user_agent".into(), "http_request_user_agent"),
        ("'AWS'".into(), "cloud_provider"),
        ("aws_region".into(), "cloud_region"),
        (
            format!(
                "CASE {} WHEN 'Yes' THEN true WHEN 'No' THEN false END",
                json_get(dialect, "additional_event_data", &["MFAUsed"])
            ),
            "is_mfa",
        ),
        ("event_id".into(), "metadata_uid"),
        ("event_type".into(), "metadata_event_code"),
        ("event_version".into(), "metadata_product_version"),
        ("event_category".into(), "metadata_product_feature_name"),
        ("'CloudTrail'".into(), "metadata_product_name"),
        ("'AWS'".into(), "metadata_product_vendor_name"),
        ("'1.1.0'".into(), "metadata_version"),
    ]
}

/// `CREATE OR REPLACE VIEW` statements of the three views over `table` (names as given,
/// qualified or quoted by the caller).
pub fn create_views(
    dialect: Dialect,
    table: &str,
    qualify: impl Fn(&str) -> String,
) -> Vec<String> {
    VIEWS
        .iter()
        .map(|view| {
            format!(
                "CREATE OR REPLACE VIEW {} AS\n{}",
                qualify(view.name),
                select(view, dialect, table)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_views_split_the_records_between_them() {
        // The two classes' names do not overlap, so no record matches both.
        assert!(ACCOUNT_CHANGE.iter().all(|n| !AUTHENTICATION.contains(n)));
        let api = filter(&VIEWS[0]);
        assert!(api.starts_with("NOT (COALESCE(event_name, '') IN ('ConsoleLogin'"));
        assert!(api.contains("AND NOT (COALESCE(event_name, '') IN ('AddRoleToInstanceProfile'"));
    }

    #[test]
    fn activities_follow_the_mapping_in_order() {
        let case = activity_case(&VIEWS[2], false);
        // Create before Delete: CreateAccessKey is a Create; DeleteAccountAlias is Other.
        let create = case.find("'%Create%'").unwrap();
        let other = case.find("'%DeleteAccount%'").unwrap();
        let delete = case.find("'%Delete%' THEN 6").unwrap();
        assert!(create < other && other < delete, "{case}");
        assert!(case.ends_with("ELSE 99 END"));
    }

    #[test]
    fn each_dialect_spells_json_its_own_way() {
        let get = |d| json_get(d, "additional_event_data", &["MFAUsed"]);
        assert_eq!(
            get(Dialect::DataFusion),
            "json_get_str(additional_event_data, 'MFAUsed')"
        );
        assert_eq!(
            get(Dialect::Spark),
            "get_json_object(additional_event_data, '$.MFAUsed')"
        );
        let object = json_object(Dialect::Athena, &["read_only", "tls_version"]);
        assert_eq!(
            object,
            "json_format(CAST(CAST(ROW(read_only, tls_version) AS ROW(read_only boolean, tls_version varchar)) AS JSON))"
        );
    }
}
