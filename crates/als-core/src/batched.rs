//! Rows of at most 15 factors, solved sixteen at a time.
//!
//! At small k the arithmetic of a row is tiny, and what it costs is set-up: a k x k system,
//! a Cholesky factorisation walked one pivot at a time, calls. At the seed's k = 10 on
//! ml-latest-small, items hold 8 ratings on average and most hold one to three, so that fixed
//! cost was most of an epoch. This path spends a few instructions per rating and shares the
//! factorisation between sixteen rows:
//!
//! 1. **Gram** (one row): one pass over the ratings. Each neighbour's vector is widened to 16
//!    lanes, its k factors then a 1 in lane k, and `G += v w^T` runs in f32 registers, one
//!    instance of the loop per k. Lane k of G's row a then holds `sum_j v_ja`, which the
//!    bias needs, at no extra cost. Rows of over 256 ratings flush their f32 sums into f64
//!    every 256 ratings, as the tile path does.
//! 2. **Bias**: `b = lam (sum_j e_j - u . sum_j v_j) / (lam n + gamma)`.
//! 3. **Right-hand side**: a second pass, `sum_j (e_j - b) v_j` with the same f32 weights as
//!    the other paths. (Summing `e_j v_j` in the first pass and subtracting `b sum_j v_j`
//!    loses digits: b is fitted to the same residuals, and the tests caught it.)
//! 4. **Batch**: the system `lam G + tau I`, `lam rhs` goes into one lane of sixteen, in f64.
//! 5. **Solve**: a Cholesky factorisation and both triangular solves of the sixteen systems
//!    at once, each step on every lane in vector registers.
//! 6. **Write**: each row's vector and bias from its lane. A lane whose pivot was not
//!    positive (rounding on a nearly singular system) is redone by the row-at-a-time path,
//!    which retries with diagonal shifts.
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
/// dependent square roots and divisions overlap.
pub(crate) const BATCH_ROWS: usize = 16;
/// Ratings summed in f32 before the sums join the f64 totals.
const BLOCK_RATINGS: usize = 256;

type Wide = [f32; WIDTH];
type Lanes = [f64; BATCH_ROWS];

/// Sixteen systems side by side: entry `[i][j][lane]` belongs to the row in that lane.
pub(crate) struct RowBatch {
    /// The upper triangle of each lane's `lam G + tau I`; then its Cholesky factor U
    /// (`A = U^T U`), row by row.
    system: [[Lanes; WIDTH]; WIDTH],
    /// Each lane's `lam sum_j (e_j - b) v_j`; then the solution of `U^T y = rhs`; then the
    /// vector.
    rhs: [Lanes; WIDTH],
    /// `1 / U_pp`, kept from the factorisation for the back substitution.
    inverse_pivots: [Lanes; WIDTH],
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
            inverse_pivots: [[0.0; BATCH_ROWS]; WIDTH],
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
        let BatchedRows { rows, row_of, other, vectors, biases, batch, mut redo } = self;
        let k = other.k;

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
                stage_row(simd, batch, staged, entries, penalties, other, vector);
                lane_offsets[staged] = offset;
                staged += 1;
            }
            if staged < BATCH_ROWS && (offset + 1 < rows.len() || staged == 0) {
                continue;
            }

            let solved = solve(simd, batch, k);
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
fn stage_row<S: Simd>(
    simd: S,
    batch: &mut RowBatch,
    lane: usize,
    entries: RowView<'_>,
    penalties: RowPenalties,
    other: OtherSide<'_>,
    vector: &[f32],
) {
    let k = other.k;
    debug_assert!((1..=MAX_BATCHED_K).contains(&k) && !entries.is_empty());

    // One instance per k keeps the sums in registers.
    macro_rules! for_each_k {
        ($call:ident $args:tt, $($k:literal)*) => {
            match k {
                $($k => $call::<S, $k> $args,)*
                _ => unreachable!("the batched path serves k from 1 to {MAX_BATCHED_K}"),
            }
        };
    }
    let residual_sum = for_each_k!(
        accumulate_gram(simd, entries, other, batch),
        1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
    );

    // The bias: lane k of G's row a holds sum_j v_ja.
    let RowPenalties { lambda, tau, gamma } = penalties;
    let n = entries.len() as f64;
    // Rows of over 256 ratings carry f64 totals of their earlier blocks.
    let carried = entries.len() > BLOCK_RATINGS;
    let neighbour_sum = |a: usize| {
        let earlier = if carried { batch.earlier_blocks[a][k] } else { 0.0 };
        earlier + batch.last_block[a][k] as f64
    };
    let projected: f64 = (0..k).map(|a| vector[a] as f64 * neighbour_sum(a)).sum();
    let bias = (lambda * (residual_sum - projected) / (lambda * n + gamma)) as f32;
    batch.biases[lane] = bias;

    // The right-hand side, with the same f32 weights `e_j - b` as the other paths: summing
    // `e_j v_j` and subtracting `b sum_j v_j` afterwards would lose digits to cancellation,
    // since b is fitted to the same residuals.
    let rhs = for_each_k!(
        accumulate_rhs(simd, entries, other, bias),
        1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
    );

    // The system of the vector given the new bias, as the row-at-a-time path builds it.
    for a in 0..k {
        let (last_block, earlier) = (&batch.last_block[a], &batch.earlier_blocks[a]);
        let system_row = &mut batch.system[a];
        if carried {
            for c in a..k {
                system_row[c][lane] = lambda * (earlier[c] + last_block[c] as f64);
            }
        } else {
            for c in a..k {
                system_row[c][lane] = lambda * last_block[c] as f64;
            }
        }
        system_row[a][lane] += tau;
        batch.rhs[a][lane] = lambda * rhs[a];
    }
}

/// G's rows `sum_j v_ja w_j` for a < K, where `w_j` is neighbour j's vector widened with a
/// 1 in lane K (so that lane K holds `sum_j v_ja`): in f32 registers over blocks of ratings,
/// the last block's sums into `batch.last_block`, the earlier ones' (rows of over 256
/// ratings) added up in f64 in `batch.earlier_blocks`. Returns `sum_j e_j` (f64).
#[inline(always)]
fn accumulate_gram<S: Simd, const K: usize>(
    simd: S,
    entries: RowView<'_>,
    other: OtherSide<'_>,
    batch: &mut RowBatch,
) -> f64 {
    let one: Wide = std::array::from_fn(|l| if l == K { 1.0 } else { 0.0 });
    let mut residual_sum = 0f64;
    let blocks = entries.indices.chunks(BLOCK_RATINGS).zip(entries.values.chunks(BLOCK_RATINGS));
    for (block, (indices, values)) in blocks.enumerate() {
        let mut gram = [[0f32; WIDTH]; K];
        for (&j, &rating) in indices.iter().zip(values) {
            let j = j as usize;
            residual_sum += (rating - other.mean - other.bias[j]) as f64;
            let v: &[f32; K] = other.factors[j * K..(j + 1) * K].try_into().expect("K factors");
            let w = widened::<S, K>(simd, other.factors, j, &one);
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
    residual_sum
}

/// `sum_j (e_j - b) v_j`, in f32 registers over blocks of ratings, then in f64.
#[inline(always)]
fn accumulate_rhs<S: Simd, const K: usize>(
    simd: S,
    entries: RowView<'_>,
    other: OtherSide<'_>,
    bias: f32,
) -> [f64; WIDTH] {
    let zero: Wide = [0.0; WIDTH];
    let mut totals = [0f64; WIDTH];
    let blocks = entries.indices.chunks(BLOCK_RATINGS).zip(entries.values.chunks(BLOCK_RATINGS));
    for (block, (indices, values)) in blocks.enumerate() {
        let mut sums: Wide = [0.0; WIDTH];
        for (&j, &rating) in indices.iter().zip(values) {
            let j = j as usize;
            let weight = simd.splat_f32s(rating - other.mean - other.bias[j] - bias);
            let v = widened::<S, K>(simd, other.factors, j, &zero);
            let v = S::as_simd_f32s(&v).0;
            for (sum, &x) in S::as_mut_simd_f32s(&mut sums).0.iter_mut().zip(v) {
                *sum = simd.mul_add_f32s(weight, x, *sum);
            }
        }
        add_block(&mut totals, &sums, block == 0);
    }
    totals
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

/// Neighbour j's K factors, then `fill`'s lanes: one load of 16 floats where the factors
/// array reaches that far (the lanes past K, another row's factors, replaced), a masked
/// load at its end.
#[inline(always)]
fn widened<S: Simd, const K: usize>(simd: S, factors: &[f32], j: usize, fill: &Wide) -> Wide {
    let lanes = S::F32_LANES;
    let lane_of: [u32; WIDTH] = std::array::from_fn(|l| l as u32);
    let lane_of = S::as_simd_u32s(&lane_of).0;
    let mut w = *fill;
    let registers = S::as_mut_simd_f32s(&mut w).0.iter_mut().enumerate();
    match factors.get(j * K..j * K + WIDTH) {
        Some(source) => {
            let source = S::as_simd_f32s(source).0;
            for ((c, register), &loaded) in registers.zip(source) {
                let keep = simd.less_than_u32s(lane_of[c], simd.splat_u32s(K as u32));
                *register = simd.select_f32s(keep, loaded, *register);
            }
        }
        None => {
            let v = &factors[j * K..(j + 1) * K];
            for (c, register) in registers {
                let part = &v[(c * lanes).min(K)..((c + 1) * lanes).min(K)];
                *register = simd.add_f32s(*register, simd.partial_load_f32s(part));
            }
        }
    }
    w
}

/// Cholesky factorisation `A = U^T U` and the solves `U^T y = rhs`, `U x = y` of every lane,
/// each step done for all lanes at once. A lane with a pivot that is not positive and
/// finite continues with a pivot of 1 (so that no NaN is made) and is reported: the result
/// says, per lane, whether every pivot was positive and finite.
#[inline(always)]
fn solve<S: Simd>(simd: S, batch: &mut RowBatch, k: usize) -> [bool; BATCH_ROWS] {
    let one = simd.splat_f64s(1.0);
    let zero = simd.splat_f64s(0.0);
    let infinity = simd.splat_f64s(f64::INFINITY);
    // 1 in the lanes whose pivots were all usable so far, 0 in the others.
    let mut usable_so_far: Lanes = [1.0; BATCH_ROWS];
    for p in 0..k {
        let pivots = batch.system[p][p];
        let inverse = &mut batch.inverse_pivots[p];
        let lanes = registers_mut::<S>(inverse)
            .iter_mut()
            .zip(registers::<S>(&pivots))
            .zip(registers_mut::<S>(&mut usable_so_far));
        for ((inverse, &pivot), flag) in lanes {
            let usable = simd.and_m64s(
                simd.greater_than_f64s(pivot, zero),
                simd.less_than_f64s(pivot, infinity),
            );
            let root = simd.select_f64s(usable, simd.sqrt_f64s(pivot), one);
            *inverse = simd.div_f64s(one, root);
            *flag = simd.select_f64s(usable, *flag, zero);
        }
        let inverse = *inverse;

        // Row p of U, and y_p.
        let (done, below) = batch.system.split_at_mut(p + 1);
        let row_p = &mut done[p];
        for entry in &mut row_p[p..k] {
            scale(simd, entry, &inverse);
        }
        let (rhs_done, rhs_below) = batch.rhs.split_at_mut(p + 1);
        let y_p = &mut rhs_done[p];
        scale(simd, y_p, &inverse);

        // The trailing rows lose row p's contribution (upper triangles only).
        let trailing = below.iter_mut().zip(rhs_below).take(k - p - 1);
        for (offset, (row_i, rhs_i)) in trailing.enumerate() {
            let i = p + 1 + offset;
            let factor = &row_p[i];
            for (upper, entry) in row_i[i..k].iter_mut().zip(&row_p[i..k]) {
                subtract_product(simd, upper, factor, entry);
            }
            subtract_product(simd, rhs_i, factor, y_p);
        }
    }

    // Back substitution: x_p = (y_p - sum_{j > p} U_pj x_j) / U_pp, x overwriting y.
    for p in (0..k).rev() {
        let (upto, after) = batch.rhs.split_at_mut(p + 1);
        let x_p = &mut upto[p];
        for (entry, x_j) in batch.system[p][p + 1..k].iter().zip(after.iter()) {
            subtract_product(simd, x_p, entry, x_j);
        }
        scale(simd, x_p, &batch.inverse_pivots[p]);
    }

    usable_so_far.map(|flag| flag == 1.0)
}

#[inline(always)]
fn registers<S: Simd>(x: &Lanes) -> &[S::f64s] {
    S::as_simd_f64s(x).0
}

#[inline(always)]
fn registers_mut<S: Simd>(x: &mut Lanes) -> &mut [S::f64s] {
    S::as_mut_simd_f64s(x).0
}

/// `x *= by`, lane by lane.
#[inline(always)]
fn scale<S: Simd>(simd: S, x: &mut Lanes, by: &Lanes) {
    for (x, &by) in registers_mut::<S>(x).iter_mut().zip(registers::<S>(by)) {
        *x = simd.mul_f64s(*x, by);
    }
}

/// `target -= a * b`, lane by lane, fused.
#[inline(always)]
fn subtract_product<S: Simd>(simd: S, target: &mut Lanes, a: &Lanes, b: &Lanes) {
    let a = registers::<S>(a);
    let b = registers::<S>(b);
    for ((t, &a), &b) in registers_mut::<S>(target).iter_mut().zip(a).zip(b) {
        *t = simd.negate_mul_add_f64s(a, b, *t);
    }
}
