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
//!
//! Two implementations compute it (see [`crate::kernels`] for the choice):
//!
//! - the plain path: a dot product per rating for the bias, the Gram matrix one outer product
//!   at a time, the plain Cholesky solve;
//! - the SIMD path: the bias from `sum_j e_ij - u_i . sum_j v_j`, the neighbours gathered into
//!   a contiguous panel whose Gram matrix (upper triangle) and right-hand side come from the
//!   register-blocked tiles in f32, flushed into f64 every few hundred ratings, then the
//!   vectorised Cholesky solve. Rows with fewer ratings than factors are solved in their
//!   n-dimensional dual form (see [`RowForm`]), which gives the same vector for less work.
//!   At k <= 15 [`update_rows`] batches rows instead ([`crate::batched`]): sixteen rows share
//!   one vectorised factorisation, and rows of one rating take their closed form.
//!
//! Either way a row's result depends only on the row and the other side, never on the thread
//! or the chunk that runs it.

use flash_matrix::RowView;
use pulp::{Simd, WithSimd};

use crate::aligned::AlignedBuffer;
use crate::batched::{BatchedRows, RowBatch, MAX_BATCHED_K};
use crate::kernels::{
    cholesky_solve, cholesky_solve_augmented, column_sums, gram_upper, GramAccumulator, Kernel,
    ROW_QUANTUM,
};

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
    kind: ScratchKind,
    /// The batched path's systems, for the SIMD kernels at k <= [`MAX_BATCHED_K`].
    batch: Option<Box<RowBatch>>,
}

enum ScratchKind {
    Plain(PlainScratch),
    Simd(pulp::Arch, Box<SimdScratch>),
}

impl RowScratch {
    /// Workspace for the process's kernel ([`Kernel::configured`]).
    pub fn new(k: usize) -> Self {
        Self::with_kernel(k, Kernel::configured())
    }

    /// Workspace for an explicit kernel (tests compare them).
    pub fn with_kernel(k: usize, kernel: Kernel) -> Self {
        let kind = match kernel {
            Kernel::Plain => ScratchKind::Plain(PlainScratch::new(k)),
            Kernel::Simd(arch) => ScratchKind::Simd(arch, Box::new(SimdScratch::new(k))),
        };
        let batched = matches!(kind, ScratchKind::Simd(..)) && k <= MAX_BATCHED_K;
        RowScratch { kind, batch: batched.then(RowBatch::new) }
    }
}

/// Why a row of [`update_rows`] could not be updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowFailure {
    /// The system's pivot at `column` stayed non-positive (only with overflowing parameters).
    NotPositiveDefinite { row: usize, column: usize },
    /// The new bias or vector is not finite.
    NonFinite { row: usize },
}

/// Updates rows `rows` of one side: row `rows.start + offset` owns
/// `vectors[offset k..(offset + 1) k]` and `biases[offset]`. `row_of` gives a row's ratings
/// and the weights that apply to it.
///
/// With the SIMD kernels and k up to [`MAX_BATCHED_K`], rows go through the batched path
/// ([`crate::batched`]); otherwise through [`update_row`] one at a time. Either way each
/// row's result depends only on that row and the other side.
pub(crate) fn update_rows<'r>(
    rows: std::ops::Range<usize>,
    row_of: impl Fn(usize) -> (RowView<'r>, RowPenalties),
    other: OtherSide<'_>,
    vectors: &mut [f32],
    biases: &mut [f32],
    scratch: &mut RowScratch,
) -> Result<(), RowFailure> {
    let k = other.k;
    let Some(mut batch) = scratch.batch.take() else {
        for (offset, row) in rows.enumerate() {
            let (entries, penalties) = row_of(row);
            let vector = &mut vectors[offset * k..(offset + 1) * k];
            let bias = &mut biases[offset];
            update_row(entries, penalties, other, vector, bias, scratch)
                .map_err(|column| RowFailure::NotPositiveDefinite { row, column })?;
            if !row_is_finite(vector, *bias) {
                return Err(RowFailure::NonFinite { row });
            }
        }
        return Ok(());
    };
    let ScratchKind::Simd(arch, _) = scratch.kind else {
        unreachable!("only the SIMD kernels have a batch");
    };
    let redo = |entries: RowView<'r>, penalties, vector: &mut [f32], bias: &mut f32| {
        update_row(entries, penalties, other, vector, bias, scratch)
    };
    let result = arch.dispatch(BatchedRows {
        rows,
        row_of,
        other,
        vectors,
        biases,
        batch: &mut batch,
        redo,
    });
    scratch.batch = Some(batch);
    result
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
    if entries.is_empty() {
        // No ratings: nothing to learn; zero keeps predictions at the other terms.
        vector.fill(0.0);
        *bias = 0.0;
        return Ok(());
    }
    match &mut scratch.kind {
        ScratchKind::Plain(plain) => {
            update_row_plain(entries, penalties, other, vector, bias, plain)
        }
        ScratchKind::Simd(arch, fast) => {
            let form = row_form(entries.len(), other.k).0;
            arch.dispatch(SimdRow { entries, penalties, other, vector, bias, scratch: fast, form })
        }
    }
}

/// Whether a row's new bias and vector are finite (the trainer stops on the first that is not).
pub(crate) fn row_is_finite(vector: &[f32], bias: f32) -> bool {
    bias.is_finite() && vector.iter().all(|v| v.is_finite())
}

/// Which form of the normal equations a row is solved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RowForm {
    /// k x k: `(lam P^T P + tau I) u = lam P^T w`, P the row's n x k neighbour panel.
    Primal,
    /// n x n (Woodbury): `u = P^T y` with `(lam P P^T + tau I) y = lam w`, the same answer.
    Dual,
}

/// The cheaper form for a row of `n` ratings at `k` factors, and its estimated cost in
/// multiply-adds (Gram, factorisation, gathers and the system's set-up).
pub(crate) fn row_form(n: usize, k: usize) -> (RowForm, u64) {
    let (n, k) = (n as u64, k as u64);
    let primal = n * (k * k / 2 + k) + k * k * k / 6 + k * k;
    let dual = n * n * k / 2 + n * n * n / 6 + 3 * n * k + n * n;
    if n < k && dual < primal {
        (RowForm::Dual, dual)
    } else {
        (RowForm::Primal, primal)
    }
}

// ---------------------------------------------------------------------------------------------
// The plain reference path.

/// Workspace of the plain path.
struct PlainScratch {
    gram: GramAccumulator,
    system: Vec<f64>,
    solution: Vec<f64>,
    residuals: Vec<f32>,
}

impl PlainScratch {
    fn new(k: usize) -> Self {
        PlainScratch {
            gram: GramAccumulator::new(k),
            system: vec![0.0; k * k],
            solution: vec![0.0; k],
            residuals: Vec::new(),
        }
    }
}

/// The reference update: residuals and the bias from per-rating dot products, then the
/// Gram matrix rating by rating and the plain Cholesky solve.
fn update_row_plain(
    entries: RowView<'_>,
    penalties: RowPenalties,
    other: OtherSide<'_>,
    vector: &mut [f32],
    bias: &mut f32,
    scratch: &mut PlainScratch,
) -> Result<(), usize> {
    let k = other.k;
    let n = entries.len();
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
    for (v, &x) in vector.iter_mut().zip(scratch.solution.iter()) {
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
    scratch: &mut PlainScratch,
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

// ---------------------------------------------------------------------------------------------
// The SIMD path.

/// Diagonal shifts tried by the SIMD path; the same as the plain path's.
const SIMD_JITTERS: [f64; 5] = JITTERS;

/// Bytes of f32 panel per block: the block stays in the 48 KiB L1 cache while every register
/// tile streams over it.
const PANEL_BYTES: usize = 32 * 1024;
/// Most floats of a row's whole gathered panel (4 MiB): longer rows gather block by block.
const GATHER_FLOATS: usize = 1 << 20;

/// Workspace of the SIMD path, sized once for k (the widest instruction set's padding).
struct SimdScratch {
    /// Row stride of the primal panel: columns `0..k` hold a neighbour's vector, `k` the
    /// weight `e_j - b`; the rest are never read for a result.
    ld: usize,
    /// Ratings per block: f32 partial sums over at most this many ratings are flushed to f64.
    block_rows: usize,
    panel: AlignedBuffer<f32>,
    /// A block's Gram tiles (rows `0..k`, stride `ld`), then the right-hand-side row.
    tiles: AlignedBuffer<f32>,
    /// f64 totals: the Gram matrix (k x k, upper triangle), `sum_j (e_j - b) v_j`, `sum v_j`.
    gram: Vec<f64>,
    rhs: Vec<f64>,
    neighbour_sum: Vec<f64>,
    /// A block's column sums (f32, whole vectors).
    sums: AlignedBuffer<f32>,
    /// The dual form's transposed panel (k rows of neighbours' coordinates) and n x n Gram.
    dual_panel: AlignedBuffer<f32>,
    dual_gram: AlignedBuffer<f32>,
    residuals: Vec<f32>,
    /// The augmented system `[A | b]` and the solution.
    system: AlignedBuffer<f64>,
    solution: AlignedBuffer<f64>,
    vector: Vec<f64>,
}

impl SimdScratch {
    fn new(k: usize) -> Self {
        let padded = k.next_multiple_of(ROW_QUANTUM);
        let ld = padded.max(k + 2).next_multiple_of(16);
        let block_rows = (PANEL_BYTES / 4 / ld).clamp(16, 256) / 8 * 8;
        // The dual form serves rows of fewer than k ratings.
        let dual_padded = k.saturating_sub(1).max(1).next_multiple_of(ROW_QUANTUM);
        let dual_ld = dual_padded.next_multiple_of(16);
        let system_ld = (k + 1).next_multiple_of(8);
        SimdScratch {
            ld,
            block_rows,
            panel: AlignedBuffer::zeroed(block_rows * ld),
            tiles: AlignedBuffer::zeroed((padded + 2) * ld),
            gram: vec![0.0; k * k],
            rhs: vec![0.0; k],
            neighbour_sum: vec![0.0; k],
            sums: AlignedBuffer::zeroed(k.next_multiple_of(16)),
            dual_panel: AlignedBuffer::zeroed(k * dual_ld),
            dual_gram: AlignedBuffer::zeroed(dual_padded * dual_ld),
            residuals: Vec::new(),
            system: AlignedBuffer::zeroed(k * system_ld),
            solution: AlignedBuffer::zeroed(system_ld),
            vector: vec![0.0; k],
        }
    }
}

/// One row's update on one instruction set.
struct SimdRow<'a, 'o> {
    entries: RowView<'a>,
    penalties: RowPenalties,
    other: OtherSide<'o>,
    vector: &'a mut [f32],
    bias: &'a mut f32,
    scratch: &'a mut SimdScratch,
    /// [`row_form`]'s choice (tests force the other one).
    form: RowForm,
}

impl WithSimd for SimdRow<'_, '_> {
    type Output = Result<(), usize>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        match self.form {
            RowForm::Primal => primal_update(simd, self),
            RowForm::Dual => dual_update(simd, self),
        }
    }
}

/// Copies neighbour `j`'s vector (`factors[j k..(j + 1) k]`) into the start of a panel row,
/// by whole vectors (no call per rating). Past k the row receives whatever follows in
/// `factors` (or zeros at its end): those lanes only reach tile lanes that are never read.
#[inline(always)]
fn copy_vector<S: Simd>(simd: S, factors: &[f32], j: usize, k: usize, panel_row: &mut [f32]) {
    let lanes = S::F32_LANES;
    let width = k.next_multiple_of(lanes);
    let (row_vectors, _) = S::as_mut_simd_f32s(&mut panel_row[..width]);
    match factors.get(j * k..j * k + width) {
        Some(source) => {
            for (to, &from) in row_vectors.iter_mut().zip(S::as_simd_f32s(source).0) {
                *to = from;
            }
        }
        None => {
            // The last rows of `factors`: a partial last vector.
            let source = &factors[j * k..(j + 1) * k];
            let (head, tail) = S::as_simd_f32s(source);
            for (to, &from) in row_vectors.iter_mut().zip(head) {
                *to = from;
            }
            if !tail.is_empty() {
                row_vectors[head.len()] = simd.partial_load_f32s(tail);
            }
        }
    }
}

/// The new bias from `sum_j e_j - u . sum_j v_j` (the same sum as the plain path's
/// `sum_j (e_j - u . v_j)`, without a dot product per rating).
#[inline(always)]
fn new_bias(
    residual_sum: f64,
    vector: &[f32],
    neighbour_sum: &[f64],
    n: usize,
    penalties: RowPenalties,
) -> f32 {
    let projected: f64 = vector.iter().zip(neighbour_sum).map(|(&u, &s)| u as f64 * s).sum();
    let RowPenalties { lambda, gamma, .. } = penalties;
    (lambda * (residual_sum - projected) / (lambda * n as f64 + gamma)) as f32
}

/// The primal form: a first pass for the residuals `e_j`, `sum_j v_j` (f64) and so the new
/// bias b; then, block by block, the panel of the neighbours' vectors with `e_j - b` as an
/// extra column, whose Gram tiles (and right-hand-side row) are flushed into f64 totals; then
/// the k x k solve. The first pass also gathers the whole panel (rows of up to 4 MiB of it).
#[inline(always)]
fn primal_update<S: Simd>(simd: S, row: SimdRow<'_, '_>) -> Result<(), usize> {
    let SimdRow { entries, penalties, other, vector, bias, scratch, .. } = row;
    let k = other.k;
    let n = entries.len();
    let ld = scratch.ld;
    let extra_row = k.next_multiple_of(ROW_QUANTUM);
    let block_rows = scratch.block_rows;
    // Gather every neighbour once, into a panel as long as the row (up to a cap): the tiles
    // then stream it sequentially, where a second random gather would wait on memory again.
    let gathered = n * ld <= GATHER_FLOATS;
    if gathered && scratch.panel.len() < n * ld {
        scratch.panel.grow_to(n * ld);
    }
    let neighbour = |j: u32| &other.factors[j as usize * k..(j as usize + 1) * k];

    scratch.neighbour_sum.fill(0.0);
    scratch.residuals.clear();
    let mut residual_sum = 0f64;
    for (r, (&j, &rating)) in entries.indices.iter().zip(entries.values).enumerate() {
        let residual = rating - other.mean - other.bias[j as usize];
        residual_sum += residual as f64;
        scratch.residuals.push(residual);
        if gathered {
            // Only loads and stores here, independent from one rating to the next, so that
            // many of the (random) vectors are on their way at once.
            copy_vector(simd, other.factors, j as usize, k, &mut scratch.panel[r * ld..][..ld]);
        } else {
            for (total, &value) in scratch.neighbour_sum.iter_mut().zip(neighbour(j)) {
                *total += value as f64;
            }
        }
    }
    if gathered {
        // sum_j v_j from the panel, in f32 per block (in registers) and f64 across blocks.
        for block in scratch.panel[..n * ld].chunks(block_rows * ld) {
            column_sums(simd, block, ld, block.len() / ld, k, &mut scratch.sums);
            for (total, &value) in scratch.neighbour_sum.iter_mut().zip(scratch.sums.iter()) {
                *total += value as f64;
            }
        }
    }
    *bias = new_bias(residual_sum, vector, &scratch.neighbour_sum, n, penalties);
    let row_bias = *bias;

    let blocks = entries.indices.chunks(block_rows).zip(scratch.residuals.chunks(block_rows));
    for (block, (indices, residuals)) in blocks.enumerate() {
        let start = if gathered { block * block_rows * ld } else { 0 };
        let panel = &mut scratch.panel[start..];
        for ((&j, &residual), panel_row) in indices.iter().zip(residuals).zip(panel.chunks_mut(ld))
        {
            if !gathered {
                copy_vector(simd, other.factors, j as usize, k, panel_row);
            }
            // The same f32 weight as the plain path's.
            panel_row[k] = residual - row_bias;
        }
        let rows = indices.len();
        gram_upper(simd, panel, ld, rows, k, Some((k, extra_row)), &mut scratch.tiles);

        // The block's f32 sums become (first block) or join (later ones) the f64 totals; only
        // the upper triangle is ever read.
        let add = |totals: &mut [f64], values: &[f32]| {
            if block == 0 {
                for (total, &value) in totals.iter_mut().zip(values) {
                    *total = value as f64;
                }
            } else {
                for (total, &value) in totals.iter_mut().zip(values) {
                    *total += value as f64;
                }
            }
        };
        for a in 0..k {
            add(&mut scratch.gram[a * k + a..(a + 1) * k], &scratch.tiles[a * ld + a..a * ld + k]);
        }
        add(&mut scratch.rhs, &scratch.tiles[extra_row * ld..][..k]);
    }

    let RowPenalties { lambda, tau, .. } = penalties;
    let system_ld = (k + 1).next_multiple_of(8);
    let gram = &scratch.gram;
    let largest_diagonal = (0..k).map(|d| lambda * gram[d * k + d] + tau).fold(0.0, f64::max);
    let mut failed_column = 0;
    for jitter in SIMD_JITTERS {
        // Left of the diagonal stays whatever it was: the solve never lets it reach a result.
        for (i, system_row) in scratch.system.chunks_exact_mut(system_ld).take(k).enumerate() {
            for (entry, &g) in system_row[i..k].iter_mut().zip(&gram[i * k + i..(i + 1) * k]) {
                *entry = lambda * g;
            }
            system_row[i] += tau + jitter * largest_diagonal;
            system_row[k] = lambda * scratch.rhs[i];
            system_row[k + 1..].fill(0.0);
        }
        let system = &mut scratch.system[..k * system_ld];
        match cholesky_solve_augmented(simd, system, system_ld, k, &mut scratch.solution) {
            Ok(()) => {
                for (v, &x) in vector.iter_mut().zip(scratch.solution.iter()) {
                    *v = x as f32;
                }
                return Ok(());
            }
            Err(column) => failed_column = column,
        }
    }
    Err(failed_column)
}

/// The exact update of a row with one rating, in closed form: the dual system is 1 x 1,
/// `y = lam (e - b) / (lam |v|^2 + tau)`, and `u = y v`. Returns false, changing nothing,
/// when that system is not positive and finite (the caller then solves it another way).
#[inline(always)]
pub(crate) fn one_rating_update(
    entries: RowView<'_>,
    penalties: RowPenalties,
    other: OtherSide<'_>,
    vector: &mut [f32],
    bias: &mut f32,
) -> bool {
    let k = other.k;
    let RowPenalties { lambda, tau, gamma } = penalties;
    let j = entries.indices[0] as usize;
    let v = &other.factors[j * k..(j + 1) * k];
    let residual = (entries.values[0] - other.mean - other.bias[j]) as f64;
    let norm: f64 = v.iter().map(|&x| x as f64 * x as f64).sum();
    let diagonal = lambda * norm + tau;
    if !(diagonal > 0.0 && diagonal.is_finite()) {
        return false;
    }

    // The bias of the row-at-a-time paths: lam (sum_j e_j - u . sum_j v_j) / (lam n + gamma).
    let projected: f64 = vector.iter().zip(v).map(|(&u, &x)| u as f64 * x as f64).sum();
    *bias = (lambda * (residual - projected) / (lambda + gamma)) as f32;
    let y = lambda * (residual - *bias as f64) / diagonal;
    for (u, &x) in vector.iter_mut().zip(v) {
        *u = (y * x as f64) as f32;
    }
    true
}

/// The dual form for rows with fewer ratings than factors: the n x n system
/// `(lam P P^T + tau I) y = lam w` (Woodbury: `(lam P^T P + tau I)^-1 lam P^T w = P^T y`),
/// then `u = P^T y`. Cost: n^2 k / 2 + n^3 / 6 + 3 n k instead of n k^2 / 2 + k^3 / 6.
#[inline(always)]
fn dual_update<S: Simd>(simd: S, row: SimdRow<'_, '_>) -> Result<(), usize> {
    let SimdRow { entries, penalties, other, vector, bias, scratch, .. } = row;
    let k = other.k;
    let n = entries.len();
    let RowPenalties { lambda, tau, .. } = penalties;
    if n == 1 && one_rating_update(entries, penalties, other, vector, bias) {
        return Ok(());
    }
    let ld = n.next_multiple_of(ROW_QUANTUM).next_multiple_of(16);

    // The transposed panel: row a holds coordinate a of every neighbour, zero past n so that
    // the tiles' spare lanes see the same numbers whichever rows came before.
    scratch.neighbour_sum.fill(0.0);
    scratch.residuals.clear();
    let mut residual_sum = 0f64;
    let dual_panel = &mut scratch.dual_panel[..k * ld];
    for (r, (&j, &rating)) in entries.indices.iter().zip(entries.values).enumerate() {
        let j = j as usize;
        let residual = rating - other.mean - other.bias[j];
        residual_sum += residual as f64;
        scratch.residuals.push(residual);
        let neighbour = &other.factors[j * k..(j + 1) * k];
        for (panel_row, &value) in dual_panel.chunks_exact_mut(ld).zip(neighbour) {
            panel_row[r] = value;
        }
        for (total, &value) in scratch.neighbour_sum.iter_mut().zip(neighbour) {
            *total += value as f64;
        }
    }
    for panel_row in dual_panel.chunks_exact_mut(ld) {
        panel_row[n..].fill(0.0);
    }

    *bias = new_bias(residual_sum, vector, &scratch.neighbour_sum, n, penalties);
    let row_bias = *bias as f64;

    gram_upper(simd, dual_panel, ld, k, n, None, &mut scratch.dual_gram);

    let system_ld = (n + 1).next_multiple_of(8);
    let gram = &scratch.dual_gram;
    let largest_diagonal =
        (0..n).map(|d| lambda * gram[d * ld + d] as f64 + tau).fold(0.0, f64::max);
    let mut failed_column = 0;
    for jitter in SIMD_JITTERS {
        for (i, system_row) in scratch.system.chunks_exact_mut(system_ld).take(n).enumerate() {
            for (entry, &g) in system_row[i..n].iter_mut().zip(&gram[i * ld + i..i * ld + n]) {
                *entry = lambda * g as f64;
            }
            system_row[i] += tau + jitter * largest_diagonal;
            system_row[n] = lambda * (scratch.residuals[i] as f64 - row_bias);
            system_row[n + 1..].fill(0.0);
        }
        let system = &mut scratch.system[..n * system_ld];
        match cholesky_solve_augmented(simd, system, system_ld, n, &mut scratch.solution) {
            Ok(()) => {
                // u = P^T y, from the neighbours' vectors (still in cache).
                scratch.vector.fill(0.0);
                for (&j, &y) in entries.indices.iter().zip(scratch.solution.iter()) {
                    let j = j as usize;
                    let neighbour = &other.factors[j * k..(j + 1) * k];
                    for (total, &value) in scratch.vector.iter_mut().zip(neighbour) {
                        *total += y * value as f64;
                    }
                }
                for (v, &x) in vector.iter_mut().zip(&scratch.vector) {
                    *v = x as f32;
                }
                return Ok(());
            }
            Err(column) => failed_column = column,
        }
    }
    Err(failed_column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batched::{BATCH_ROWS, MAX_BATCHED_K};
    use crate::kernels::test_arches;
    use flash_matrix::SeededRng;

    /// A random row against a random other side.
    struct Case {
        k: usize,
        indices: Vec<u32>,
        ratings: Vec<f32>,
        factors: Vec<f32>,
        biases: Vec<f32>,
        mean: f32,
        vector: Vec<f32>,
        bias: f32,
        penalties: RowPenalties,
    }

    impl Case {
        fn new(rng: &mut SeededRng, k: usize, n: usize, n_other: usize) -> Case {
            let scale = 1.0 / (k as f64).sqrt();
            let normal = |rng: &mut SeededRng, sd: f64| (rng.next_normal() * sd) as f32;
            let factors = (0..n_other * k).map(|_| normal(rng, scale)).collect();
            let biases = (0..n_other).map(|_| normal(rng, 0.3)).collect();
            let indices = rng.distinct_sorted(n, n_other as u32);
            let ratings = (0..n).map(|_| (1 + rng.below(10)) as f32 * 0.5).collect();
            let vector = (0..k).map(|_| normal(rng, scale)).collect();
            let weight = if rng.below(2) == 0 { 1.0 } else { n as f64 };
            let lambda = [1.0, 0.01, 3.0][rng.below(3) as usize];
            let penalties = RowPenalties { lambda, tau: 0.1 * weight, gamma: 0.2 * weight };
            Case {
                k,
                indices,
                ratings,
                factors,
                biases,
                mean: 3.5,
                vector,
                bias: normal(rng, 0.5),
                penalties,
            }
        }

        fn other(&self) -> OtherSide<'_> {
            OtherSide { k: self.k, factors: &self.factors, bias: &self.biases, mean: self.mean }
        }

        fn entries(&self) -> RowView<'_> {
            RowView { indices: &self.indices, values: &self.ratings }
        }

        /// (bias, vector) after the update with `kernel`, optionally forcing the form.
        fn run(&self, kernel: Kernel, form: Option<RowForm>) -> (f32, Vec<f32>) {
            let mut vector = self.vector.clone();
            let mut bias = self.bias;
            let mut scratch = RowScratch::with_kernel(self.k, kernel);
            match (form, &mut scratch.kind) {
                (Some(form), ScratchKind::Simd(arch, fast)) if !self.indices.is_empty() => {
                    let row = SimdRow {
                        entries: self.entries(),
                        penalties: self.penalties,
                        other: self.other(),
                        vector: &mut vector,
                        bias: &mut bias,
                        scratch: fast,
                        form,
                    };
                    arch.dispatch(row).unwrap();
                }
                _ => update_row(
                    self.entries(),
                    self.penalties,
                    self.other(),
                    &mut vector,
                    &mut bias,
                    &mut scratch,
                )
                .unwrap(),
            }
            (bias, vector)
        }

        /// The exact update in f64 (dense normal equations, plain Cholesky in f64).
        fn reference(&self) -> (f64, Vec<f64>) {
            let k = self.k;
            let n = self.indices.len();
            if n == 0 {
                return (0.0, vec![0.0; k]);
            }
            let RowPenalties { lambda, tau, gamma } = self.penalties;
            let v = |j: u32| self.factors[j as usize * k..][..k].iter().map(|&x| x as f64);
            let residual =
                |j: u32, r: f32| r as f64 - self.mean as f64 - self.biases[j as usize] as f64;
            let mut bias_sum = 0.0;
            for (&j, &r) in self.indices.iter().zip(&self.ratings) {
                let dot: f64 = v(j).zip(&self.vector).map(|(a, &b)| a * b as f64).sum();
                bias_sum += residual(j, r) - dot;
            }
            let bias = (lambda * bias_sum / (lambda * n as f64 + gamma)) as f32 as f64;
            let mut a = vec![0.0; k * k];
            let mut b = vec![0.0; k];
            for (&j, &r) in self.indices.iter().zip(&self.ratings) {
                let vj: Vec<f64> = v(j).collect();
                for p in 0..k {
                    for q in 0..k {
                        a[p * k + q] += lambda * vj[p] * vj[q];
                    }
                    b[p] += lambda * (residual(j, r) - bias) * vj[p];
                }
            }
            for d in 0..k {
                a[d * k + d] += tau;
            }
            cholesky_solve(&mut a, &mut b, k).unwrap();
            (bias, b)
        }
    }

    /// Norm-wise relative distance, as the correctness tests judge a solve.
    fn distance(got: &[f32], want: &[f64]) -> f64 {
        let error: f64 = got.iter().zip(want).map(|(&g, w)| (g as f64 - w).powi(2)).sum();
        let norm: f64 = want.iter().map(|w| w * w).sum();
        error.sqrt() / norm.sqrt().max(1e-3)
    }

    /// The bias within 1e-5 of the reference, relative to the bias or to the size of the
    /// terms it sums (a bias shrunk near zero is only as exact as those), and the vector within
    /// 1e-5 norm-wise.
    fn assert_close(case: &Case, (bias, vector): (f32, Vec<f32>), what: &str) {
        let (want_bias, want_vector) = case.reference();
        let n = case.indices.len();
        let RowPenalties { lambda, gamma, .. } = case.penalties;
        let terms: f64 = case.ratings.iter().map(|&r| r.abs() as f64 + 4.0).sum();
        let scale = lambda * terms / (lambda * n as f64 + gamma);
        let bias_error = (bias as f64 - want_bias).abs() / want_bias.abs().max(scale).max(1e-3);
        assert!(bias_error < 1e-5, "{what} k {} n {n}: bias {bias} vs {want_bias}", case.k);
        let error = distance(&vector, &want_vector);
        assert!(error < 1e-5, "{what} k {} n {n}: vector off by {error:e}", case.k);
    }

    #[test]
    fn every_kernel_matches_the_f64_reference_for_k_1_to_130() {
        let mut rng = SeededRng::new(21);
        for k in 1..=130 {
            let mut lengths = vec![0, 1, 2, k - 1, k, k + 1, rng.below(300) as usize];
            lengths.retain(|&n| n < 300);
            for n in lengths {
                let case = Case::new(&mut rng, k, n, 320);
                assert_close(&case, case.run(Kernel::Plain, None), "plain");
                for arch in test_arches() {
                    let what = format!("{arch:?}");
                    assert_close(&case, case.run(Kernel::Simd(arch), None), &what);
                }
            }
        }
    }

    #[test]
    fn the_dual_form_gives_the_primal_answer() {
        let mut rng = SeededRng::new(22);
        for k in [2, 3, 7, 10, 16, 31, 64, 65, 128] {
            for n in 1..k {
                let case = Case::new(&mut rng, k, n, 200);
                for arch in test_arches() {
                    let (dual_bias, dual) = case.run(Kernel::Simd(arch), Some(RowForm::Dual));
                    let (primal_bias, primal) =
                        case.run(Kernel::Simd(arch), Some(RowForm::Primal));
                    let scale = dual_bias.abs().max(primal_bias.abs()).max(1e-3);
                    assert!((dual_bias - primal_bias).abs() <= 1e-6 * scale, "k {k} n {n}");
                    let primal: Vec<f64> = primal.iter().map(|&x| x as f64).collect();
                    let error = distance(&dual, &primal);
                    assert!(
                        error < 1e-5,
                        "{arch:?} k {k} n {n}: dual off the primal by {error:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn rows_of_20k_ratings_keep_1e_5_accuracy() {
        let mut rng = SeededRng::new(23);
        for k in [16, 64] {
            let case = Case::new(&mut rng, k, 20_000, 25_000);
            assert_close(&case, case.run(Kernel::Plain, None), "plain");
            for arch in test_arches() {
                assert_close(&case, case.run(Kernel::Simd(arch), None), &format!("{arch:?}"));
            }
        }
        // The batched path of small k, over 78 blocks of f32 sums.
        let case = Case::new(&mut rng, 10, 20_000, 25_000);
        for arch in test_arches() {
            let got = run_rows(std::slice::from_ref(&case), Kernel::Simd(arch)).remove(0);
            assert_close(&case, got, &format!("{arch:?} batched"));
        }
    }

    impl Case {
        /// Another row against the same other side, with its own ratings and start.
        fn sibling(&self, rng: &mut SeededRng, n: usize) -> Case {
            let mut row = Case::new(rng, self.k, n, self.biases.len());
            row.factors.clone_from(&self.factors);
            row.biases.clone_from(&self.biases);
            row
        }
    }

    /// (bias, vector) of every row of `cases` (which share one other side) through
    /// [`update_rows`], as the trainer runs a chunk.
    fn run_rows(cases: &[Case], kernel: Kernel) -> Vec<(f32, Vec<f32>)> {
        let k = cases[0].k;
        let mut vectors: Vec<f32> = cases.iter().flat_map(|c| c.vector.clone()).collect();
        let mut biases: Vec<f32> = cases.iter().map(|c| c.bias).collect();
        let mut scratch = RowScratch::with_kernel(k, kernel);
        let row_of = |row: usize| (cases[row].entries(), cases[row].penalties);
        let other = cases[0].other();
        update_rows(0..cases.len(), row_of, other, &mut vectors, &mut biases, &mut scratch)
            .unwrap();
        biases.into_iter().zip(vectors.chunks(k).map(<[f32]>::to_vec)).collect()
    }

    #[test]
    fn batched_rows_match_the_f64_reference_whatever_their_batch_mates() {
        let mut rng = SeededRng::new(24);
        for k in 1..=MAX_BATCHED_K + 1 {
            let first = Case::new(&mut rng, k, 1, 320);
            let mut lengths = vec![0, 2, 3, k - 1, k, k + 1, 17, 255, 256, 257, 299];
            lengths.extend((0..BATCH_ROWS + 3).map(|_| rng.below(40) as usize));
            let mut cases: Vec<Case> =
                lengths.iter().map(|&n| first.sibling(&mut rng, n)).collect();
            cases.insert(0, first);

            for arch in test_arches() {
                let kernel = Kernel::Simd(arch);
                let together = run_rows(&cases, kernel);
                for (case, got) in cases.iter().zip(&together) {
                    assert_close(case, got.clone(), &format!("{arch:?} batched"));
                }
                // Alone, or in another batch, each row gives the very same bits.
                for (row, got) in together.iter().enumerate().step_by(3) {
                    let alone = &run_rows(&cases[row..row + 1], kernel)[0];
                    assert_eq!(alone.0.to_bits(), got.0.to_bits(), "{arch:?} k {k} row {row}");
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&alone.1), bits(&got.1), "{arch:?} k {k} row {row}");
                }
            }
        }
    }

    #[test]
    fn a_batched_row_whose_system_is_singular_is_redone_one_at_a_time() {
        // No ridge on two ratings at k = 6: the Gram matrix has rank 2, so a pivot vanishes
        // (up to rounding) and only the retries of the row-at-a-time path solve it.
        let mut rng = SeededRng::new(25);
        let mut singular = Case::new(&mut rng, 6, 2, 50);
        singular.penalties.tau = 0.0;
        let healthy = singular.sibling(&mut rng, 9);
        let cases = [healthy, singular];
        for arch in test_arches() {
            let kernel = Kernel::Simd(arch);
            let batched = run_rows(&cases, kernel);
            for (case, got) in cases.iter().zip(&batched) {
                let (bias, vector) = case.run(kernel, None);
                assert_eq!(got.0.to_bits(), bias.to_bits(), "{arch:?}");
                assert!(got.1.iter().all(|x| x.is_finite()), "{arch:?}");
                if case.penalties.tau == 0.0 {
                    assert_eq!(got.1, vector, "{arch:?}: the retry path's answer");
                }
            }
        }
    }

    #[test]
    fn the_kernel_choice_is_the_same_for_every_scratch() {
        // The process's choice is read once; every thread's scratch agrees.
        let first = format!("{:?}", Kernel::configured());
        let handles: Vec<_> =
            (0..4).map(|_| std::thread::spawn(|| format!("{:?}", Kernel::configured()))).collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), first);
        }
    }
}
