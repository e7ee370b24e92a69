//! The solver against independent references: a dense f64 direct solve of each row, the
//! objective's monotone descent, thread-count independence, and recovery of a planted model.

mod common;

use std::ops::ControlFlow;

use common::planted;
use flash_als::{fit, AlsParams, Factors, Regularization, TrainData, Trainer};
use flash_matrix::Csr;

fn data(p: &common::Planted) -> TrainData<'_> {
    TrainData { by_user: &p.by_user, by_item: &p.by_item, held_out: Some(&p.held_out) }
}

/// Solves `A x = b` by Gaussian elimination with partial pivoting, in f64: deliberately not
/// the solver's Cholesky.
fn gauss_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (value, &above) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * above;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x
}

/// The bias and vector of one row, per the update rules, computed densely in f64.
fn reference_row(
    ratings: &Csr,
    row: usize,
    other: &[f32],
    other_bias: &[f32],
    own_vector: &[f32],
    mean: f64,
    params: &AlsParams,
) -> (f64, Vec<f64>) {
    let k = params.factors;
    let entries = ratings.row(row);
    let n = entries.len() as f64;
    let (tau_weight, gamma_weight) = match params.regularization {
        Regularization::Fixed => (1.0, 1.0),
        Regularization::ScaledByCount => (n, n),
        Regularization::ScaledFactors => (n, 1.0),
    };
    let v =
        |j: u32| -> Vec<f64> { other[j as usize * k..][..k].iter().map(|&x| x as f64).collect() };
    let residual = |j: u32, r: f32| r as f64 - mean - other_bias[j as usize] as f64;

    let mut bias_sum = 0.0;
    for (&j, &r) in entries.indices.iter().zip(entries.values) {
        let dot: f64 = v(j).iter().zip(own_vector).map(|(a, &b)| a * b as f64).sum();
        bias_sum += residual(j, r) - dot;
    }
    let bias = params.lambda * bias_sum / (params.lambda * n + params.gamma * gamma_weight);
    let bias = bias as f32 as f64; // the solver stores the bias in f32 before using it

    let mut a = vec![vec![0.0; k]; k];
    let mut b = vec![0.0; k];
    for (&j, &r) in entries.indices.iter().zip(entries.values) {
        let vj = v(j);
        for p in 0..k {
            for q in 0..k {
                a[p][q] += params.lambda * vj[p] * vj[q];
            }
            b[p] += params.lambda * (residual(j, r) - bias) * vj[p];
        }
    }
    for (d, row) in a.iter_mut().enumerate() {
        row[d] += params.tau * tau_weight;
    }
    (bias, gauss_solve(a, b))
}

/// Norm-wise relative error within 1e-5 (a component near zero is judged against the whole
/// vector, as a solve's accuracy is).
fn assert_close(got: &[f32], want: &[f64], what: &str) {
    let error: f64 =
        got.iter().zip(want).map(|(&g, w)| (g as f64 - w).powi(2)).sum::<f64>().sqrt();
    let norm: f64 = want.iter().map(|w| w * w).sum::<f64>().sqrt();
    assert!(error <= 1e-5 * norm.max(1e-3), "{what}: {got:?} vs reference {want:?}");
}

#[test]
fn every_row_update_equals_a_dense_direct_solve() {
    let p = planted(40, 30, 3, 0.5, 0.3, 1);
    for params in [
        AlsParams { factors: 6, ..AlsParams::seed_formulation() },
        AlsParams {
            factors: 6,
            global_mean: true,
            regularization: Regularization::ScaledByCount,
            ..AlsParams::default()
        },
    ] {
        let mut trainer = Trainer::new(data(&p), &params).unwrap();
        trainer.update_items().unwrap();
        trainer.update_users().unwrap();

        // Items from the current users, then users from the new items.
        let before: Factors = trainer.factors().clone();
        trainer.update_items().unwrap();
        let after_items = trainer.factors().clone();
        for item in 0..p.by_item.n_rows() {
            let (bias, vector) = reference_row(
                &p.by_item,
                item,
                &before.user,
                &before.user_bias,
                before.item_vector(item),
                before.global_mean as f64,
                &params,
            );
            assert_close(&[after_items.item_bias[item]], &[bias], &format!("item {item} bias"));
            assert_close(after_items.item_vector(item), &vector, &format!("item {item}"));
        }
        trainer.update_users().unwrap();
        let after_users = trainer.factors();
        for user in 0..p.by_user.n_rows() {
            let (bias, vector) = reference_row(
                &p.by_user,
                user,
                &after_items.item,
                &after_items.item_bias,
                after_items.user_vector(user),
                after_items.global_mean as f64,
                &params,
            );
            assert_close(&[after_users.user_bias[user]], &[bias], &format!("user {user} bias"));
            assert_close(after_users.user_vector(user), &vector, &format!("user {user}"));
        }
    }
}

#[test]
fn the_objective_never_rises_between_half_epochs() {
    let p = planted(120, 80, 4, 0.3, 0.5, 2);
    for params in [AlsParams::seed_formulation(), AlsParams::default()] {
        let mut trainer = Trainer::new(data(&p), &params).unwrap();
        let mut previous = trainer.objective();
        for half in 0..30 {
            if half % 2 == 0 {
                trainer.update_items().unwrap();
            } else {
                trainer.update_users().unwrap();
            }
            let current = trainer.objective();
            // f32 storage allows a rise of a few ulps of the objective, nothing more.
            assert!(
                current <= previous * (1.0 + 1e-6),
                "half-epoch {half}: {previous} -> {current}"
            );
            previous = current;
        }
    }
}

#[test]
fn one_and_two_threads_give_identical_models() {
    let p = planted(300, 200, 5, 0.1, 0.5, 3);
    // k = 10 takes the batched path of small k, k = 32 the row-at-a-time one.
    for factors in [10, 32] {
        let run = |threads: usize| {
            let params = AlsParams { threads, factors, epochs: 4, ..AlsParams::default() };
            fit(data(&p), &params, |_| ControlFlow::Continue(())).unwrap()
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.factors, two.factors, "k = {factors}");
        assert_eq!(
            one.history.iter().map(|e| (e.loss, e.train_rmse, e.test_rmse)).collect::<Vec<_>>(),
            two.history.iter().map(|e| (e.loss, e.train_rmse, e.test_rmse)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn a_planted_low_rank_model_is_recovered_to_the_noise_level() {
    let noise = 0.25;
    let p = planted(400, 300, 4, 0.25, noise, 4);
    let params = AlsParams {
        factors: 4,
        epochs: 50,
        lambda: 1.0,
        tau: 0.005,
        gamma: 0.005,
        global_mean: true,
        regularization: Regularization::ScaledByCount,
        ..AlsParams::default()
    };
    let outcome = fit(data(&p), &params, |_| ControlFlow::Continue(())).unwrap();
    let test_rmse = outcome.history.last().unwrap().test_rmse.unwrap();
    // With 5 parameters per row and ~60 ratings each, the best possible is about 0.27.
    assert!(test_rmse < noise * 1.12, "test RMSE {test_rmse} vs noise {noise}");
}

#[test]
fn extreme_parameters_and_empty_rows_never_give_nan() {
    // User 3 and item 4 have no ratings; user 0 has a single one; all ratings are equal.
    let by_user = Csr::from_triplets(4, 5, &[0, 1, 1, 2, 2], &[0, 0, 1, 2, 3], &[3.0; 5]).unwrap();
    let by_item = by_user.transpose();
    let data = TrainData { by_user: &by_user, by_item: &by_item, held_out: None };
    for (lambda, tau, gamma) in
        [(1e-12, 1e-12, 0.0), (1e6, 1e-6, 1e6), (1e-3, 1e6, 1e6), (1.0, 1e-30, 0.0)]
    {
        for global_mean in [false, true] {
            let params =
                AlsParams { lambda, tau, gamma, global_mean, epochs: 5, ..AlsParams::default() };
            let outcome = fit(data, &params, |_| ControlFlow::Continue(())).unwrap();
            let f = &outcome.factors;
            let all = f.user.iter().chain(&f.item).chain(&f.user_bias).chain(&f.item_bias);
            assert!(all.clone().all(|x| x.is_finite()), "{lambda} {tau} {gamma}");
            assert!(f.user_vector(3).iter().all(|&x| x == 0.0) && f.user_bias[3] == 0.0);
            assert!(f.item_vector(4).iter().all(|&x| x == 0.0) && f.item_bias[4] == 0.0);
        }
    }
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    let p = planted(200, 150, 3, 0.2, 0.5, 5);
    // A min_delta no epoch can beat: epoch 1 stays the best, training stops `patience` later
    // and hands back epoch 1's factors.
    let stopping = flash_als::EarlyStopping { patience: 2, min_delta: 10.0 };
    let params = AlsParams { epochs: 40, early_stopping: Some(stopping), ..AlsParams::default() };
    let outcome = fit(data(&p), &params, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(outcome.history.len(), 3);
    assert_eq!(outcome.kept_epoch, 1);
    let one_epoch = AlsParams { epochs: 1, early_stopping: None, ..params };
    let first = fit(data(&p), &one_epoch, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(outcome.factors, first.factors);

    let mut seen = 0;
    let stopped = fit(data(&p), &AlsParams { epochs: 10, ..AlsParams::default() }, |_| {
        seen += 1;
        if seen == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(stopped.history.len(), 3);
}
