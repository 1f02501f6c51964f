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
    /// A query that does not fit in its memory limit, even spilling to disk.
    #[error(
        "the query needs more memory than its limit{} allows, even spilling to disk: give it more \
         with --memory-limit (in the shell, .memory), such as --memory-limit {}, or narrow it \
         (--since/--until, a WHERE clause, fewer columns)",
        limit.map(|n| format!(" ({})", indicatif::HumanBytes(n as u64))).unwrap_or_default(),
        limit.map_or("8GiB".into(), |n| indicatif::HumanBytes(n as u64 * 4).to_string().replace(' ', ""))
    )]
    Memory { limit: Option<usize> },
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
    /// Running out of memory says what to change (the limit, or the query), not which of
    /// DataFusion's operators held the memory.
    fn from(e: datafusion::error::DataFusionError) -> Self {
        let root = e.find_root();
        if let datafusion::error::DataFusionError::ResourcesExhausted(_) = root {
            return Error::Memory { limit: None };
        }
        // DataFusion wraps errors in context layers; the innermost message is the useful one,
        // and its first line says what is wrong (the rest lists every column).
        let message = root.to_string();
        let first = message.lines().map(str::trim).find(|l| !l.is_empty());
        Error::Query(first.unwrap_or_default().to_string())
    }
}

impl Error {
    /// The limit of a memory error, where the caller knows it.
    pub fn with_memory_limit(self, known: Option<usize>) -> Self {
        match self {
            Error::Memory { limit: None } => Error::Memory { limit: known },
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::error::DataFusionError;

    #[test]
    fn out_of_memory_names_the_flag_and_other_errors_keep_their_first_line() {
        let e = DataFusionError::Context(
            "Not enough memory to continue external sort".into(),
            Box::new(DataFusionError::ResourcesExhausted(
                "Failed to allocate additional 1788.4 KB for ExternalSorterMerge[0]\n  more".into(),
            )),
        );
        let message = Error::from(e).with_memory_limit(Some(1 << 30)).to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(!message.contains("ExternalSorter"), "{message}");
        assert!(
            message.contains("limit (1.00 GiB)") && message.contains("--memory-limit 4.00GiB"),
            "{message}"
        );
        let plan = DataFusionError::Plan("No field named nope.\nValid fields are a, b".into());
        assert_eq!(Error::from(plan).to_string().lines().count(), 1);
    }
}
