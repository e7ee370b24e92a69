//! `flash-rec info`.

use std::path::PathBuf;

use anyhow::Result;
use flash_ingest::{percentile_names, Dataset};

/// Options of `info`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let dataset = Dataset::open(&args.data)?;
    let info = dataset.describe();
    if args.json {
        super::print_json(&info);
        return Ok(());
    }
    let scale = &info["rating_scale"];
    println!("cache         {}", args.data.display());
    for key in ["users", "items", "train_ratings", "test_ratings"] {
        println!("{:<13} {}", key.replace('_', " "), info[key]);
    }
    println!("rating scale  {} to {}", scale[0], scale[1]);
    println!("density       {:.5}", info["density"].as_f64().unwrap_or(0.0));
    println!("user degree   {}", format_percentiles(&info["user_degree"]));
    println!("item degree   {}", format_percentiles(&info["item_degree"]));
    Ok(())
}

fn format_percentiles(value: &serde_json::Value) -> String {
    percentile_names().map(|name| format!("{name} {}", value[name])).collect::<Vec<_>>().join(", ")
}
