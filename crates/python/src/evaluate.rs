//! `ALS.evaluate`: the report of `flash-rec eval --json`, computed the same way.

use flash_als::{recommend, ItemFilter, RankingRule};
use flash_eval::{ranking_metrics, rating_errors, RankingOptions};
use serde_json::{json, Value};

use crate::als::{check_same_ids, Fitted};
use crate::dataset::Shared;
use crate::errors::Failure;
use crate::threads::in_pool;

/// Rating errors and top-`k` ranking metrics of `fitted` on `dataset`'s test ratings, on a
/// pool of `threads` threads (the figures do not depend on it).
pub fn evaluate(
    fitted: &Fitted,
    dataset: &Shared,
    k: usize,
    relevance_threshold: f32,
    threads: usize,
) -> Result<Value, Failure> {
    check_same_ids(&fitted.model, dataset, "being evaluated")?;
    let factors = &fitted.model.factors;
    let data = &dataset.data;
    let (errors, ranking) = in_pool(threads, || {
        let errors = rating_errors(&data.test_by_user, |u, i| factors.predict(u, i));
        let options = RankingOptions { k, relevance_threshold };
        let rule = RankingRule { k, item_bias_weight: 1.0 };
        let filter = ItemFilter::all();
        let train = &data.train_by_user;
        let ranking = ranking_metrics(train, &data.test_by_user, options, |user| {
            recommend(factors, user, train.row(user), &filter, rule)
                .into_iter()
                .map(|(item, _)| item)
                .collect()
        });
        (errors, ranking)
    })?;
    Ok(json!({
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
        "relevance_threshold": relevance_threshold,
    }))
}
