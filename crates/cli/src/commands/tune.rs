//! `flash-rec tune`.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::{bail, Result};
use flash_als::{fit, tune, SearchSpace, TrainData, TuneMetric, TuneOptions};
use flash_eval::rating_errors;
use flash_ingest::Dataset;
use serde_json::json;

use super::train::TrainingFlags;

/// Options of `tune`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// Settings to try.
    #[arg(long, default_value_t = 27)]
    trials: usize,
    /// What to optimise on validation: rmse, or ndcg@K.
    #[arg(long, default_value = "rmse")]
    metric: String,
    /// Share of each user's train ratings held out for validation.
    #[arg(long, default_value_t = 0.2)]
    validation_fraction: f64,
    /// Candidate k values, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = SearchSpace::default().factors)]
    factor_choices: Vec<usize>,
    /// Base parameters (epochs, regularisation, global mean...); the searched ones are drawn.
    #[command(flatten)]
    flags: TrainingFlags,
    /// Print one JSON document with `trials`, `best` and `test`.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let metric = parse_metric(&args.metric)?;
    let base = args.flags.params();
    base.validate()?;
    let dataset = Dataset::open(&args.data)?;
    let options = TuneOptions {
        trials: args.trials,
        metric,
        base: base.clone(),
        space: SearchSpace { factors: args.factor_choices.clone(), ..SearchSpace::default() },
        validation_fraction: args.validation_fraction,
        seed: base.seed,
    };
    let outcome = tune(&dataset.train_by_user, &options)?;

    // The best setting, trained once on all of train and measured once on test.
    let best = outcome.best.params.clone();
    let data = TrainData {
        by_user: &dataset.train_by_user,
        by_item: &dataset.train_by_item,
        held_out: Some(&dataset.test_by_user),
    };
    let trained = fit(data, &best, |_| ControlFlow::Continue(()))?;
    let test = rating_errors(&dataset.test_by_user, |u, i| trained.factors.predict(u, i));

    if args.json {
        super::print_json(&json!({
            "metric": args.metric,
            "trials": outcome.trials,
            "best": outcome.best,
            "test": { "rmse": test.rmse, "mae": test.mae },
        }));
        return Ok(());
    }
    println!(
        "{:>5} {:>4} {:>10} {:>10} {:>10} {:>6} {:>10} {:>8}",
        "trial", "k", "lambda", "tau", "gamma", "epochs", "val_rmse", "val_ndcg"
    );
    for trial in &outcome.trials {
        let p = &trial.params;
        let ndcg = trial.validation_ndcg.map_or("-".into(), |n| format!("{n:.4}"));
        println!(
            "{:>5} {:>4} {:>10.4} {:>10.5} {:>10.5} {:>6} {:>10.4} {:>8}",
            trial.id, p.factors, p.lambda, p.tau, p.gamma, p.epochs, trial.validation_rmse, ndcg
        );
    }
    let p = &best;
    println!(
        "best: trial {} with --factors {} --lambda {} --tau {:.5} --gamma {:.5}",
        outcome.best.id, p.factors, p.lambda, p.tau, p.gamma
    );
    println!("test rmse {:.4}, mae {:.4} (trained on all of train)", test.rmse, test.mae);
    Ok(())
}

fn parse_metric(text: &str) -> Result<TuneMetric> {
    if text == "rmse" {
        return Ok(TuneMetric::Rmse);
    }
    if let Some(k) = text.strip_prefix("ndcg@").and_then(|k| k.parse::<usize>().ok()) {
        if k > 0 {
            return Ok(TuneMetric::Ndcg(k));
        }
    }
    bail!("metric '{text}' is neither rmse nor ndcg@K")
}
