//! Solving `A x = b` for a small symmetric positive definite `A` by Cholesky, in f64.
//!
//! [`cholesky_solve`] is the plain reference; [`cholesky_solve_augmented`] the vectorised one.
//! Cost of either: k^3 / 6 multiply-adds for the factor and k^2 for the two triangular solves.

use pulp::Simd;

/// Overwrites `a` (k x k, row-major, only the lower triangle is read) with its Cholesky
/// factor L and `b` with the solution of `A x = b`.
///
/// Returns `Err(j)` with the first column whose pivot is not positive (A is not positive
/// definite, or has overflowed).
pub(crate) fn cholesky_solve(a: &mut [f64], b: &mut [f64], k: usize) -> Result<(), usize> {
    debug_assert!(a.len() == k * k && b.len() == k);

    // Factor, column by column: L[j][j] = sqrt(A[j][j] - sum L[j][p]^2), and below it
    // L[i][j] = (A[i][j] - sum L[i][p] L[j][p]) / L[j][j].
    for j in 0..k {
        let row_j = j * k;
        let mut diagonal = a[row_j + j];
        for p in 0..j {
            diagonal -= a[row_j + p] * a[row_j + p];
        }
        if !(diagonal > 0.0 && diagonal.is_finite()) {
            return Err(j);
        }
        let pivot = diagonal.sqrt();
        a[row_j + j] = pivot;
        for i in j + 1..k {
            let row_i = i * k;
            let mut value = a[row_i + j];
            for p in 0..j {
                value -= a[row_i + p] * a[row_j + p];
            }
            a[row_i + j] = value / pivot;
        }
    }

    // Forward: L y = b.
    for i in 0..k {
        let mut value = b[i];
        for p in 0..i {
            value -= a[i * k + p] * b[p];
        }
        b[i] = value / a[i * k + i];
    }
    // Backward: L^T x = y.
    for i in (0..k).rev() {
        let mut value = b[i];
        for p in i + 1..k {
            value -= a[p * k + i] * b[p];
        }
        b[i] = value / a[i * k + i];
    }
    Ok(())
}

/// Solves `A x = b` for a symmetric positive definite `A` (m x m) handed over as the
/// augmented matrix `[A | b]`: `m` rows of `ld` f64 (`ld` a multiple of the f64 lanes and at
/// least m + 1), only A's upper triangle read (row i from column i on), b in column m, and the
/// columns past m zero. On success `x[..m]` is the solution (`x.len() >= ld`); `mat` is
/// overwritten by the factor U (A = U^T U).
///
/// Crout's order, one row at a time:
/// `U[j][j..=m] = (A[j][j..=m] - sum_(p<j) U[p][j] U[p][j..=m]) / U[j][j]`, where the
/// augmented column turns the forward substitution `U^T y = b` into part of the factorisation;
/// then `U x = y` backwards. A row's update holds up to 8 vectors in registers while the rows
/// above stream past: one load per FMA and no store in the inner loop. Lanes left of the
/// diagonal inside the first vector get meaningless values that only ever flow into other such
/// lanes, and the back substitution skips them.
///
/// Cost: m^3 / 6 + m^2 / 2 multiply-adds for the factor and the forward pass, m^2 / 2 for the
/// back substitution.
///
/// Returns `Err(j)` with the first row whose pivot is not positive (A is not positive
/// definite, or has overflowed).
#[inline(always)]
pub(crate) fn cholesky_solve_augmented<S: Simd>(
    simd: S,
    mat: &mut [f64],
    ld: usize,
    m: usize,
    x: &mut [f64],
) -> Result<(), usize> {
    let lanes = S::F64_LANES;
    debug_assert!(ld.is_multiple_of(lanes) && ld > m && mat.len() >= m * ld && x.len() >= ld);
    let ldv = ld / lanes;
    let used_vectors = (m + 1).div_ceil(lanes);
    // Rows go in pairs: the pair's updates by the rows above share every load of those rows;
    // the second row then takes the first one's term.
    let mut j = 0;
    while j < m {
        let first = j / lanes;
        let (done, rest) = mat.split_at_mut(j * ld);
        let done_vectors = S::as_simd_f64s(done).0;
        if j + 1 < m {
            let (row_a, rest) = rest.split_at_mut(ld);
            let row_b = &mut rest[..ld];
            {
                let a_vectors = &mut S::as_mut_simd_f64s(row_a).0[..used_vectors];
                let b_vectors = &mut S::as_mut_simd_f64s(row_b).0[..used_vectors];
                let mut c = first;
                while c < used_vectors {
                    c += crout_pair(
                        simd,
                        (done, done_vectors),
                        (ld, ldv),
                        j,
                        c,
                        (&mut *a_vectors, &mut *b_vectors),
                    );
                }
            }
            finish_row(simd, row_a, j, first, used_vectors)?;
            let factor = simd.splat_f64s(row_a[j + 1]);
            let a_vectors = &S::as_simd_f64s(row_a).0[..used_vectors];
            let b_vectors = &mut S::as_mut_simd_f64s(row_b).0[..used_vectors];
            for (b, &a) in b_vectors[first..].iter_mut().zip(&a_vectors[first..]) {
                *b = simd.negate_mul_add_f64s(factor, a, *b);
            }
            finish_row(simd, row_b, j + 1, first, used_vectors)?;
            j += 2;
        } else {
            let row = &mut rest[..ld];
            {
                let row_vectors = &mut S::as_mut_simd_f64s(row).0[..used_vectors];
                let mut c = first;
                while c < used_vectors {
                    c += crout_group(simd, (done, done_vectors), (ld, ldv), j, c, row_vectors);
                }
            }
            finish_row(simd, row, j, first, used_vectors)?;
            j += 1;
        }
    }

    // U x = y, with y in column m; x is zero past the entries solved so far.
    x[..ld].fill(0.0);
    for i in (0..m).rev() {
        let row = &mat[i * ld..][..ld];
        let start = i + 1;
        let vector_start = start.next_multiple_of(lanes).min(ld);
        let mut sum = 0.0;
        for l in start..vector_start.min(m) {
            sum += row[l] * x[l];
        }
        let row_vectors = &S::as_simd_f64s(&row[vector_start..]).0;
        let x_vectors = &S::as_simd_f64s(&x[vector_start..ld]).0;
        let mut acc = simd.splat_f64s(0.0);
        for (&u, &xv) in row_vectors.iter().zip(x_vectors.iter()) {
            acc = simd.mul_add_f64s(u, xv, acc);
        }
        sum += simd.reduce_sum_f64s(acc);
        x[i] = (row[m] - sum) / row[i];
    }
    Ok(())
}

/// Checks row j's pivot and divides the row by it (from vector `first` on).
#[inline(always)]
fn finish_row<S: Simd>(
    simd: S,
    row: &mut [f64],
    j: usize,
    first: usize,
    used_vectors: usize,
) -> Result<(), usize> {
    let diagonal = row[j];
    if !(diagonal > 0.0 && diagonal.is_finite()) {
        return Err(j);
    }
    let pivot = diagonal.sqrt();
    let inverse = simd.splat_f64s(1.0 / pivot);
    for value in &mut S::as_mut_simd_f64s(row).0[first..used_vectors] {
        *value = simd.mul_f64s(*value, inverse);
    }
    row[j] = pivot;
    Ok(())
}

/// Updates up to 8 (4 on narrow registers) vectors of rows j and j + 1 from column vector `c`
/// on by the rows above j (see [`cholesky_solve_augmented`]); returns how many.
#[inline(always)]
fn crout_pair<S: Simd>(
    simd: S,
    (done, done_vectors): (&[f64], &[S::f64s]),
    (ld, ldv): (usize, usize),
    j: usize,
    c: usize,
    (a_vectors, b_vectors): (&mut [S::f64s], &mut [S::f64s]),
) -> usize {
    macro_rules! run {
        ($g:literal) => {{
            let a_target: &mut [S::f64s; $g] = (&mut a_vectors[c..c + $g]).try_into().unwrap();
            let b_target: &mut [S::f64s; $g] = (&mut b_vectors[c..c + $g]).try_into().unwrap();
            let (mut a_acc, mut b_acc) = (*a_target, *b_target);
            for (p, above_row) in done_vectors.chunks_exact(ldv).enumerate().take(j) {
                let a_factor = simd.splat_f64s(done[p * ld + j]);
                let b_factor = simd.splat_f64s(done[p * ld + j + 1]);
                let above: &[S::f64s; $g] = above_row[c..c + $g].try_into().unwrap();
                for g in 0..$g {
                    a_acc[g] = simd.negate_mul_add_f64s(a_factor, above[g], a_acc[g]);
                    b_acc[g] = simd.negate_mul_add_f64s(b_factor, above[g], b_acc[g]);
                }
            }
            *a_target = a_acc;
            *b_target = b_acc;
            $g
        }};
    }
    let wide = S::REGISTER_COUNT >= 32;
    match (a_vectors.len() - c).min(if wide { 8 } else { 4 }) {
        1 => run!(1),
        2 => run!(2),
        3 => run!(3),
        4 => run!(4),
        5 => run!(5),
        6 => run!(6),
        7 => run!(7),
        _ => run!(8),
    }
}

/// Updates up to 8 vectors of row j from column vector `c` on (see
/// [`cholesky_solve_augmented`]); returns how many. Only the last row of an odd-sized system
/// goes alone.
#[inline(always)]
fn crout_group<S: Simd>(
    simd: S,
    (done, done_vectors): (&[f64], &[S::f64s]),
    (ld, ldv): (usize, usize),
    j: usize,
    c: usize,
    row_vectors: &mut [S::f64s],
) -> usize {
    macro_rules! run {
        ($g:literal) => {{
            let target: &mut [S::f64s; $g] = (&mut row_vectors[c..c + $g]).try_into().unwrap();
            let mut acc = *target;
            for (p, above_row) in done_vectors.chunks_exact(ldv).enumerate().take(j) {
                let factor = simd.splat_f64s(done[p * ld + j]);
                let above: &[S::f64s; $g] = above_row[c..c + $g].try_into().unwrap();
                for (sum, &u) in acc.iter_mut().zip(above) {
                    *sum = simd.negate_mul_add_f64s(factor, u, *sum);
                }
            }
            *target = acc;
            $g
        }};
    }
    match (row_vectors.len() - c).min(8) {
        1 => run!(1),
        2 => run!(2),
        3 => run!(3),
        4 => run!(4),
        5 => run!(5),
        6 => run!(6),
        7 => run!(7),
        _ => run!(8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flash_matrix::SeededRng;

    #[test]
    fn solves_random_spd_systems() {
        let mut rng = SeededRng::new(3);
        for k in [1, 2, 5, 10, 33, 64] {
            // A = M M^T + I is symmetric positive definite.
            let m: Vec<f64> = (0..k * k).map(|_| rng.next_normal()).collect();
            let mut a = vec![0.0; k * k];
            for i in 0..k {
                for j in 0..k {
                    a[i * k + j] = (0..k).map(|p| m[i * k + p] * m[j * k + p]).sum::<f64>();
                }
                a[i * k + i] += 1.0;
            }
            let x: Vec<f64> = (0..k).map(|_| rng.next_normal()).collect();
            let mut b: Vec<f64> =
                (0..k).map(|i| (0..k).map(|j| a[i * k + j] * x[j]).sum()).collect();
            cholesky_solve(&mut a.clone(), &mut b, k).unwrap();
            for (got, want) in b.iter().zip(&x) {
                assert!((got - want).abs() < 1e-8 * (1.0 + want.abs()), "k {k}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn indefinite_matrix_names_its_column() {
        let mut a = vec![1.0, 0.0, 0.0, -1.0];
        assert_eq!(cholesky_solve(&mut a, &mut [1.0, 1.0], 2), Err(1));
    }

    #[test]
    fn the_vectorised_solve_matches_the_plain_one() {
        let mut rng = SeededRng::new(4);
        for arch in crate::kernels::test_arches() {
            for m in (1usize..=70).chain([97, 128, 130]) {
                let ld = (m + 1).next_multiple_of(8);
                let g: Vec<f64> = (0..m * (m + 3)).map(|_| rng.next_normal()).collect();
                let mut a = vec![0.0; m * m];
                for i in 0..m {
                    for j in 0..m {
                        let row = |r: usize| &g[r * (m + 3)..(r + 1) * (m + 3)];
                        a[i * m + j] = row(i).iter().zip(row(j)).map(|(p, q)| p * q).sum();
                    }
                    a[i * m + i] += 0.1;
                }
                let b: Vec<f64> = (0..m).map(|_| rng.next_normal()).collect();
                let mut augmented = vec![0.0; m * ld];
                for i in 0..m {
                    // Only the upper triangle is handed over; below it a NaN must not matter.
                    augmented[i * ld..i * ld + i].fill(f64::NAN);
                    augmented[i * ld + i..i * ld + m].copy_from_slice(&a[i * m + i..(i + 1) * m]);
                    augmented[i * ld + m] = b[i];
                }
                let mut x = vec![f64::NAN; ld];
                arch.dispatch(Solve { mat: &mut augmented, ld, m, x: &mut x }).unwrap();
                let mut want = b.clone();
                cholesky_solve(&mut a.clone(), &mut want, m).unwrap();
                let scale = want.iter().map(|w| w * w).sum::<f64>().sqrt();
                for (got, want) in x.iter().zip(&want) {
                    assert!((got - want).abs() <= 1e-9 * scale, "{arch:?} m {m}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn the_vectorised_solve_names_the_failing_row() {
        for arch in crate::kernels::test_arches() {
            let mut mat = vec![0.0; 2 * 8];
            mat[0] = 1.0;
            mat[8 + 1] = -1.0;
            let mut x = vec![0.0; 8];
            let result = arch.dispatch(Solve { mat: &mut mat, ld: 8, m: 2, x: &mut x });
            assert_eq!(result, Err(1));
        }
    }

    struct Solve<'a> {
        mat: &'a mut [f64],
        ld: usize,
        m: usize,
        x: &'a mut [f64],
    }

    impl pulp::WithSimd for Solve<'_> {
        type Output = Result<(), usize>;
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> Self::Output {
            cholesky_solve_augmented(simd, self.mat, self.ld, self.m, self.x)
        }
    }
}
