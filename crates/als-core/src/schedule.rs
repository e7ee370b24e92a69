//! Cutting the rows of a half-epoch into chunks of similar work.
//!
//! Rating degrees follow a power law: one popular item can cost as much as thousands of
//! rare ones. Chunks of equal row counts would leave one thread working while the others wait;
//! chunks of equal estimated cost (the cheaper of the row's primal and dual forms, see
//! [`row_form`], plus a fixed cost per row) keep both cores busy. The cut depends only on the
//! data and k, never on the thread count, and each row's result is independent of its chunk,
//! so models are identical for any number of threads. At small k, where rows are solved in
//! batches ([`crate::batched`]), chunks hold whole batches of rows: a chunk of three users
//! would solve three lanes of sixteen.

use std::ops::Range;

use crate::batched::{BATCH_ROWS, MAX_BATCHED_K};
use crate::update::row_form;

/// Chunks per half-epoch: many more than threads, so that work stealing evens out the rest.
const TARGET_CHUNKS: u64 = 256;
/// The least work worth a chunk (multiply-adds): below it, scheduling costs more than it
/// balances (a small data set gets fewer chunks).
const MIN_CHUNK_COST: u64 = 20_000;
/// Fixed work per row (calls, zeroing, the system's set-up), in multiply-adds.
const ROW_OVERHEAD: u64 = 64;

/// Consecutive row ranges covering `0..indptr.len() - 1`, each of roughly equal cost.
pub(crate) fn balanced_chunks(indptr: &[u64], k: usize) -> Vec<Range<usize>> {
    let n_rows = indptr.len() - 1;
    let row_cost = |row: usize| {
        let n = (indptr[row + 1] - indptr[row]) as usize;
        if n == 0 {
            ROW_OVERHEAD
        } else {
            row_form(n, k).1 + ROW_OVERHEAD
        }
    };
    let total: u64 = (0..n_rows).map(row_cost).sum();
    let target = (total / TARGET_CHUNKS).max(MIN_CHUNK_COST);
    let row_multiple = if k <= MAX_BATCHED_K { BATCH_ROWS } else { 1 };

    let mut chunks = Vec::new();
    let (mut start, mut cost) = (0, 0);
    for row in 0..n_rows {
        cost += row_cost(row);
        if cost >= target && (row + 1 - start) % row_multiple == 0 {
            chunks.push(start..row + 1);
            start = row + 1;
            cost = 0;
        }
    }
    if start < n_rows {
        chunks.push(start..n_rows);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_every_row_once() {
        let indptr: Vec<u64> = [0u64, 1000, 1001, 1003, 1003, 5000].to_vec();
        let chunks = balanced_chunks(&indptr, 8);
        let covered: Vec<usize> = chunks.iter().flat_map(|r| r.clone()).collect();
        assert_eq!(covered, (0..5).collect::<Vec<_>>());
        assert!(balanced_chunks(&[0], 8).is_empty());
    }

    #[test]
    fn chunks_hold_whole_batches_at_small_k() {
        // Heavy rows would each fill a chunk; at k = 10 they are grouped by batches.
        let indptr: Vec<u64> = (0..=100u64).map(|row| row * 5_000).collect();
        let chunks = balanced_chunks(&indptr, 10);
        assert!(chunks.len() > 1);
        for chunk in &chunks[..chunks.len() - 1] {
            assert_eq!(chunk.len() % BATCH_ROWS, 0, "{chunk:?}");
        }
        assert_eq!(chunks.last().unwrap().end, 100);
        assert!(balanced_chunks(&indptr, 64).iter().any(|chunk| chunk.len() < BATCH_ROWS));
    }
}
