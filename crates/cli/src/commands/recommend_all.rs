//! `flash-rec recommend-all`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use flash_als::recommend_all;
use flash_ingest::RecommendationTable;

use super::catalogue::FilterFlags;

/// Options of `recommend-all`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    inputs: super::ModelOnData,
    #[command(flatten)]
    list: super::ListArgs,
    #[command(flatten)]
    filter: FilterFlags,
    /// Output: CSV, or Parquet when it ends in .parquet.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let (dataset, model) = args.inputs.open()?;
    let features = dataset.features()?;
    let filter = args.filter.build(&dataset, features.as_ref())?;
    let rule = args.list.rule();

    let started = Instant::now();
    let lists = recommend_all(&model.factors, &dataset.train_by_user, &filter, rule);
    let seconds = started.elapsed().as_secs_f64();

    RecommendationTable::from_lists(&dataset.users, &dataset.items, &lists).write(&args.out)?;
    println!(
        "{}: top {} for {} users in {seconds:.3} s",
        args.out.display(),
        args.list.k,
        lists.len()
    );
    Ok(())
}
