//! The register-blocked f32 micro-kernel shared by the Gram matrices and the scoring.
//!
//! For row-major panels A (`rows x lda`) and B (`rows x ldb`, the same buffer for a Gram
//! matrix), one tile is
//!
//! ```text
//! C[i][j] = sum_(r < rows) A[r][i0 + i] * B[r][c0 W + j]     i < MR, j < NC W
//! ```
//!
//! with W the SIMD lanes. Per row r it loads NC vectors of B, broadcasts MR scalars of A and
//! issues MR * NC fused multiply-adds into MR * NC accumulators that never leave the
//! registers: MR / NC (6 x 4 on AVX-512, 6 x 2 on AVX2, 4 x 4 scalar) are chosen so that
//! accumulators, loads and the broadcast fit the register file, and so that each FMA needs
//! under one load. Cost: `rows * MR * NC * W` multiply-adds per tile.
//!
//! Sums run in f32 (twice the lanes of f64); callers bound `rows` (a few hundred at most) and
//! add tiles into f64 totals, which keeps long rows as accurate as short ones.

use pulp::Simd;

/// Rows every tile shape divides: buffers padded to a multiple of it suit any instruction set.
pub(crate) const ROW_QUANTUM: usize = 12;

/// One tile, returned as its accumulators (see the module doc for the formula). `a` is read
/// at `a[r * lda + i0 + i]`, `b` (as vectors) at `b[r * ldb + c0 + c]`.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // The panel geometry is the kernel's contract.
pub(crate) fn tile<S: Simd, const MR: usize, const NC: usize>(
    simd: S,
    a: &[f32],
    lda: usize,
    i0: usize,
    b: &[S::f32s],
    ldb: usize,
    c0: usize,
    rows: usize,
) -> [[S::f32s; NC]; MR] {
    let mut acc = [[simd.splat_f32s(0.0); NC]; MR];
    for r in 0..rows {
        let a_row: &[f32; MR] = a[r * lda + i0..][..MR].try_into().unwrap();
        let b_row: &[S::f32s; NC] = b[r * ldb + c0..][..NC].try_into().unwrap();
        for (acc_row, &a_value) in acc.iter_mut().zip(a_row) {
            let broadcast = simd.splat_f32s(a_value);
            for (sum, &b_vector) in acc_row.iter_mut().zip(b_row) {
                *sum = simd.mul_add_f32s(broadcast, b_vector, *sum);
            }
        }
    }
    acc
}

/// Runs [`tile`] over vector columns `c_start..c_end` for broadcast columns `i0..i0 + MR`
/// and stores the results in rows `out_row..out_row + MR` of `out` (`ldo` vectors per row).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile_row<S: Simd, const MR: usize, const NC_MAX: usize>(
    simd: S,
    (a, lda, i0): (&[f32], usize, usize),
    (b, ldb): (&[S::f32s], usize),
    (c_start, c_end): (usize, usize),
    rows: usize,
    (out, ldo, out_row): (&mut [S::f32s], usize, usize),
) {
    macro_rules! run {
        ($nc:literal, $c:expr) => {{
            let acc = tile::<S, MR, $nc>(simd, a, lda, i0, b, ldb, $c, rows);
            for (i, acc_row) in acc.iter().enumerate() {
                out[(out_row + i) * ldo + $c..][..$nc].copy_from_slice(acc_row);
            }
            $nc
        }};
    }
    let mut c = c_start;
    while c < c_end {
        c += match (c_end - c).min(NC_MAX) {
            1 => run!(1, c),
            2 => run!(2, c),
            3 => run!(3, c),
            _ => run!(4, c),
        };
    }
}

/// The upper triangle of `P^T P` for the first `n_cols` columns of the panel `P` (`rows x
/// ld`, row-major, `ld` a multiple of the lanes and of at least `n_cols` rounded up to
/// [`TileShape::rows`]), written to `out` (same `ld`) by whole vectors: row i holds columns
/// from `i / W * W` on; rows are computed in groups, up to `n_cols` rounded up to the tile
/// rows. With `extra = Some((col, out_row))`, rows `out_row` and `out_row + 1` of `out` also
/// receive `sum_r P[r][col + e] * P[r][0..n_cols]` for e = 0, 1 (the right-hand sides).
///
/// Cost: about `rows * n_cols^2 / 2` multiply-adds plus the diagonal tiles' excess.
#[inline(always)]
pub(crate) fn gram_upper<S: Simd>(
    simd: S,
    panel: &[f32],
    ld: usize,
    rows: usize,
    n_cols: usize,
    extra: Option<(usize, usize)>,
    out: &mut [f32],
) {
    match S::F32_LANES {
        16.. => gram_upper_shaped::<S, 6, 4>(simd, panel, ld, rows, n_cols, extra, out),
        8.. => gram_upper_shaped::<S, 6, 2>(simd, panel, ld, rows, n_cols, extra, out),
        _ => gram_upper_shaped::<S, 4, 4>(simd, panel, ld, rows, n_cols, extra, out),
    }
}

#[inline(always)]
fn gram_upper_shaped<S: Simd, const MR: usize, const NC_MAX: usize>(
    simd: S,
    panel: &[f32],
    ld: usize,
    rows: usize,
    n_cols: usize,
    extra: Option<(usize, usize)>,
    out: &mut [f32],
) {
    let lanes = S::F32_LANES;
    debug_assert!(ld.is_multiple_of(lanes) && ld >= n_cols.div_ceil(MR) * MR);
    let ldv = ld / lanes;
    let panel_vectors = S::as_simd_f32s(&panel[..rows * ld]).0;
    let out_vectors = S::as_mut_simd_f32s(out).0;
    let n_vectors = n_cols.div_ceil(lanes);
    for i0 in (0..n_cols).step_by(MR) {
        tile_row::<S, MR, NC_MAX>(
            simd,
            (panel, ld, i0),
            (panel_vectors, ldv),
            (i0 / lanes, n_vectors),
            rows,
            (&mut *out_vectors, ldv, i0),
        );
    }
    if let Some((col, out_row)) = extra {
        tile_row::<S, 2, NC_MAX>(
            simd,
            (panel, ld, col),
            (panel_vectors, ldv),
            (0, n_vectors),
            rows,
            (out_vectors, ldv, out_row),
        );
    }
}

/// Column sums of the first `n_cols` columns of a panel block (`rows x ld`, row-major):
/// `out[c] = sum_r P[r][c]`, written by whole vectors (`out` holds `n_cols` rounded up to the
/// lanes). Sums run in f32 in registers, two chains per vector; callers bound `rows` and add
/// the result into f64 totals. Cost: `rows * n_cols` additions.
#[inline(always)]
pub(crate) fn column_sums<S: Simd>(
    simd: S,
    panel: &[f32],
    ld: usize,
    rows: usize,
    n_cols: usize,
    out: &mut [f32],
) {
    let lanes = S::F32_LANES;
    let ldv = ld / lanes;
    let n_vectors = n_cols.div_ceil(lanes);
    let panel_vectors = S::as_simd_f32s(&panel[..rows * ld]).0;
    let out_vectors = S::as_mut_simd_f32s(&mut out[..n_vectors * lanes]).0;
    macro_rules! run {
        ($g:literal, $c:expr) => {{
            let zero = simd.splat_f32s(0.0);
            let (mut even, mut odd) = ([zero; $g], [zero; $g]);
            let mut pairs = panel_vectors.chunks_exact(2 * ldv);
            for pair in &mut pairs {
                for g in 0..$g {
                    even[g] = simd.add_f32s(even[g], pair[$c + g]);
                    odd[g] = simd.add_f32s(odd[g], pair[ldv + $c + g]);
                }
            }
            if let Some(last) = pairs.remainder().get($c..$c + $g) {
                for g in 0..$g {
                    even[g] = simd.add_f32s(even[g], last[g]);
                }
            }
            for g in 0..$g {
                out_vectors[$c + g] = simd.add_f32s(even[g], odd[g]);
            }
            $g
        }};
    }
    let mut c = 0;
    while c < n_vectors {
        c += match n_vectors - c {
            1 => run!(1, c),
            2 => run!(2, c),
            3 => run!(3, c),
            _ => run!(4, c),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flash_matrix::SeededRng;
    use pulp::WithSimd;

    struct Gram<'a> {
        panel: &'a [f32],
        ld: usize,
        rows: usize,
        n_cols: usize,
        out: &'a mut [f32],
    }

    impl WithSimd for Gram<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            let extra = Some((self.n_cols, self.n_cols.next_multiple_of(ROW_QUANTUM)));
            gram_upper(simd, self.panel, self.ld, self.rows, self.n_cols, extra, self.out);
        }
    }

    #[test]
    fn tiles_give_the_upper_triangle_and_the_extra_rows_exactly_on_integers() {
        // Small integers make every f32 sum exact, so any order must give the same answer.
        let mut rng = SeededRng::new(5);
        for arch in crate::kernels::test_arches() {
            for n_cols in [1usize, 2, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 130] {
                for rows in [0, 1, 3, 17, 64] {
                    let padded = n_cols.next_multiple_of(ROW_QUANTUM);
                    let ld = padded.max(n_cols + 2).next_multiple_of(16);
                    let mut panel = vec![0f32; rows.max(1) * ld];
                    for value in &mut panel {
                        *value = rng.below(7) as f32 - 3.0;
                    }
                    let out_rows = padded + 2;
                    let mut out = vec![f32::NAN; out_rows * ld];
                    arch.dispatch(Gram { panel: &panel, ld, rows, n_cols, out: &mut out });
                    let p = |r: usize, c: usize| panel[r * ld + c];
                    for a in 0..n_cols {
                        for b in a..n_cols {
                            let want: f32 = (0..rows).map(|r| p(r, a) * p(r, b)).sum();
                            assert_eq!(out[a * ld + b], want, "{arch:?} {n_cols} {rows} {a} {b}");
                        }
                    }
                    for e in 0..2 {
                        for b in 0..n_cols {
                            let want: f32 = (0..rows).map(|r| p(r, n_cols + e) * p(r, b)).sum();
                            let got = out[(padded + e) * ld + b];
                            assert_eq!(got, want, "{arch:?} extra {e} {n_cols} {rows} {b}");
                        }
                    }
                }
            }
        }
    }

    struct Sums<'a> {
        panel: &'a [f32],
        ld: usize,
        rows: usize,
        n_cols: usize,
        out: &'a mut [f32],
    }

    impl WithSimd for Sums<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            column_sums(simd, self.panel, self.ld, self.rows, self.n_cols, self.out);
        }
    }

    #[test]
    fn column_sums_are_exact_on_integers() {
        let mut rng = SeededRng::new(6);
        for arch in crate::kernels::test_arches() {
            for n_cols in [1usize, 7, 10, 16, 33, 64, 130] {
                for rows in [0, 1, 2, 5, 96, 255] {
                    let ld = n_cols.next_multiple_of(16);
                    let panel: Vec<f32> =
                        (0..rows * ld).map(|_| rng.below(9) as f32 - 4.0).collect();
                    let mut out = vec![f32::NAN; ld];
                    arch.dispatch(Sums { panel: &panel, ld, rows, n_cols, out: &mut out });
                    for c in 0..n_cols {
                        let want: f32 = (0..rows).map(|r| panel[r * ld + c]).sum();
                        assert_eq!(out[c], want, "{arch:?} {n_cols} {rows} {c}");
                    }
                }
            }
        }
    }
}
