//! Hyper-parameters, checked before any work.

use serde::{Deserialize, Serialize};

/// How the factor and bias penalties of one row scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regularization {
    /// `tau` and `gamma` as written in the objective: the same for every row (the seed
    /// formulation).
    Fixed,
    /// `tau * n` and `gamma * n` for a row with `n` ratings, as Spark's and LensKit's ALS do:
    /// heavy rows are held as firmly as light ones, which stops over-fitting at large k.
    ScaledByCount,
    /// `tau * n` for the vectors but a fixed `gamma` for the biases: vectors are held as in
    /// `ScaledByCount`, while the bias of a row with few ratings is shrunk towards zero much
    /// more than one with many (b = lam sum e / (lam n + gamma)), so an item rated once at
    /// 5 stars does not top every list.
    ScaledFactors,
}

impl Regularization {
    /// The multipliers of tau and gamma for a row with `n_ratings` ratings.
    pub fn weights(self, n_ratings: usize) -> (f64, f64) {
        let n = n_ratings as f64;
        match self {
            Regularization::Fixed => (1.0, 1.0),
            Regularization::ScaledByCount => (n, n),
            Regularization::ScaledFactors => (n, 1.0),
        }
    }
}

/// Stop when the validation RMSE has not improved by `min_delta` for `patience` epochs, and
/// keep the best epoch's model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// The smallest decrease that counts as an improvement.
    pub min_delta: f64,
}

/// Hyper-parameters of biased ALS. See the crate doc for the objective they weigh.
///
/// [`AlsParams::default`] gives the shipped defaults, chosen by validation on MovieLens
/// (docs/defaults.md); [`AlsParams::seed_formulation`] the original reference settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlsParams {
    /// Length k of each factor vector.
    pub factors: usize,
    /// Full epochs (items, then users).
    pub epochs: usize,
    /// Weight of the data term.
    pub lambda: f64,
    /// Weight of the factor penalty.
    pub tau: f64,
    /// Weight of the bias penalty.
    pub gamma: f64,
    /// Whether predictions include the mean train rating as a constant term.
    pub global_mean: bool,
    /// How penalties scale per row.
    pub regularization: Regularization,
    /// Seed of the initial factors.
    pub seed: u64,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Optional early stopping on the held-out RMSE.
    pub early_stopping: Option<EarlyStopping>,
}

impl Default for AlsParams {
    /// The shipped defaults (see docs/defaults.md for the validation runs behind them).
    fn default() -> Self {
        AlsParams {
            factors: 32,
            epochs: 20,
            lambda: 1.0,
            tau: 0.21,
            gamma: 2.6,
            global_mean: true,
            regularization: Regularization::ScaledFactors,
            seed: 42,
            threads: 0,
            early_stopping: None,
        }
    }
}

impl AlsParams {
    /// The reference formulation: k = 10, lambda = 0.01, tau = 0.1, gamma = 0.1, 20 epochs,
    /// no global mean, fixed penalties.
    pub fn seed_formulation() -> Self {
        AlsParams {
            factors: 10,
            epochs: 20,
            lambda: 0.01,
            tau: 0.1,
            gamma: 0.1,
            global_mean: false,
            regularization: Regularization::Fixed,
            ..AlsParams::default()
        }
    }

    /// Checks every parameter; the first violation is returned.
    pub fn validate(&self) -> Result<(), ParamError> {
        if !(1..=MAX_FACTORS).contains(&self.factors) {
            return Err(ParamError::Factors(self.factors));
        }
        if self.epochs == 0 {
            return Err(ParamError::Epochs);
        }
        if !(self.lambda.is_finite() && self.lambda > 0.0) {
            return Err(ParamError::Lambda(self.lambda));
        }
        if !(self.tau.is_finite() && self.tau > 0.0) {
            return Err(ParamError::Tau(self.tau));
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(ParamError::Gamma(self.gamma));
        }
        if let Some(stopping) = self.early_stopping {
            let delta_ok = stopping.min_delta.is_finite() && stopping.min_delta >= 0.0;
            if stopping.patience == 0 || !delta_ok {
                return Err(ParamError::EarlyStopping(stopping.patience, stopping.min_delta));
            }
        }
        Ok(())
    }
}

/// The largest k accepted: the per-row solve is O(k^3) and its scratch O(k^2).
pub const MAX_FACTORS: usize = 1024;

/// A hyper-parameter outside its domain.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamError {
    /// k must be in 1..=1024.
    #[error("factors must be between 1 and {MAX_FACTORS}, got {0}")]
    Factors(usize),
    /// At least one epoch.
    #[error("epochs must be at least 1")]
    Epochs,
    /// The data weight must be positive.
    #[error("lambda must be a finite number > 0, got {0}")]
    Lambda(f64),
    /// The factor penalty must be positive, so that every solve is well posed.
    #[error("tau must be a finite number > 0, got {0}")]
    Tau(f64),
    /// The bias penalty must not be negative.
    #[error("gamma must be a finite number >= 0, got {0}")]
    Gamma(f64),
    /// Patience at least 1 and a non-negative delta.
    #[error("early stopping needs patience >= 1 and min_delta >= 0, got {0} and {1}")]
    EarlyStopping(usize, f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_parameter_has_its_own_error() {
        let good = AlsParams::default();
        assert!(good.validate().is_ok() && AlsParams::seed_formulation().validate().is_ok());
        let cases = [
            (AlsParams { factors: 0, ..good.clone() }, ParamError::Factors(0)),
            (AlsParams { epochs: 0, ..good.clone() }, ParamError::Epochs),
            (AlsParams { lambda: 0.0, ..good.clone() }, ParamError::Lambda(0.0)),
            (AlsParams { tau: -1.0, ..good.clone() }, ParamError::Tau(-1.0)),
            (AlsParams { gamma: f64::INFINITY, ..good.clone() }, ParamError::Gamma(f64::INFINITY)),
        ];
        for (params, expected) in cases {
            assert_eq!(params.validate(), Err(expected));
        }
        assert!(AlsParams { lambda: f64::NAN, ..good }.validate().is_err());
    }
}
