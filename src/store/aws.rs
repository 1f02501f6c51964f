//! S3 credentials as AWS users have them: the AWS SDK's credential providers (`aws-config`),
//! bridged into object_store, behind a cache that refreshes credentials shortly before they expire.
//!
//! When the SDK is used ([`s3_auth`]): for every `s3://` location, unless `AWS_SKIP_SIGNATURE` is
//! set, or static keys are in the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) and
//! no `--profile` was given; in those two cases object_store's `from_env` signs (or does not) as
//! it always did. `--profile` wins over keys in the environment, as in the AWS CLI.
//!
//! The sources, in the order the SDK's default chain tries them (the environment's keys were
//! looked at already): the profile (`--profile`, else `AWS_PROFILE`, else `default`) in
//! `AWS_CONFIG_FILE`/`~/.aws/config` and `AWS_SHARED_CREDENTIALS_FILE`/`~/.aws/credentials`, with
//! its static keys, IAM Identity Center (SSO) session, `credential_process` or role
//! (`role_arn` with `source_profile` or `credential_source`); web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, as on EKS); ECS/EKS container credentials;
//! EC2 instance metadata.
//!
//! object_store asks for a credential before every request; [`SdkCredentials`] answers from its
//! cache and runs the chain only when the cached credentials are near their expiry (one refresh at
//! a time, the other requests wait for it), so a long run gets fresh credentials without running
//! `credential_process` or calling STS per request.
//!
//! Secrets never leave this module but in the `AwsCredential` object_store signs with: no
//! message, `Debug` output or report holds a secret key, session token or process output.

use std::borrow::Cow;
use std::error::Error as _;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::ecs::EcsCredentialsProvider;
use aws_config::imds;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::profile::{Profile, ProfileFileCredentialsProvider, ProfileSet};
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_smithy_http_client::tls;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use futures::FutureExt;
use object_store::CredentialProvider;
use object_store::aws::AwsCredential;

use super::StoreOptions;

/// How long before their expiry credentials are refreshed (at most half their lifetime, so that
/// short-lived credentials are not fetched again on every request).
const REFRESH_EARLY: Duration = Duration::from_secs(5 * 60);
/// Credentials are used at least this long once fetched, even if they claim to expire sooner.
const MIN_REUSE: Duration = Duration::from_secs(5);
/// After a failed refresh, still-valid credentials are used this long before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// EC2 instance metadata: each of the (at most 2) attempts of a request gives up after 1 s
/// connecting and 1 s waiting for the answer, so off EC2 the probe costs about 1–2 s (one token
/// request that cannot connect), and it is cut off after 4 s whatever happens.
const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
const IMDS_ATTEMPTS: u32 = 2;
const IMDS_BUDGET: Duration = Duration::from_secs(4);
/// The longest error detail taken from the SDK into a message.
const DETAIL_CHARS: usize = 300;

/// How requests to an `s3://` location are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum S3Auth {
    /// object_store's `from_env` alone, as before the SDK chain: static keys in the environment,
    /// or `AWS_SKIP_SIGNATURE`.
    Environment,
    /// The SDK's providers, for this profile.
    Chain(ProfileChoice),
}

/// The profile credentials and region are read from, and why that one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ProfileChoice {
    pub name: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Origin {
    /// `--profile NAME`: keys in the environment are ignored.
    Flag,
    /// `AWS_PROFILE`.
    Env,
    /// Nothing named one: `default`.
    Default,
}

impl ProfileChoice {
    fn describe(&self) -> String {
        match self.origin {
            Origin::Flag => format!("profile '{}' (--profile)", self.name),
            Origin::Env => format!("profile '{}' (AWS_PROFILE)", self.name),
            Origin::Default => format!("profile '{}'", self.name),
        }
    }
}

/// Decides how `s3://` requests are signed, from the options and the environment (`var`).
pub(crate) fn s3_auth(options: &StoreOptions, var: impl Fn(&str) -> Option<String>) -> S3Auth {
    let truthy = |v: String| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )
    };
    if var("AWS_SKIP_SIGNATURE").is_some_and(truthy) {
        return S3Auth::Environment;
    }
    if let Some(name) = &options.profile {
        return S3Auth::Chain(ProfileChoice {
            name: name.clone(),
            origin: Origin::Flag,
        });
    }
    // Either key alone is object_store's to report (a missing access key or secret), as before.
    if var("AWS_ACCESS_KEY_ID").is_some() || var("AWS_SECRET_ACCESS_KEY").is_some() {
        return S3Auth::Environment;
    }
    match var("AWS_PROFILE").filter(|p| !p.trim().is_empty()) {
        Some(name) => S3Auth::Chain(ProfileChoice {
            name,
            origin: Origin::Env,
        }),
        None => S3Auth::Chain(ProfileChoice {
            name: "default".into(),
            origin: Origin::Default,
        }),
    }
}

/// The kind of credentials a profile holds, by the settings the SDK acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProfileKind {
    AssumeRole,
    WebIdentity,
    Sso,
    Process,
    Keys,
}

impl ProfileKind {
    fn of(profile: &Profile) -> Option<Self> {
        let has = |key: &str| profile.get(key).is_some_and(|v| !v.trim().is_empty());
        if has("role_arn") {
            return Some(match has("web_identity_token_file") {
                true => ProfileKind::WebIdentity,
                false => ProfileKind::AssumeRole,
            });
        }
        if has("sso_session") || has("sso_start_url") || has("sso_account_id") {
            return Some(ProfileKind::Sso);
        }
        if has("credential_process") {
            return Some(ProfileKind::Process);
        }
        has("aws_access_key_id").then_some(ProfileKind::Keys)
    }

    fn label(self) -> &'static str {
        match self {
            ProfileKind::AssumeRole => "role_arn",
            ProfileKind::WebIdentity => "web_identity_token_file",
            ProfileKind::Sso => "SSO",
            ProfileKind::Process => "credential_process",
            ProfileKind::Keys => "keys",
        }
    }
}

/// What the AWS config files say about the chosen profile.
#[derive(Debug, Clone)]
pub(crate) struct ProfileInfo {
    pub choice: ProfileChoice,
    /// "~/.aws/config or ~/.aws/credentials", with the paths the environment chose.
    pub files: String,
    pub exists: bool,
    pub kind: Option<ProfileKind>,
    /// The profile's `region`.
    pub region: Option<String>,
}

/// Why the profile cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProfileError {
    /// A profile named by `--profile` or `AWS_PROFILE` is in neither file (a usage error).
    Unknown(String),
    /// The files could not be read or parsed.
    Unreadable(String),
}

/// Reads the profile files (as the SDK does: `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`,
/// `HOME` from `env`) and the chosen profile in them.
pub(crate) fn read_profile(env: &Env, choice: &ProfileChoice) -> Result<ProfileInfo, ProfileError> {
    let path = |var: &str, default: &str| env.get(var).unwrap_or_else(|_| default.to_string());
    let files = format!(
        "{} or {}",
        path("AWS_CONFIG_FILE", "~/.aws/config"),
        path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    );
    let set = load_profiles(env, &choice.name)
        .map_err(|e| ProfileError::Unreadable(format!("cannot read the AWS profiles: {e}")))?;
    let profile = set.get_profile(&choice.name);
    if profile.is_none() && choice.origin != Origin::Default {
        let mut names: Vec<&str> = set.profiles().collect();
        names.sort_unstable();
        let there = match names.len() {
            0 => "there are no profiles there".to_string(),
            _ => format!("the profiles there: {}", names.join(", ")),
        };
        return Err(ProfileError::Unknown(format!(
            "AWS {} is not in {files}; {there} (see `aws configure list-profiles`)",
            choice.describe()
        )));
    }
    Ok(ProfileInfo {
        choice: choice.clone(),
        files,
        exists: profile.is_some(),
        kind: profile.and_then(ProfileKind::of),
        region: profile
            .and_then(|p| p.get("region"))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string),
    })
}

/// The SDK's profile parser. Its reads are synchronous (`Fs` reads with `std::fs` inside an
/// `async fn`), so the future is ready at its first poll and this is usable from `Location::parse`
/// in or out of a runtime; a unit test pins that.
fn load_profiles(env: &Env, name: &str) -> Result<ProfileSet, String> {
    let fs = Fs::real();
    let files = EnvConfigFiles::default();
    let load = aws_config::profile::load(&fs, env, &files, Some(Cow::Owned(name.to_string())));
    match load.now_or_never() {
        Some(Ok(set)) => Ok(set),
        Some(Err(e)) => Err(one_line(&error_chain(&e))),
        None => Err("the AWS SDK read the profile files asynchronously".into()),
    }
}

/// The AWS credential sources after the environment, in the SDK's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Profile,
    WebIdentity,
    Container,
    InstanceMetadata,
}

/// Builds the SDK's providers for `info`'s profile; `region` is for STS and SSO calls.
pub(crate) fn sdk_sources(
    info: &ProfileInfo,
    region: Option<String>,
) -> Vec<(Source, SharedCredentialsProvider)> {
    // The SDK's own HTTPS client (hyper 1 and rustls with ring, as object_store's reqwest), for
    // STS, SSO, container and instance-metadata calls; its default would build aws-lc-sys.
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = ProviderConfig::without_region()
        .with_http_client(http)
        .with_behavior_version(Some(BehaviorVersion::latest()))
        .with_region(region.map(Region::new));
    let imds_client = imds::Client::builder()
        .configure(&conf)
        .max_attempts(IMDS_ATTEMPTS)
        .connect_timeout(IMDS_TIMEOUT)
        .read_timeout(IMDS_TIMEOUT)
        .operation_timeout(IMDS_BUDGET)
        .build();
    vec![
        (
            Source::Profile,
            SharedCredentialsProvider::new(
                ProfileFileCredentialsProvider::builder()
                    .configure(&conf)
                    .profile_name(&info.choice.name)
                    .build(),
            ),
        ),
        (
            Source::WebIdentity,
            SharedCredentialsProvider::new(
                WebIdentityTokenCredentialsProvider::builder()
                    .configure(&conf)
                    .build(),
            ),
        ),
        (
            Source::Container,
            SharedCredentialsProvider::new(
                EcsCredentialsProvider::builder().configure(&conf).build(),
            ),
        ),
        (
            Source::InstanceMetadata,
            SharedCredentialsProvider::new(
                ImdsCredentialsProvider::builder()
                    .configure(&conf)
                    .imds_client(imds_client)
                    .build(),
            ),
        ),
    ]
}

/// The one-line message of a failure to get credentials (object_store wraps it; `describe`
/// finds it again).
#[derive(Debug)]
pub struct CredentialsUnavailable(pub String);

impl std::fmt::Display for CredentialsUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CredentialsUnavailable {}

/// Credentials in the cache.
struct Cached {
    credential: Arc<AwsCredential>,
    expires: Option<SystemTime>,
    /// When to fetch new ones; `None`: never (they do not expire).
    refresh_at: Option<SystemTime>,
}

/// When credentials fetched at `fetched` and expiring at `expires` should be fetched again:
/// [`REFRESH_EARLY`] before they expire, or halfway through a shorter life, but not sooner than
/// [`MIN_REUSE`] after fetching; never for credentials that do not expire.
pub(crate) fn refresh_at(fetched: SystemTime, expires: Option<SystemTime>) -> Option<SystemTime> {
    let expires = expires?;
    let life = expires.duration_since(fetched).unwrap_or_default();
    let early = REFRESH_EARLY.min(life / 2);
    Some((expires - early).max(fetched + MIN_REUSE))
}

/// Whether cached credentials due for refresh at `refresh_at` can still be used at `now`.
pub(crate) fn is_fresh(refresh_at: Option<SystemTime>, now: SystemTime) -> bool {
    refresh_at.is_none_or(|at| now < at)
}

/// object_store's credential provider for S3: the SDK's sources behind a cache.
pub struct SdkCredentials {
    info: ProfileInfo,
    sources: Vec<(Source, SharedCredentialsProvider)>,
    cache: RwLock<Option<Cached>>,
    /// Held while the sources are asked: one refresh at a time.
    refreshing: tokio::sync::Mutex<()>,
    /// How often the sources were asked (for tests).
    loads: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for SdkCredentials {
    // Never the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkCredentials")
            .field("profile", &self.info.choice.name)
            .finish_non_exhaustive()
    }
}

/// What the last credentials used came from, for the hint of a signature error.
static IN_USE: Mutex<Option<String>> = Mutex::new(None);

/// What to check when S3 rejects the credentials (`describe`'s hint).
pub(crate) fn credentials_hint() -> String {
    match IN_USE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_deref()
    {
        Some(source) => format!(" (check the credentials of {source})"),
        None => " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN)".into(),
    }
}

impl SdkCredentials {
    pub(crate) fn new(
        info: ProfileInfo,
        sources: Vec<(Source, SharedCredentialsProvider)>,
    ) -> Self {
        SdkCredentials {
            info,
            sources,
            cache: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
            loads: Default::default(),
        }
    }

    /// How often the sources were asked for credentials.
    pub fn loads(&self) -> usize {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cached(&self, now: SystemTime) -> Option<Arc<AwsCredential>> {
        let cache = self.cache.read().unwrap_or_else(PoisonError::into_inner);
        cache
            .as_ref()
            .filter(|c| is_fresh(c.refresh_at, now))
            .map(|c| c.credential.clone())
    }

    /// Asks the sources in order; the first that has credentials gives them.
    async fn load(&self) -> Result<(Credentials, Source), String> {
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut metadata = "no answer";
        for (source, provider) in &self.sources {
            let result = match source {
                Source::InstanceMetadata => {
                    match tokio::time::timeout(IMDS_BUDGET, provider.provide_credentials()).await {
                        Ok(result) => result,
                        Err(_) => continue,
                    }
                }
                _ => provider.provide_credentials().await,
            };
            match result {
                Ok(credentials) => return Ok((credentials, *source)),
                Err(CredentialsError::CredentialsNotLoaded(_)) => {
                    if *source == Source::InstanceMetadata
                        && std::env::var("AWS_EC2_METADATA_DISABLED")
                            .is_ok_and(|v| v.eq_ignore_ascii_case("true"))
                    {
                        metadata = "disabled by AWS_EC2_METADATA_DISABLED";
                    }
                }
                // Off EC2 the metadata service does not answer, or not as one: no credentials there.
                Err(e)
                    if *source == Source::InstanceMetadata
                        && !matches!(e, CredentialsError::InvalidConfiguration(_)) => {}
                Err(e) => return Err(self.failed(*source, &e)),
            }
        }
        Err(self.not_found(metadata))
    }

    /// What the credentials came from, for messages.
    fn origin(&self, source: Source) -> String {
        let info = &self.info;
        match source {
            Source::Profile => match info.kind {
                Some(kind) => format!(
                    "{} ({}) in {}",
                    info.choice.describe(),
                    kind.label(),
                    info.files
                ),
                None => format!("{} in {}", info.choice.describe(), info.files),
            },
            Source::WebIdentity => {
                "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)".into()
            }
            Source::Container => {
                "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI)".into()
            }
            Source::InstanceMetadata => "the EC2 instance's role (instance metadata)".into(),
        }
    }

    /// A source that applies failed: which, why, and what to do.
    fn failed(&self, source: Source, error: &CredentialsError) -> String {
        let name = &self.info.choice.name;
        let hint = match (source, self.info.kind) {
            (Source::Profile, Some(ProfileKind::Sso)) => {
                format!("sign in again with `aws sso login --profile {name}`")
            }
            (Source::Profile, Some(ProfileKind::Process)) => {
                format!("check that the credential_process of profile '{name}' works")
            }
            (Source::Profile, Some(ProfileKind::AssumeRole)) => format!(
                "check role_arn and source_profile (or credential_source) of profile '{name}', \
                 and that the source credentials may assume the role"
            ),
            (Source::Profile, Some(ProfileKind::WebIdentity)) | (Source::WebIdentity, _) => {
                "check the token file and that the role trusts it".into()
            }
            (Source::Profile, _) => format!("check profile '{name}'"),
            (Source::Container, _) => "check the task's or pod's role".into(),
            (Source::InstanceMetadata, _) => "check the instance's IAM role".into(),
        };
        // The SDK says "exited with code exit status: 1".
        let detail = error_chain(error).replace("with code exit status:", "with status");
        format!(
            "cannot get AWS credentials from {}: {}; {hint}",
            self.origin(source),
            one_line(&detail)
        )
    }

    /// Nothing had credentials: what was tried, and what to do.
    fn not_found(&self, metadata: &str) -> String {
        let info = &self.info;
        let unset = |var: &str| std::env::var_os(var).is_none();
        let mut tried = Vec::new();
        if info.choice.origin != Origin::Flag {
            tried.push("environment variables (AWS_ACCESS_KEY_ID unset)".to_string());
        }
        tried.push(match (info.exists, info.kind) {
            (false, _) => format!("{} (not in {})", info.choice.describe(), info.files),
            (true, None) => format!(
                "{} in {} (no credentials in it)",
                info.choice.describe(),
                info.files
            ),
            (true, Some(kind)) => format!(
                "{} ({}) in {}",
                info.choice.describe(),
                kind.label(),
                info.files
            ),
        });
        tried.push(match unset("AWS_WEB_IDENTITY_TOKEN_FILE") {
            true => "web identity (AWS_WEB_IDENTITY_TOKEN_FILE unset)".into(),
            false => "web identity".into(),
        });
        tried.push(
            match unset("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                && unset("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            {
                true => "container credentials (AWS_CONTAINER_CREDENTIALS_* unset)".into(),
                false => "container credentials".into(),
            },
        );
        tried.push(format!("EC2 instance metadata ({metadata})"));
        let profile = match info.choice.origin {
            Origin::Default => "NAME".to_string(),
            _ => info.choice.name.clone(),
        };
        format!(
            "no AWS credentials found; tried {}; sign in with `aws sso login --profile {profile}`, \
             choose a profile with --profile NAME or AWS_PROFILE, \
             or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            tried.join(", ")
        )
    }
}

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        if let Some(credential) = self.cached(SystemTime::now()) {
            return Ok(credential);
        }
        let _one_at_a_time = self.refreshing.lock().await;
        // Whoever held the lock may have refreshed them.
        let now = SystemTime::now();
        if let Some(credential) = self.cached(now) {
            return Ok(credential);
        }
        let loaded = self.load().await;
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        match loaded {
            Ok((credentials, source)) => {
                let credential = Arc::new(AwsCredential {
                    key_id: credentials.access_key_id().to_string(),
                    secret_key: credentials.secret_access_key().to_string(),
                    token: credentials.session_token().map(str::to_string),
                });
                let expires = credentials.expiry();
                *cache = Some(Cached {
                    credential: credential.clone(),
                    expires,
                    refresh_at: refresh_at(now, expires),
                });
                *IN_USE.lock().unwrap_or_else(PoisonError::into_inner) = Some(self.origin(source));
                Ok(credential)
            }
            Err(message) => match cache.as_mut() {
                // Credentials that have not expired yet still sign: use them, try again soon.
                Some(cached) if cached.expires.is_none_or(|at| now < at) => {
                    cached.refresh_at = Some(now + RETRY_AFTER_FAILURE);
                    Ok(cached.credential.clone())
                }
                _ => Err(object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(CredentialsUnavailable(message)),
                }),
            },
        }
    }
}

/// An error's message and its causes', without the SDK's generic wrappers.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    const GENERIC: [&str; 6] = [
        "an error occurred while loading credentials",
        "an error occurred while loading an access token",
        "the credentials provider was not properly configured",
        "unexpected credentials error",
        "the credential provider was not enabled",
        "could not parse profile file",
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !GENERIC.contains(&text.as_str()) && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        return error.to_string();
    }
    parts.join(": ")
}

/// Whitespace collapsed, and at most [`DETAIL_CHARS`] characters.
fn one_line(text: &str) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The S3 credential provider for `choice`, shared by every location of the run (one cache).
pub(crate) fn shared_credentials(
    info: &ProfileInfo,
    region: Option<String>,
) -> Arc<SdkCredentials> {
    type Registry = Vec<(ProfileChoice, Arc<SdkCredentials>)>;
    static PROVIDERS: Mutex<Registry> = Mutex::new(Vec::new());
    let mut providers = PROVIDERS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, provider)) = providers.iter().find(|(c, _)| *c == info.choice) {
        return provider.clone();
    }
    let provider = Arc::new(SdkCredentials::new(info.clone(), sdk_sources(info, region)));
    providers.push((info.choice.clone(), provider.clone()));
    provider
}

/// Whether `error` (or a cause) is a failure to get credentials; its message if so.
pub(crate) fn unavailable(error: &object_store::Error) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = error.source();
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<CredentialsUnavailable>() {
            return Some(found.0.clone());
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::future;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn refresh_comes_a_few_minutes_early_or_halfway_through_a_short_life() {
        // An hour's credentials: refreshed 5 minutes before they expire.
        assert_eq!(refresh_at(at(0), Some(at(3600))), Some(at(3300)));
        // A minute's: halfway.
        assert_eq!(refresh_at(at(0), Some(at(60))), Some(at(30)));
        // Expired already, or about to: used a few seconds, not refetched per request.
        assert_eq!(refresh_at(at(100), Some(at(50))), Some(at(105)));
        assert_eq!(refresh_at(at(0), Some(at(4))), Some(at(5)));
        // Without expiry: never.
        assert_eq!(refresh_at(at(0), None), None);

        assert!(is_fresh(Some(at(3300)), at(3299)));
        assert!(!is_fresh(Some(at(3300)), at(3300)));
        assert!(is_fresh(None, at(1 << 30)));
    }

    #[test]
    fn when_the_sdk_chain_signs() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let none = StoreOptions::default();
        let flag = StoreOptions {
            profile: Some("audit".into()),
        };
        let chain = |name: &str, origin| {
            S3Auth::Chain(ProfileChoice {
                name: name.into(),
                origin,
            })
        };
        assert_eq!(s3_auth(&none, env(&[])), chain("default", Origin::Default));
        assert_eq!(
            s3_auth(&none, env(&[("AWS_PROFILE", "dev")])),
            chain("dev", Origin::Env)
        );
        // Static keys in the environment: object_store's from_env, as before, even with AWS_PROFILE.
        let keys = &[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "dev"),
        ];
        assert_eq!(s3_auth(&none, env(keys)), S3Auth::Environment);
        assert_eq!(
            s3_auth(&none, env(&[("AWS_SECRET_ACCESS_KEY", "s")])),
            S3Auth::Environment
        );
        // --profile wins over the keys, as in the AWS CLI.
        assert_eq!(s3_auth(&flag, env(keys)), chain("audit", Origin::Flag));
        // Unsigned requests need no credentials.
        assert_eq!(
            s3_auth(&flag, env(&[("AWS_SKIP_SIGNATURE", "true")])),
            S3Auth::Environment
        );
        assert_eq!(
            s3_auth(&none, env(&[("AWS_SKIP_SIGNATURE", "false")])),
            chain("default", Origin::Default)
        );
    }

    fn files(config: &str, credentials: &str) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config");
        let credentials_path = dir.path().join("credentials");
        std::fs::write(&config_path, config).unwrap();
        std::fs::write(&credentials_path, credentials).unwrap();
        let env = Env::from_slice(&[
            ("AWS_CONFIG_FILE", config_path.to_str().unwrap()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                credentials_path.to_str().unwrap(),
            ),
            ("HOME", dir.path().to_str().unwrap()),
        ]);
        // Env::from_slice copies the strings.
        (dir, env)
    }

    fn choice(name: &str, origin: Origin) -> ProfileChoice {
        ProfileChoice {
            name: name.into(),
            origin,
        }
    }

    #[test]
    fn profiles_give_region_and_kind_and_unknown_ones_are_named() {
        let (_dir, env) = files(
            "[default]\nregion = eu-west-1\n\
             [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
             [sso-session corp]\nsso_start_url = https://x\nsso_region = eu-west-1\n\
             [profile proc]\ncredential_process = /bin/true\nregion = us-west-2\n\
             [profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = keys\n",
            "[keys]\naws_access_key_id = AKIA\naws_secret_access_key = s3cr3t\n",
        );
        let read = |name, origin| read_profile(&env, &choice(name, origin)).unwrap();
        let default = read("default", Origin::Default);
        assert_eq!(default.region.as_deref(), Some("eu-west-1"));
        assert_eq!(default.kind, None);
        assert!(default.exists);
        assert_eq!(read("sso", Origin::Flag).kind, Some(ProfileKind::Sso));
        let proc = read("proc", Origin::Env);
        assert_eq!(proc.kind, Some(ProfileKind::Process));
        assert_eq!(proc.region.as_deref(), Some("us-west-2"));
        assert_eq!(
            read("role", Origin::Flag).kind,
            Some(ProfileKind::AssumeRole)
        );
        assert_eq!(read("keys", Origin::Flag).kind, Some(ProfileKind::Keys));

        let Err(ProfileError::Unknown(message)) = read_profile(&env, &choice("nope", Origin::Flag))
        else {
            panic!("an unknown profile is an error");
        };
        assert!(
            message.contains("profile 'nope' (--profile) is not in"),
            "{message}"
        );
        assert!(
            message.contains("default, keys, proc, role, sso"),
            "{message}"
        );
        assert!(!message.contains("s3cr3t"), "{message}");
        // No files at all: the default profile is simply absent.
        let (_empty, env) = files("", "");
        let absent = read_profile(&env, &choice("default", Origin::Default)).unwrap();
        assert!(!absent.exists);
    }

    #[test]
    fn broken_profile_files_are_one_line_without_their_contents() {
        let (_dir, env) = files("[default]\nregion\n", "[x]\naws_secret_access_key s3cr3t\n");
        let Err(ProfileError::Unreadable(message)) =
            read_profile(&env, &choice("default", Origin::Default))
        else {
            panic!("a broken file is an error");
        };
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("line"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    /// A source that counts its calls and hands out credentials expiring `life` from now.
    #[derive(Debug)]
    struct Counting {
        calls: Arc<AtomicUsize>,
        life: Option<Duration>,
        fail_after: usize,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let life = self.life;
            let fail = n >= self.fail_after;
            future::ProvideCredentials::new(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                if fail {
                    return Err(CredentialsError::provider_error(
                        "the process exited with 1",
                    ));
                }
                Ok(Credentials::new(
                    format!("AKIA{n}"),
                    "s3cr3t",
                    None,
                    life.map(|l| SystemTime::now() + l),
                    "test",
                ))
            })
        }
    }

    fn provider(life: Option<Duration>, fail_after: usize) -> (SdkCredentials, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let source = Counting {
            calls: calls.clone(),
            life,
            fail_after,
        };
        let info = ProfileInfo {
            choice: choice("proc", Origin::Flag),
            files: "config or credentials".into(),
            exists: true,
            kind: Some(ProfileKind::Process),
            region: None,
        };
        let sources = vec![(Source::Profile, SharedCredentialsProvider::new(source))];
        (SdkCredentials::new(info, sources), calls)
    }

    #[tokio::test]
    async fn many_requests_at_once_run_the_chain_once() {
        for life in [None, Some(Duration::from_secs(3600)), Some(Duration::ZERO)] {
            let (provider, calls) = provider(life, usize::MAX);
            let provider = Arc::new(provider);
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let p = provider.clone();
                    tokio::spawn(async move { p.get_credential().await.unwrap().key_id.clone() })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap(), "AKIA0");
            }
            assert_eq!(calls.load(Ordering::SeqCst), 1, "{life:?}");
            assert_eq!(provider.loads(), 1);
        }
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_valid_credentials_and_a_failed_first_load_is_one_line() {
        // Expiring in 8 s: due for refresh after MIN_REUSE (5 s), as halfway is sooner.
        let (provider, calls) = provider(Some(Duration::from_secs(8)), 1);
        assert_eq!(provider.get_credential().await.unwrap().key_id, "AKIA0");
        {
            let mut cache = provider.cache.write().unwrap();
            cache.as_mut().unwrap().refresh_at = Some(SystemTime::now());
        }
        // The refresh fails; the credentials have not expired: still used, retried later.
        assert_eq!(provider.get_credential().await.unwrap().key_id, "AKIA0");
        assert_eq!(provider.get_credential().await.unwrap().key_id, "AKIA0");
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let (failing, _) = provider_with_failure();
        let error = failing.get_credential().await.unwrap_err();
        let message = unavailable(&error).expect("a credentials failure");
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.starts_with(
                "cannot get AWS credentials from profile 'proc' (--profile) (credential_process) \
                 in config or credentials: the process exited with 1; check that the \
                 credential_process of profile 'proc' works"
            ),
            "{message}"
        );
        assert!(!message.contains("s3cr3t"));
        assert!(!format!("{failing:?}").contains("s3cr3t"));
    }

    fn provider_with_failure() -> (SdkCredentials, Arc<AtomicUsize>) {
        provider(None, 0)
    }

    #[test]
    fn long_details_are_cut() {
        let long = "x ".repeat(400);
        let line = one_line(&long);
        assert_eq!(line.chars().count(), DETAIL_CHARS + 1);
        assert!(line.ends_with('…'));
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }
}
