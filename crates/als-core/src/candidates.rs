//! One row update done by each candidate implementation that docs/performance.md compares:
//! the plain reference, flash-rec's SIMD kernels, faer, and ndarray's default product.
//!
//! Built only with the `candidates` feature, for `examples/candidates.rs` (run by
//! `cargo xtask bench`); the trainer never uses faer or ndarray. Every candidate does the
//! same update as the trainer's row update in primal form: gather the neighbours' vectors,
//! the bias from the current vector, then `(lam G + tau I) x = lam sum_j (e_j - b) v_j`
//! with `G = sum_j v_j v_j^T`. They differ in the dense work:
//!
//! - **plain** and **simd** are the trainer's own code ([`update_row`]) with each kernel;
//! - **faer** gathers the vectors into a row-major panel `P` (n x k), forms `P^T P` and
//!   `P^T w` with `faer::linalg::matmul` in f32, then solves in f64 with faer's Cholesky
//!   (`llt`); **faer, lower half** forms only the half of `P^T P` that the factorisation
//!   reads, with faer's triangular product. faer's published build targets AVX2; its
//!   AVX-512 build needs a nightly compiler;
//! - **ndarray** forms the same products with `ArrayView2::dot` (the matrixmultiply crate)
//!   and solves with the plain Cholesky, since ndarray has none without a LAPACK binding.

use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatRef, Par, Side};
use flash_matrix::{RowView, SeededRng};
use ndarray::{ArrayView1, ArrayView2};

use crate::kernels::{cholesky_solve, Kernel};
use crate::update::{dot, update_row, OtherSide, RowPenalties, RowScratch};

/// An implementation of the row update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Candidate {
    /// The reference code: scalar loops.
    Plain,
    /// flash-rec's register-blocked kernels on the widest instruction set of the CPU.
    Simd,
    /// faer's matrix product and Cholesky factorisation.
    Faer,
    /// As [`Candidate::Faer`], with faer's triangular product: only G's lower half, which
    /// is all that the factorisation reads.
    FaerLower,
    /// ndarray's matrix product (matrixmultiply) and the plain Cholesky.
    Ndarray,
}

impl Candidate {
    /// Every candidate, the reference first.
    pub const ALL: [Candidate; 5] = [
        Candidate::Plain,
        Candidate::Simd,
        Candidate::Faer,
        Candidate::FaerLower,
        Candidate::Ndarray,
    ];

    /// The candidate's name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Candidate::Plain => "plain",
            Candidate::Simd => "simd",
            Candidate::Faer => "faer",
            Candidate::FaerLower => "faer, lower half",
            Candidate::Ndarray => "ndarray",
        }
    }
}

/// One row's ratings and the other side's factors: the input of a row update.
pub struct RowProblem {
    k: usize,
    neighbours: Vec<u32>,
    ratings: Vec<f32>,
    factors: Vec<f32>,
    biases: Vec<f32>,
    mean: f32,
    penalties: RowPenalties,
    /// The row's vector before the update (the bias is computed from it).
    start: Vec<f32>,
}

impl RowProblem {
    /// A row of `n` ratings (half stars) of distinct neighbours among `n_other`, whose
    /// vectors are drawn from N(0, 1/sqrt(k)), as the trainer initialises them; lam = 1,
    /// tau = 0.1, gamma = 0.1.
    pub fn random(seed: u64, k: usize, n: usize, n_other: usize) -> RowProblem {
        let mut rng = SeededRng::new(seed);
        let scale = 1.0 / (k as f64).sqrt();
        let mut normal = |sd: f64| (rng.next_normal() * sd) as f32;
        let factors = (0..n_other * k).map(|_| normal(scale)).collect();
        let biases = (0..n_other).map(|_| normal(0.3)).collect();
        let start = (0..k).map(|_| normal(scale)).collect();

        // Sorted, as in a CSR row.
        let neighbours = rng.distinct_sorted(n, n_other as u32);
        let ratings = (0..n).map(|_| (1 + rng.below(10)) as f32 * 0.5).collect();

        let penalties = RowPenalties { lambda: 1.0, tau: 0.1, gamma: 0.1 };
        RowProblem { k, neighbours, ratings, factors, biases, mean: 3.5, penalties, start }
    }

    fn len(&self) -> usize {
        self.neighbours.len()
    }

    fn other(&self) -> OtherSide<'_> {
        OtherSide { k: self.k, factors: &self.factors, bias: &self.biases, mean: self.mean }
    }

    fn residual(&self, position: usize) -> f32 {
        let j = self.neighbours[position] as usize;
        self.ratings[position] - self.mean - self.biases[j]
    }
}

/// Buffers of every candidate, reused from row to row as the trainer reuses its own.
pub struct Workspace {
    plain: RowScratch,
    simd: RowScratch,
    panel: Vec<f32>,
    weights: Vec<f32>,
    gram: Vec<f32>,
    rhs: Vec<f32>,
    system: Vec<f64>,
    solution: Vec<f64>,
}

impl Workspace {
    /// Buffers for vectors of `k` factors.
    pub fn new(k: usize) -> Workspace {
        Workspace {
            plain: RowScratch::with_kernel(k, Kernel::Plain),
            simd: RowScratch::with_kernel(k, Kernel::detect()),
            panel: Vec::new(),
            weights: Vec::new(),
            gram: vec![0.0; k * k],
            rhs: vec![0.0; k],
            system: vec![0.0; k * k],
            solution: vec![0.0; k],
        }
    }
}

/// The row's new (bias, vector) by `candidate`. Panics if the system is not positive
/// definite, which the rows of [`RowProblem::random`] always are.
pub fn update(
    candidate: Candidate,
    row: &RowProblem,
    workspace: &mut Workspace,
) -> (f32, Vec<f32>) {
    let mut vector = row.start.clone();
    let mut bias = 0.0;
    let entries = RowView { indices: &row.neighbours, values: &row.ratings };
    let trainer_code = |scratch: &mut RowScratch, vector: &mut [f32], bias: &mut f32| {
        update_row(entries, row.penalties, row.other(), vector, bias, scratch)
            .expect("a positive definite system")
    };
    match candidate {
        Candidate::Plain => trainer_code(&mut workspace.plain, &mut vector, &mut bias),
        Candidate::Simd => trainer_code(&mut workspace.simd, &mut vector, &mut bias),
        Candidate::Faer | Candidate::FaerLower | Candidate::Ndarray => {
            bias = gather_and_bias(row, workspace);
            match candidate {
                Candidate::Ndarray => ndarray_products(row, workspace),
                _ => faer_products(row, workspace, candidate == Candidate::FaerLower),
            }
            solve(candidate, row, workspace);
            for (v, &x) in vector.iter_mut().zip(&workspace.solution) {
                *v = x as f32;
            }
        }
    }
    (bias, vector)
}

/// The exact update in f64: the accuracy every candidate is measured against.
pub fn reference(row: &RowProblem) -> (f64, Vec<f64>) {
    let k = row.k;
    let RowPenalties { lambda, tau, gamma } = row.penalties;
    let vector_of = |j: u32| &row.factors[j as usize * k..(j as usize + 1) * k];
    let dot = |a: &[f32], b: &[f32]| -> f64 {
        a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
    };

    let mut bias_sum = 0f64;
    for (position, &j) in row.neighbours.iter().enumerate() {
        bias_sum += row.residual(position) as f64 - dot(&row.start, vector_of(j));
    }
    let bias = lambda * bias_sum / (lambda * row.len() as f64 + gamma);

    let mut system = vec![0f64; k * k];
    let mut rhs = vec![0f64; k];
    for (position, &j) in row.neighbours.iter().enumerate() {
        let v = vector_of(j);
        let weight = row.residual(position) as f64 - bias;
        for a in 0..k {
            rhs[a] += lambda * weight * v[a] as f64;
            for b in 0..k {
                system[a * k + b] += lambda * v[a] as f64 * v[b] as f64;
            }
        }
    }
    for d in 0..k {
        system[d * k + d] += tau;
    }
    cholesky_solve(&mut system, &mut rhs, k).expect("a positive definite system");
    (bias, rhs)
}

/// Copies the neighbours' vectors into `workspace.panel` (n x k, row-major) and returns the
/// new bias, `lam sum_j (e_j - u . v_j) / (lam n + gamma)`; leaves the weights `e_j - b`.
fn gather_and_bias(row: &RowProblem, workspace: &mut Workspace) -> f32 {
    let k = row.k;
    workspace.panel.clear();
    for &j in &row.neighbours {
        workspace.panel.extend_from_slice(&row.factors[j as usize * k..(j as usize + 1) * k]);
    }

    let mut bias_sum = 0f64;
    for (position, v) in workspace.panel.chunks_exact(k).enumerate() {
        bias_sum += (row.residual(position) - dot(v, &row.start)) as f64;
    }
    let RowPenalties { lambda, gamma, .. } = row.penalties;
    let bias = (lambda * bias_sum / (lambda * row.len() as f64 + gamma)) as f32;

    workspace.weights.clear();
    workspace.weights.extend((0..row.len()).map(|position| row.residual(position) - bias));
    bias
}

/// `G = P^T P` (whole, or its lower half) and `rhs = P^T w` with faer, in f32.
fn faer_products(row: &RowProblem, workspace: &mut Workspace, lower_half: bool) {
    let (k, n) = (row.k, row.len());
    let panel = MatRef::from_row_major_slice(&workspace.panel, n, k);
    let weights = MatRef::from_column_major_slice(&workspace.weights, n, 1);
    let gram = faer::MatMut::from_row_major_slice_mut(&mut workspace.gram, k, k);
    if lower_half {
        let whole = BlockStructure::Rectangular;
        triangular::matmul(
            gram,
            BlockStructure::TriangularLower,
            Accum::Replace,
            panel.transpose(),
            whole,
            panel,
            whole,
            1.0,
            Par::Seq,
        );
    } else {
        matmul(gram, Accum::Replace, panel.transpose(), panel, 1.0, Par::Seq);
    }
    let rhs = faer::MatMut::from_column_major_slice_mut(&mut workspace.rhs, k, 1);
    matmul(rhs, Accum::Replace, panel.transpose(), weights, 1.0, Par::Seq);
}

/// `G = P^T P` and `rhs = P^T w` with ndarray (matrixmultiply), in f32.
fn ndarray_products(row: &RowProblem, workspace: &mut Workspace) {
    let (k, n) = (row.k, row.len());
    let panel = ArrayView2::from_shape((n, k), &workspace.panel).expect("n x k floats");
    let weights = ArrayView1::from(&workspace.weights[..]);
    let gram = panel.t().dot(&panel);
    let rhs = panel.t().dot(&weights);
    // Standard layout: row-major, as the plain solve reads it.
    workspace.gram.copy_from_slice(gram.as_slice().expect("a fresh, contiguous product"));
    workspace.rhs.copy_from_slice(rhs.as_slice().expect("a fresh, contiguous product"));
}

/// Solves `(lam G + tau I) x = lam rhs` in f64 into `workspace.solution`: with faer's
/// Cholesky for faer (which reads only the lower half), with the plain one otherwise.
fn solve(candidate: Candidate, row: &RowProblem, workspace: &mut Workspace) {
    let k = row.k;
    let RowPenalties { lambda, tau, .. } = row.penalties;
    for (system, &g) in workspace.system.iter_mut().zip(&workspace.gram) {
        *system = lambda * g as f64;
    }
    for d in 0..k {
        workspace.system[d * k + d] += tau;
    }
    for (x, &r) in workspace.solution.iter_mut().zip(&workspace.rhs) {
        *x = lambda * r as f64;
    }

    if matches!(candidate, Candidate::Faer | Candidate::FaerLower) {
        // Reads only the lower half.
        let system = MatRef::from_row_major_slice(&workspace.system, k, k);
        let factor = system.llt(Side::Lower).expect("a positive definite system");
        let rhs = MatRef::from_column_major_slice(&workspace.solution, k, 1);
        let solution: Mat<f64> = factor.solve(rhs);
        for (x, d) in workspace.solution.iter_mut().zip(0..k) {
            *x = solution[(d, 0)];
        }
    } else {
        cholesky_solve(&mut workspace.system, &mut workspace.solution, k)
            .expect("a positive definite system");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_candidate_gives_the_f64_answer() {
        for (k, n) in [(8, 30), (64, 200), (33, 500)] {
            let row = RowProblem::random(k as u64, k, n, 2 * n);
            let (want_bias, want) = reference(&row);
            let mut workspace = Workspace::new(k);
            for candidate in Candidate::ALL {
                let (bias, vector) = update(candidate, &row, &mut workspace);
                let scale = want.iter().fold(1e-3f64, |m, x| m.max(x.abs()));
                let worst = vector
                    .iter()
                    .zip(&want)
                    .map(|(&got, &want)| (got as f64 - want).abs())
                    .fold(0.0, f64::max);
                let name = candidate.name();
                assert!(worst < 1e-4 * scale, "{name} k={k} n={n}: off by {worst}");
                assert!((bias as f64 - want_bias).abs() < 1e-4, "{name}: bias {bias}");
            }
        }
    }
}
