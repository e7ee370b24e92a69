//! `flash-rec info`.

use std::path::PathBuf;

use anyhow::Result;
use flash_ingest::Dataset;
use flash_matrix::Csr;
use serde_json::json;

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

/// The percentiles reported for degree distributions.
const PERCENTILES: [(&str, f64); 6] =
    [("min", 0.0), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)];

pub fn run(args: Args) -> Result<()> {
    let dataset = Dataset::open(&args.data)?;
    let manifest = dataset.manifest();
    let summary = &manifest.summary;
    let scale = manifest.fingerprint.options.scale;
    let cells = summary.users as f64 * summary.items as f64;
    let density = if cells > 0.0 { summary.train_ratings as f64 / cells } else { 0.0 };
    let user_degrees = degree_percentiles(&dataset.train_by_user);
    let item_degrees = degree_percentiles(&dataset.train_by_item);

    let info = json!({
        "users": summary.users,
        "items": summary.items,
        "train_ratings": summary.train_ratings,
        "test_ratings": summary.test_ratings,
        "rating_scale": [scale.min, scale.max],
        "density": density,
        "user_degree": user_degrees,
        "item_degree": item_degrees,
        "duplicates_dropped": summary.duplicates_dropped,
        "test_only_items": summary.test_only_items,
        "movies_missing_features": summary.movies_missing_features,
        "has_features": summary.has_features,
        "sources": manifest.fingerprint.sources.iter().map(|s| s.path.display().to_string()).collect::<Vec<_>>(),
    });
    if args.json {
        super::print_json(&info);
        return Ok(());
    }
    println!("cache         {}", args.data.display());
    println!("users         {}", summary.users);
    println!("items         {}", summary.items);
    println!("train ratings {}", summary.train_ratings);
    println!("test ratings  {}", summary.test_ratings);
    println!("rating scale  {} to {}", scale.min, scale.max);
    println!("density       {density:.5}");
    println!("user degree   {}", format_percentiles(&info["user_degree"]));
    println!("item degree   {}", format_percentiles(&info["item_degree"]));
    Ok(())
}

/// Percentiles of the train degrees of rows with at least one rating (nearest rank).
fn degree_percentiles(matrix: &Csr) -> serde_json::Value {
    let mut degrees: Vec<usize> =
        (0..matrix.n_rows()).map(|row| matrix.row_len(row)).filter(|&d| d > 0).collect();
    degrees.sort_unstable();
    let mut out = serde_json::Map::new();
    for (name, quantile) in PERCENTILES {
        let value = if degrees.is_empty() {
            0
        } else {
            degrees[((degrees.len() - 1) as f64 * quantile).round() as usize]
        };
        out.insert(name.to_string(), value.into());
    }
    out.into()
}

fn format_percentiles(value: &serde_json::Value) -> String {
    PERCENTILES
        .iter()
        .map(|(name, _)| format!("{name} {}", value[name]))
        .collect::<Vec<_>>()
        .join(", ")
}
