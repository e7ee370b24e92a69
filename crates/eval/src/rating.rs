use flash_matrix::Csr;
use serde::{Deserialize, Serialize};

use crate::{sum_in_blocks, SumPair};

/// Errors of predicted ratings against held-out ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingErrors {
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// How many ratings were compared.
    pub count: usize,
}

/// RMSE and MAE of `predict(row, col)` over every stored entry of `truth` (rows are users,
/// columns items). An empty `truth` gives zeros with `count == 0`.
pub fn rating_errors<F>(truth: &Csr, predict: F) -> RatingErrors
where
    F: Fn(usize, usize) -> f32 + Sync,
{
    let SumPair(squared, absolute) = sum_in_blocks(truth.n_rows(), |row| {
        let entries = truth.row(row);
        let mut sums = SumPair::default();
        for (&col, &rating) in entries.indices.iter().zip(entries.values) {
            let error = (rating - predict(row, col as usize)) as f64;
            sums = sums + SumPair(error * error, error.abs());
        }
        sums
    });
    let count = truth.nnz();
    if count == 0 {
        return RatingErrors::default();
    }
    RatingErrors { rmse: (squared / count as f64).sqrt(), mae: absolute / count as f64, count }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_errors() {
        // Errors 1, -2 and 0: RMSE sqrt(5/3), MAE 1.
        let truth = Csr::from_triplets(2, 2, &[0, 0, 1], &[0, 1, 1], &[3.0, 4.0, 5.0]).unwrap();
        let errors = rating_errors(&truth, |user, item| match (user, item) {
            (0, 0) => 2.0,
            (0, 1) => 6.0,
            _ => 5.0,
        });
        assert!((errors.rmse - (5.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((errors.mae - 1.0).abs() < 1e-12);
        assert_eq!(errors.count, 3);
        assert_eq!(rating_errors(&Csr::empty(3, 3), |_, _| 0.0).count, 0);
    }
}
