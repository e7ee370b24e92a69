//! Ratings as read from a file, before ids are mapped and the split is drawn.
//!
//! Ids are interned while they are read: each column keeps one `u32` a rating and its
//! distinct ids once, rather than an `i64` a rating, which is what bounds the peak memory of
//! `prepare` (docs/data-layer-benchmarks.md).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;

use flash_matrix::IdMap;
use rayon::prelude::*;

use crate::timestamps::Timestamps;
use crate::Position;

/// Why a file with more distinct ids than `u32` can count is refused.
pub(crate) const TOO_MANY_IDS: &str = "more than 4,294,967,295 distinct user or item ids";

/// The columns of one ratings file, row `r` being the file's `r`-th rating.
#[derive(Debug, Default)]
pub(crate) struct RawRatings {
    pub path: PathBuf,
    pub users: InternedIds,
    pub items: InternedIds,
    pub ratings: Vec<f32>,
    /// Present when the file has a timestamp column; used to keep the latest duplicate.
    pub timestamps: Option<Timestamps>,
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
    /// Empty columns with room for `rows` ratings (and timestamps when `timestamps`).
    pub fn with_capacity(
        path: PathBuf,
        numbering: RowNumbering,
        rows: usize,
        timestamps: bool,
    ) -> Self {
        RawRatings {
            path,
            users: InternedIds::with_capacity(rows),
            items: InternedIds::with_capacity(rows),
            ratings: Vec::with_capacity(rows),
            timestamps: timestamps.then(|| Timestamps::with_capacity(rows)),
            numbering,
        }
    }

    pub fn len(&self) -> usize {
        self.ratings.len()
    }

    /// Room for `additional` more rows in every column, and no more.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.users.index.reserve_exact(additional);
        self.items.index.reserve_exact(additional);
        self.ratings.reserve_exact(additional);
        if let Some(timestamps) = self.timestamps.as_mut() {
            timestamps.reserve_exact(additional);
        }
    }

    /// Where row `row` is in the file.
    pub fn position(&self, row: usize) -> Position {
        match self.numbering {
            RowNumbering::Lines { first_line } => Position::Line(first_line + row as u64),
            RowNumbering::Rows => Position::Row(row as u64 + 1),
        }
    }
}

/// One id column: `index[r]` is row r's id as a position in `ids`, the distinct ids in the
/// order they were first seen; after [`InternedIds::densify`], a position in an [`IdMap`]
/// (and `ids` is empty).
#[derive(Debug, Default)]
pub(crate) struct InternedIds {
    pub index: Vec<u32>,
    pub ids: Vec<i64>,
    /// Ids below [`SMALL_ID_LIMIT`] (MovieLens' all are): `small[id]` is the id's position
    /// plus one, 0 if not seen yet. An array look-up costs a fraction of a hash look-up.
    small: Vec<u32>,
    /// Every other id's position.
    positions: HashMap<i64, u32, BuildHasherDefault<IdHasher>>,
}

/// Ids from 0 up to this bound are interned through a table (of at most 16 MiB).
const SMALL_ID_LIMIT: u64 = 1 << 22;

impl InternedIds {
    pub fn with_capacity(rows: usize) -> Self {
        InternedIds { index: Vec::with_capacity(rows), ..InternedIds::default() }
    }

    /// Appends one row's id; `false` (nothing appended) past `u32::MAX` distinct ids.
    #[inline]
    pub fn push(&mut self, id: i64) -> bool {
        // Files sorted by user repeat the previous id most of the time.
        if let Some(&last) = self.index.last() {
            if self.ids[last as usize] == id {
                self.index.push(last);
                return true;
            }
        }
        let known = if (id as u64) < SMALL_ID_LIMIT {
            self.small.get(id as usize).and_then(|&slot| slot.checked_sub(1))
        } else {
            self.positions.get(&id).copied()
        };
        let position = match known {
            Some(position) => position,
            None => match self.insert(id) {
                Some(position) => position,
                None => return false,
            },
        };
        self.index.push(position);
        true
    }

    /// Gives a new id the next position; `None` past `u32::MAX` distinct ids.
    fn insert(&mut self, id: i64) -> Option<u32> {
        let position = u32::try_from(self.ids.len()).ok().filter(|&p| p < u32::MAX)?;
        self.ids.push(id);
        if (id as u64) < SMALL_ID_LIMIT {
            let slot = id as usize;
            if slot >= self.small.len() {
                // Doubling keeps the number of resizes logarithmic in the largest id.
                let len = (slot + 1).next_power_of_two().min(SMALL_ID_LIMIT as usize);
                self.small.resize(len, 0);
            }
            self.small[slot] = position + 1;
        } else {
            self.positions.insert(id, position);
        }
        Some(position)
    }

    /// Rewrites `index` in place into positions in `map`, which must hold every id; the
    /// first-seen list is no longer needed then and is freed.
    pub fn densify(&mut self, map: &IdMap) {
        let dense: Vec<u32> = self
            .ids
            .iter()
            .map(|&id| map.index_of(id).expect("the map was built from these ids"))
            .collect();
        // On every thread: two passes over 33.8M rows take tens of milliseconds each.
        self.index.par_iter_mut().for_each(|position| *position = dense[*position as usize]);
        self.ids = Vec::new();
        self.small = Vec::new();
        self.positions = HashMap::default();
    }
}

/// A fast hash for i64 ids (SplitMix64's finaliser): the default SipHash costs more than the
/// parsing of a rating. Ids come from files, so a crafted file could make many collide; that
/// costs time, never correctness.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_i64(&mut self, id: i64) {
        self.0 = id as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_interned_in_first_seen_order_and_densified() {
        let mut column = InternedIds::default();
        // Small ids go through the table, negative and huge ones through the hash map.
        let big = SMALL_ID_LIMIT as i64;
        for id in [50, 50, -3, 50, i64::MAX, -3, big, big - 1, 0, big - 1, big] {
            assert!(column.push(id));
        }
        assert_eq!(column.ids, [50, -3, i64::MAX, big, big - 1, 0]);
        assert_eq!(column.index, [0, 0, 1, 0, 2, 1, 3, 4, 5, 4, 3]);
        column.densify(&IdMap::from_ids(&[i64::MAX, -3, 50, 7, big, big - 1, 0]));
        assert_eq!(column.index, [3, 3, 0, 3, 6, 0, 5, 4, 1, 4, 5]);
    }
}
