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
