//! `ALS.evaluate`: the report of `flash-rec eval --json`, from the same library function.

use flash_eval::RankingOptions;
use serde_json::Value;

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
    let data = &dataset.data;
    let options = RankingOptions { k, relevance_threshold };
    let evaluation = in_pool(threads, || {
        flash_als::evaluate(
            &fitted.model.factors,
            &data.train_by_user,
            &data.test_by_user,
            options,
        )
    })?;
    Ok(evaluation.report())
}
