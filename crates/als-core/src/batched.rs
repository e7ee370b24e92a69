//! Rows of at most 15 factors, solved sixteen at a time.
//!
//! At small k the arithmetic of a row is tiny, and what it costs is set-up: a k x k system,
//! a Cholesky factorisation walked one pivot at a time, calls. At the seed's k = 10 on
//! ml-latest-small, items hold 8 ratings on average and most hold one to three, so that fixed
//! cost was most of an epoch. This path spends a few instructions per rating and shares the
//! factorisation between sixteen rows:
//!
//! 1. **Sums** (one row, one pass over its ratings, one instance of the loop per k). Each
//!    neighbour's vector is widened to 16 lanes, its k factors then a 1 in lane k, and
//!    `G += v w^T` runs in f32 registers; rows of over 256 ratings flush these sums into f64
//!    every 256 ratings, as the tile path does. Beside G, the pass keeps `sum_j e_j w_j`
//!    and `sum_j w_j` in f64, where products of f32 numbers are exact.
//! 2. **Bias**: `b = lam (sum_j e_j - u . sum_j v_j) / (lam n + gamma)`.
//! 3. **Right-hand side**: `sum_j (e_j - b) v_j = sum_j e_j v_j - b sum_j v_j`. The two
//!    terms nearly cancel (b is fitted to the same residuals), which f64 sums survive and
//!    f32 sums did not: a second pass with f32 weights `e_j - b` was needed before.
//! 4. **Batch**: the system `lam G + tau I`, `lam rhs` goes into one lane of sixteen, in f64.
//! 5. **Solve**: an `U^T D U` factorisation and both triangular solves of the sixteen
//!    systems at once, each step on every lane in vector registers ([`solve`]).
//! 6. **Write**: each row's vector and bias from its lane. A lane whose pivot was not
//!    positive (rounding on a nearly singular system) is redone by the row-at-a-time path,
//!    which retries with diagonal shifts.
//!
//! Everything from the sums to the solve is one instance per k ([`for_each_k`]): the loops
//! over k unroll, and a row of the factorisation stays in registers.
//!
//! A row of one rating skips all that: its closed form ([`one_rating_update`]) is cheaper.
//!
//! Every lane computes only with its own row's numbers, so a row's result never depends on
//! the rows batched with it, on its chunk or on its thread.

use std::ops::Range;

use flash_matrix::RowView;
use pulp::{Simd, WithSimd};

use crate::update::{one_rating_update, row_is_finite, OtherSide, RowFailure, RowPenalties};

/// Lanes of a widened neighbour vector: k factors, the constant 1, zeros.
const WIDTH: usize = 16;
/// The largest k this path serves: the widened vector needs a lane for the constant 1.
pub(crate) const MAX_BATCHED_K: usize = WIDTH - 1;
/// Rows solved together: two AVX-512 registers of f64 per entry, so that two chains of
/// dependent divisions overlap.
pub(crate) const BATCH_ROWS: usize = 16;
/// Ratings summed in f32 before the sums join the f64 totals.
const BLOCK_RATINGS: usize = 256;

type Wide = [f32; WIDTH];

/// Evaluates `$body` with the const `$K` equal to `$k`, which must be in 1..=MAX_BATCHED_K:
/// one instance of the code per k, so that loops over k unroll and sums stay in registers.
macro_rules! for_each_k {
    ($k:expr, $K:ident => $body:expr) => {
        for_each_k!(@arms $k, $K, $body, 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
    };
    (@arms $k:expr, $K:ident, $body:expr, $($value:literal)*) => {
        match $k {
            $($value => {
                const $K: usize = $value;
                $body
            })*
            _ => unreachable!("the batched path serves k from 1 to {MAX_BATCHED_K}"),
        }
    };
}

type Lanes = [f64; BATCH_ROWS];

/// Sixteen systems side by side: entry `[i][j][lane]` belongs to the row in that lane.
/// Aligned to a cache line, so that no 64-byte access straddles two: unaligned, the solve
/// took half as long again (see docs/performance.md).
#[repr(align(64))]
pub(crate) struct RowBatch {
    /// The upper triangle of each lane's `lam G + tau I`; then its unit upper triangular
    /// factor U (`A = U^T D U`), row by row.
    system: [[Lanes; WIDTH]; WIDTH],
    /// Each lane's `lam sum_j (e_j - b) v_j`; then the vector.
    rhs: [Lanes; WIDTH],
    /// Each lane's new bias, applied with its vector.
    biases: [f32; BATCH_ROWS],
    /// The staged row's G (see [`accumulate_gram`]): its last block's f32 sums and, for a
    /// row of over 256 ratings, the f64 total of the blocks before.
    last_block: [Wide; MAX_BATCHED_K],
    earlier_blocks: [[f64; WIDTH]; MAX_BATCHED_K],
}

impl RowBatch {
    pub(crate) fn new() -> Box<Self> {
        Box::new(RowBatch {
            system: [[[0.0; BATCH_ROWS]; WIDTH]; WIDTH],
            rhs: [[0.0; BATCH_ROWS]; WIDTH],
            biases: [0.0; BATCH_ROWS],
            last_block: [[0.0; WIDTH]; MAX_BATCHED_K],
            earlier_blocks: [[0.0; WIDTH]; MAX_BATCHED_K],
        })
    }

    /// The solved vector of `lane`, as f32, into `vector`; and its staged bias.
    fn write(&self, lane: usize, vector: &mut [f32], bias: &mut f32) {
        for (v, x) in vector.iter_mut().zip(&self.rhs) {
            *v = x[lane] as f32;
        }
        *bias = self.biases[lane];
    }
}

/// The rows `rows` of one side through the batched path, on one instruction set (one
/// dispatch per chunk): row `rows.start + offset` owns `vectors[offset k..(offset + 1) k]`
/// and `biases[offset]`.
pub(crate) struct BatchedRows<'a, 'o, F, R> {
    pub rows: Range<usize>,
    /// A row's ratings and the weights that apply to it.
    pub row_of: F,
    pub other: OtherSide<'o>,
    pub vectors: &'a mut [f32],
    pub biases: &'a mut [f32],
    pub batch: &'a mut RowBatch,
    /// The row-at-a-time update, for a lane whose system was not positive definite.
    pub redo: R,
}

impl<'r, F, R> WithSimd for BatchedRows<'_, '_, F, R>
where
    F: Fn(usize) -> (RowView<'r>, RowPenalties),
    R: FnMut(RowView<'r>, RowPenalties, &mut [f32], &mut f32) -> Result<(), usize>,
{
    type Output = Result<(), RowFailure>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
        for_each_k!(self.other.k, K => self.run::<S, K>(simd))
    }
}

impl<'r, F, R> BatchedRows<'_, '_, F, R>
where
    F: Fn(usize) -> (RowView<'r>, RowPenalties),
    R: FnMut(RowView<'r>, RowPenalties, &mut [f32], &mut f32) -> Result<(), usize>,
{
    /// The rows at `K = other.k` (one instance per k, so that every loop over k unrolls).
    #[inline(always)]
    fn run<S: Simd, const K: usize>(self, simd: S) -> Result<(), RowFailure> {
        let BatchedRows { rows, row_of, other, vectors, biases, batch, mut redo } = self;
        let k = K;

        // Rows are staged into lanes; every BATCH_ROWS staged rows, and at the end, the
        // batch is solved and written back. Empty rows need no system.
        let mut lane_offsets = [0; BATCH_ROWS];
        let mut staged = 0;
        for offset in 0..rows.len() {
            let (entries, penalties) = row_of(rows.start + offset);
            let vector = &mut vectors[offset * k..(offset + 1) * k];
            if entries.is_empty() {
                vector.fill(0.0);
                biases[offset] = 0.0;
            } else if entries.len() == 1
                && one_rating_update(entries, penalties, other, vector, &mut biases[offset])
            {
                // Closed form: on power-law data, a large share of the items.
                if !row_is_finite(vector, biases[offset]) {
                    return Err(RowFailure::NonFinite { row: rows.start + offset });
                }
            } else {
                let vector = &vectors[offset * k..(offset + 1) * k];
                stage_row::<S, K>(simd, batch, staged, entries, penalties, other, vector);
                lane_offsets[staged] = offset;
                staged += 1;
            }
            if staged < BATCH_ROWS && (offset + 1 < rows.len() || staged == 0) {
                continue;
            }

            let solved = solve::<S, K>(simd, batch);
            for (lane, &offset) in lane_offsets[..staged].iter().enumerate() {
                let row = rows.start + offset;
                let vector = &mut vectors[offset * k..(offset + 1) * k];
                let bias = &mut biases[offset];
                if solved[lane] {
                    batch.write(lane, vector, bias);
                } else {
                    // Rounding made the system indefinite: the row-at-a-time path retries
                    // with diagonal shifts.
                    let (entries, penalties) = row_of(row);
                    redo(entries, penalties, vector, bias)
                        .map_err(|column| RowFailure::NotPositiveDefinite { row, column })?;
                }
                if !row_is_finite(vector, *bias) {
                    return Err(RowFailure::NonFinite { row });
                }
            }
            staged = 0;
        }
        Ok(())
    }
}

/// Stages one row (non-empty, `k <= MAX_BATCHED_K`) into `lane`: its sums, its new bias
/// from the current `vector`, and its system.
#[inline(always)]
fn stage_row<S: Simd, const K: usize>(
    simd: S,
    batch: &mut RowBatch,
    lane: usize,
    entries: RowView<'_>,
    penalties: RowPenalties,
    other: OtherSide<'_>,
    vector: &[f32],
) {
    debug_assert!(other.k == K && K <= MAX_BATCHED_K && !entries.is_empty());

    let sums = accumulate_gram::<S, K>(simd, entries, other, batch);

    // The bias: lam (sum_j e_j - u . sum_j v_j) / (lam n + gamma). Plain loops: iterator
    // adapters with closures may stay out of line here, without the instruction set's
    // target features.
    let RowPenalties { lambda, gamma, .. } = penalties;
    let n = entries.len() as f64;
    let mut projected = 0f64;
    for (&u, &sum) in vector.iter().zip(&sums.neighbours) {
        projected += u as f64 * sum;
    }
    let bias = (lambda * (sums.weighted[K] - projected) / (lambda * n + gamma)) as f32;
    batch.biases[lane] = bias;

    // The right-hand side, sum_j (e_j - b) v_j = sum_j e_j v_j - b sum_j v_j. Both sums are
    // exact to f64 rounding, so the subtraction keeps the digits that cancel (b is fitted
    // to the same residuals); f32 sums lost them, and the tests caught it.
    let mut rhs = [0f64; WIDTH];
    let terms = rhs.iter_mut().zip(&sums.weighted).zip(&sums.neighbours).take(K);
    for ((rhs, &weighted), &sum) in terms {
        *rhs = weighted - bias as f64 * sum;
    }

    // The system of the vector given the new bias, as the row-at-a-time path builds it.
    let carried = entries.len() > BLOCK_RATINGS;
    stage_system::<K>(batch, lane, penalties, carried, &rhs);
}

/// Writes lane `lane` of the batch's system, `lam G + tau I`, and right-hand side,
/// `lam rhs`, from the staged G. One instance per k, so that the loops unroll.
#[inline(always)]
fn stage_system<const K: usize>(
    batch: &mut RowBatch,
    lane: usize,
    penalties: RowPenalties,
    carried: bool,
    rhs: &[f64; WIDTH],
) {
    let RowPenalties { lambda, tau, .. } = penalties;
    for a in 0..K {
        let (last_block, earlier) = (&batch.last_block[a], &batch.earlier_blocks[a]);
        let system_row = &mut batch.system[a];
        for c in a..K {
            let sum =
                if carried { earlier[c] + last_block[c] as f64 } else { last_block[c] as f64 };
            system_row[c][lane] = lambda * sum;
        }
        system_row[a][lane] += tau;
        batch.rhs[a][lane] = lambda * rhs[a];
    }
}

/// A row's f64 sums over its ratings, beside its Gram matrix.
struct RowSums {
    /// `sum_j e_j v_j` in lanes below K, `sum_j e_j` in lane K.
    weighted: [f64; WIDTH],
    /// `sum_j v_j` in lanes below K.
    neighbours: [f64; WIDTH],
}

/// G's rows `sum_j v_ja w_j` for a < K, where `w_j` is neighbour j's vector widened with a
/// 1 in lane K: in f32 registers over blocks of ratings, the last block's sums into
/// `batch.last_block`, the earlier ones' (rows of over 256 ratings) added up in f64 in
/// `batch.earlier_blocks`. In the same pass, the f64 sums the bias and the right-hand side
/// need: products of two f32 numbers are exact in f64, so these lose nothing to order.
#[inline(always)]
fn accumulate_gram<S: Simd, const K: usize>(
    simd: S,
    entries: RowView<'_>,
    other: OtherSide<'_>,
    batch: &mut RowBatch,
) -> RowSums {
    // w = v * keep + one: the factors, a 1 in lane K, zeros past it (one multiply-add).
    let mut keep: Wide = [0.0; WIDTH];
    keep[..K].fill(1.0);
    let mut one: Wide = [0.0; WIDTH];
    one[K] = 1.0;
    let keep = S::as_simd_f32s(&keep).0;
    let one = S::as_simd_f32s(&one).0;
    let mut sums = RowSums { weighted: [0.0; WIDTH], neighbours: [0.0; WIDTH] };
    let blocks = entries.indices.chunks(BLOCK_RATINGS).zip(entries.values.chunks(BLOCK_RATINGS));
    for (block, (indices, values)) in blocks.enumerate() {
        let mut gram = [[0f32; WIDTH]; K];
        for (&j, &rating) in indices.iter().zip(values) {
            let j = j as usize;
            let residual = simd.splat_f64s((rating - other.mean - other.bias[j]) as f64);
            let v: &[f32; K] = other.factors[j * K..(j + 1) * K].try_into().expect("K factors");
            let mut w = neighbour_lanes::<S, K>(simd, other.factors, j);
            let registers = S::as_mut_simd_f32s(&mut w).0.iter_mut().zip(keep).zip(one);
            for ((register, &keep), &one) in registers {
                *register = simd.mul_add_f32s(*register, keep, one);
            }

            let mut wide = [0f64; WIDTH];
            for (x, &value) in wide.iter_mut().zip(&w) {
                *x = value as f64;
            }
            let f64_sums = S::as_mut_simd_f64s(&mut sums.weighted)
                .0
                .iter_mut()
                .zip(S::as_mut_simd_f64s(&mut sums.neighbours).0)
                .zip(S::as_simd_f64s(&wide).0);
            for ((weighted, neighbours), &x) in f64_sums {
                *weighted = simd.mul_add_f64s(residual, x, *weighted);
                *neighbours = simd.add_f64s(*neighbours, x);
            }

            let w = S::as_simd_f32s(&w).0;
            for (gram_row, &v_a) in gram.iter_mut().zip(v) {
                let v_a = simd.splat_f32s(v_a);
                for (g, &x) in S::as_mut_simd_f32s(gram_row).0.iter_mut().zip(w) {
                    *g = simd.mul_add_f32s(v_a, x, *g);
                }
            }
        }
        if (block + 1) * BLOCK_RATINGS < entries.len() {
            for (totals, sums) in batch.earlier_blocks.iter_mut().zip(&gram) {
                add_block(totals, sums, block == 0);
            }
        } else {
            batch.last_block[..K].copy_from_slice(&gram);
        }
    }
    sums
}

/// A block's f32 sums into the f64 totals: the first block sets them.
#[inline(always)]
fn add_block(totals: &mut [f64; WIDTH], sums: &Wide, first: bool) {
    if first {
        for (total, &sum) in totals.iter_mut().zip(sums) {
            *total = sum as f64;
        }
    } else {
        for (total, &sum) in totals.iter_mut().zip(sums) {
            *total += sum as f64;
        }
    }
}

/// Sixteen floats from neighbour j's vector on: its K factors, then what follows it in
/// `factors` (other rows' factors, finite but meaningless), or zeros at the array's end.
/// One unaligned load in the common case.
#[inline(always)]
fn neighbour_lanes<S: Simd, const K: usize>(simd: S, factors: &[f32], j: usize) -> Wide {
    match factors.get(j * K..j * K + WIDTH) {
        Some(source) => source.try_into().expect("sixteen floats"),
        None => {
            let mut w = [0.0; WIDTH];
            let lanes = S::F32_LANES;
            let v = &factors[j * K..(j + 1) * K];
            for (c, register) in S::as_mut_simd_f32s(&mut w).0.iter_mut().enumerate() {
                let part = &v[(c * lanes).min(K)..((c + 1) * lanes).min(K)];
                *register = simd.partial_load_f32s(part);
            }
            w
        }
    }
}

/// The factorisation `A = U^T D U` (U unit upper triangular, D diagonal) and the solves
/// `U^T t = rhs`, `U x = D^-1 t` of every lane, each step done for all lanes at once. A lane
/// with a pivot `D_pp` that is not positive and finite continues with a pivot of 1 (so that
/// no NaN is made) and is reported: the result says, per lane, whether every pivot was
/// positive and finite, which is when the Cholesky factorisation exists.
///
/// This form needs one division per pivot and no square root: the pivots form a chain of
/// dependent steps, and a division is the shorter link.
#[inline(always)]
fn solve<S: Simd, const K: usize>(simd: S, batch: &mut RowBatch) -> [bool; BATCH_ROWS] {
    let mut usable_so_far: Lanes = [1.0; BATCH_ROWS];
    let registers = BATCH_ROWS / S::F64_LANES;
    // Two registers at a time, so that their chains of divisions overlap.
    for first in (0..registers).step_by(2) {
        let usable = solve_registers::<S, K>(simd, batch, [first, (first + 1) % registers]);
        let flags = registers_mut::<S>(&mut usable_so_far);
        flags[first] = usable[0];
        flags[(first + 1) % registers] = usable[1];
    }
    usable_so_far.map(|flag| flag == 1.0)
}

/// [`solve`] for the lanes of two registers, row by row of U. Row p starts from A's row
/// and loses `U_qp D_q` times each row q above it. The loops over a row's K columns have
/// constant bounds, so that they unroll and the row stays in registers: they also update
/// the columns left of the diagonal (zeros, never read), which costs less than the loads
/// and stores that loops starting at the diagonal would need. Returns, per
/// register, 1 in the lanes whose pivots were all usable and 0 in the others.
#[inline(always)]
fn solve_registers<S: Simd, const K: usize>(
    simd: S,
    batch: &mut RowBatch,
    pair: [usize; 2],
) -> [S::f64s; 2] {
    let one = simd.splat_f64s(1.0);
    let zero = simd.splat_f64s(0.0);
    let infinity = simd.splat_f64s(f64::INFINITY);
    let mut usable_so_far = [one; 2];
    // D, D^-1, and t = D U x.
    let mut pivots = [[zero; 2]; K];
    let mut inverse_pivots = [[zero; 2]; K];
    let mut t = [[zero; 2]; K];

    for p in 0..K {
        // Columns left of the diagonal stay zero: they are updated with the others (below),
        // but from zeros, since nothing left of the diagonal is ever stored.
        let mut row = [[zero; 2]; K];
        for (c, entry) in row.iter_mut().enumerate() {
            if c >= p {
                *entry = at::<S>(&batch.system[p][c], pair);
            }
        }
        let mut t_p = at::<S>(&batch.rhs[p], pair);
        for q in 0..p {
            let upper = &batch.system[q];
            let u_qp = at::<S>(&upper[p], pair);
            let factor =
                [simd.mul_f64s(u_qp[0], pivots[q][0]), simd.mul_f64s(u_qp[1], pivots[q][1])];
            for (c, entry) in row.iter_mut().enumerate() {
                let u_qc = at::<S>(&upper[c], pair);
                for h in 0..2 {
                    entry[h] = simd.negate_mul_add_f64s(factor[h], u_qc[h], entry[h]);
                }
            }
            for h in 0..2 {
                t_p[h] = simd.negate_mul_add_f64s(u_qp[h], t[q][h], t_p[h]);
            }
        }
        t[p] = t_p;

        // The pivot, through memory: indexing the row by p would move it out of registers.
        for (c, entry) in row.iter().enumerate() {
            if c == p {
                store_pair::<S>(&mut batch.system[p][p], pair, *entry);
            }
        }
        let pivot = at::<S>(&batch.system[p][p], pair);
        for h in 0..2 {
            let usable = simd.and_m64s(
                simd.greater_than_f64s(pivot[h], zero),
                simd.less_than_f64s(pivot[h], infinity),
            );
            pivots[p][h] = simd.select_f64s(usable, pivot[h], one);
            inverse_pivots[p][h] = simd.div_f64s(one, pivots[p][h]);
            usable_so_far[h] = simd.select_f64s(usable, usable_so_far[h], zero);
        }
        let inverse = inverse_pivots[p];
        for (c, entry) in row.iter().enumerate() {
            if c > p {
                let scaled =
                    [simd.mul_f64s(entry[0], inverse[0]), simd.mul_f64s(entry[1], inverse[1])];
                store_pair::<S>(&mut batch.system[p][c], pair, scaled);
            }
        }
    }

    // Back substitution: x_p = t_p / D_p - sum_{c > p} U_pc x_c, x overwriting rhs.
    for p in (0..K).rev() {
        let mut x_p = [
            simd.mul_f64s(t[p][0], inverse_pivots[p][0]),
            simd.mul_f64s(t[p][1], inverse_pivots[p][1]),
        ];
        for c in p + 1..K {
            let u_pc = at::<S>(&batch.system[p][c], pair);
            let x_c = at::<S>(&batch.rhs[c], pair);
            for h in 0..2 {
                x_p[h] = simd.negate_mul_add_f64s(u_pc[h], x_c[h], x_p[h]);
            }
        }
        store_pair::<S>(&mut batch.rhs[p], pair, x_p);
    }
    usable_so_far
}

/// The two registers `pair` of `x`. (Plain indexing rather than closures: a closure called
/// through `array::map` may stay out of line, without the instruction set's features.)
#[inline(always)]
fn at<S: Simd>(x: &Lanes, pair: [usize; 2]) -> [S::f64s; 2] {
    let x = registers::<S>(x);
    [x[pair[0]], x[pair[1]]]
}

#[inline(always)]
fn store_pair<S: Simd>(x: &mut Lanes, pair: [usize; 2], values: [S::f64s; 2]) {
    let x = registers_mut::<S>(x);
    x[pair[0]] = values[0];
    x[pair[1]] = values[1];
}

#[inline(always)]
fn registers<S: Simd>(x: &Lanes) -> &[S::f64s] {
    S::as_simd_f64s(x).0
}

#[inline(always)]
fn registers_mut<S: Simd>(x: &mut Lanes) -> &mut [S::f64s] {
    S::as_mut_simd_f64s(x).0
}
