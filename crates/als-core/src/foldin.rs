//! Folding a new user in: the user's bias and vector from a few ratings, items fixed.
//!
//! With the item side fixed, the objective restricted to one user is a ridge regression in
//! z = [u; b] with features x_j = [v_j; 1]:
//!
//! ```text
//! (lam sum_j x_j x_j^T + diag(tau_u, ..., tau_u, gamma_u)) z = lam sum_j (r_j - mu - b_j) x_j
//! ```
//!
//! solved exactly, in f64. Training reaches the same point when its user updates converge
//! (each bias-then-vector step is a block of the same minimisation).

use crate::kernels::{cholesky_solve, GramAccumulator};
use crate::{AlsParams, Factors};

/// A folded-in user.
#[derive(Clone, Debug, PartialEq)]
pub struct FoldedUser {
    /// The user's vector (length k).
    pub vector: Vec<f32>,
    /// The user's bias.
    pub bias: f32,
}

/// Solves the bias and vector of a user who rated `ratings` (dense item, rating), under the
/// objective of `params`, against the fixed items of `factors`. No ratings give the zero user.
///
/// # Panics
/// If an item index is out of range.
pub fn fold_in(factors: &Factors, params: &AlsParams, ratings: &[(u32, f32)]) -> FoldedUser {
    let k = factors.k;
    if ratings.is_empty() {
        return FoldedUser { vector: vec![0.0; k], bias: 0.0 };
    }
    let (tau_weight, gamma_weight) = params.regularization.weights(ratings.len());

    let dim = k + 1;
    let mut gram = GramAccumulator::new(dim);
    gram.reset();
    let mut features = vec![0f32; dim];
    features[k] = 1.0;
    for &(item, rating) in ratings {
        features[..k].copy_from_slice(factors.item_vector(item as usize));
        let residual = rating - factors.global_mean - factors.item_bias[item as usize];
        gram.add(&features, residual);
    }
    gram.finish();

    let mut base: Vec<f64> = gram.gram.iter().map(|g| params.lambda * g).collect();
    for d in 0..k {
        base[d * dim + d] += params.tau * tau_weight;
    }
    base[k * dim + k] += params.gamma * gamma_weight;
    // The system is definite in exact arithmetic (tau > 0 on the vector block, lam * n > 0 on
    // the bias), but rounding can make a nearly singular one indefinite (a tiny tau, say):
    // then retry with a growing diagonal shift, as training does. One that stays indefinite
    // (item factors so large their squares overflow f32) gives the zero user, not a panic
    // (found by the `model` fuzz target).
    let largest_diagonal = (0..dim).map(|d| base[d * dim + d]).fold(0.0, f64::max);
    for jitter in FOLD_IN_JITTERS {
        let mut system = base.clone();
        for d in 0..dim {
            system[d * dim + d] += jitter * largest_diagonal;
        }
        let mut solution: Vec<f64> = gram.rhs.iter().map(|r| params.lambda * r).collect();
        if cholesky_solve(&mut system, &mut solution, dim).is_ok()
            && solution.iter().all(|x| (*x as f32).is_finite())
        {
            return FoldedUser {
                vector: solution[..k].iter().map(|&x| x as f32).collect(),
                bias: solution[k] as f32,
            };
        }
    }
    tracing::warn!("the fold-in system is not positive definite; the new user gets zero factors");
    FoldedUser { vector: vec![0.0; k], bias: 0.0 }
}

/// Diagonal shifts tried, relative to the largest diagonal entry (as in training).
const FOLD_IN_JITTERS: [f64; 5] = [0.0, 1e-7, 1e-5, 1e-3, 1e-1];
