//! A whole training run: epochs, per-epoch statistics, an observer, early stopping.

use std::ops::ControlFlow;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::{AlsParams, Factors, TrainData, TrainError, Trainer};

/// What one epoch achieved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The full objective after the epoch.
    pub loss: f64,
    /// RMSE on the train ratings.
    pub train_rmse: f64,
    /// RMSE on the held-out ratings, when there are any.
    pub test_rmse: Option<f64>,
    /// Wall-clock seconds of the epoch's two half-epochs (evaluation excluded).
    pub seconds: f64,
}

/// The result of [`fit`].
#[derive(Clone, Debug)]
pub struct FitOutcome {
    /// The factors kept: the last epoch's, or the best one's under early stopping.
    pub factors: Factors,
    /// Every epoch run, in order.
    pub history: Vec<EpochStats>,
    /// The epoch whose factors were kept.
    pub kept_epoch: usize,
}

/// Trains biased ALS on `data` with `params`.
///
/// After each epoch `observer` receives the statistics and may return
/// `ControlFlow::Break(())` to stop. With `params.early_stopping`, training also stops once
/// the held-out RMSE has not improved for `patience` epochs, and the best epoch's factors are
/// kept (this needs `data.held_out`).
pub fn fit<F>(
    data: TrainData<'_>,
    params: &AlsParams,
    mut observer: F,
) -> Result<FitOutcome, TrainError>
where
    F: FnMut(&EpochStats) -> ControlFlow<()>,
{
    let _span = tracing::info_span!("fit", k = params.factors, epochs = params.epochs).entered();
    if params.early_stopping.is_some() && data.held_out.is_none() {
        return Err(TrainError::Data("early stopping needs held-out ratings".into()));
    }
    let mut trainer = Trainer::new(data, params)?;
    let mut history = Vec::with_capacity(params.epochs);
    let mut best: Option<(f64, usize, Factors)> = None;

    for epoch in 1..=params.epochs {
        let started = Instant::now();
        trainer.update_epoch()?;
        let seconds = started.elapsed().as_secs_f64();

        let stats = EpochStats {
            epoch,
            loss: trainer.objective(),
            train_rmse: trainer.train_errors().rmse,
            test_rmse: trainer.held_out_errors().map(|e| e.rmse),
            seconds,
        };
        tracing::debug!(epoch, loss = stats.loss, train_rmse = stats.train_rmse, "epoch done");
        let stop_requested = observer(&stats).is_break();
        let held_out_rmse = stats.test_rmse;
        history.push(stats);
        if stop_requested {
            break;
        }

        if let (Some(stopping), Some(rmse)) = (params.early_stopping, held_out_rmse) {
            let improved = best.as_ref().is_none_or(|(b, _, _)| rmse < b - stopping.min_delta);
            if improved {
                best = Some((rmse, epoch, trainer.factors().clone()));
            } else if epoch - best.as_ref().map_or(0, |b| b.1) >= stopping.patience {
                tracing::info!(epoch, "early stopping");
                break;
            }
        }
    }

    let last_epoch = history.len();
    let kept_epoch = match best {
        Some((_, epoch, factors)) if epoch != last_epoch => {
            trainer.set_factors(factors);
            epoch
        }
        _ => last_epoch,
    };
    Ok(FitOutcome { factors: trainer.into_factors(), history, kept_epoch })
}
