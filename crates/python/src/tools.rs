//! The other commands of the command line, as functions: `tune` and `synth`.

use std::ops::ControlFlow;
use std::path::PathBuf;

use flash_als::{fit, AlsParams, SearchSpace, TrainData, TuneMetric, TuneOptions};
use flash_eval::rating_errors;
use flash_ingest::synth::{generate, SynthSpec};
use pyo3::prelude::*;
use serde_json::{json, Value};

use crate::als::Als;
use crate::dataset::Dataset;
use crate::errors::Failure;
use crate::pyvalue::to_python;
use crate::threads::in_pool;

/// Searches tau, gamma and k on a validation split carved from the train ratings (never the
/// test ratings), by successive halving, as ``flash-rec tune``; then trains the best setting
/// on all of train and measures it once on test.
///
/// Parameters
/// ----------
/// dataset : Dataset
///     The prepared ratings.
/// base : ALS, optional
///     Everything not searched (epochs, lam, regularization, global mean, seed, threads);
///     the defaults of ``ALS()`` when absent. lam is not searched: only tau/lam and gamma/lam
///     matter.
/// trials : int
///     Settings to try.
/// metric : str
///     ``"rmse"`` or ``"ndcg@K"``, measured on validation.
/// validation_fraction : float
///     Share of each user's train ratings held out for validation.
/// factor_choices : list of int, optional
///     Candidate k values; 8, 16, 32, 64 and 128 when absent.
///
/// Returns
/// -------
/// dict
///     The document of ``flash-rec tune --json``: ``metric``, ``trials``, ``best`` (whose
///     ``params`` ``ALS.from_params`` takes) and ``test`` (rmse and mae).
#[pyfunction]
#[pyo3(signature = (
    dataset, *, base=None, trials=27, metric="rmse", validation_fraction=0.2,
    factor_choices=None
))]
pub fn tune<'py>(
    py: Python<'py>,
    dataset: &Bound<'py, Dataset>,
    base: Option<&Bound<'py, Als>>,
    trials: usize,
    metric: &str,
    validation_fraction: f64,
    factor_choices: Option<Vec<usize>>,
) -> PyResult<Bound<'py, PyAny>> {
    let parsed = parse_metric(metric)?;
    let base = base.map_or_else(AlsParams::default, |als| als.get().params().clone());
    base.validate().map_err(Failure::from)?;
    let options = TuneOptions {
        trials,
        metric: parsed,
        base: base.clone(),
        space: SearchSpace {
            factors: factor_choices.unwrap_or_else(|| SearchSpace::default().factors),
            ..SearchSpace::default()
        },
        validation_fraction,
        seed: base.seed,
    };
    let shared = dataset.get().shared.clone();
    let report = py.detach(|| -> Result<Value, Failure> {
        let data = &shared.data;
        let outcome = in_pool(base.threads, || flash_als::tune(&data.train_by_user, &options))??;
        let best = outcome.best.params.clone();
        let train = TrainData {
            by_user: &data.train_by_user,
            by_item: &data.train_by_item,
            held_out: Some(&data.test_by_user),
        };
        let trained = fit(train, &best, |_| ControlFlow::Continue(()))?;
        let test = in_pool(base.threads, || {
            rating_errors(&data.test_by_user, |u, i| trained.factors.predict(u, i))
        })?;
        Ok(json!({
            "metric": metric,
            "trials": outcome.trials,
            "best": outcome.best,
            "test": { "rmse": test.rmse, "mae": test.mae },
        }))
    })?;
    to_python(py, &report)
}

fn parse_metric(text: &str) -> Result<TuneMetric, Failure> {
    if text == "rmse" {
        return Ok(TuneMetric::Rmse);
    }
    if let Some(k) = text.strip_prefix("ndcg@").and_then(|k| k.parse::<usize>().ok()) {
        if k > 0 {
            return Ok(TuneMetric::Ndcg(k));
        }
    }
    Err(Failure::Parameter(format!("metric '{text}' is neither rmse nor ndcg@K")))
}

/// Writes a seeded, MovieLens-shaped synthetic ratings file (CSV with a MovieLens header, or
/// Parquet when the name ends in .parquet), as ``flash-rec synth``; returns the number of
/// ratings written. The same seed gives the same file on every machine.
#[pyfunction]
#[pyo3(signature = (path, *, users, items, ratings, seed=42))]
pub fn synth(
    py: Python<'_>,
    path: PathBuf,
    users: usize,
    items: usize,
    ratings: usize,
    seed: u64,
) -> PyResult<usize> {
    let spec = SynthSpec { users, items, ratings, seed };
    Ok(py.detach(|| generate(&spec, &path).map_err(Failure::ingest))?)
}
