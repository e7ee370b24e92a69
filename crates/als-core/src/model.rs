//! A trained model: factors, id maps, hyper-parameters and history, and its file.
//!
//! File layout (a flash-rec container of kind `Model`, dims `[n_users, n_items, k]`):
//! section 0 is JSON metadata (parameters, global mean, history without timings), 1 and 2 the
//! user and item ids (`i64`), 3 and 4 the user and item vectors (`f32`, row-major), 5 and 6 the
//! user and item biases (`f32`). Nothing in it depends on the clock or the machine, so the same
//! training gives the same bytes: the thread count, which never changes the factors, is stored
//! as 0 ("one per core").

use std::path::Path;

use flash_matrix::container::{self, Container, FileKind};
use flash_matrix::{IdMap, MatrixError};
use serde::{Deserialize, Serialize};

use crate::{AlsParams, EpochStats, Factors};

/// A trained model with the ids it was trained on.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Factors and biases, indexed by dense ids.
    pub factors: Factors,
    /// Dense user index to original id.
    pub users: IdMap,
    /// Dense item index to original id.
    pub items: IdMap,
    /// The parameters it was trained with.
    pub params: AlsParams,
    /// Loss and RMSE per epoch.
    pub history: Vec<EpochRecord>,
}

/// One epoch's figures as stored in a model file (timings are left out on purpose).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// The objective.
    pub loss: f64,
    /// Train RMSE.
    pub train_rmse: f64,
    /// Held-out RMSE, if any.
    pub test_rmse: Option<f64>,
}

impl From<&EpochStats> for EpochRecord {
    fn from(stats: &EpochStats) -> Self {
        EpochRecord {
            epoch: stats.epoch,
            loss: stats.loss,
            train_rmse: stats.train_rmse,
            test_rmse: stats.test_rmse,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Metadata {
    params: AlsParams,
    global_mean: f32,
    history: Vec<EpochRecord>,
}

impl Model {
    /// Writes the model atomically.
    pub fn save(&self, path: &Path) -> Result<(), MatrixError> {
        let f = &self.factors;
        let metadata = Metadata {
            params: AlsParams { threads: 0, ..self.params.clone() },
            global_mean: f.global_mean,
            history: self.history.clone(),
        };
        let json = serde_json::to_vec(&metadata).expect("metadata always serialises");
        let dims = [f.n_users() as u64, f.n_items() as u64, f.k as u64];
        let sections: [&[u8]; 7] = [
            &json,
            bytemuck::cast_slice(self.users.ids()),
            bytemuck::cast_slice(self.items.ids()),
            bytemuck::cast_slice(&f.user),
            bytemuck::cast_slice(&f.item),
            bytemuck::cast_slice(&f.user_bias),
            bytemuck::cast_slice(&f.item_bias),
        ];
        container::write(path, FileKind::Model, dims, &sections)
    }

    /// Reads a model, verifying its checksums, shapes, ids and that every number is finite.
    pub fn load(path: &Path) -> Result<Self, MatrixError> {
        let file = Container::open(path, FileKind::Model)?;
        let damaged = |reason: String| MatrixError::Damaged { path: path.into(), reason };
        if file.section_count() != 7 {
            return Err(damaged(format!("{} sections, expected 7", file.section_count())));
        }
        let metadata: Metadata = serde_json::from_slice(file.section(0))
            .map_err(|e| damaged(format!("unreadable metadata: {e}")))?;
        // Fold-in and further training rely on valid parameters (tau > 0 keeps their systems
        // definite), and a file may hold any parameters.
        metadata.params.validate().map_err(|e| damaged(format!("invalid parameters: {e}")))?;
        let [n_users, n_items, k] = file.dims().map(|d| usize::try_from(d).unwrap_or(usize::MAX));
        if k != metadata.params.factors {
            return Err(damaged(format!(
                "k is {k} but the parameters say {}",
                metadata.params.factors
            )));
        }

        let ids = |index: usize, expected: usize| -> Result<IdMap, MatrixError> {
            let ids = file.section_as::<i64>(index)?;
            if ids.len() != expected {
                return Err(damaged(format!(
                    "section {index} has {} ids, expected {expected}",
                    ids.len()
                )));
            }
            IdMap::try_from_sorted(ids.to_vec())
                .map_err(|e| damaged(format!("section {index}: {e}")))
        };
        let floats = |index: usize, expected: Option<usize>| -> Result<Vec<f32>, MatrixError> {
            let values = file.section_as::<f32>(index)?;
            if Some(values.len()) != expected {
                return Err(damaged(format!("section {index} has {} values", values.len())));
            }
            if let Some(position) = values.iter().position(|v| !v.is_finite()) {
                return Err(damaged(format!(
                    "section {index} holds {} at {position}",
                    values[position]
                )));
            }
            Ok(values.to_vec())
        };
        let factors = Factors {
            k,
            user: floats(3, n_users.checked_mul(k))?,
            item: floats(4, n_items.checked_mul(k))?,
            user_bias: floats(5, Some(n_users))?,
            item_bias: floats(6, Some(n_items))?,
            global_mean: metadata.global_mean,
        };
        if !factors.global_mean.is_finite() {
            return Err(damaged("the global mean is not finite".into()));
        }
        Ok(Model {
            factors,
            users: ids(1, n_users)?,
            items: ids(2, n_items)?,
            params: metadata.params,
            history: metadata.history,
        })
    }
}
