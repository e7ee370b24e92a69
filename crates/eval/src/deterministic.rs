use rayon::prelude::*;

/// Rows per block of a deterministic parallel sum.
const BLOCK_ROWS: usize = 256;

/// `sum over rows of term(row)` for `rows` in `0..n_rows`, computed in parallel but always in
/// the same association (blocks of 256 rows, blocks added in order), so the result does not
/// depend on the thread count.
pub fn sum_in_blocks<T, F>(n_rows: usize, term: F) -> T
where
    T: Copy + Default + Send + std::ops::Add<Output = T>,
    F: Fn(usize) -> T + Sync,
{
    let n_blocks = n_rows.div_ceil(BLOCK_ROWS);
    let block_sums: Vec<T> = (0..n_blocks)
        .into_par_iter()
        .map(|block| {
            let end = ((block + 1) * BLOCK_ROWS).min(n_rows);
            (block * BLOCK_ROWS..end).fold(T::default(), |acc, row| acc + term(row))
        })
        .collect();
    block_sums.into_iter().fold(T::default(), |acc, x| acc + x)
}

/// Two sums carried together through [`sum_in_blocks`] (squared and absolute errors, say).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SumPair(pub f64, pub f64);

impl std::ops::Add for SumPair {
    type Output = SumPair;
    fn add(self, other: SumPair) -> SumPair {
        SumPair(self.0 + other.0, self.1 + other.1)
    }
}
