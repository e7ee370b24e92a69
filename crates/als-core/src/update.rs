//! The exact update of one row: first its bias, then its factor vector.
//!
//! For a row i with neighbours j (the items a user rated, or the users who rated an item),
//! ratings r_ij, the other side's vectors v_j and biases b_j, and the global mean mu (0 when
//! disabled), with residuals e_ij = r_ij - mu - b_j:
//!
//! ```text
//! b_i = lam * sum_j (e_ij - u_i . v_j) / (lam * n_i + gamma_i)
//! u_i = (lam * sum_j v_j v_j^T + tau_i I)^-1  lam * sum_j (e_ij - b_i) v_j
//! ```
//!
//! where tau_i, gamma_i are tau, gamma (fixed) or tau * n_i, gamma * n_i (scaled by count).
//! Each is the exact minimiser of the objective over its own block given everything else, so
//! the objective never increases.

use flash_matrix::RowView;

use crate::kernels::{cholesky_solve, GramAccumulator};

/// The weights that apply to one row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowPenalties {
    pub lambda: f64,
    pub tau: f64,
    pub gamma: f64,
}

/// The fixed inputs of a half-epoch: the other side's factors and biases.
#[derive(Clone, Copy)]
pub(crate) struct OtherSide<'a> {
    pub k: usize,
    pub factors: &'a [f32],
    pub bias: &'a [f32],
    pub mean: f32,
}

/// Per-thread workspace, reused for every row: no allocation per row.
pub(crate) struct RowScratch {
    gram: GramAccumulator,
    system: Vec<f64>,
    solution: Vec<f64>,
    residuals: Vec<f32>,
}

impl RowScratch {
    pub fn new(k: usize) -> Self {
        RowScratch {
            gram: GramAccumulator::new(k),
            system: vec![0.0; k * k],
            solution: vec![0.0; k],
            residuals: Vec::new(),
        }
    }
}

/// Updates `bias` then `vector` for the row with `entries`; on failure returns the column of
/// the non-positive pivot (only possible with overflowing parameters).
pub(crate) fn update_row(
    entries: RowView<'_>,
    penalties: RowPenalties,
    other: OtherSide<'_>,
    vector: &mut [f32],
    bias: &mut f32,
    scratch: &mut RowScratch,
) -> Result<(), usize> {
    let k = other.k;
    let n = entries.len();
    if n == 0 {
        // No ratings: nothing to learn; zero keeps predictions at the other terms.
        vector.fill(0.0);
        *bias = 0.0;
        return Ok(());
    }
    let RowPenalties { lambda, tau, gamma } = penalties;
    let neighbour = |j: u32| &other.factors[j as usize * k..(j as usize + 1) * k];

    // Residuals without this row's terms, and the bias from the current vector.
    scratch.residuals.clear();
    let mut bias_sum = 0f64;
    for (&j, &rating) in entries.indices.iter().zip(entries.values) {
        let residual = rating - other.mean - other.bias[j as usize];
        scratch.residuals.push(residual);
        bias_sum += (residual - dot(vector, neighbour(j))) as f64;
    }
    let new_bias = lambda * bias_sum / (lambda * n as f64 + gamma);
    *bias = new_bias as f32;

    // Normal equations of the vector given the new bias.
    let gram = &mut scratch.gram;
    gram.reset();
    let row_bias = *bias;
    for (&j, &residual) in entries.indices.iter().zip(&scratch.residuals) {
        gram.add(neighbour(j), residual - row_bias);
    }
    gram.finish();
    solve_normal_equations(scratch, lambda, tau, k)?;
    for (v, &x) in vector.iter_mut().zip(&scratch.solution) {
        *v = x as f32;
    }
    Ok(())
}

/// Diagonal shifts tried, relative to the largest diagonal entry, when rounding has made a
/// nearly singular system indefinite (tiny tau with huge factors, say).
const JITTERS: [f64; 5] = [0.0, 1e-7, 1e-5, 1e-3, 1e-1];

/// Solves `(lam G + tau I) x = lam rhs` into `scratch.solution`.
///
/// The Gram matrix is positive semi-definite in exact arithmetic, and tau > 0 makes the
/// system definite, but f32 rounding can push a nearly singular G slightly indefinite. Then
/// the solve is retried with a growing diagonal shift, which changes the answer far less
/// than the rounding already did; only a system that stays indefinite fails.
fn solve_normal_equations(
    scratch: &mut RowScratch,
    lambda: f64,
    tau: f64,
    k: usize,
) -> Result<(), usize> {
    let gram = &scratch.gram;
    let largest_diagonal = (0..k).map(|d| lambda * gram.gram[d * k + d] + tau).fold(0.0, f64::max);
    let mut failed_column = 0;
    for jitter in JITTERS {
        for (system, &g) in scratch.system.iter_mut().zip(&gram.gram) {
            *system = lambda * g;
        }
        for d in 0..k {
            scratch.system[d * k + d] += tau + jitter * largest_diagonal;
        }
        for (x, &r) in scratch.solution.iter_mut().zip(&gram.rhs) {
            *x = lambda * r;
        }
        match cholesky_solve(&mut scratch.system, &mut scratch.solution, k) {
            Ok(()) => return Ok(()),
            Err(column) => failed_column = column,
        }
    }
    Err(failed_column)
}

/// Dot product of two equal-length f32 slices.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
