//! Object-store access: SOURCE and DEST arguments as stores and prefixes, listing and reading.
//!
//! Local paths, `file://`, `s3://`, `gs://` and `az://` URLs all go through `object_store`.
//! Region and endpoint come from the usual environment variables (`AWS_*`, `GOOGLE_*`,
//! `AZURE_*`), read by the `from_env` builders; so do GCS and Azure credentials. S3 credentials
//! come from the AWS SDK's provider chain (profiles, SSO, credential_process, roles, web identity,
//! container and instance credentials) unless static keys are in the environment: see [`aws`].
//!
//! The one setting from the command line, `--profile`, is process-wide ([`configure`]), so every
//! [`Location::parse`] of a run uses it without each caller passing it on.

pub mod aws;

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
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

static OPTIONS: RwLock<StoreOptions> = RwLock::new(StoreOptions { profile: None });

/// Sets the options every later [`Location::parse`] uses: once, before the command runs.
pub fn configure(options: StoreOptions) {
    *OPTIONS.write().unwrap_or_else(PoisonError::into_inner) = options;
}

/// The options set by [`configure`] (the defaults if it was not called).
pub fn options() -> StoreOptions {
    OPTIONS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Turns an `object_store` error into a one-line, actionable message: the HTTP status and the
/// service's error code when there are some, and what to check.
pub fn describe(error: &object_store::Error) -> String {
    // No credentials, or a source of them failed: the message says it all.
    if let Some(message) = aws::unavailable(error) {
        return message;
    }
    let text = error.to_string();
    let between = |start: &str, end: &str| {
        let from = text.find(start)? + start.len();
        let to = text[from..].find(end)? + from;
        Some(text[from..to].trim().to_string())
    };
    let code = between("<Code>", "</Code>");
    let status = between("status code: ", ":").filter(|s| s.len() < 40);
    let hint = match code.as_deref() {
        Some("SignatureDoesNotMatch" | "InvalidAccessKeyId" | "ExpiredToken" | "InvalidToken") => {
            aws::credentials_hint()
        }
        Some("AccessDenied") => " (the credentials are not allowed to do this)".into(),
        Some("NoSuchBucket") => " (no such bucket)".into(),
        Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            " (the bucket is in another region: set AWS_REGION or the profile's region)".into()
        }
        _ => String::new(),
    };
    if text.contains("error sending request") || text.contains("dns error") {
        // Nothing answered: name the endpoint rather than the request.
        let endpoint = between("GET ", " ")
            .or_else(|| between("PUT ", " "))
            .unwrap_or_default();
        let endpoint = endpoint.split('/').take(3).collect::<Vec<_>>().join("/");
        return format!(
            "cannot reach {endpoint} (check AWS_ENDPOINT_URL, the network and the region)"
        );
    }
    match (status, code) {
        (Some(status), Some(code)) => format!("{status}, {code}{hint}"),
        (Some(status), None) => format!("{status}{hint}"),
        // object_store errors nest their causes; one line is enough.
        _ => format!("{}{hint}", text.lines().next().unwrap_or_default()),
    }
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
        Self::parse_with(given, &options())
    }

    /// Parses a SOURCE or DEST argument with these options.
    pub fn parse_with(given: &str, options: &StoreOptions) -> Result<Self, StoreError> {
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
                s3_builder(given, options)?
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

/// object_store's S3 builder from the environment, with the AWS SDK's credentials and the
/// profile's region when [`aws::s3_auth`] says so.
fn s3_builder(given: &str, options: &StoreOptions) -> Result<AmazonS3Builder, StoreError> {
    let builder = AmazonS3Builder::from_env();
    let aws::S3Auth::Chain(choice) = aws::s3_auth(options, |k| std::env::var(k).ok()) else {
        return Ok(builder);
    };
    let env = aws_types::os_shim_internal::Env::real();
    let info = aws::read_profile(&env, &choice).map_err(|e| match e {
        aws::ProfileError::Unknown(message) => StoreError::UnknownProfile(message),
        aws::ProfileError::Unreadable(message) => StoreError::Config(given.to_string(), message),
    })?;
    let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|r| !r.trim().is_empty()));
    let builder = match (&env_region, &info.region) {
        // object_store read AWS_REGION or AWS_DEFAULT_REGION already.
        (None, Some(region)) => builder.with_region(region),
        _ => builder,
    };
    let region = env_region.or_else(|| info.region.clone());
    Ok(builder.with_credentials(aws::shared_credentials(&info, region)))
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
