use std::fmt;
use std::path::PathBuf;

use flash_matrix::MatrixError;

/// Where in a source file a problem is: a 1-based text line, or a 1-based Parquet row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A line of a CSV or TSV file, counting the header.
    Line(u64),
    /// A row of a Parquet file.
    Row(u64),
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Row(row) => write!(f, "row {row}"),
        }
    }
}

/// Everything that can go wrong while reading sources or the cache.
///
/// Each variant names the file; those about a value also name its position and the value
/// itself, so the message alone is enough to find and fix the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying failure.
        source: std::io::Error,
    },

    /// A value or a line breaks the input's rules.
    #[error("{path}: {position}: {reason}: '{value}'")]
    BadValue {
        /// The file concerned.
        path: PathBuf,
        /// The line (or Parquet row) of the value.
        position: Position,
        /// The offending text, shortened if very long.
        value: String,
        /// The rule it breaks.
        reason: String,
    },

    /// The header lacks a required column, or the file has no data.
    #[error("{path}: {reason}")]
    Layout {
        /// The file concerned.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },

    /// The same (user, item) pair is rated twice and duplicates are refused.
    #[error(
        "{path}: user {user} rates item {item} twice, at {first} and at {second} \
         (use --on-duplicate keep-latest to keep the latest)"
    )]
    Duplicate {
        /// The file concerned.
        path: PathBuf,
        /// Original user id.
        user: i64,
        /// Original item id.
        item: i64,
        /// Position of the first rating.
        first: Position,
        /// Position of the repeated rating.
        second: Position,
    },

    /// polars failed in a way the line-by-line diagnosis could not pin down.
    #[error("{path}: {message}")]
    Reader {
        /// The file concerned.
        path: PathBuf,
        /// polars' own message.
        message: String,
    },

    /// A binary file that is not part of a cache is missing, damaged or foreign.
    #[error(transparent)]
    Matrix(#[from] MatrixError),

    /// A file of a prepared cache is missing, damaged or foreign: the cache must be rebuilt.
    #[error("{source}; run prepare again with --force to rebuild the cache")]
    DamagedCache {
        /// What is wrong with which file.
        source: MatrixError,
    },

    /// The options contradict each other or are out of range.
    #[error("{0}")]
    Options(String),
}

impl IngestError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io { path: path.into(), source }
    }

    pub(crate) fn layout(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        IngestError::Layout { path: path.into(), reason: reason.into() }
    }

    pub(crate) fn bad_value(
        path: impl Into<PathBuf>,
        position: Position,
        value: &str,
        reason: impl Into<String>,
    ) -> Self {
        IngestError::BadValue {
            path: path.into(),
            position,
            value: shorten(value),
            reason: reason.into(),
        }
    }
}

/// A value is quoted in full up to 80 characters; a 10 MB line must not become the message.
fn shorten(value: &str) -> String {
    const LIMIT: usize = 80;
    match value.char_indices().nth(LIMIT) {
        None => value.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes)", &value[..cut], value.len()),
    }
}
