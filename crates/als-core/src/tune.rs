//! Hyper-parameter search on a validation split carved from train (never the test split).
//!
//! Strategy: successive halving. Every trial draws k from a list and tau, gamma log-uniformly,
//! trains for a ninth of the epochs, and only the best third of the trials go on to a third of
//! the epochs, and the best third of those to all of them. Poor settings are dropped after
//! little work, so many more settings are tried than plain random search could in the same
//! time. Trials run in parallel, one thread each.
//!
//! lambda is not searched: multiplying lambda, tau and gamma by one constant only scales the
//! objective, so the minimiser depends on tau / lambda and gamma / lambda alone; the search
//! keeps lambda at the base value and searches tau and gamma relative to it.

use std::ops::ControlFlow;

use flash_eval::{ranking_metrics, RankingOptions};
use flash_matrix::holdout::split_rows;
use flash_matrix::{Csr, SeededRng};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{fit, recommend, AlsParams, ItemFilter, RankingRule, TrainData, TrainError};

/// What the search optimises on the validation split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TuneMetric {
    /// Validation RMSE (lower is better).
    Rmse,
    /// Validation NDCG at this K (higher is better).
    Ndcg(usize),
}

/// Where the search looks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    /// Candidate k values.
    pub factors: Vec<usize>,
    /// Log-uniform range of tau.
    pub tau: (f64, f64),
    /// Log-uniform range of gamma.
    pub gamma: (f64, f64),
}

impl Default for SearchSpace {
    fn default() -> Self {
        SearchSpace { factors: vec![8, 16, 32, 64, 128], tau: (1e-3, 1.0), gamma: (1e-3, 10.0) }
    }
}

/// Options of [`tune`].
#[derive(Clone, Debug)]
pub struct TuneOptions {
    /// Number of settings tried.
    pub trials: usize,
    /// The criterion.
    pub metric: TuneMetric,
    /// Everything not searched (regularisation, global mean, epochs, lambda) comes from here.
    pub base: AlsParams,
    /// Search ranges.
    pub space: SearchSpace,
    /// Share of each user's train ratings held out for validation.
    pub validation_fraction: f64,
    /// Seed of the validation split and of the draws.
    pub seed: u64,
}

/// One setting and how far it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 0-based trial number.
    pub id: usize,
    /// The parameters tried (epochs is the budget it last ran with).
    pub params: AlsParams,
    /// Validation RMSE after its last run.
    pub validation_rmse: f64,
    /// Validation NDCG after its last run, when the metric is NDCG.
    pub validation_ndcg: Option<f64>,
}

impl Trial {
    /// Lower is better.
    fn loss(&self, metric: TuneMetric) -> f64 {
        match metric {
            TuneMetric::Rmse => self.validation_rmse,
            TuneMetric::Ndcg(_) => -self.validation_ndcg.unwrap_or(0.0),
        }
    }
}

/// The search's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TuneOutcome {
    /// Every trial at its last rung, in id order.
    pub trials: Vec<Trial>,
    /// The best trial of the final rung.
    pub best: Trial,
}

/// Searches hyper-parameters on a validation split of `train_by_user`.
pub fn tune(train_by_user: &Csr, options: &TuneOptions) -> Result<TuneOutcome, TrainError> {
    let _span = tracing::info_span!("tune", trials = options.trials).entered();
    options.base.validate()?;
    if options.trials == 0 || options.space.factors.is_empty() {
        return Err(TrainError::Data("tuning needs at least one trial and one k".into()));
    }
    let (fit_by_user, validation) =
        split_rows(train_by_user, options.validation_fraction, options.seed, |row| row as u64);
    let fit_by_item = fit_by_user.transpose();
    let data =
        TrainData { by_user: &fit_by_user, by_item: &fit_by_item, held_out: Some(&validation) };

    let mut trials: Vec<Trial> = draw_settings(options)
        .into_iter()
        .enumerate()
        .map(|(id, params)| Trial {
            id,
            params,
            validation_rmse: f64::INFINITY,
            validation_ndcg: None,
        })
        .collect();
    let mut alive: Vec<usize> = (0..trials.len()).collect();
    let full = options.base.epochs;
    let rungs = [full.div_ceil(9).max(1), full.div_ceil(3).max(1), full];
    for (rung, &epochs) in rungs.iter().enumerate() {
        let results: Vec<Result<Trial, TrainError>> = alive
            .par_iter()
            .map(|&id| {
                let params = AlsParams { epochs, threads: 1, ..trials[id].params.clone() };
                evaluate(data, &params, options.metric).map(|(rmse, ndcg)| Trial {
                    id,
                    params: AlsParams { threads: options.base.threads, ..params },
                    validation_rmse: rmse,
                    validation_ndcg: ndcg,
                })
            })
            .collect();
        for result in results {
            let trial = result?;
            let id = trial.id;
            trials[id] = trial;
        }
        alive.sort_by(|&a, &b| {
            trials[a]
                .loss(options.metric)
                .total_cmp(&trials[b].loss(options.metric))
                .then(a.cmp(&b))
        });
        tracing::info!(rung, epochs, alive = alive.len(), "rung done");
        if rung + 1 < rungs.len() {
            alive.truncate(alive.len().div_ceil(3));
        }
    }
    let best = trials[alive[0]].clone();
    Ok(TuneOutcome { trials, best })
}

fn draw_settings(options: &TuneOptions) -> Vec<AlsParams> {
    let mut rng = SeededRng::for_stream(options.seed, u64::MAX - 1);
    let mut log_uniform = |(low, high): (f64, f64)| {
        let (low, high) = (low.ln(), high.ln());
        (low + (high - low) * rng.next_f64()).exp()
    };
    let mut settings = Vec::with_capacity(options.trials);
    for _ in 0..options.trials {
        let tau = log_uniform(options.space.tau);
        let gamma = log_uniform(options.space.gamma);
        settings.push(AlsParams { tau, gamma, ..options.base.clone() });
    }
    let mut pick = SeededRng::for_stream(options.seed, u64::MAX - 2);
    for params in &mut settings {
        let index = pick.below(options.space.factors.len() as u64) as usize;
        params.factors = options.space.factors[index];
    }
    settings
}

/// Validation RMSE, and NDCG when asked for, of one training run.
fn evaluate(
    data: TrainData<'_>,
    params: &AlsParams,
    metric: TuneMetric,
) -> Result<(f64, Option<f64>), TrainError> {
    let outcome = fit(data, params, |_| ControlFlow::Continue(()))?;
    let rmse = outcome.history.last().and_then(|e| e.test_rmse).unwrap_or(f64::INFINITY);
    let ndcg = match metric {
        TuneMetric::Rmse => None,
        TuneMetric::Ndcg(k) => {
            let validation = data.held_out.expect("tuning always has a validation split");
            let options = RankingOptions { k, ..RankingOptions::default() };
            let rule = RankingRule { k, item_bias_weight: 1.0 };
            let filter = ItemFilter::all();
            let metrics = ranking_metrics(data.by_user, validation, options, |user| {
                recommend(&outcome.factors, user, data.by_user.row(user), &filter, rule)
                    .into_iter()
                    .map(|(item, _)| item)
                    .collect()
            });
            Some(metrics.ndcg)
        }
    };
    Ok((rmse, ndcg))
}
