//! One module per subcommand.

pub mod catalogue;
pub mod eval;
pub mod features;
pub mod info;
pub mod plot;
pub mod prepare;
pub mod recommend;
pub mod recommend_all;
pub mod synth;
pub mod train;
pub mod tune;

use std::path::Path;

use anyhow::{Context, Result};
use flash_als::Model;
use flash_ingest::Dataset;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!("{}", serde_json::to_string_pretty(value).expect("JSON values always print"));
}

/// `--data CACHE --model FILE`: a model and the cache it was trained on.
#[derive(clap::Args, Clone, Debug)]
pub struct ModelOnData {
    /// The prepared cache.
    #[arg(long)]
    pub data: std::path::PathBuf,
    /// The trained model.
    #[arg(long)]
    pub model: std::path::PathBuf,
}

impl ModelOnData {
    /// Opens both, checking that they belong together.
    pub fn open(&self) -> Result<(Dataset, Model)> {
        open_model_for(&self.data, &self.model)
    }
}

/// `-k` and `--item-bias-weight`: how long lists are and how they are scored.
#[derive(clap::Args, Clone, Debug)]
pub struct ListArgs {
    /// How many movies per list.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Weight of the item bias in the score (1 ranks by predicted rating; 0.5 damps
    /// popularity).
    #[arg(long, default_value_t = 1.0)]
    pub item_bias_weight: f32,
}

impl ListArgs {
    /// The ranking rule these flags describe.
    pub fn rule(&self) -> flash_als::RankingRule {
        flash_als::RankingRule { k: self.k, item_bias_weight: self.item_bias_weight }
    }
}

/// Opens a dataset and a model and checks that the model was trained on that dataset's ids.
pub fn open_model_for(data: &Path, model_path: &Path) -> Result<(Dataset, Model)> {
    let dataset = Dataset::open(data)?;
    let model = Model::load(model_path)
        .with_context(|| format!("cannot load model {}", model_path.display()))?;
    if model.users != dataset.users || model.items != dataset.items {
        anyhow::bail!(
            "model {} was trained on other data than {} (their users or items differ)",
            model_path.display(),
            data.display()
        );
    }
    Ok((dataset, model))
}
