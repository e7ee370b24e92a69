//! `flash-rec train`.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{Context, Result};
use flash_als::{fit, AlsParams, EpochRecord, Model, Regularization, TrainData};
use flash_ingest::Dataset;
use serde_json::json;

use crate::progress;

/// Hyper-parameters shared by every command that trains.
#[derive(clap::Args, Clone, Debug)]
pub struct TrainingFlags {
    /// Start from the seed formulation (k 10, lambda 0.01, tau 0.1, gamma 0.1, no global mean,
    /// fixed penalties) instead of the shipped defaults; other flags still override.
    #[arg(long)]
    pub seed_formulation: bool,
    /// Length of the factor vectors (k).
    #[arg(long)]
    pub factors: Option<usize>,
    /// Number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Weight of the data term.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Weight of the factor penalty.
    #[arg(long)]
    pub tau: Option<f64>,
    /// Weight of the bias penalty.
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Include the mean rating as a constant term.
    #[arg(long, overrides_with = "no_global_mean")]
    pub global_mean: bool,
    /// Leave the mean rating out (the seed formulation).
    #[arg(long)]
    pub no_global_mean: bool,
    /// How penalties scale per row.
    #[arg(long, value_enum)]
    pub regularization: Option<RegularizationFlag>,
    /// Seed of the initial factors.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (0: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

/// `--regularization` values.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RegularizationFlag {
    /// The same tau and gamma for every row.
    Fixed,
    /// tau and gamma times the row's rating count.
    ScaledByCount,
    /// tau times the row's rating count, gamma fixed (strong shrinkage of rare items' biases).
    ScaledFactors,
}

impl TrainingFlags {
    /// The parameters: the chosen base, then every flag given.
    pub fn params(&self) -> AlsParams {
        let mut p = if self.seed_formulation {
            AlsParams::seed_formulation()
        } else {
            AlsParams::default()
        };
        p.factors = self.factors.unwrap_or(p.factors);
        p.epochs = self.epochs.unwrap_or(p.epochs);
        p.lambda = self.lambda.unwrap_or(p.lambda);
        p.tau = self.tau.unwrap_or(p.tau);
        p.gamma = self.gamma.unwrap_or(p.gamma);
        if self.global_mean {
            p.global_mean = true;
        }
        if self.no_global_mean {
            p.global_mean = false;
        }
        p.regularization = match self.regularization {
            Some(RegularizationFlag::Fixed) => Regularization::Fixed,
            Some(RegularizationFlag::ScaledByCount) => Regularization::ScaledByCount,
            Some(RegularizationFlag::ScaledFactors) => Regularization::ScaledFactors,
            None => p.regularization,
        };
        p.seed = self.seed.unwrap_or(p.seed);
        p.threads = self.threads.unwrap_or(p.threads);
        p
    }
}

/// Options of `train`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// Where to write the model.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    flags: TrainingFlags,
    /// Print one JSON document (params and per-epoch figures) on stdout.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: Args) -> Result<()> {
    let params = args.flags.params();
    params.validate()?;
    let dataset = Dataset::open(&args.data)?;
    let data = TrainData {
        by_user: &dataset.train_by_user,
        by_item: &dataset.train_by_item,
        held_out: Some(&dataset.test_by_user),
    };

    let bar = progress::bar(params.epochs as u64, args.quiet || args.json, "training");
    let table = !args.json;
    if table {
        println!(
            "{:>5} {:>14} {:>10} {:>10} {:>8}",
            "epoch", "loss", "train_rmse", "test_rmse", "seconds"
        );
    }
    let outcome = fit(data, &params, |stats| {
        let test = stats.test_rmse.map_or("-".to_string(), |r| format!("{r:.4}"));
        bar.set_message(format!("test RMSE {test}"));
        bar.inc(1);
        if table {
            bar.suspend(|| {
                println!(
                    "{:>5} {:>14.4} {:>10.4} {:>10} {:>8.3}",
                    stats.epoch, stats.loss, stats.train_rmse, test, stats.seconds
                )
            });
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| describe_train_error(e, &dataset))?;
    bar.finish_and_clear();

    let model = Model {
        factors: outcome.factors,
        users: dataset.users.clone(),
        items: dataset.items.clone(),
        params: params.clone(),
        history: outcome.history.iter().map(EpochRecord::from).collect(),
    };
    model.save(&args.model).with_context(|| format!("cannot write {}", args.model.display()))?;

    if args.json {
        super::print_json(&json!({
            "params": params,
            "epochs": outcome.history,
            "model": args.model.display().to_string(),
        }));
    } else {
        println!("model written to {}", args.model.display());
    }
    Ok(())
}

/// Names the original id of the row a training error is about.
fn describe_train_error(error: flash_als::TrainError, dataset: &Dataset) -> anyhow::Error {
    use flash_als::{Side, TrainError};
    let original = |side: Side, row: usize| match side {
        Side::User => dataset.users.id_of(row as u32),
        Side::Item => dataset.items.id_of(row as u32),
    };
    let place = match &error {
        TrainError::NonFinite { side, row }
        | TrainError::NotPositiveDefinite { side, row, .. } => {
            Some(format!("training failed at {side} id {}", original(*side, *row)))
        }
        _ => None,
    };
    match place {
        Some(place) => anyhow::Error::new(error).context(place),
        None => error.into(),
    }
}
