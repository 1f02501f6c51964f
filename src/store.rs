//! Object-store access: SOURCE and DEST arguments as stores and prefixes, listing and reading.
//!
//! Local paths, `file://`, `s3://`, `gs://` and `az://` URLs all go through `object_store`.
//! Region and endpoint come from the usual environment variables (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*`), read by the `from_env` builders; so do GCS and Azure credentials. S3 credentials
//! come from the AWS SDK's provider chain (profiles, SSO, credential_process, roles, web identity,
//! container and instance credentials) unless static keys are in the environment: see [`aws`].
//!
//! The one setting from the command line, `--profile`, is given once a run ([`configure`]) rather
//! than to each [`Location::parse`]: the locations are parsed in four modules, each a few calls
//! below the command, and every `s3://` location of a run must share one credentials cache anyway
//! (one `credential_process` run, one SSO or STS call a run, not one a location). That cache is
//! process-wide state whoever passes the options, so the options live beside it, in `RUN`, the
//! one static of this module and of [`aws`].

pub mod aws;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::client::{HttpError, HttpErrorKind};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::list::PaginatedListStore;
use object_store::local::LocalFileSystem;
use object_store::path::{Path, PathPart};
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use url::Url;

/// Errors of object-store access, with the location they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "'{0}' is not a supported location: use a local path, file://, s3://, gs:// or az:// ({1})"
    )]
    Unsupported(String, String),
    #[error("cannot use '{0}': {1}")]
    Config(String, String),
    #[error("'{0}' does not exist")]
    NotFound(String),
    #[error("'{location}': {message}")]
    Access { location: String, message: String },
    /// A profile named by `--profile` or `AWS_PROFILE` that the AWS config files do not have.
    #[error("{0}")]
    UnknownProfile(String),
}

/// Settings of object-store access given on the command line rather than in the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOptions {
    /// The AWS profile S3 credentials and region come from (`--profile`); overrides
    /// `AWS_PROFILE` and static keys in the environment.
    pub profile: Option<String>,
}

/// The options of the run, and how its `s3://` requests are signed.
struct Run {
    options: StoreOptions,
    /// Decided, and the AWS profile read, at the run's first `s3://` location; then shared by
    /// all of them.
    s3: Option<Result<aws::S3Signing, aws::ProfileError>>,
}

static RUN: Mutex<Run> = Mutex::new(Run {
    options: StoreOptions { profile: None },
    s3: None,
});

fn run() -> MutexGuard<'static, Run> {
    RUN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets the options every later [`Location::parse`] uses: once, before the command runs.
pub fn configure(options: StoreOptions) {
    *run() = Run { options, s3: None };
}

/// How the run's `s3://` requests are signed (decided at the first one).
fn s3_signing() -> Result<aws::S3Signing, aws::ProfileError> {
    let mut run = run();
    let Run { options, s3 } = &mut *run;
    s3.get_or_insert_with(|| aws::s3_signing(options)).clone()
}

/// Turns an `object_store` error into a one-line, actionable message: the HTTP status and the
/// service's error code when there are some, and what to check.
pub fn describe(error: &object_store::Error) -> String {
    // No credentials, or a source of them failed: the message says it all.
    if let Some(unavailable) = cause::<aws::CredentialsUnavailable>(error) {
        return unavailable.to_string();
    }
    // object_store keeps an answer's status and body, and the URL of a request, in its RetryError,
    // whose type is private (`client::retry`): its message is the only way to them.
    let text = error.to_string();
    let between = |start: &str, end: &str| {
        let from = text.find(start)? + start.len();
        let to = text[from..].find(end)? + from;
        Some(text[from..to].trim().to_string())
    };
    // The request got no answer: object_store's HttpError says why; name the endpoint.
    let unanswered = cause::<HttpError>(error).and_then(|e| match e.kind() {
        HttpErrorKind::Connect => Some("cannot reach"),
        HttpErrorKind::Timeout => Some("no answer in time from"),
        HttpErrorKind::Request | HttpErrorKind::Interrupted => {
            Some("the connection broke off with")
        }
        // An answer that could not be read.
        _ => None,
    });
    if let Some(what) = unanswered {
        let endpoint = (text.split_whitespace())
            .filter_map(|word| Url::parse(word).ok())
            .find(|url| matches!(url.scheme(), "http" | "https"))
            .map_or("the object store".into(), |url| {
                url.origin().ascii_serialization()
            });
        return format!("{what} {endpoint} (check AWS_ENDPOINT_URL, the network and the region)");
    }
    let code = between("<Code>", "</Code>");
    let status = between("status code: ", ":").filter(|s| s.len() < 40);
    let hint = match code.as_deref() {
        Some("SignatureDoesNotMatch" | "InvalidAccessKeyId" | "ExpiredToken" | "InvalidToken") => {
            credentials_hint()
        }
        Some("NoSuchBucket") => " (no such bucket)".into(),
        Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            " (the bucket is in another region: set AWS_REGION or the profile's region)".into()
        }
        // Another 403 (only the HTTP stores return PermissionDenied).
        _ if matches!(error, object_store::Error::PermissionDenied { .. }) => {
            " (the credentials are not allowed to do this)".into()
        }
        _ => String::new(),
    };
    match (status, code) {
        (Some(status), Some(code)) => format!("{status}, {code}{hint}"),
        (Some(status), None) => format!("{status}{hint}"),
        // object_store errors nest their causes; one line is enough.
        _ => format!("{}{hint}", text.lines().next().unwrap_or_default()),
    }
}

/// The first cause of `error` (or `error` itself) of type `E`.
fn cause<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a E> {
    std::iter::successors(Some(error), |&e| e.source()).find_map(|e| e.downcast_ref::<E>())
}

/// What to check when S3 rejects the credentials: where the SDK got them, else the variables
/// object_store read them from.
fn credentials_hint() -> String {
    let sdk = match &run().s3 {
        Some(Ok(aws::S3Signing::Sdk { credentials, .. })) => credentials.hint(),
        _ => None,
    };
    sdk.unwrap_or_else(|| {
        " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN)".into()
    })
}

/// A local folder or file, or a prefix in an object store.
#[derive(Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    /// The same store's page-by-page listing, where it has one (S3, GCS, Azure): listings that
    /// start at an offset, and an exact count of requests.
    pub pager: Option<Arc<dyn PaginatedListStore>>,
    /// The prefix (or object) inside the store.
    pub prefix: Path,
    /// `scheme://bucket` for object stores; `None` for the local file system.
    pub base_url: Option<Url>,
    /// What the user typed.
    pub given: String,
}

impl Location {
    /// Parses a SOURCE or DEST argument, with the options of the run ([`configure`]).
    pub fn parse(given: &str) -> Result<Self, StoreError> {
        let unsupported = |why: &str| StoreError::Unsupported(given.to_string(), why.to_string());
        if !given.contains("://") {
            return Self::local(given, PathBuf::from(given));
        }
        let url = Url::parse(given).map_err(|e| unsupported(&e.to_string()))?;
        let config = |e: object_store::Error| StoreError::Config(given.to_string(), describe(&e));
        let (store, pager): (Arc<dyn ObjectStore>, Arc<dyn PaginatedListStore>) = match url.scheme()
        {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| unsupported("not a file path"))?;
                return Self::local(given, path);
            }
            "s3" | "s3a" => both(
                s3_builder(given)?
                    .with_url(given)
                    .with_retry(retry_config()?)
                    .build()
                    .map_err(config)?,
            ),
            "gs" => both(
                GoogleCloudStorageBuilder::from_env()
                    .with_url(given)
                    .build()
                    .map_err(config)?,
            ),
            "az" | "azure" | "abfs" | "abfss" | "adl" => both(
                MicrosoftAzureBuilder::from_env()
                    .with_url(given)
                    .build()
                    .map_err(config)?,
            ),
            other => return Err(unsupported(&format!("unknown scheme '{other}'"))),
        };
        let host = url
            .host_str()
            .ok_or_else(|| unsupported("no bucket or container"))?;
        let base_url = Url::parse(&format!("{}://{host}", url.scheme()))
            .map_err(|e| unsupported(&e.to_string()))?;
        let prefix = Path::from_url_path(url.path()).map_err(|e| unsupported(&e.to_string()))?;
        Ok(Location {
            store,
            pager: Some(pager),
            prefix,
            base_url: Some(base_url),
            given: given.to_string(),
        })
    }

    fn local(given: &str, path: PathBuf) -> Result<Self, StoreError> {
        let absolute = std::fs::canonicalize(&path)
            .or_else(|_| std::path::absolute(&path).map(|p| normalize(&p)))
            .map_err(|e| StoreError::Config(given.to_string(), e.to_string()))?;
        let prefix = Path::from_absolute_path(&absolute)
            .map_err(|e| StoreError::Config(given.to_string(), e.to_string()))?;
        Ok(Location {
            store: Arc::new(LocalFileSystem::new()),
            pager: None,
            prefix,
            base_url: None,
            given: given.to_string(),
        })
    }

    pub fn is_local(&self) -> bool {
        self.base_url.is_none()
    }

    /// The path of `segments` (names exactly as they should appear on disk or in the key)
    /// under the prefix. A segment may hold `%` (Hive escapes): both the local store and the
    /// object stores keep a segment's characters as given.
    pub fn child(&self, segments: &[&str]) -> Path {
        let mut path = self.prefix.clone();
        for segment in segments
            .iter()
            .flat_map(|s| s.split('/'))
            .filter(|s| !s.is_empty())
        {
            path = path.join(PathPart::parse(segment).unwrap_or_else(|_| PathPart::from(segment)));
        }
        path
    }

    /// The user-facing name of an object: an absolute file path, or a full URL.
    pub fn display(&self, path: &Path) -> String {
        match &self.base_url {
            None => format!("/{}", path.as_ref()),
            Some(base) => format!("{}/{}", base.as_str().trim_end_matches('/'), path.as_ref()),
        }
    }

    /// The path of `path` below the prefix.
    pub fn relative(&self, path: &Path) -> String {
        path.prefix_match(&self.prefix)
            .map(|parts| {
                parts
                    .map(|p| p.as_ref().to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }

    /// The URL DataFusion should use for a folder under this location.
    pub fn table_url(&self, segments: &[&str]) -> String {
        format!("{}/", self.display(&self.child(segments)))
    }

    pub async fn get_bytes(&self, path: &Path) -> Result<Bytes, object_store::Error> {
        self.store.get(path).await?.bytes().await
    }

    pub async fn put_bytes(&self, path: &Path, bytes: Bytes) -> Result<(), object_store::Error> {
        self.store
            .put(path, PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
    }
}

/// A store as both an object store and a paged lister.
fn both<S: ObjectStore + PaginatedListStore>(
    store: S,
) -> (Arc<dyn ObjectStore>, Arc<dyn PaginatedListStore>) {
    let store = Arc::new(store);
    (store.clone(), store)
}

/// object_store's S3 builder from the environment, with the AWS SDK's credentials and region
/// when they sign the run's requests.
fn s3_builder(given: &str) -> Result<AmazonS3Builder, StoreError> {
    let builder = AmazonS3Builder::from_env();
    match s3_signing() {
        Ok(aws::S3Signing::Environment) => Ok(builder),
        Ok(aws::S3Signing::Sdk {
            region,
            credentials,
        }) => {
            let builder = match region {
                Some(region) => builder.with_region(region.as_ref()),
                None => builder,
            };
            Ok(builder.with_credentials(credentials))
        }
        Err(aws::ProfileError::Unknown(message)) => Err(StoreError::UnknownProfile(message)),
        Err(aws::ProfileError::Unreadable(message)) => {
            Err(StoreError::Config(given.to_string(), message))
        }
    }
}

/// How often a failed request is tried: `AWS_MAX_ATTEMPTS` (attempts in all, as the AWS CLI
/// and SDKs read it), else object_store's default (10 retries within 3 minutes, with backoff).
fn retry_config() -> Result<RetryConfig, StoreError> {
    let mut retry = RetryConfig::default();
    if let Ok(text) = std::env::var("AWS_MAX_ATTEMPTS") {
        let attempts: usize = text
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| {
                StoreError::Config(
                    "AWS_MAX_ATTEMPTS".into(),
                    format!("'{text}' is not a number of attempts (1 or more)"),
                )
            })?;
        retry.max_retries = attempts - 1;
    }
    Ok(retry)
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location")
            .field("store", &self.store)
            .field("prefix", &self.prefix)
            .field("given", &self.given)
            .finish()
    }
}

/// Resolves `.` and `..` in an absolute path without touching the file system.
fn normalize(path: &std::path::Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;
    use object_store::ObjectMeta;

    #[test]
    fn local_paths_become_absolute() {
        let loc = Location::parse("some/dir").unwrap();
        assert!(loc.is_local());
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            loc.display(&loc.prefix),
            cwd.join("some/dir").display().to_string()
        );
        let file = Location::parse("file:///tmp/x y").unwrap();
        assert_eq!(file.display(&file.prefix), "/tmp/x y");
        let up = Location::parse("/no/such/dir/../other/./x").unwrap();
        assert_eq!(up.display(&up.prefix), "/no/such/other/x");
    }

    #[tokio::test]
    async fn escaped_names_survive_the_local_store() {
        let dir = tempfile::tempdir().unwrap();
        let loc = Location::parse(dir.path().to_str().unwrap()).unwrap();
        let path = loc.child(&["cloudtrail", "region=a%2Fb#1", "x.parquet"]);
        let expected = dir.path().join("cloudtrail/region=a%2Fb#1/x.parquet");
        assert_eq!(loc.display(&path), expected.display().to_string());
        assert_eq!(loc.relative(&path), "cloudtrail/region=a%2Fb#1/x.parquet");
        loc.put_bytes(&path, Bytes::from_static(b"x"))
            .await
            .unwrap();
        assert!(expected.is_file(), "written where display says");
        let listed: Vec<ObjectMeta> = loc
            .store
            .list(Some(&loc.prefix))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].location, path);
    }

    #[test]
    fn errors_are_described_by_their_types_where_object_store_has_some() {
        let generic =
            |source: Box<dyn std::error::Error + Send + Sync>| object_store::Error::Generic {
                store: "S3",
                source,
            };
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let unreachable = generic(Box::new(HttpError::new(HttpErrorKind::Connect, refused)));
        assert_eq!(
            describe(&unreachable),
            "cannot reach the object store (check AWS_ENDPOINT_URL, the network and the region)"
        );
        let message = "no AWS credentials found; tried …";
        let unavailable = generic(Box::new(aws::CredentialsUnavailable(message.into())));
        assert_eq!(describe(&unavailable), message);
        let denied = object_store::Error::PermissionDenied {
            path: "x".into(),
            source: "Server returned non-2xx status code: 403 Forbidden: ".into(),
        };
        assert_eq!(
            describe(&denied),
            "403 Forbidden (the credentials are not allowed to do this)"
        );
    }

    #[test]
    fn object_store_urls() {
        let loc = Location::parse("s3://bucket/AWSLogs/").unwrap();
        assert_eq!(loc.prefix.as_ref(), "AWSLogs");
        let path = loc.child(&["region=a%2Fb"]);
        assert_eq!(path.as_ref(), "AWSLogs/region=a%2Fb");
        assert_eq!(loc.display(&path), "s3://bucket/AWSLogs/region=a%2Fb");
        assert_eq!(
            loc.table_url(&["cloudtrail"]),
            "s3://bucket/AWSLogs/cloudtrail/"
        );
        assert!(matches!(
            Location::parse("http://x/y"),
            Err(StoreError::Unsupported(..))
        ));
        assert!(matches!(
            Location::parse("ftp://x/y"),
            Err(StoreError::Unsupported(..))
        ));
    }
}
