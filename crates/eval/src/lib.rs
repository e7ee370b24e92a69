//! Metrics of recommenders: rating errors (RMSE, MAE) and, in [`ranking`], top-K metrics.
//!
//! Every sum is taken over fixed-size blocks in a fixed order, so a metric is bit-identical
//! whatever the number of threads.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod deterministic;
pub mod ranking;
mod rating;

pub use deterministic::{sum_in_blocks, SumPair};
pub use ranking::{ranking_metrics, RankingMetrics, RankingOptions};
pub use rating::{rating_errors, RatingErrors};
