//! Ratings already in memory (the columns of a data frame, or arrays) as a source of
//! [`prepare`](crate::prepare), so that bindings need not write a file first.
//!
//! Rows are counted from 1 in messages, as for Parquet files, and the columns' `name` stands in
//! for the file path. The cache of such a source is keyed by [`RatingColumns::content_hash`]
//! instead of file lengths and times.

use std::fmt;
use std::path::PathBuf;

use xxhash_rust::xxh3::Xxh3;

use crate::raw::{RawRatings, RowNumbering, TOO_MANY_IDS};
use crate::timestamps::Timestamps;
use crate::{IngestError, Position, RatingScale};

/// One rating per row, in the order a file would list them (the order decides which duplicate
/// is the latest when timestamps tie or are absent).
#[derive(Clone, Default)]
pub struct RatingColumns {
    /// What the ratings are called in messages, in place of a file path ("DataFrame", say).
    pub name: String,
    /// Original user ids.
    pub users: Vec<i64>,
    /// Original item ids.
    pub items: Vec<i64>,
    /// Ratings, checked against the scale of the request.
    pub ratings: Vec<f64>,
    /// Optional timestamps, used only to keep the latest of duplicate ratings.
    pub timestamps: Option<Vec<i64>>,
}

impl RatingColumns {
    /// Number of ratings (rows of the user column).
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// xxh3-64 of the content (ids, ratings, timestamps and the lengths; not the name): equal
    /// columns give equal hashes on every machine.
    pub fn content_hash(&self) -> u64 {
        let mut hasher = Xxh3::new();
        for length in [self.users.len(), self.items.len(), self.ratings.len()] {
            hasher.update(&(length as u64).to_le_bytes());
        }
        hasher.update(bytemuck::cast_slice(&self.users));
        hasher.update(bytemuck::cast_slice(&self.items));
        hasher.update(bytemuck::cast_slice(&self.ratings));
        match &self.timestamps {
            Some(timestamps) => {
                hasher.update(&(timestamps.len() as u64).to_le_bytes());
                hasher.update(bytemuck::cast_slice(timestamps));
            }
            None => hasher.update(b"no timestamps"),
        }
        hasher.digest()
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(&self.name)
    }

    /// `Ok` if every column has one entry per rating and there is at least one rating.
    pub(crate) fn check_shape(&self) -> Result<(), IngestError> {
        let n = self.len();
        let timestamps = self.timestamps.as_ref().map_or(n, Vec::len);
        if self.items.len() != n || self.ratings.len() != n || timestamps != n {
            let reason = format!(
                "columns differ in length: {n} users, {} items, {} ratings, {timestamps} \
                 timestamps",
                self.items.len(),
                self.ratings.len()
            );
            return Err(IngestError::layout(self.path(), reason));
        }
        if n == 0 {
            return Err(IngestError::layout(self.path(), "there are no ratings"));
        }
        Ok(())
    }

    /// The ratings as a file reader would return them, refusing the first one off `scale`.
    pub(crate) fn to_raw(&self, scale: RatingScale) -> Result<RawRatings, IngestError> {
        self.check_shape()?;
        let mut raw =
            RawRatings::with_capacity(self.path(), RowNumbering::Rows, self.len(), false);
        for (row, &rating) in self.ratings.iter().enumerate() {
            if let Err(reason) = scale.check(rating) {
                let position = Position::Row(row as u64 + 1);
                let value = rating.to_string();
                return Err(IngestError::bad_value(self.path(), position, &value, reason));
            }
            raw.ratings.push(rating as f32);
        }
        for (&user, &item) in self.users.iter().zip(&self.items) {
            if !(raw.users.push(user) && raw.items.push(item)) {
                return Err(IngestError::layout(self.path(), TOO_MANY_IDS));
            }
        }
        raw.timestamps = self.timestamps.as_deref().map(Timestamps::from);
        Ok(raw)
    }
}

impl fmt::Debug for RatingColumns {
    /// The name and the size only: the columns can hold millions of values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatingColumns")
            .field("name", &self.name)
            .field("len", &self.len())
            .field("timestamps", &self.timestamps.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> RatingColumns {
        RatingColumns {
            name: "frame".into(),
            users: vec![1, 1, 2],
            items: vec![10, 20, 10],
            ratings: vec![4.0, 3.5, 5.0],
            timestamps: None,
        }
    }

    #[test]
    fn the_hash_follows_the_content_not_the_name() {
        let base = columns();
        let renamed = RatingColumns { name: "other".into(), ..columns() };
        assert_eq!(base.content_hash(), renamed.content_hash());
        let mut changed = columns();
        changed.ratings[2] = 4.5;
        assert_ne!(base.content_hash(), changed.content_hash());
        let stamped = RatingColumns { timestamps: Some(vec![0, 0, 0]), ..columns() };
        assert_ne!(base.content_hash(), stamped.content_hash());
    }

    #[test]
    fn a_rating_off_the_scale_is_named_by_row_and_value() {
        let mut bad = columns();
        bad.ratings[1] = 7.0;
        let message = bad.to_raw(RatingScale::MOVIELENS).unwrap_err().to_string();
        assert!(message.contains("frame: row 2") && message.contains("'7'"), "{message}");
        let short = RatingColumns { items: vec![10], ..columns() };
        let message = short.to_raw(RatingScale::MOVIELENS).unwrap_err().to_string();
        assert!(message.contains("3 users, 1 items"), "{message}");
    }
}
