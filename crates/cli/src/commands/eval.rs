//! `flash-rec eval`.

use anyhow::Result;
use flash_als::evaluate;
use flash_eval::RankingOptions;

/// Options of `eval`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: super::ModelOnData,
    /// Length of the recommendation lists for the ranking metrics.
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Test ratings at or above this are relevant for the ranking metrics.
    #[arg(long, default_value_t = 4.0)]
    relevance_threshold: f32,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let (dataset, model) = args.inputs.open()?;
    let options = RankingOptions { k: args.k, relevance_threshold: args.relevance_threshold };
    let evaluation =
        evaluate(&model.factors, &dataset.train_by_user, &dataset.test_by_user, options);
    let report = evaluation.report();
    if args.json {
        super::print_json(&report);
        return Ok(());
    }
    for (key, value) in report.as_object().expect("an object") {
        match value.as_f64() {
            Some(number) if value.is_f64() => println!("{key:<20} {number:.4}"),
            _ => println!("{key:<20} {value}"),
        }
    }
    Ok(())
}
