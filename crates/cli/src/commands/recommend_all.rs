//! `flash-rec recommend-all`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use flash_als::{recommend_all, RankingRule};
use flash_ingest::RecommendationTable;

use super::catalogue::FilterFlags;

/// Options of `recommend-all`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// The trained model.
    #[arg(long)]
    model: PathBuf,
    /// How many movies per user.
    #[arg(short, long, default_value_t = 10)]
    k: usize,
    /// Weight of the item bias in the score.
    #[arg(long, default_value_t = 1.0)]
    item_bias_weight: f32,
    #[command(flatten)]
    filter: FilterFlags,
    /// Output: CSV, or Parquet when it ends in .parquet.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let (dataset, model) = super::open_model_for(&args.data, &args.model)?;
    let features = dataset.features()?;
    let filter = args.filter.build(&dataset, features.as_ref())?;
    let rule = RankingRule { k: args.k, item_bias_weight: args.item_bias_weight };

    let started = Instant::now();
    let lists = recommend_all(&model.factors, &dataset.train_by_user, &filter, rule);
    let seconds = started.elapsed().as_secs_f64();

    let mut table = RecommendationTable::default();
    for (user, list) in lists.iter().enumerate() {
        for (rank, &(item, score)) in list.iter().enumerate() {
            table.user_ids.push(dataset.users.id_of(user as u32));
            table.ranks.push(rank as u32 + 1);
            table.movie_ids.push(dataset.items.id_of(item));
            table.scores.push(score);
        }
    }
    table.write(&args.out)?;
    println!("{}: top {} for {} users in {seconds:.3} s", args.out.display(), args.k, lists.len());
    Ok(())
}
