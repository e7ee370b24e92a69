use crate::ParamError;

/// Which side of the factorisation a row belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A user row.
    User,
    /// An item row.
    Item,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::User => "user",
            Side::Item => "item",
        })
    }
}

/// Why training could not run or finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A hyper-parameter is out of its domain.
    #[error(transparent)]
    Params(#[from] ParamError),

    /// The matrices do not describe the same ratings.
    #[error("inconsistent training data: {0}")]
    Data(String),

    /// A row's system was not positive definite (overflowing parameters).
    #[error(
        "{side} row {row}: the normal equations are not positive definite at column {column}; \
         increase tau or decrease lambda"
    )]
    NotPositiveDefinite {
        /// The side of the row.
        side: Side,
        /// Dense index of the row.
        row: usize,
        /// Column of the failed pivot.
        column: usize,
    },

    /// A factor or bias became NaN or infinite.
    #[error("{side} row {row} became non-finite after an update; the parameters overflow")]
    NonFinite {
        /// The side of the row.
        side: Side,
        /// Dense index of the row.
        row: usize,
    },

    /// The thread pool could not be created.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
}
