//! Seeded, per-row stratified hold-out: the rule behind the test split and the validation
//! split that tuning carves from train.

use crate::{Csr, SeededRng};

/// How many of a row's `n` entries are held out: `round(fraction * n)` clamped to
/// `1..=n - 1` when `n >= 2`, none for a row of one entry or a fraction of 0.
pub fn held_out_count(n: usize, fraction: f64) -> usize {
    if n < 2 || fraction <= 0.0 {
        return 0;
    }
    ((fraction * n as f64).round() as usize).clamp(1, n - 1)
}

/// Marks `held_out_count(n, fraction)` of `n` positions, drawn uniformly by a partial
/// Fisher-Yates shuffle; `positions` is scratch space reused between calls.
pub fn mark_held_out(
    n: usize,
    fraction: f64,
    rng: &mut SeededRng,
    positions: &mut Vec<u32>,
    marks: &mut Vec<bool>,
) {
    let n_held = held_out_count(n, fraction);
    positions.clear();
    positions.extend(0..n as u32);
    for i in 0..n_held {
        let j = i + rng.below((n - i) as u64) as usize;
        positions.swap(i, j);
    }
    marks.clear();
    marks.resize(n, false);
    for &position in &positions[..n_held] {
        marks[position as usize] = true;
    }
}

/// Splits every row of `matrix` into kept and held-out entries by the rule above; row `r`
/// draws from its own stream `stream_of_row(r)` of `seed`, so the split is the same whatever
/// the order or thread rows are handled in.
pub fn split_rows(
    matrix: &Csr,
    fraction: f64,
    seed: u64,
    stream_of_row: impl Fn(usize) -> u64,
) -> (Csr, Csr) {
    let (mut kept, mut held) = (Parts::default(), Parts::default());
    let (mut positions, mut marks) = (Vec::new(), Vec::new());
    for row in 0..matrix.n_rows() {
        let entries = matrix.row(row);
        let mut rng = SeededRng::for_stream(seed, stream_of_row(row));
        mark_held_out(entries.len(), fraction, &mut rng, &mut positions, &mut marks);
        for ((&col, &value), &is_held) in entries.indices.iter().zip(entries.values).zip(&marks) {
            let target = if is_held { &mut held } else { &mut kept };
            target.indices.push(col);
            target.values.push(value);
        }
        kept.indptr.push(kept.indices.len() as u64);
        held.indptr.push(held.indices.len() as u64);
    }
    let build = |parts: Parts| {
        Csr::from_parts(
            matrix.n_rows(),
            matrix.n_cols(),
            parts.indptr,
            parts.indices,
            parts.values,
        )
        .expect("a subset of a valid matrix's rows is valid")
    };
    (build(kept), build(held))
}

struct Parts {
    indptr: Vec<u64>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl Default for Parts {
    fn default() -> Self {
        Parts { indptr: vec![0], indices: Vec::new(), values: Vec::new() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_counts_follow_the_rule() {
        let cases =
            [(1, 0.2, 0), (2, 0.2, 1), (10, 0.2, 2), (12, 0.2, 2), (13, 0.2, 3), (3, 0.9, 2)];
        for (n, fraction, expected) in cases {
            assert_eq!(held_out_count(n, fraction), expected, "n {n} fraction {fraction}");
        }
        assert_eq!(held_out_count(10, 0.0), 0);
    }

    #[test]
    fn split_rows_partitions_each_row() {
        let rows: Vec<u32> = (0..60).map(|i| i / 12).collect();
        let cols: Vec<u32> = (0..60).map(|i| i % 12).collect();
        let matrix = Csr::from_triplets(5, 12, &rows, &cols, &vec![1.0; 60]).unwrap();
        let (kept, held) = split_rows(&matrix, 0.25, 7, |row| row as u64);
        for row in 0..5 {
            assert_eq!(held.row_len(row), 3);
            assert_eq!(kept.row_len(row), 9);
            assert!(held.row(row).indices.iter().all(|c| !kept.row(row).contains(*c)));
        }
        let (_, again) = split_rows(&matrix, 0.25, 7, |row| row as u64);
        assert_eq!(again.indices(), held.indices());
    }
}
