//! Biased alternating least squares for explicit ratings.
//!
//! For user i and item j with vectors u_i, v_j (length k) and biases b_i, b_j, the model
//! predicts `mu + b_i + b_j + u_i . v_j` (mu is the mean train rating, or 0 without the
//! global-mean term) and minimises
//!
//! ```text
//! L = lam/2 sum_(i,j rated) (r_ij - mu - u_i.v_j - b_i - b_j)^2
//!   + tau/2 (sum_i w_i |u_i|^2 + sum_j w_j |v_j|^2)
//!   + gamma/2 (sum_i w_i b_i^2 + sum_j w_j b_j^2)
//! ```
//!
//! with `w = 1` ([`Regularization::Fixed`], the seed formulation) or `w` = the row's rating
//! count ([`Regularization::ScaledByCount`]). An epoch updates every item, then every user;
//! each row first its bias, then its vector, each the exact minimiser given the rest
//! (see the `update` module), so under exact arithmetic L never increases.
//!
//! Cost per epoch: O(nnz k^2) to accumulate Gram matrices plus O((users + items) k^3) for the
//! solves. Rows are updated in parallel (rayon) in chunks of balanced cost; each row's result
//! does not depend on the chunking, so models are bit-identical for any thread count.
//!
//! ```no_run
//! # use flash_als::{fit, AlsParams, TrainData};
//! # fn demo(by_user: &flash_matrix::Csr, by_item: &flash_matrix::Csr) {
//! let data = TrainData { by_user, by_item, held_out: None };
//! let outcome = fit(data, &AlsParams::default(), |_| std::ops::ControlFlow::Continue(()))
//!     .expect("valid parameters");
//! println!("train RMSE {}", outcome.history.last().unwrap().train_rmse);
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod aligned;
mod batched;
#[cfg(feature = "candidates")]
pub mod candidates;
mod error;
mod evaluate;
mod factors;
mod fit;
mod foldin;
mod kernels;
mod model;
mod params;
mod recommend;
mod schedule;
mod selection;
mod topk;
mod trainer;
mod tune;
mod update;

pub use error::{Side, TrainError};
pub use evaluate::{evaluate, Evaluation};
pub use factors::Factors;
pub use fit::{fit, EpochStats, FitOutcome};
pub use foldin::{fold_in, FoldedUser};
pub use model::{EpochRecord, Model};
pub use params::{AlsParams, EarlyStopping, ParamError, Regularization, MAX_FACTORS};
pub use recommend::{
    recommend, recommend_all, recommend_for_vector, similar_items, ItemFilter, RankingRule,
};
pub use trainer::{TrainData, Trainer};
pub use tune::{tune, SearchSpace, Trial, TuneMetric, TuneOptions, TuneOutcome};
