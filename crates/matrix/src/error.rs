use std::path::PathBuf;

/// Everything that can go wrong when reading, checking or writing a flash-rec binary file.
///
/// Every variant names the file, so that a message is useful without its context.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// The operating system refused to open, read, map or write the file.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },

    /// The file is not a flash-rec file, or not of the expected kind or version.
    #[error("{path}: {reason}")]
    Foreign {
        /// The file concerned.
        path: PathBuf,
        /// What did not match.
        reason: String,
    },

    /// The file is a flash-rec file but its bytes are damaged or inconsistent.
    #[error("{path}: damaged file: {reason}")]
    Damaged {
        /// The file concerned.
        path: PathBuf,
        /// The first inconsistency found.
        reason: String,
    },
}

impl MatrixError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MatrixError::Io { path: path.into(), source }
    }

    pub(crate) fn damaged(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        MatrixError::Damaged { path: path.into(), reason: reason.into() }
    }

    pub(crate) fn foreign(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        MatrixError::Foreign { path: path.into(), reason: reason.into() }
    }
}
