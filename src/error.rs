//! The library's error type. Each message says what went wrong and, where it can, what to do.

use crate::store::StoreError;
use crate::table::CommitError;
use crate::writer::WriteError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mistake in how trailpq was called (exit code 2).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Commit(Box<CommitError>),
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error("{0}")]
    Query(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// 2 for usage errors, 1 when trailpq could not do its work.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_)
            | Error::Store(StoreError::Unsupported(..) | StoreError::UnknownProfile(_)) => 2,
            _ => 1,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<CommitError> for Error {
    fn from(e: CommitError) -> Self {
        Error::Commit(Box::new(e))
    }
}

impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        // DataFusion wraps errors in context layers; the innermost message is the useful one,
        // and its first line says what is wrong (the rest lists every column).
        let message = e.find_root().to_string();
        Error::Query(
            message
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
