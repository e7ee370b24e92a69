//! Numbers at their limits: single-rating users and items, all-equal ratings, extreme
//! hyper-parameters and huge ratings either train to finite factors or stop with an error
//! that names the row; never a silent NaN or infinity, never a panic. Also the regressions
//! the `model` fuzz target found in what is done with a loaded model.

use std::ops::ControlFlow;

use flash_als::{
    fit, fold_in, AlsParams, EpochRecord, Factors, FitOutcome, Model, Regularization, Side,
    TrainData, TrainError,
};
use flash_matrix::{Csr, IdMap};

fn train(by_user: &Csr, params: &AlsParams) -> Result<FitOutcome, TrainError> {
    let by_item = by_user.transpose();
    let data = TrainData { by_user, by_item: &by_item, held_out: Some(by_user) };
    fit(data, params, |_| ControlFlow::Continue(()))
}

fn all_finite(f: &Factors) -> bool {
    let values = f.user.iter().chain(&f.item).chain(&f.user_bias).chain(&f.item_bias);
    values.chain([&f.global_mean]).all(|x| x.is_finite())
}

/// A success has finite factors and figures; a failure names a row that exists.
#[track_caller]
fn assert_finite_or_row_named(result: Result<FitOutcome, TrainError>, by_user: &Csr, what: &str) {
    match result {
        Ok(outcome) => {
            assert!(all_finite(&outcome.factors), "{what}: non-finite factors");
            for epoch in &outcome.history {
                assert!(epoch.train_rmse.is_finite(), "{what}: train RMSE {}", epoch.train_rmse);
            }
        }
        Err(error @ (TrainError::NonFinite { .. } | TrainError::NotPositiveDefinite { .. })) => {
            let (side, row) = match error {
                TrainError::NonFinite { side, row } => (side, row),
                TrainError::NotPositiveDefinite { side, row, .. } => (side, row),
                _ => unreachable!(),
            };
            let rows = if side == Side::User { by_user.n_rows() } else { by_user.n_cols() };
            assert!(row < rows, "{what}: {side} row {row} of {rows}");
            let message = error.to_string();
            assert!(message.contains(&format!("{side} row {row}")), "{what}: {message}");
        }
        Err(other) => panic!("{what}: unexpected error {other}"),
    }
}

#[test]
fn single_rating_users_and_items_and_equal_ratings_train_to_finite_factors() {
    // Users 0..4 rate one item each (items 0..4 rated once each), user 4 rates nothing,
    // item 5 is rated by nobody; every rating is 4.0.
    let by_user = Csr::from_triplets(5, 6, &[0, 1, 2, 3], &[0, 1, 2, 3], &[4.0; 4]).unwrap();
    let one = Csr::from_triplets(1, 1, &[0], &[0], &[2.5]).unwrap();
    for regularization in [Regularization::Fixed, Regularization::ScaledByCount] {
        for factors in [1, 4, 33] {
            for global_mean in [false, true] {
                let params = AlsParams {
                    factors,
                    epochs: 4,
                    regularization,
                    global_mean,
                    threads: 1,
                    ..AlsParams::default()
                };
                for matrix in [&by_user, &one] {
                    let outcome = train(matrix, &params).unwrap();
                    let what = format!("{regularization:?} k={factors} mean={global_mean}");
                    assert!(all_finite(&outcome.factors), "{what}");
                    let last = outcome.history.last().unwrap();
                    assert!(last.loss.is_finite() && last.train_rmse.is_finite(), "{what}");
                }
                let outcome = train(&by_user, &params).unwrap();
                let f = &outcome.factors;
                assert!(f.user_vector(4).iter().all(|&x| x == 0.0) && f.user_bias[4] == 0.0);
                assert!(f.item_vector(5).iter().all(|&x| x == 0.0) && f.item_bias[5] == 0.0);
            }
        }
    }
}

#[test]
fn extreme_parameters_and_ratings_give_finite_factors_or_an_error_naming_the_row() {
    let ordinary =
        Csr::from_triplets(3, 3, &[0, 0, 1, 1, 2], &[0, 1, 1, 2, 0], &[0.5, 5.0, 3.0, 4.5, 1.0])
            .unwrap();
    // Ratings near the top of f32: a Csr holds any finite value.
    let huge = Csr::from_triplets(2, 2, &[0, 0, 1], &[0, 1, 0], &[3e38, -3e38, -3e38]).unwrap();
    let extremes = [1e-300, 1e-30, 1.0, 1e30, 1e300];
    for matrix in [&ordinary, &huge] {
        for lambda in extremes {
            for tau in extremes {
                for gamma in [0.0, 1e300] {
                    let params = AlsParams {
                        factors: 3,
                        epochs: 3,
                        lambda,
                        tau,
                        gamma,
                        threads: 1,
                        ..AlsParams::default()
                    };
                    let what = format!("lambda {lambda} tau {tau} gamma {gamma}");
                    assert_finite_or_row_named(train(matrix, &params), matrix, &what);
                }
            }
        }
    }
}

#[test]
fn a_non_finite_update_stops_training_with_an_error_naming_the_row() {
    // Each user rates one item at the top of f32, and gamma pins the biases to zero: the exact
    // minimiser of the item's vector is 3e38 / u for the user's vector u, beyond f32 whenever
    // |u| < 1.1, which the initial draw gives for most seeds.
    let by_user = Csr::from_triplets(3, 3, &[0, 1, 2], &[0, 1, 2], &[3e38; 3]).unwrap();
    let mut non_finite = 0;
    for seed in 0..8 {
        let params = AlsParams {
            factors: 1,
            epochs: 2,
            lambda: 1.0,
            tau: 1e-30,
            gamma: 1e300,
            global_mean: false,
            regularization: Regularization::Fixed,
            seed,
            threads: 1,
            ..AlsParams::default()
        };
        match train(&by_user, &params) {
            Err(error @ TrainError::NonFinite { side: Side::Item, row }) => {
                assert!(row < 3, "{error}");
                let message = error.to_string();
                assert!(message.contains(&format!("item row {row}")), "{message}");
                assert!(message.contains("non-finite"), "{message}");
                non_finite += 1;
            }
            other => assert_finite_or_row_named(other, &by_user, &format!("seed {seed}")),
        }
    }
    assert!(non_finite > 0, "no seed overflowed: the test no longer exercises the check");
}

/// A model whose only item vector is beyond what f32 squares can hold, as the `model` fuzz
/// target built it from a model file with valid checksums.
fn model_with_overflowing_item() -> Model {
    let factors = Factors {
        k: 2,
        user: vec![0.4, 0.1],
        item: vec![4.4e21, 0.18],
        user_bias: vec![0.1],
        item_bias: vec![0.5],
        global_mean: 3.1,
    };
    Model {
        factors,
        users: IdMap::from_ids(&[1]),
        items: IdMap::from_ids(&[10]),
        params: AlsParams { factors: 2, ..AlsParams::default() },
        history: vec![EpochRecord { epoch: 1, loss: 1.0, train_rmse: 0.2, test_rmse: None }],
    }
}

#[test]
fn fold_in_against_overflowing_item_factors_gives_the_zero_user_instead_of_a_panic() {
    let model = model_with_overflowing_item();
    let folded = fold_in(&model.factors, &model.params, &[(0, 4.0)]);
    assert!(folded.vector.iter().chain([&folded.bias]).all(|x| x.is_finite()));

    // The same through a model file, as `flash-rec recommend --rate` reaches it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.model");
    model.save(&path).unwrap();
    let loaded = Model::load(&path).unwrap();
    let folded = fold_in(&loaded.factors, &loaded.params, &[(0, 4.0)]);
    assert!(folded.vector.iter().chain([&folded.bias]).all(|x| x.is_finite()));
}

#[test]
fn fold_in_after_training_with_a_vanishing_tau_stays_finite() {
    let by_user = Csr::from_triplets(
        4,
        3,
        &[0, 0, 1, 2, 3, 3],
        &[0, 1, 1, 2, 0, 2],
        &[4.0, 3.0, 5.0, 2.0, 1.0, 4.5],
    )
    .unwrap();
    for tau in [1e-30, 1e-300] {
        let params = AlsParams { factors: 8, epochs: 3, tau, threads: 1, ..AlsParams::default() };
        let outcome = train(&by_user, &params).unwrap();
        // One rating against eight factors: nearly singular, and tau adds almost nothing.
        let folded = fold_in(&outcome.factors, &params, &[(1, 4.0)]);
        assert!(folded.vector.iter().chain([&folded.bias]).all(|x| x.is_finite()), "{tau}");
    }
}

#[test]
fn a_model_file_with_invalid_parameters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad-params.model");
    let mut model = model_with_overflowing_item();
    model.factors.item[0] = 0.3;
    for broken in [
        AlsParams { tau: 0.0, ..model.params.clone() },
        AlsParams { lambda: -1.0, ..model.params.clone() },
        AlsParams { epochs: 0, ..model.params.clone() },
    ] {
        let model = Model { params: broken, ..model.clone() };
        model.save(&path).unwrap();
        let message = Model::load(&path).unwrap_err().to_string();
        assert!(message.contains("bad-params.model"), "{message}");
        assert!(message.contains("invalid parameters"), "{message}");
    }
}
