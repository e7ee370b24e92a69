//! `flash-rec eval`.

use std::path::PathBuf;

use anyhow::Result;
use flash_eval::rating_errors;
use serde_json::json;

/// Options of `eval`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// The trained model.
    #[arg(long)]
    model: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let (dataset, model) = super::open_model_for(&args.data, &args.model)?;
    let factors = &model.factors;
    let errors = rating_errors(&dataset.test_by_user, |u, i| factors.predict(u, i));
    if args.json {
        super::print_json(&json!({
            "rmse": errors.rmse,
            "mae": errors.mae,
            "test_ratings": errors.count,
        }));
    } else {
        println!("test ratings {}", errors.count);
        println!("rmse         {:.4}", errors.rmse);
        println!("mae          {:.4}", errors.mae);
    }
    Ok(())
}
