//! Solving `A x = b` for a small symmetric positive definite `A` by Cholesky, in f64.
//!
//! Cost: k^3 / 3 multiply-adds for the factor and 2 k^2 for the two triangular solves.

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
}
