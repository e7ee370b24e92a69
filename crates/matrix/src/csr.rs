//! Compressed sparse rows of ratings.
//!
//! A 3 x 4 matrix with five ratings,
//!
//! ```text
//!        col 0  col 1  col 2  col 3
//! row 0   4.0     .      .     3.5
//! row 1    .      .      .      .
//! row 2   5.0    1.0     .      .
//! ```
//!
//! is stored as `indptr = [0, 2, 2, 4]`, `indices = [0, 3, 0, 1]`,
//! `values = [4.0, 3.5, 5.0, 1.0]`: row `r` owns positions `indptr[r]..indptr[r + 1]`.
//!
//! Invariants, all checked by [`Csr::open`] and by every constructor:
//! 1. `indptr` has `n_rows + 1` entries, starts at 0, never decreases, ends at `nnz`;
//! 2. every column index is below `n_cols`, strictly increasing within a row (sorted, no
//!    duplicates);
//! 3. every value is finite.
//!
//! Rows and columns are limited to `u32::MAX` (indices are `u32`), which is far beyond any
//! rating data set: ml-latest has 331k users and 86k items.

use std::path::Path;

use rayon::prelude::*;

use crate::container::{self, Container, FileKind};
use crate::MatrixError;

/// A sparse matrix in compressed-row form, in memory or mapped from a file.
#[derive(Debug)]
pub struct Csr {
    n_rows: usize,
    n_cols: usize,
    storage: Storage,
}

#[derive(Debug)]
enum Storage {
    Owned { indptr: Vec<u64>, indices: Vec<u32>, values: Vec<f32> },
    Mapped(Container),
}

/// One row: its column indices (sorted) and the matching values.
#[derive(Clone, Copy, Debug)]
pub struct RowView<'a> {
    /// Column indices, strictly increasing.
    pub indices: &'a [u32],
    /// The value at each of `indices`.
    pub values: &'a [f32],
}

impl RowView<'_> {
    /// How many entries the row has.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the row has no entries.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Whether column `col` is stored in this row (binary search).
    pub fn contains(&self, col: u32) -> bool {
        self.indices.binary_search(&col).is_ok()
    }
}

impl Csr {
    /// Builds a matrix from `(row, col, value)` triplets in any order.
    ///
    /// Returns an error message if a triplet is out of the shape, a value is not finite, or a
    /// `(row, col)` pair repeats: deduplication is the caller's policy, not this type's.
    pub fn from_triplets(
        n_rows: usize,
        n_cols: usize,
        rows: &[u32],
        cols: &[u32],
        values: &[f32],
    ) -> Result<Self, String> {
        assert!(rows.len() == cols.len() && cols.len() == values.len(), "triplet lengths differ");
        check_shape(n_rows, n_cols)?;

        let mut indptr = vec![0u64; n_rows + 1];
        for &row in rows {
            let row = row as usize;
            if row >= n_rows {
                return Err(format!("row {row} outside {n_rows} rows"));
            }
            indptr[row + 1] += 1;
        }
        for row in 0..n_rows {
            indptr[row + 1] += indptr[row];
        }

        // Counting sort by row, then sort each row by column.
        let mut next = indptr.clone();
        let mut order = vec![0u32; rows.len()];
        for (position, &row) in rows.iter().enumerate() {
            let slot = &mut next[row as usize];
            order[*slot as usize] = position as u32;
            *slot += 1;
        }
        for row in 0..n_rows {
            let range = indptr[row] as usize..indptr[row + 1] as usize;
            order[range].sort_unstable_by_key(|&p| cols[p as usize]);
        }
        let indices: Vec<u32> = order.iter().map(|&p| cols[p as usize]).collect();
        let values: Vec<f32> = order.iter().map(|&p| values[p as usize]).collect();

        let matrix = Csr { n_rows, n_cols, storage: Storage::Owned { indptr, indices, values } };
        matrix.validate()?;
        Ok(matrix)
    }

    /// Builds a matrix from its three arrays, checking every invariant.
    pub fn from_parts(
        n_rows: usize,
        n_cols: usize,
        indptr: Vec<u64>,
        indices: Vec<u32>,
        values: Vec<f32>,
    ) -> Result<Self, String> {
        check_shape(n_rows, n_cols)?;
        let matrix = Csr { n_rows, n_cols, storage: Storage::Owned { indptr, indices, values } };
        matrix.validate()?;
        Ok(matrix)
    }

    /// An `n_rows x n_cols` matrix with no entries.
    pub fn empty(n_rows: usize, n_cols: usize) -> Self {
        let indptr = vec![0; n_rows + 1];
        let storage = Storage::Owned { indptr, indices: Vec::new(), values: Vec::new() };
        Csr { n_rows, n_cols, storage }
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Number of columns.
    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indices().len()
    }

    /// Row offsets, `n_rows + 1` of them.
    pub fn indptr(&self) -> &[u64] {
        match &self.storage {
            Storage::Owned { indptr, .. } => indptr,
            Storage::Mapped(file) => bytemuck::cast_slice(file.section(0)),
        }
    }

    /// Column index of every entry, row after row.
    pub fn indices(&self) -> &[u32] {
        match &self.storage {
            Storage::Owned { indices, .. } => indices,
            Storage::Mapped(file) => bytemuck::cast_slice(file.section(1)),
        }
    }

    /// Value of every entry, row after row.
    pub fn values(&self) -> &[f32] {
        match &self.storage {
            Storage::Owned { values, .. } => values,
            Storage::Mapped(file) => bytemuck::cast_slice(file.section(2)),
        }
    }

    /// Row `row`'s entries.
    ///
    /// # Panics
    /// If `row >= self.n_rows()`.
    #[track_caller]
    pub fn row(&self, row: usize) -> RowView<'_> {
        let indptr = self.indptr();
        let range = indptr[row] as usize..indptr[row + 1] as usize;
        RowView { indices: &self.indices()[range.clone()], values: &self.values()[range] }
    }

    /// Number of entries in row `row`.
    #[track_caller]
    pub fn row_len(&self, row: usize) -> usize {
        let indptr = self.indptr();
        (indptr[row + 1] - indptr[row]) as usize
    }

    /// The transpose (CSR of the columns), with sorted rows, in O(nnz + n_cols).
    pub fn transpose(&self) -> Csr {
        self.transpose_reusing(Vec::new(), Vec::new())
    }

    /// [`Csr::transpose`], built in the memory of two finished arrays where they have room
    /// (see [`reuse_for`](crate::reuse_for)); their contents do not matter.
    pub fn transpose_reusing(&self, indices_buffer: Vec<u32>, values_buffer: Vec<f32>) -> Csr {
        let (indptr, indices, values) = (self.indptr(), self.indices(), self.values());
        let mut t_indptr = vec![0u64; self.n_cols + 1];
        for &col in indices {
            t_indptr[col as usize + 1] += 1;
        }
        for col in 0..self.n_cols {
            t_indptr[col + 1] += t_indptr[col];
        }

        // One range of columns of about equal entries per thread: each reads every row but
        // fills only its own columns, whose slots are one stretch of the output. Rows are
        // visited in order, so each transposed row comes out sorted, whatever the ranges.
        let parts = rayon::current_num_threads().clamp(1, 16);
        let nnz = indices.len() as u64;
        let bounds: Vec<usize> = (0..=parts)
            .map(|part| {
                t_indptr.partition_point(|&start| start < nnz * part as u64 / parts as u64)
            })
            .map(|col| col.min(self.n_cols))
            .collect();
        let mut t_indices = crate::reuse_for(indices_buffer, indices.len());
        let mut t_values = crate::reuse_for(values_buffer, indices.len());
        let mut slices = Vec::with_capacity(parts);
        let (mut rest_indices, mut rest_values) = (&mut t_indices[..], &mut t_values[..]);
        for pair in bounds.windows(2) {
            let len = (t_indptr[pair[1]] - t_indptr[pair[0]]) as usize;
            let (part_indices, more_indices) = rest_indices.split_at_mut(len);
            let (part_values, more_values) = rest_values.split_at_mut(len);
            slices.push((pair[0]..pair[1], part_indices, part_values));
            (rest_indices, rest_values) = (more_indices, more_values);
        }
        slices.into_par_iter().for_each(|(cols, part_indices, part_values)| {
            let base = t_indptr[cols.start];
            let mut next: Vec<u64> = t_indptr[cols.clone()].iter().map(|&o| o - base).collect();
            for row in 0..self.n_rows {
                for position in indptr[row] as usize..indptr[row + 1] as usize {
                    let local = (indices[position] as usize).wrapping_sub(cols.start);
                    if let Some(slot) = next.get_mut(local) {
                        part_indices[*slot as usize] = row as u32;
                        part_values[*slot as usize] = values[position];
                        *slot += 1;
                    }
                }
            }
        });
        let storage = Storage::Owned { indptr: t_indptr, indices: t_indices, values: t_values };
        Csr { n_rows: self.n_cols, n_cols: self.n_rows, storage }
    }

    /// Writes the matrix atomically as a file of `kind` (ratings by user or by item).
    pub fn save(&self, path: &Path, kind: FileKind) -> Result<(), MatrixError> {
        let dims = [self.n_rows as u64, self.n_cols as u64, self.nnz() as u64];
        let sections: [&[u8]; 3] = [
            bytemuck::cast_slice(self.indptr()),
            bytemuck::cast_slice(self.indices()),
            bytemuck::cast_slice(self.values()),
        ];
        container::write(path, kind, dims, &sections)
    }

    /// Maps a matrix file of `kind` without copying, after verifying its checksums and every
    /// invariant of the module doc, so that no later access can go out of bounds.
    pub fn open(path: &Path, kind: FileKind) -> Result<Self, MatrixError> {
        let file = Container::open(path, kind)?;
        let [n_rows, n_cols, nnz] = file.dims();
        let bad = |reason: String| MatrixError::damaged(path, reason);
        let n_rows = usize::try_from(n_rows).map_err(|_| bad(format!("{n_rows} rows")))?;
        let n_cols = usize::try_from(n_cols).map_err(|_| bad(format!("{n_cols} columns")))?;
        check_shape(n_rows, n_cols).map_err(bad)?;
        if file.section_count() != 3 {
            return Err(bad(format!("{} sections, expected 3", file.section_count())));
        }
        let indptr_len = file.section_as::<u64>(0)?.len();
        let indices_len = file.section_as::<u32>(1)?.len();
        let values_len = file.section_as::<f32>(2)?.len();
        if indptr_len != n_rows + 1 || indices_len as u64 != nnz || values_len as u64 != nnz {
            return Err(bad("section lengths disagree with the header's shape".into()));
        }

        let matrix = Csr { n_rows, n_cols, storage: Storage::Mapped(file) };
        matrix.validate().map_err(bad)?;
        Ok(matrix)
    }

    /// Checks invariants 1 to 3 of the module doc.
    fn validate(&self) -> Result<(), String> {
        let (indptr, indices, values) = (self.indptr(), self.indices(), self.values());
        if indptr.len() != self.n_rows + 1 || indices.len() != values.len() {
            return Err("array lengths disagree with the shape".into());
        }
        if indptr[0] != 0 || indptr[self.n_rows] != indices.len() as u64 {
            return Err("row offsets do not span the entries".into());
        }
        // Rows and values are checked on every thread, each without an early exit (so that
        // the compiler vectorises it); the first bad row is then described.
        let row_is_sound = |row: usize| {
            let (start, end) = (indptr[row], indptr[row + 1]);
            if end < start || end > indices.len() as u64 {
                return false;
            }
            let cols = &indices[start as usize..end as usize];
            let increasing = cols.windows(2).fold(true, |ok, pair| ok & (pair[0] < pair[1]));
            increasing && cols.last().is_none_or(|&last| (last as usize) < self.n_cols)
        };
        let bad_row = (0..self.n_rows)
            .into_par_iter()
            .with_min_len(4096)
            .find_first(|&row| !row_is_sound(row));
        if let Some(row) = bad_row {
            return Err(describe_bad_row(row, indptr, indices, self.n_cols));
        }
        let all_finite = values
            .par_chunks(1 << 16)
            .all(|chunk| chunk.iter().fold(true, |ok, value| ok & value.is_finite()));
        if !all_finite {
            let position = values.iter().position(|v| !v.is_finite()).expect("one is not");
            return Err(format!("entry {position} has the value {}", values[position]));
        }
        Ok(())
    }
}

/// What is wrong with `row`, which [`Csr::validate`] found unsound.
fn describe_bad_row(row: usize, indptr: &[u64], indices: &[u32], n_cols: usize) -> String {
    let (start, end) = (indptr[row], indptr[row + 1]);
    if end < start || end > indices.len() as u64 {
        return format!("row {row} has offsets {start}..{end}");
    }
    let cols = &indices[start as usize..end as usize];
    if let Some(&last) = cols.last().filter(|&&last| last as usize >= n_cols) {
        return format!("row {row} has column {last} of {n_cols}");
    }
    let pair = cols.windows(2).find(|pair| pair[0] >= pair[1]);
    let pair = pair.expect("a row with sound offsets and columns is out of order");
    let what = if pair[0] == pair[1] { "repeats" } else { "is unsorted at" };
    format!("row {row} {what} column {}", pair[1])
}

fn check_shape(n_rows: usize, n_cols: usize) -> Result<(), String> {
    let limit = u32::MAX as usize;
    if n_rows > limit || n_cols > limit {
        return Err(format!("shape {n_rows} x {n_cols} exceeds {limit} rows or columns"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Csr {
        // The matrix drawn in the module doc, given out of order.
        Csr::from_triplets(3, 4, &[2, 0, 2, 0], &[1, 3, 0, 0], &[1.0, 3.5, 5.0, 4.0]).unwrap()
    }

    #[test]
    fn triplets_build_the_documented_arrays() {
        let m = example();
        assert_eq!(m.indptr(), &[0, 2, 2, 4]);
        assert_eq!(m.indices(), &[0, 3, 0, 1]);
        assert_eq!(m.values(), &[4.0, 3.5, 5.0, 1.0]);
        assert!(m.row(1).is_empty());
        assert!(m.row(2).contains(1) && !m.row(2).contains(3));
    }

    #[test]
    fn transpose_twice_is_identity() {
        let m = example();
        let t = m.transpose();
        assert_eq!((t.n_rows(), t.n_cols()), (4, 3));
        assert_eq!(t.indptr(), &[0, 2, 3, 3, 4]);
        assert_eq!(t.indices(), &[0, 2, 2, 0]);
        let back = t.transpose();
        assert_eq!(back.indptr(), m.indptr());
        assert_eq!(back.indices(), m.indices());
        assert_eq!(back.values(), m.values());
    }

    #[test]
    fn the_transpose_is_the_same_for_any_number_of_threads() {
        // 40 x 300, most columns empty or nearly so, a few dense: uneven column ranges.
        let mut rng = crate::SeededRng::new(9);
        let (mut rows, mut cols, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for row in 0..40u32 {
            for col in 0..300u32 {
                let chance = if col % 97 == 3 { 2 } else { 40 };
                if rng.below(chance) == 0 {
                    rows.push(row);
                    cols.push(col);
                    values.push(rng.below(10) as f32 / 2.0);
                }
            }
        }
        let m = Csr::from_triplets(40, 300, &rows, &cols, &values).unwrap();
        let in_pool = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| m.transpose())
        };
        let one = in_pool(1);
        for threads in [2, 3, 7, 16] {
            let many = in_pool(threads);
            assert_eq!(many.indptr(), one.indptr(), "{threads} threads");
            assert_eq!(many.indices(), one.indices(), "{threads} threads");
            assert_eq!(many.values(), one.values(), "{threads} threads");
        }
        let back = one.transpose();
        assert_eq!((back.indices(), back.values()), (m.indices(), m.values()));
        assert_eq!(back.indptr(), m.indptr());
    }

    #[test]
    fn a_transpose_into_used_buffers_equals_a_fresh_one() {
        let m = example();
        let fresh = m.transpose();
        for room in [0, 3, 4, 50] {
            // Leftover values that must not show through.
            let t = m.transpose_reusing(vec![9; room], vec![-1.0; room]);
            assert_eq!(t.indptr(), fresh.indptr(), "room for {room}");
            assert_eq!(t.indices(), fresh.indices(), "room for {room}");
            assert_eq!(t.values(), fresh.values(), "room for {room}");
        }
    }

    #[test]
    fn bad_triplets_are_refused() {
        assert!(Csr::from_triplets(2, 2, &[0, 0], &[1, 1], &[1.0, 2.0]).is_err());
        assert!(Csr::from_triplets(2, 2, &[2], &[0], &[1.0]).is_err());
        assert!(Csr::from_triplets(2, 2, &[0], &[2], &[1.0]).is_err());
        assert!(Csr::from_triplets(2, 2, &[0], &[0], &[f32::NAN]).is_err());
    }

    #[test]
    fn the_first_bad_row_of_many_is_named() {
        // 20,000 rows of two entries (0, 1), damaged in one or two places: the parallel
        // check must name the first.
        let rows = 20_000;
        let indptr: Vec<u64> = (0..=rows as u64).map(|row| 2 * row).collect();
        let indices: Vec<u32> = (0..rows).flat_map(|_| [0, 1]).collect();
        let values = vec![1.0f32; 2 * rows];
        type Edit = dyn Fn(&mut [u64], &mut [u32], &mut [f32]);
        let damaged = |edit: &Edit| {
            let (mut p, mut i, mut v) = (indptr.clone(), indices.clone(), values.clone());
            edit(&mut p, &mut i, &mut v);
            Csr::from_parts(rows, 3, p, i, v).unwrap_err()
        };

        assert_eq!(
            damaged(&|_, i, _| (i[2 * 12_345 + 1], i[2 * 19_000]) = (0, 5)),
            "row 12345 repeats column 0"
        );
        let unsorted = damaged(&|_, i, _| i.swap(2 * 9_000, 2 * 9_000 + 1));
        assert_eq!(unsorted, "row 9000 is unsorted at column 0");
        assert_eq!(damaged(&|_, i, _| i[2 * 15_000 + 1] = 3), "row 15000 has column 3 of 3");
        // Out of order and out of range at once: a last column out of range is named first,
        // any other fault as out of order.
        let both = damaged(&|_, i, _| (i[2 * 8_000], i[2 * 8_000 + 1]) = (7, 7));
        assert_eq!(both, "row 8000 has column 7 of 3");
        let both = damaged(&|_, i, _| (i[2 * 8_000], i[2 * 8_000 + 1]) = (7, 1));
        assert_eq!(both, "row 8000 is unsorted at column 1");
        assert_eq!(damaged(&|p, _, _| p[7_000] = 50_000), "row 6999 has offsets 13998..50000");
        assert_eq!(
            damaged(&|_, _, v| (v[31_000], v[39_000]) = (f32::INFINITY, f32::NAN)),
            "entry 31000 has the value inf"
        );
    }

    #[test]
    fn saved_matrix_maps_back_and_hostile_arrays_are_refused() {
        let dir = std::env::temp_dir().join(format!("flash-csr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.csr");
        let m = example();
        m.save(&path, FileKind::RatingsByUser).unwrap();

        let mapped = Csr::open(&path, FileKind::RatingsByUser).unwrap();
        assert_eq!(mapped.values(), m.values());
        assert_eq!(mapped.row(2).indices, &[0, 1]);
        assert!(Csr::open(&path, FileKind::RatingsByItem).is_err());

        // A file with valid checksums but a column index beyond the shape: written through
        // the container directly, as a hostile tool could.
        let hostile = dir.join("hostile.csr");
        let indptr: [u64; 2] = [0, 1];
        let sections: [&[u8]; 3] = [
            bytemuck::cast_slice(&indptr),
            bytemuck::cast_slice(&[7u32]),
            bytemuck::cast_slice(&[1.0f32]),
        ];
        container::write(&hostile, FileKind::RatingsByUser, [1, 2, 1], &sections).unwrap();
        let err = Csr::open(&hostile, FileKind::RatingsByUser).unwrap_err().to_string();
        assert!(err.contains("column 7"), "{err}");
    }
}
