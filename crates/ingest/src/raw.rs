//! Ratings as read from a file, before ids are mapped and the split is drawn.

use std::path::PathBuf;

use crate::Position;

/// The columns of one ratings file, row `r` being the file's `r`-th rating.
#[derive(Debug, Default)]
pub(crate) struct RawRatings {
    pub path: PathBuf,
    pub users: Vec<i64>,
    pub items: Vec<i64>,
    pub ratings: Vec<f32>,
    /// Present when the file has a timestamp column; used to keep the latest duplicate.
    pub timestamps: Option<Vec<i64>>,
    /// How row indices map to positions in the file.
    pub numbering: RowNumbering,
}

/// How to turn a row index into a position a person can find in the file.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum RowNumbering {
    /// Text: row 0 is on `first_line`, one row per line.
    Lines { first_line: u64 },
    /// Parquet: rows counted from 1.
    #[default]
    Rows,
}

impl RawRatings {
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Where row `row` is in the file.
    pub fn position(&self, row: usize) -> Position {
        match self.numbering {
            RowNumbering::Lines { first_line } => Position::Line(first_line + row as u64),
            RowNumbering::Rows => Position::Row(row as u64 + 1),
        }
    }
}
