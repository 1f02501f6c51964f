//! Object-store access: SOURCE and DEST arguments as stores and prefixes, listing and reading.
//!
//! Local paths, `file://`, `s3://`, `gs://` and `az://` URLs all go through `object_store`.
//! Credentials, region and endpoint come from the usual environment variables (`AWS_*`,
//! `GOOGLE_*`, `AZURE_*`), read by the `from_env` builders.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::{Path, PathPart};
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
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
}

/// Turns an `object_store` error into a one-line, actionable message: the HTTP status and the
/// service's error code when there are some, and what to check.
pub fn describe(error: &object_store::Error) -> String {
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
            " (check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN)"
        }
        Some("AccessDenied") => " (the credentials are not allowed to do this)",
        Some("NoSuchBucket") => " (no such bucket)",
        Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
            " (the bucket is in another region: set AWS_REGION)"
        }
        _ => "",
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
#[derive(Debug, Clone)]
pub struct Location {
    pub store: Arc<dyn ObjectStore>,
    /// The prefix (or object) inside the store.
    pub prefix: Path,
    /// `scheme://bucket` for object stores; `None` for the local file system.
    pub base_url: Option<Url>,
    /// What the user typed.
    pub given: String,
}

impl Location {
    /// Parses a SOURCE or DEST argument.
    pub fn parse(given: &str) -> Result<Self, StoreError> {
        let unsupported = |why: &str| StoreError::Unsupported(given.to_string(), why.to_string());
        if !given.contains("://") {
            return Self::local(given, PathBuf::from(given));
        }
        let url = Url::parse(given).map_err(|e| unsupported(&e.to_string()))?;
        let config = |e: object_store::Error| StoreError::Config(given.to_string(), describe(&e));
        let store: Arc<dyn ObjectStore> = match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| unsupported("not a file path"))?;
                return Self::local(given, path);
            }
            "s3" | "s3a" => Arc::new(
                AmazonS3Builder::from_env()
                    .with_url(given)
                    .with_retry(retry_config()?)
                    .build()
                    .map_err(config)?,
            ),
            "gs" => Arc::new(
                GoogleCloudStorageBuilder::from_env()
                    .with_url(given)
                    .build()
                    .map_err(config)?,
            ),
            "az" | "azure" | "abfs" | "abfss" | "adl" => Arc::new(
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

    /// Every object under the prefix, or the object the prefix names.
    pub async fn list_files(&self) -> Result<Vec<ObjectMeta>, StoreError> {
        let access = |e: object_store::Error| StoreError::Access {
            location: self.given.clone(),
            message: describe(&e),
        };
        if self.is_local() {
            let path = PathBuf::from(self.display(&self.prefix));
            let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => StoreError::NotFound(self.given.clone()),
                _ => StoreError::Access {
                    location: self.given.clone(),
                    message: e.to_string(),
                },
            })?;
            if meta.is_file() {
                return Ok(vec![self.store.head(&self.prefix).await.map_err(access)?]);
            }
            std::fs::read_dir(&path).map_err(|e| StoreError::Access {
                location: self.given.clone(),
                message: e.to_string(),
            })?;
        }
        let mut files: Vec<ObjectMeta> = self
            .store
            .list(Some(&self.prefix))
            .try_collect()
            .await
            .map_err(access)?;
        if files.is_empty() && !self.is_local() && !self.prefix.as_ref().is_empty() {
            match self.store.head(&self.prefix).await {
                Ok(meta) => files.push(meta),
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(access(e)),
            }
        }
        if files.is_empty() && !self.is_local() {
            // An empty prefix is not an error for a folder, but nothing at all is suspicious.
            return Err(StoreError::NotFound(self.given.clone()));
        }
        files.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(files)
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
        let listed = loc.list_files().await.unwrap();
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
