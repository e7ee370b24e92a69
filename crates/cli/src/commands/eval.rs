//! `flash-rec eval`.

use std::path::PathBuf;

use anyhow::Result;
use flash_als::{recommend, ItemFilter, RankingRule};
use flash_eval::{ranking_metrics, rating_errors, RankingOptions};
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
    let (dataset, model) = super::open_model_for(&args.data, &args.model)?;
    let factors = &model.factors;
    let errors = rating_errors(&dataset.test_by_user, |u, i| factors.predict(u, i));
    let options = RankingOptions { k: args.k, relevance_threshold: args.relevance_threshold };
    let rule = RankingRule { k: args.k, item_bias_weight: 1.0 };
    let filter = ItemFilter::all();
    let train = &dataset.train_by_user;
    let ranking = ranking_metrics(train, &dataset.test_by_user, options, |user| {
        recommend(factors, user, train.row(user), &filter, rule)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    });

    let k = args.k;
    let report = json!({
        "rmse": errors.rmse,
        "mae": errors.mae,
        "test_ratings": errors.count,
        format!("precision@{k}"): ranking.precision,
        format!("recall@{k}"): ranking.recall,
        format!("ndcg@{k}"): ranking.ndcg,
        format!("map@{k}"): ranking.map,
        format!("hit_rate@{k}"): ranking.hit_rate,
        format!("coverage@{k}"): ranking.coverage,
        format!("novelty@{k}"): ranking.novelty,
        "ranked_users": ranking.users,
        "relevance_threshold": args.relevance_threshold,
    });
    if args.json {
        super::print_json(&report);
    } else {
        for (key, value) in report.as_object().expect("an object") {
            match value.as_f64() {
                Some(number) if value.is_f64() => println!("{key:<14} {number:.4}"),
                _ => println!("{key:<14} {value}"),
            }
        }
    }
    Ok(())
}
