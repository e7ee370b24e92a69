//! From raw ratings to dense train and test matrices: id maps, duplicates, the split.

use flash_matrix::holdout::{held_out_count, mark_held_out};
use flash_matrix::{reuse_for, Csr, SeededRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::raw::RawRatings;
use crate::timestamps::Timestamps;
use crate::{IdMap, IngestError};

/// What to do with a (user, item) pair rated more than once in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DuplicatePolicy {
    /// Keep the rating with the latest timestamp (the later line when tied or absent).
    #[default]
    KeepLatest,
    /// Refuse the file, naming both lines.
    Error,
}

/// How to carve the test set out of the ratings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitOptions {
    /// Share of each user's ratings held out for test, in `[0, 1)`.
    pub test_fraction: f64,
    /// Seed of the draw; the same seed gives the same split everywhere.
    pub seed: u64,
}

impl Default for SplitOptions {
    fn default() -> Self {
        SplitOptions { test_fraction: 0.2, seed: 42 }
    }
}

/// Dense train and test matrices (rows are users), train by item, and the id maps.
#[derive(Debug)]
pub(crate) struct SplitRatings {
    pub users: IdMap,
    pub items: IdMap,
    pub train: Csr,
    /// The transpose of `train`: rows are items.
    pub train_by_item: Csr,
    pub test: Csr,
    pub duplicates_dropped: usize,
}

/// One file's ratings grouped by dense user: user `u`'s segment is
/// `rows[offsets[u]..offsets[u + 1]]`, rows of the raw file, whose first `kept[u]` are the
/// user's kept rows sorted by dense item (the rest are dropped duplicates).
struct Grouped {
    offsets: Vec<u64>,
    kept: Vec<u32>,
    rows: Vec<u32>,
    dropped: usize,
}

impl Grouped {
    fn kept_rows(&self, user: usize) -> &[u32] {
        let start = self.offsets[user] as usize;
        &self.rows[start..start + self.kept[user] as usize]
    }
}

/// Maps ids, drops duplicates, draws a per-user stratified split and builds train by item.
///
/// A user with `n >= 2` ratings puts `round(fraction * n)` of them, clamped to `1..=n - 1`,
/// into test; a user with one rating keeps it in train. The draw for each user comes from
/// its own random stream, keyed by the seed and the user's original id, so it does not depend
/// on the order or the thread in which users are handled.
pub(crate) fn split_ratings(
    mut raw: RawRatings,
    policy: DuplicatePolicy,
    options: SplitOptions,
) -> Result<SplitRatings, IngestError> {
    let _span = tracing::info_span!("split", ratings = raw.len()).entered();
    let id_span = tracing::info_span!("id_maps").entered();
    let users = IdMap::from_ids(&raw.users.ids);
    let items = IdMap::from_ids(&raw.items.ids);
    raw.users.densify(&users);
    raw.items.densify(&items);
    drop(id_span);
    let grouped = {
        let _span = tracing::info_span!("group_by_user").entered();
        group_by_user(&mut raw, &users, &items, policy)?
    };
    let fill_span = tracing::info_span!("fill").entered();
    // Only the item column and the ratings are read from here on. The user column and narrow
    // timestamps (4 bytes a rating each) become train's arrays; the rest goes.
    let dense_items = std::mem::take(&mut raw.items.index);
    let ratings = std::mem::take(&mut raw.ratings);
    let spare_indices = std::mem::take(&mut raw.users.index);
    let spare_values = raw.timestamps.take().and_then(Timestamps::into_buffer);
    let spare_values: Vec<f32> = spare_values.map(bytemuck::cast_vec).unwrap_or_default();
    drop(raw);

    let held: Vec<usize> =
        grouped.kept.iter().map(|&n| held_out_count(n as usize, options.test_fraction)).collect();
    let test_indptr = prefix_sums(held.iter().copied());
    let train_indptr = prefix_sums(grouped.kept.iter().zip(&held).map(|(&n, &h)| n as usize - h));
    let train_len = *train_indptr.last().expect("prefix sums start at 0");
    let mut train = MatrixArrays::reusing(spare_indices, spare_values, train_len);
    let test_len = *test_indptr.last().expect("prefix sums start at 0");
    // No buffer is left over for test: its arrays are fresh (and zeroed).
    let mut test = MatrixArrays::reusing(Vec::new(), Vec::new(), test_len);

    // Users in chunks, in parallel: each user's draw comes from its own stream, so the split
    // does not depend on the chunks or the threads.
    let bounds: Vec<usize> =
        (0..users.len()).step_by(USERS_PER_CHUNK).chain(std::iter::once(users.len())).collect();
    let train_chunks = train.chunks_mut(&bounds, &train_indptr);
    let test_chunks = test.chunks_mut(&bounds, &test_indptr);
    let chunks: Vec<_> = train_chunks.into_iter().zip(test_chunks).enumerate().collect();
    chunks.into_par_iter().for_each_init(
        || (Vec::new(), Vec::new()),
        |(positions, in_test),
         (chunk, ((train_indices, train_values), (test_indices, test_values)))| {
            let (mut train_at, mut test_at) = (0, 0);
            for user in bounds[chunk]..bounds[chunk + 1] {
                let rows = grouped.kept_rows(user);
                let mut rng = SeededRng::for_stream(options.seed, users.id_of(user as u32) as u64);
                mark_held_out(rows.len(), options.test_fraction, &mut rng, positions, in_test);
                for (&row, &is_test) in rows.iter().zip(in_test.iter()) {
                    let (item, rating) = (dense_items[row as usize], ratings[row as usize]);
                    if is_test {
                        (test_indices[test_at], test_values[test_at]) = (item, rating);
                        test_at += 1;
                    } else {
                        (train_indices[train_at], train_values[train_at]) = (item, rating);
                        train_at += 1;
                    }
                }
            }
            // The arrays hold leftovers of reused buffers: every slot must have been written.
            assert_eq!(
                (train_at, test_at),
                (train_indices.len(), test_indices.len()),
                "the split filled its chunk"
            );
        },
    );

    let dropped = grouped.dropped;
    drop(grouped);
    drop(fill_span);
    let train = train.finish(train_indptr, users.len(), items.len());
    // The raw item column and ratings are read no more: train by item is built in them.
    let train_by_item = {
        let _span = tracing::info_span!("transpose").entered();
        train.transpose_reusing(dense_items, ratings)
    };
    Ok(SplitRatings {
        train,
        train_by_item,
        test: test.finish(test_indptr, users.len(), items.len()),
        users,
        items,
        duplicates_dropped: dropped,
    })
}

/// Users per chunk of the parallel fill (about 330 chunks on the ml-latest shape).
const USERS_PER_CHUNK: usize = 1024;

/// `[0, a, a + b, ...]` of the counts.
fn prefix_sums(counts: impl Iterator<Item = usize>) -> Vec<u64> {
    let mut sums = vec![0u64];
    let mut total = 0u64;
    for count in counts {
        total += count as u64;
        sums.push(total);
    }
    sums
}

/// Builds train and test from two files whose split is given: ids are mapped over both.
pub(crate) fn given_split(
    train_raw: RawRatings,
    test_raw: RawRatings,
    policy: DuplicatePolicy,
) -> Result<SplitRatings, IngestError> {
    let _span = tracing::info_span!("given_split").entered();
    let ids = |column: fn(&RawRatings) -> &[i64]| -> IdMap {
        let all: Vec<i64> = column(&train_raw).iter().chain(column(&test_raw)).copied().collect();
        IdMap::from_ids(&all)
    };
    let users = ids(|raw| &raw.users.ids);
    let items = ids(|raw| &raw.items.ids);

    let mut matrices = Vec::with_capacity(2);
    let mut dropped = 0;
    for mut raw in [train_raw, test_raw] {
        raw.users.densify(&users);
        raw.items.densify(&items);
        let grouped = group_by_user(&mut raw, &users, &items, policy)?;
        // Duplicates are settled: the timestamps go before the matrix grows.
        raw.timestamps = None;
        dropped += grouped.dropped;
        let mut parts = MatrixParts::new();
        for user in 0..users.len() {
            for &row in grouped.kept_rows(user) {
                parts.push(raw.items.index[row as usize], raw.ratings[row as usize]);
            }
            parts.end_row();
        }
        matrices.push(parts.finish(users.len(), items.len()));
    }
    let test = matrices.pop().expect("two matrices");
    let train = matrices.pop().expect("two matrices");
    let train_by_item = train.transpose();
    Ok(SplitRatings { users, items, train, train_by_item, test, duplicates_dropped: dropped })
}

/// Groups `raw`, whose id columns hold positions in `users` and `items`, by user.
fn group_by_user(
    raw: &mut RawRatings,
    users: &IdMap,
    items: &IdMap,
    policy: DuplicatePolicy,
) -> Result<Grouped, IngestError> {
    let dense_users = &raw.users.index;
    let dense_items = &raw.items.index;

    // Counting sort of row numbers by user; rows stay in file order within a user. A file
    // sorted by user (MovieLens is) is already in that order.
    let mut offsets = vec![0u64; users.len() + 1];
    for &user in dense_users {
        offsets[user as usize + 1] += 1;
    }
    for user in 0..users.len() {
        offsets[user + 1] += offsets[user];
    }
    let mut rows: Vec<u32>;
    // Both on every thread: a sequential pass over 33.8M rows takes tens of milliseconds.
    if dense_users.par_windows(2).all(|pair| pair[0] <= pair[1]) {
        rows = (0..dense_users.len() as u32).into_par_iter().collect();
    } else {
        let mut next = offsets.clone();
        rows = vec![0u32; raw.len()];
        for (row, &user) in dense_users.iter().enumerate() {
            rows[next[user as usize] as usize] = row as u32;
            next[user as usize] += 1;
        }
    }

    // Within each user: sort by item, keep the latest of each run of equal items, compact the
    // kept rows to the front of the segment.
    let timestamps = raw.timestamps.as_ref();
    let segments = split_mut_at_offsets(&mut rows, &offsets);
    let outcomes: Vec<(usize, Option<(u32, u32)>)> = segments
        .into_par_iter()
        .map_init(Vec::new, |keys, segment| settle_segment(segment, dense_items, timestamps, keys))
        .collect();

    if policy == DuplicatePolicy::Error {
        let first_pair = outcomes.iter().filter_map(|(_, pair)| *pair).min_by_key(|p| p.1);
        if let Some((first, second)) = first_pair {
            return Err(IngestError::Duplicate {
                path: raw.path.clone(),
                user: users.id_of(dense_users[first as usize]),
                item: items.id_of(dense_items[first as usize]),
                first: raw.position(first as usize),
                second: raw.position(second as usize),
            });
        }
    }

    let kept: Vec<u32> = outcomes.iter().map(|&(kept, _)| kept as u32).collect();
    let dropped = raw.len() - kept.iter().map(|&k| k as usize).sum::<usize>();
    if dropped > 0 {
        tracing::info!(path = %raw.path.display(), dropped, "duplicate ratings dropped");
    }
    Ok(Grouped { offsets, kept, rows, dropped })
}

/// Sorts a user's rows by item and keeps, of each run of equal items, the latest row (latest
/// timestamp, then latest line) at the front of `segment`. Returns how many were kept and the
/// first two rows (in file order) of the run whose second row is earliest.
///
/// Rows are sorted as `item << 32 | row` keys in `keys`, a scratch buffer, so that the sort
/// compares plain integers rather than looking up each row's item (and timestamp) at every
/// comparison; timestamps are read only within runs of equal items.
fn settle_segment(
    segment: &mut [u32],
    dense_items: &[u32],
    timestamps: Option<&Timestamps>,
    keys: &mut Vec<u64>,
) -> (usize, Option<(u32, u32)>) {
    keys.clear();
    keys.extend(
        segment.iter().map(|&row| u64::from(dense_items[row as usize]) << 32 | u64::from(row)),
    );
    keys.sort_unstable();

    let row_of = |key: u64| key as u32;
    let latest = |row: u32| (timestamps.map_or(0, |t| t.get(row as usize)), row);
    let mut kept = 0;
    let mut first_pair: Option<(u32, u32)> = None;
    for run in keys.chunk_by(|a, b| a >> 32 == b >> 32) {
        if run.len() > 1 {
            // Rows of a run are in file order: its first two are the first repeat.
            let pair = (row_of(run[0]), row_of(run[1]));
            if first_pair.is_none_or(|(_, second)| pair.1 < second) {
                first_pair = Some(pair);
            }
        }
        let keep = run.iter().map(|&key| row_of(key)).max_by_key(|&row| latest(row));
        segment[kept] = keep.expect("runs are never empty");
        kept += 1;
    }
    (kept, first_pair)
}

/// Cuts `values` into the disjoint mutable pieces `offsets[i]..offsets[i + 1]`.
fn split_mut_at_offsets<'a, T>(mut values: &'a mut [T], offsets: &[u64]) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(offsets.len().saturating_sub(1));
    for pair in offsets.windows(2) {
        let (piece, rest) = values.split_at_mut((pair[1] - pair[0]) as usize);
        pieces.push(piece);
        values = rest;
    }
    pieces
}

/// A CSR being filled row after row.
struct MatrixParts {
    indptr: Vec<u64>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl MatrixParts {
    fn new() -> Self {
        MatrixParts { indptr: vec![0], indices: Vec::new(), values: Vec::new() }
    }

    fn push(&mut self, col: u32, value: f32) {
        self.indices.push(col);
        self.values.push(value);
    }

    fn end_row(&mut self) {
        self.indptr.push(self.indices.len() as u64);
    }

    fn finish(self, n_rows: usize, n_cols: usize) -> Csr {
        Csr::from_parts(n_rows, n_cols, self.indptr, self.indices, self.values)
            .expect("rows are filled in order with sorted, distinct, in-range items")
    }
}

/// The column and value arrays of a CSR whose row sizes are known, filled in parallel.
struct MatrixArrays {
    indices: Vec<u32>,
    values: Vec<f32>,
}

/// One chunk's share of a [`MatrixArrays`]: its column and value slices.
type ChunkSlices<'a> = (&'a mut [u32], &'a mut [f32]);

impl MatrixArrays {
    /// Arrays of `len` entries, in the two buffers' memory where they have room; the fill
    /// overwrites every entry.
    fn reusing(indices: Vec<u32>, values: Vec<f32>, len: u64) -> Self {
        let len = len as usize;
        MatrixArrays { indices: reuse_for(indices, len), values: reuse_for(values, len) }
    }

    /// The slices of each chunk of rows `bounds[c]..bounds[c + 1]`.
    fn chunks_mut(&mut self, bounds: &[usize], indptr: &[u64]) -> Vec<ChunkSlices<'_>> {
        let offsets: Vec<u64> = bounds.iter().map(|&row| indptr[row]).collect();
        let indices = split_mut_at_offsets(&mut self.indices, &offsets);
        let values = split_mut_at_offsets(&mut self.values, &offsets);
        indices.into_iter().zip(values).collect()
    }

    fn finish(self, indptr: Vec<u64>, n_rows: usize, n_cols: usize) -> Csr {
        Csr::from_parts(n_rows, n_cols, indptr, self.indices, self.values)
            .expect("rows are filled in order with sorted, distinct, in-range items")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::RowNumbering;
    use flash_matrix::holdout::held_out_count;

    fn raw(triples: &[(i64, i64, f32)], timestamps: Option<Vec<i64>>) -> RawRatings {
        let numbering = RowNumbering::Lines { first_line: 2 };
        let mut raw = RawRatings::with_capacity("r.csv".into(), numbering, triples.len(), false);
        for &(user, item, rating) in triples {
            assert!(raw.users.push(user) && raw.items.push(item));
            raw.ratings.push(rating);
        }
        raw.timestamps = timestamps.as_deref().map(Timestamps::from);
        raw
    }

    #[test]
    fn latest_duplicate_wins_and_is_counted() {
        let r = raw(&[(1, 5, 1.0), (1, 5, 4.0), (1, 5, 2.0)], Some(vec![10, 30, 20]));
        let split = split_ratings(
            r,
            DuplicatePolicy::KeepLatest,
            SplitOptions { test_fraction: 0.0, seed: 1 },
        )
        .unwrap();
        assert_eq!(split.duplicates_dropped, 2);
        assert_eq!(split.train.values(), &[4.0]);

        // Without timestamps the later line wins.
        let r = raw(&[(1, 5, 1.0), (1, 5, 3.0)], None);
        let options = SplitOptions { test_fraction: 0.0, seed: 1 };
        let split = split_ratings(r, DuplicatePolicy::KeepLatest, options).unwrap();
        assert_eq!(split.train.values(), &[3.0]);

        // Timestamps beyond 32 bits (or before 1970) are compared as they are.
        let stamps = vec![-5, 1 << 40, -7, 4];
        let r = raw(&[(1, 5, 1.0), (1, 5, 2.0), (1, 6, 3.0), (1, 6, 4.0)], Some(stamps));
        let split = split_ratings(r, DuplicatePolicy::KeepLatest, options).unwrap();
        assert_eq!(split.train.values(), &[2.0, 4.0]);
    }

    #[test]
    fn a_segment_keeps_the_latest_of_each_item_in_item_order() {
        let dense_items = [3, 1, 3, 2, 1, 3, 1];
        let mut keys = Vec::new();

        // Timestamps absent or tied: the later line wins.
        let mut segment: Vec<u32> = (0..7).collect();
        let (kept, pair) = settle_segment(&mut segment, &dense_items, None, &mut keys);
        assert_eq!(&segment[..kept], &[6, 3, 5]);
        // Item 3's run (rows 0, 2, 5) repeats at row 2, before item 1's (1, 4, 6) at row 4.
        assert_eq!(pair, Some((0, 2)));

        // Timestamps decide first, whatever the line.
        let stamps = Timestamps::from(&[50, 9, 70, 0, 8, 60, 7][..]);
        let mut segment: Vec<u32> = (0..7).collect();
        let (kept, _) = settle_segment(&mut segment, &dense_items, Some(&stamps), &mut keys);
        assert_eq!(&segment[..kept], &[1, 3, 2]);

        // No repeats, no pair.
        let mut segment = vec![1, 3, 0];
        let (kept, pair) = settle_segment(&mut segment, &[5, 4, 6, 9], None, &mut keys);
        assert_eq!((&segment[..kept], pair), (&[1, 0, 3][..], None));
    }

    #[test]
    fn train_by_item_is_the_transpose_of_train() {
        let triples: Vec<(i64, i64, f32)> = (0..200)
            .map(|row| (row % 13, (row * 7) % 31, (row % 10) as f32 / 2.0 + 0.5))
            .collect();
        let stamps = (0..200).map(|row| 1_000 + row).collect();
        let options = SplitOptions { test_fraction: 0.3, seed: 4 };
        let split =
            split_ratings(raw(&triples, Some(stamps)), DuplicatePolicy::KeepLatest, options)
                .unwrap();

        let expected = split.train.transpose();
        assert_eq!(split.train_by_item.indptr(), expected.indptr());
        assert_eq!(split.train_by_item.indices(), expected.indices());
        assert_eq!(split.train_by_item.values(), expected.values());
        assert_eq!(split.train.nnz() + split.test.nnz() + split.duplicates_dropped, 200);
    }

    #[test]
    fn refused_duplicates_name_both_lines() {
        let r = raw(&[(1, 5, 1.0), (2, 5, 1.0), (1, 5, 2.0)], None);
        let err = split_ratings(r, DuplicatePolicy::Error, SplitOptions::default()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("line 2") && message.contains("line 4"), "{message}");
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let mut triples = Vec::new();
        for user in 0..50i64 {
            for item in 0..(1 + user % 17) {
                triples.push((user * 3, item * 7, 1.0 + (item % 4) as f32));
            }
        }
        let r = || raw(&triples, None);
        let options = SplitOptions { test_fraction: 0.25, seed: 9 };
        let a = split_ratings(r(), DuplicatePolicy::KeepLatest, options).unwrap();
        let b = split_ratings(r(), DuplicatePolicy::KeepLatest, options).unwrap();
        assert_eq!(a.test.indices(), b.test.indices());
        assert_eq!(a.train.nnz() + a.test.nnz(), triples.len());
        for user in 0..a.users.len() {
            let n = a.train.row_len(user) + a.test.row_len(user);
            assert_eq!(a.test.row_len(user), held_out_count(n, 0.25), "user {user}");
            for item in a.test.row(user).indices {
                assert!(!a.train.row(user).contains(*item));
            }
        }
        let other = SplitOptions { seed: 10, ..options };
        let c = split_ratings(r(), DuplicatePolicy::KeepLatest, other).unwrap();
        assert_ne!(a.test.indices(), c.test.indices());
    }
}
