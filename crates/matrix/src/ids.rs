//! Dense ids: original ids sorted ascending, the position being the dense index.

use std::path::Path;

use crate::container::{self, Container, FileKind};
use crate::MatrixError;
use rayon::prelude::*;

/// A two-way map between original ids (any `i64`) and dense indices `0..len`.
///
/// Ids are kept sorted, so the dense order is deterministic (ascending original id) and the
/// reverse look-up is a binary search: no hash map to build, store or load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap {
    ids: Vec<i64>,
}

impl IdMap {
    /// The map of the distinct values of `ids`.
    pub fn from_ids(ids: &[i64]) -> Self {
        let mut ids = ids.to_vec();
        ids.par_sort_unstable();
        ids.dedup();
        IdMap { ids }
    }

    /// The map of ids already sorted and distinct.
    ///
    /// # Panics
    /// If `ids` is not strictly increasing.
    #[track_caller]
    pub fn from_sorted(ids: Vec<i64>) -> Self {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids must be strictly increasing");
        IdMap { ids }
    }

    /// The map of `ids`, or a message if they are not strictly increasing.
    pub fn try_from_sorted(ids: Vec<i64>) -> Result<Self, String> {
        match ids.windows(2).position(|w| w[0] >= w[1]) {
            Some(position) => Err(format!("ids not increasing at position {}", position + 1)),
            None => Ok(IdMap { ids }),
        }
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Dense index of an original id, if known.
    pub fn index_of(&self, id: i64) -> Option<u32> {
        self.ids.binary_search(&id).ok().map(|index| index as u32)
    }

    /// Original id of a dense index.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    #[track_caller]
    pub fn id_of(&self, index: u32) -> i64 {
        self.ids[index as usize]
    }

    /// All original ids, in dense order.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// Dense indices of `ids`, which must all be in the map (as the ids it was built from).
    ///
    /// # Panics
    /// If an id is not in the map.
    pub fn dense(&self, ids: &[i64]) -> Vec<u32> {
        ids.par_iter()
            .map(|&id| self.index_of(id).expect("the map was built from these ids"))
            .collect()
    }

    /// Writes the map atomically.
    pub fn save(&self, path: &Path) -> Result<(), MatrixError> {
        let dims = [self.ids.len() as u64, 0, 0];
        container::write(path, FileKind::IdMap, dims, &[bytemuck::cast_slice(&self.ids)])
    }

    /// Reads a map, checking that its ids are strictly increasing.
    pub fn open(path: &Path) -> Result<Self, MatrixError> {
        let file = Container::open(path, FileKind::IdMap)?;
        if file.section_count() != 1 {
            return Err(damaged(path, "expected one section"));
        }
        let ids = file.section_as::<i64>(0)?;
        if ids.len() as u64 != file.dims()[0] {
            return Err(damaged(path, "length disagrees with the header"));
        }
        IdMap::try_from_sorted(ids.to_vec()).map_err(|reason| damaged(path, &reason))
    }
}

fn damaged(path: &Path, reason: &str) -> MatrixError {
    MatrixError::damaged(path, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_map_both_ways_in_ascending_order() {
        let map = IdMap::from_ids(&[30, -2, 30, 7]);
        assert_eq!(map.ids(), &[-2, 7, 30]);
        assert_eq!(map.index_of(30), Some(2));
        assert_eq!(map.index_of(8), None);
        assert_eq!(map.id_of(1), 7);
        assert_eq!(map.dense(&[7, 30, -2]), vec![1, 2, 0]);
    }
}
