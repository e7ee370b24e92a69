//! The evaluation report of a model on held-out ratings: rating errors and top-K metrics.

use flash_eval::{ranking_metrics, rating_errors, RankingMetrics, RankingOptions, RatingErrors};
use flash_matrix::Csr;
use serde_json::{json, Value};

use crate::{recommend, Factors, ItemFilter, RankingRule};

/// RMSE/MAE and ranking metrics at one K, as `flash-rec eval` and Python's `evaluate` report
/// them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Errors of the predicted ratings.
    pub rating: RatingErrors,
    /// Top-K metrics of the recommendation lists (train items excluded, item bias weight 1).
    pub ranking: RankingMetrics,
    /// The list length and relevance threshold used.
    pub options: RankingOptions,
}

/// Evaluates `factors` on `held_out` (users x items), recommending among the items each user
/// did not rate in `train`.
pub fn evaluate(
    factors: &Factors,
    train: &Csr,
    held_out: &Csr,
    options: RankingOptions,
) -> Evaluation {
    let rating = rating_errors(held_out, |u, i| factors.predict(u, i));
    let rule = RankingRule { k: options.k, item_bias_weight: 1.0 };
    let filter = ItemFilter::all();
    let ranking = ranking_metrics(train, held_out, options, |user| {
        recommend(factors, user, train.row(user), &filter, rule)
            .into_iter()
            .map(|(i, _)| i)
            .collect()
    });
    Evaluation { rating, ranking, options }
}

impl Evaluation {
    /// The report with its stable key names: `rmse`, `mae`, `test_ratings`, `precision@K`,
    /// `recall@K`, `ndcg@K`, `map@K`, `hit_rate@K`, `coverage@K`, `novelty@K`,
    /// `ranked_users`, `relevance_threshold`.
    pub fn report(&self) -> Value {
        let k = self.options.k;
        let r = &self.ranking;
        json!({
            "rmse": self.rating.rmse,
            "mae": self.rating.mae,
            "test_ratings": self.rating.count,
            format!("precision@{k}"): r.precision,
            format!("recall@{k}"): r.recall,
            format!("ndcg@{k}"): r.ndcg,
            format!("map@{k}"): r.map,
            format!("hit_rate@{k}"): r.hit_rate,
            format!("coverage@{k}"): r.coverage,
            format!("novelty@{k}"): r.novelty,
            "ranked_users": r.users,
            "relevance_threshold": self.options.relevance_threshold,
        })
    }
}
