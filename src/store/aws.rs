//! S3 credentials as AWS users have them: the AWS SDK's credential providers (`aws-config`),
//! bridged into object_store behind the SDK's expiring cache.
//!
//! When the SDK is used (`profile_choice`): for every `s3://` location, unless
//! `AWS_SKIP_SIGNATURE` is set, or static keys are in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`) and no `--profile` was given; in those two cases object_store's
//! `from_env` signs (or does not) as it always did. `--profile` wins over keys in the
//! environment, as in the AWS CLI.
//!
//! The sources, in the order the SDK's default chain tries them (the environment's keys were
//! looked at already): the profile (`--profile`, else `AWS_PROFILE`, else `default`) in
//! `AWS_CONFIG_FILE`/`~/.aws/config` and `AWS_SHARED_CREDENTIALS_FILE`/`~/.aws/credentials`, with
//! its static keys, IAM Identity Center (SSO) session, `credential_process` or role
//! (`role_arn` with `source_profile` or `credential_source`); web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`, as on EKS); ECS/EKS container credentials;
//! EC2 instance metadata. The region (of the S3 requests, and of the STS and SSO calls) comes
//! from the SDK's region chain without its last link: `AWS_REGION` or `AWS_DEFAULT_REGION`, else
//! the profile's. Its last link asks the instance metadata, which off EC2 would cost every run
//! seconds for nothing.
//!
//! object_store asks for a credential before every request; [`SdkCredentials`] answers from the
//! SDK's `ExpiringCache` (the cache its `IdentityCache::lazy()` is built on: one load at a time,
//! the other requests wait for it) and runs the chain again only when `refresh_at` says, so a
//! long run gets fresh credentials without running `credential_process` or calling STS per
//! request. `IdentityCache::lazy()` itself is not used: outside an SDK client it needs a full set
//! of `RuntimeComponents` (buildable only from the SDK's test fakes), and it refreshes every
//! identity a fixed time before its expiry, which short-lived credentials do not outlive.
//!
//! Secrets never leave this module but in the `AwsCredential` object_store signs with: no
//! message, `Debug` output or report holds a secret key, session token or process output.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::ecs::EcsCredentialsProvider;
use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::imds;
use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::profile::{Profile, ProfileFileCredentialsProvider, ProfileSet};
use aws_config::provider_config::ProviderConfig;
use aws_config::web_identity_token::WebIdentityTokenCredentialsProvider;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_runtime::env_config::file::EnvConfigFiles;
use aws_smithy_http_client::tls;
use aws_smithy_runtime::expiring_cache::ExpiringCache;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;
use object_store::CredentialProvider;
use object_store::aws::AwsCredential;

use super::StoreOptions;

/// How long before their expiry credentials are fetched again. object_store signs a request
/// once and retries it as signed for up to 3 minutes, so credentials must outlive that.
const REFRESH_EARLY: Duration = Duration::from_secs(5 * 60);
/// After a failed refresh, still-valid credentials are used this long before the next try.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// Credentials without an expiry are fetched again after this long, as the SDK's own cache does.
const UNEXPIRING_REUSE: Duration = Duration::from_secs(15 * 60);
/// EC2 instance metadata: each of the (at most 2) attempts of a request gives up after 1 s
/// connecting and 1 s waiting for the answer, so off EC2 the probe costs about 1–2 s (one token
/// request that cannot connect), and it is cut off after 4 s whatever happens.
const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
const IMDS_ATTEMPTS: u32 = 2;
const IMDS_BUDGET: Duration = Duration::from_secs(4);
/// The longest error detail taken from the SDK into a message.
const DETAIL_CHARS: usize = 300;

/// The profile credentials and region are read from, and why that one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ProfileChoice {
    name: String,
    origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
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

/// The profile the SDK's providers sign `s3://` requests with, from the options and the
/// environment (`var`); `None`: object_store's `from_env` signs them (static keys in the
/// environment), or nothing does (`AWS_SKIP_SIGNATURE`).
fn profile_choice(
    options: &StoreOptions,
    var: impl Fn(&str) -> Option<String>,
) -> Option<ProfileChoice> {
    let truthy = |v: String| {
        let v = v.trim().to_ascii_lowercase();
        matches!(v.as_str(), "true" | "1" | "yes" | "on")
    };
    if var("AWS_SKIP_SIGNATURE").is_some_and(truthy) {
        return None;
    }
    let (name, origin) = match (&options.profile, var("AWS_PROFILE")) {
        (Some(name), _) => (name.clone(), Origin::Flag),
        // Either key alone is object_store's to report (a missing access key or secret).
        _ if var("AWS_ACCESS_KEY_ID").is_some() || var("AWS_SECRET_ACCESS_KEY").is_some() => {
            return None;
        }
        (None, Some(name)) if !name.trim().is_empty() => (name, Origin::Env),
        (None, _) => ("default".into(), Origin::Default),
    };
    Some(ProfileChoice { name, origin })
}

/// How the `s3://` requests of a run are signed.
#[derive(Debug, Clone)]
pub(crate) enum S3Signing {
    /// object_store's `from_env` alone: static keys in the environment, or `AWS_SKIP_SIGNATURE`.
    Environment,
    /// The SDK's providers, in the region of the SDK's chain (`None`: object_store's default).
    Sdk {
        region: Option<Region>,
        credentials: Arc<SdkCredentials>,
    },
}

/// Decides how `s3://` requests are signed with these options and, when the SDK signs them,
/// reads the profile and the region: once a run, as every location shares the credentials.
pub(crate) fn s3_signing(options: &StoreOptions) -> Result<S3Signing, ProfileError> {
    let Some(choice) = profile_choice(options, |k| std::env::var(k).ok()) else {
        return Ok(S3Signing::Environment);
    };
    let (info, region) = run_to_end(async {
        let info = read_profile(&Env::real(), &choice).await?;
        let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
            .or_else(
                ProfileFileRegionProvider::builder()
                    .profile_name(&choice.name)
                    .build(),
            )
            .region()
            .await;
        Ok((info, region))
    })?;
    let sources = sdk_sources(&info, region.clone());
    Ok(S3Signing::Sdk {
        region,
        credentials: Arc::new(SdkCredentials::new(info, sources)),
    })
}

/// Runs the SDK's loaders to their end from synchronous code (`Location::parse` runs inside the
/// product's runtime and outside any): on a thread and a runtime of their own, so they may await
/// whatever they like, and no runtime blocks inside another.
fn run_to_end<T: Send>(
    load: impl Future<Output = Result<T, ProfileError>> + Send,
) -> Result<T, ProfileError> {
    std::thread::scope(|scope| {
        let thread = scope.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    ProfileError::Unreadable(format!("cannot read the AWS profiles: {e}"))
                })?
                .block_on(load)
        });
        thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The kind of credentials a profile holds, by the settings the SDK acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProfileKind {
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
struct ProfileInfo {
    choice: ProfileChoice,
    /// "~/.aws/config or ~/.aws/credentials", with the paths the environment chose.
    files: String,
    exists: bool,
    kind: Option<ProfileKind>,
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
async fn read_profile(env: &Env, choice: &ProfileChoice) -> Result<ProfileInfo, ProfileError> {
    let path = |var: &str, default: &str| env.get(var).unwrap_or_else(|_| default.to_string());
    let files = format!(
        "{} or {}",
        path("AWS_CONFIG_FILE", "~/.aws/config"),
        path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
    );
    let name = Cow::Owned(choice.name.clone());
    let set: ProfileSet =
        aws_config::profile::load(&Fs::real(), env, &EnvConfigFiles::default(), Some(name))
            .await
            .map_err(|e| {
                ProfileError::Unreadable(format!(
                    "cannot read the AWS profiles: {}",
                    one_line(&error_chain(&e))
                ))
            })?;
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
    })
}

/// The AWS credential sources after the environment, in the SDK's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Profile,
    WebIdentity,
    Container,
    InstanceMetadata,
}

/// Builds the SDK's providers for `info`'s profile; `region` is for STS and SSO calls.
fn sdk_sources(
    info: &ProfileInfo,
    region: Option<Region>,
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
        .with_region(region);
    let imds_client = imds::Client::builder()
        .configure(&conf)
        .max_attempts(IMDS_ATTEMPTS)
        .connect_timeout(IMDS_TIMEOUT)
        .read_timeout(IMDS_TIMEOUT)
        .operation_timeout(IMDS_BUDGET)
        .build();
    let profile = ProfileFileCredentialsProvider::builder()
        .configure(&conf)
        .profile_name(&info.choice.name)
        .build();
    let web_identity = WebIdentityTokenCredentialsProvider::builder()
        .configure(&conf)
        .build();
    let container = EcsCredentialsProvider::builder().configure(&conf).build();
    let metadata = ImdsCredentialsProvider::builder()
        .configure(&conf)
        .imds_client(imds_client)
        .build();
    vec![
        (Source::Profile, SharedCredentialsProvider::new(profile)),
        (
            Source::WebIdentity,
            SharedCredentialsProvider::new(web_identity),
        ),
        (Source::Container, SharedCredentialsProvider::new(container)),
        (
            Source::InstanceMetadata,
            SharedCredentialsProvider::new(metadata),
        ),
    ]
}

/// The one-line message of a failure to get credentials (object_store wraps it; `describe`
/// finds it again).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CredentialsUnavailable(pub String);

/// When credentials fetched at `fetched` and expiring at `expires` are fetched again:
/// [`REFRESH_EARLY`] before they expire, or halfway through a shorter life (so short-lived
/// credentials are not fetched again for every request); [`UNEXPIRING_REUSE`] after fetching if
/// they do not expire.
fn refresh_at(fetched: SystemTime, expires: Option<SystemTime>) -> SystemTime {
    let Some(expires) = expires else {
        return fetched + UNEXPIRING_REUSE;
    };
    let life = expires.duration_since(fetched).unwrap_or_default();
    expires - REFRESH_EARLY.min(life / 2)
}

/// object_store's credential provider for S3: the SDK's sources behind the SDK's cache.
pub struct SdkCredentials {
    info: ProfileInfo,
    sources: Vec<(Source, SharedCredentialsProvider)>,
    /// Holds the credentials until [`refresh_at`] (the cache's expiry; no buffer of its own).
    cache: ExpiringCache<Arc<AwsCredential>, object_store::Error>,
    /// The source of the cached credentials, for the hint of a signature error.
    answered: Mutex<Option<Source>>,
    /// The last credentials loaded, and when they expire: on a network that fails, a refresh
    /// that fails keeps using them while they are valid (and tries again soon) rather than
    /// failing requests a working run could still sign.
    last: Mutex<Option<(Arc<AwsCredential>, SystemTime)>>,
}

impl std::fmt::Debug for SdkCredentials {
    // Never the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkCredentials")
            .field("profile", &self.info.choice.name)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        if let Some(credential) = self
            .cache
            .yield_or_clear_if_expired(SystemTime::now())
            .await
        {
            return Ok(credential);
        }
        let load = || async {
            let fetched = SystemTime::now();
            let (credentials, source) = match self.load().await {
                Ok(loaded) => loaded,
                Err(message) => return self.still_valid(fetched, message),
            };
            *self.answered.lock().unwrap_or_else(PoisonError::into_inner) = Some(source);
            let credential = Arc::new(AwsCredential {
                key_id: credentials.access_key_id().to_string(),
                secret_key: credentials.secret_access_key().to_string(),
                token: credentials.session_token().map(str::to_string),
            });
            let expires = credentials.expiry().unwrap_or(fetched + UNEXPIRING_REUSE);
            *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((credential.clone(), expires));
            Ok((credential, refresh_at(fetched, credentials.expiry())))
        };
        self.cache.get_or_load(load).await
    }
}

impl SdkCredentials {
    fn new(info: ProfileInfo, sources: Vec<(Source, SharedCredentialsProvider)>) -> Self {
        SdkCredentials {
            info,
            sources,
            cache: ExpiringCache::new(Duration::ZERO),
            answered: Mutex::new(None),
            last: Mutex::new(None),
        }
    }

    /// After a failed load: the last credentials if they are still valid for a while, to be
    /// refreshed again after [`RETRY_AFTER_FAILURE`]; otherwise the failure, in one line.
    #[allow(clippy::type_complexity)]
    fn still_valid(
        &self,
        now: SystemTime,
        message: String,
    ) -> Result<(Arc<AwsCredential>, SystemTime), object_store::Error> {
        let last = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match last {
            Some((credential, expires)) if expires > now + RETRY_AFTER_FAILURE => {
                Ok((credential, now + RETRY_AFTER_FAILURE))
            }
            _ => Err(object_store::Error::Generic {
                store: "S3",
                source: Box::new(CredentialsUnavailable(message)),
            }),
        }
    }

    /// What to check when S3 rejects these credentials: where they came from.
    pub(crate) fn hint(&self) -> Option<String> {
        let source = (*self.answered.lock().unwrap_or_else(PoisonError::into_inner))?;
        Some(format!(
            " (check the credentials of {})",
            self.origin(source)
        ))
    }

    /// Asks the sources in order; the first that has credentials gives them.
    async fn load(&self) -> Result<(Credentials, Source), String> {
        for (source, provider) in &self.sources {
            let result = match source {
                Source::InstanceMetadata => {
                    tokio::time::timeout(IMDS_BUDGET, provider.provide_credentials())
                        .await
                        .unwrap_or_else(|_| Err(CredentialsError::not_loaded("no answer")))
                }
                _ => provider.provide_credentials().await,
            };
            match result {
                Ok(credentials) => return Ok((credentials, *source)),
                Err(CredentialsError::CredentialsNotLoaded(_)) => {}
                // Off EC2 the metadata service does not answer, or not as one: no credentials there.
                Err(e)
                    if *source == Source::InstanceMetadata
                        && !matches!(e, CredentialsError::InvalidConfiguration(_)) => {}
                Err(e) => return Err(self.failed(*source, &e)),
            }
        }
        Err(self.not_found())
    }

    /// What the credentials came from, for messages.
    fn origin(&self, source: Source) -> String {
        let info = &self.info;
        match source {
            Source::Profile => {
                let kind = info.kind.map(|k| format!(" ({})", k.label()));
                let kind = kind.unwrap_or_default();
                format!("{}{kind} in {}", info.choice.describe(), info.files)
            }
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
    fn not_found(&self) -> String {
        let info = &self.info;
        let set = |var: &str| std::env::var_os(var).is_some();
        let note = |unset: bool, what: &str, note: &str| match unset {
            true => format!("{what} ({note})"),
            false => what.to_string(),
        };
        let mut tried = Vec::new();
        if info.choice.origin != Origin::Flag {
            tried.push("environment variables (AWS_ACCESS_KEY_ID unset)".to_string());
        }
        tried.push(match (info.exists, info.kind) {
            (false, _) => format!("{} (not in {})", info.choice.describe(), info.files),
            (true, None) => format!("{} (no credentials in it)", self.origin(Source::Profile)),
            (true, Some(_)) => self.origin(Source::Profile),
        });
        let token_file = "AWS_WEB_IDENTITY_TOKEN_FILE";
        tried.push(note(
            !set(token_file),
            "web identity",
            "AWS_WEB_IDENTITY_TOKEN_FILE unset",
        ));
        let container = set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            || set("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        let unset = "AWS_CONTAINER_CREDENTIALS_* unset";
        tried.push(note(!container, "container credentials", unset));
        let disabled = std::env::var("AWS_EC2_METADATA_DISABLED")
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"));
        tried.push(match disabled {
            true => "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)".into(),
            false => "EC2 instance metadata (no answer)".into(),
        });
        let profile = match info.choice.origin {
            Origin::Default => "NAME",
            _ => info.choice.name.as_str(),
        };
        format!(
            "no AWS credentials found; tried {}; sign in with `aws sso login --profile {profile}`, \
             choose a profile with --profile NAME or AWS_PROFILE, \
             or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            tried.join(", ")
        )
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
        assert_eq!(refresh_at(at(0), Some(at(3600))), at(3300));
        // A minute's: halfway.
        assert_eq!(refresh_at(at(0), Some(at(60))), at(30));
        // Expired already: at once.
        assert_eq!(refresh_at(at(100), Some(at(50))), at(50));
        // Without expiry: a quarter of an hour later, as the SDK's own cache.
        assert_eq!(refresh_at(at(0), None), at(900));
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
        let chain = |name: &str, origin| Some(choice(name, origin));
        assert_eq!(
            profile_choice(&none, env(&[])),
            chain("default", Origin::Default)
        );
        assert_eq!(
            profile_choice(&none, env(&[("AWS_PROFILE", "dev")])),
            chain("dev", Origin::Env)
        );
        // Static keys in the environment: object_store's from_env, as before, even with AWS_PROFILE.
        let keys = &[
            ("AWS_ACCESS_KEY_ID", "AKIA"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_PROFILE", "dev"),
        ];
        assert_eq!(profile_choice(&none, env(keys)), None);
        assert_eq!(
            profile_choice(&none, env(&[("AWS_SECRET_ACCESS_KEY", "s")])),
            None
        );
        // --profile wins over the keys, as in the AWS CLI.
        assert_eq!(
            profile_choice(&flag, env(keys)),
            chain("audit", Origin::Flag)
        );
        // Unsigned requests need no credentials.
        assert_eq!(
            profile_choice(&flag, env(&[("AWS_SKIP_SIGNATURE", "true")])),
            None
        );
        assert_eq!(
            profile_choice(&none, env(&[("AWS_SKIP_SIGNATURE", "false")])),
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

    #[tokio::test]
    async fn profiles_give_their_kind_and_unknown_ones_are_named() {
        let (_dir, env) = files(
            "[default]\nregion = eu-west-1\n\
             [profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
             [sso-session corp]\nsso_start_url = https://x\nsso_region = eu-west-1\n\
             [profile proc]\ncredential_process = /bin/true\nregion = us-west-2\n\
             [profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = keys\n",
            "[keys]\naws_access_key_id = AKIA\naws_secret_access_key = s3cr3t\n",
        );
        let read = async |name, origin| read_profile(&env, &choice(name, origin)).await;
        let default = read("default", Origin::Default).await.unwrap();
        assert_eq!(default.kind, None);
        assert!(default.exists);
        let kind = async |name| read(name, Origin::Flag).await.unwrap().kind;
        assert_eq!(kind("sso").await, Some(ProfileKind::Sso));
        assert_eq!(kind("proc").await, Some(ProfileKind::Process));
        assert_eq!(kind("role").await, Some(ProfileKind::AssumeRole));
        assert_eq!(kind("keys").await, Some(ProfileKind::Keys));

        let Err(ProfileError::Unknown(message)) = read("nope", Origin::Flag).await else {
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
        let absent = read_profile(&env, &choice("default", Origin::Default)).await;
        assert!(!absent.unwrap().exists);
    }

    #[tokio::test]
    async fn broken_profile_files_are_one_line_without_their_contents() {
        let (_dir, env) = files("[default]\nregion\n", "[x]\naws_secret_access_key s3cr3t\n");
        let Err(ProfileError::Unreadable(message)) =
            read_profile(&env, &choice("default", Origin::Default)).await
        else {
            panic!("a broken file is an error");
        };
        assert!(!message.contains('\n'), "{message}");
        assert!(message.contains("line"), "{message}");
        assert!(!message.contains("s3cr3t"), "{message}");
    }

    /// `Location::parse` reads the profiles from inside the product's runtime (and from outside
    /// any): the SDK's loaders run to their end whatever they await.
    #[tokio::test]
    async fn the_sdk_loaders_run_to_their_end_inside_a_runtime() {
        let slept = run_to_end(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok("slept")
        });
        assert_eq!(slept, Ok("slept"));
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
        };
        let sources = vec![(Source::Profile, SharedCredentialsProvider::new(source))];
        (SdkCredentials::new(info, sources), calls)
    }

    #[tokio::test]
    async fn many_requests_at_once_run_the_chain_once() {
        for life in [None, Some(Duration::from_secs(3600))] {
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
            let hint = provider.hint().unwrap();
            assert!(hint.contains("profile 'proc' (--profile) (credential_process)"));
        }
    }

    #[tokio::test]
    async fn credentials_due_for_refresh_are_fetched_again() {
        // Expired as soon as fetched: fetched again by the next request.
        let (expired, calls) = provider(Some(Duration::ZERO), usize::MAX);
        assert_eq!(expired.get_credential().await.unwrap().key_id, "AKIA0");
        assert_eq!(expired.get_credential().await.unwrap().key_id, "AKIA1");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_load_is_one_line_and_tried_again() {
        let (failing, calls) = provider(None, 0);
        let error = failing.get_credential().await.unwrap_err();
        let object_store::Error::Generic { source, .. } = &error else {
            panic!("{error}");
        };
        let message = source.to_string();
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
        // A failure is not cached.
        failing.get_credential().await.unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(failing.hint(), None);
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_credentials_that_are_still_valid() {
        // Valid for an hour, due for refresh at once (no early margin for this test's life is
        // needed: the cache is cleared by hand), and every load after the first fails.
        let (provider, calls) = provider(Some(Duration::from_secs(3600)), 1);
        assert_eq!(provider.get_credential().await.unwrap().key_id, "AKIA0");
        clear(&provider).await;
        assert_eq!(
            provider.get_credential().await.unwrap().key_id,
            "AKIA0",
            "the refresh failed: the valid credentials are used"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "the refresh was tried");
        // Expired credentials are not kept.
        let (expired, _) = provider_expired();
        assert_eq!(expired.get_credential().await.unwrap().key_id, "AKIA0");
        clear(&expired).await;
        expired.get_credential().await.unwrap_err();
    }

    /// Empties the cache, as its expiry would.
    async fn clear(provider: &SdkCredentials) {
        let later = SystemTime::now() + Duration::from_secs(7200);
        provider.cache.yield_or_clear_if_expired(later).await;
    }

    /// Credentials that expire at once, after which loads fail.
    fn provider_expired() -> (SdkCredentials, Arc<AtomicUsize>) {
        provider(Some(Duration::ZERO), 1)
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
