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
        // and its first line says what is wrong (the rest lists every column), except when memory
        // ran out: then the following lines name the operators that held it, and are kept (on
        // the same line) so the message says what to change.
        let root = e.find_root();
        let message = root.to_string();
        let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
        let first = lines.next().unwrap_or_default().to_string();
        Error::Query(match root {
            datafusion::error::DataFusionError::ResourcesExhausted(_) => {
                let rest: Vec<&str> = lines.collect();
                match rest.is_empty() {
                    true => first,
                    false => format!("{first} {}", rest.join("; ")),
                }
            }
            _ => first,
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::error::DataFusionError;

    #[test]
    fn out_of_memory_names_the_consumers_and_other_errors_keep_their_first_line() {
        let e = DataFusionError::ResourcesExhausted(
            "Additional allocation failed for ExternalSorterMerge[0] with top memory consumers (across reservations) as:\n  ExternalSorter[0]#3(can spill: true) consumed 900.0 MB\n  ExternalSorterMerge[0]#4(can spill: false) consumed 10.0 MB".into(),
        );
        let message = Error::from(e).to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains("as: ExternalSorter[0]#3(can spill: true) consumed 900.0 MB; ExternalSorterMerge[0]#4"),
            "{message}"
        );
        let plan = DataFusionError::Plan("No field named nope.\nValid fields are a, b".into());
        assert_eq!(Error::from(plan).to_string().lines().count(), 1);
    }
}
