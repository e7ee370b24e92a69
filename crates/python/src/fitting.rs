//! `ALS.fit`: `flash_als::fit` without the interpreter, which is re-attached once per epoch
//! for the callback, the progress bar and Ctrl-C.

use std::ops::ControlFlow;
use std::sync::Arc;

use flash_als::{EpochRecord, EpochStats, Model, Side, TrainData, TrainError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList};
use serde::Serialize;

use crate::als::{Als, Fitted};
use crate::dataset::Shared;
use crate::errors::Failure;
use crate::pyvalue::to_python;

/// Trains `als` on `shared` (train ratings, test ratings watched) and returns the epochs' dicts.
pub fn fit<'py>(
    als: &Als,
    py: Python<'py>,
    shared: &Arc<Shared>,
    callback: Option<Py<PyAny>>,
    progress: Option<bool>,
) -> PyResult<Bound<'py, PyList>> {
    let params = als.params().clone();
    let data = &shared.data;
    let bar = open_bar(py, params.epochs, progress)?;
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        let train = TrainData {
            by_user: &data.train_by_user,
            by_item: &data.train_by_item,
            held_out: Some(&data.test_by_user),
        };
        flash_als::fit(train, &params, |stats| {
            observe(stats, callback.as_ref(), bar.as_ref(), &mut raised)
        })
    });
    if let Some(bar) = &bar {
        bar.call_method0(py, "close")?;
    }
    if let Some(error) = raised {
        return Err(error);
    }
    let outcome = result.map_err(|error| describe(error, shared))?;

    let model = Model {
        factors: outcome.factors,
        users: data.users.clone(),
        items: data.items.clone(),
        params,
        history: outcome.history.iter().map(EpochRecord::from).collect(),
    };
    let seconds = outcome.history.iter().map(|stats| stats.seconds).collect();
    als.set_fitted(Fitted {
        model: Arc::new(model),
        dataset: Some(shared.clone()),
        seconds: Some(seconds),
    });
    list_of(py, &outcome.history)
}

/// One epoch's report to Python: Ctrl-C, the bar, the callback. Stops on `False` or an error.
fn observe(
    stats: &EpochStats,
    callback: Option<&Py<PyAny>>,
    bar: Option<&Py<PyAny>>,
    raised: &mut Option<PyErr>,
) -> ControlFlow<()> {
    Python::attach(|py| {
        let step = || -> PyResult<bool> {
            py.check_signals()?;
            let entry = to_python(py, stats)?;
            if let Some(bar) = bar {
                bar.call_method1(py, "epoch", (&entry,))?;
            }
            if let Some(callback) = callback {
                let answer = callback.call1(py, (entry,))?.into_bound(py);
                if answer.cast::<PyBool>().is_ok_and(|answer| !answer.is_true()) {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        match step() {
            Ok(true) => ControlFlow::Continue(()),
            Ok(false) => ControlFlow::Break(()),
            Err(error) => {
                *raised = Some(error);
                ControlFlow::Break(())
            }
        }
    })
}

/// `flash_rec._progress.open_bar(total, progress)`: a bar, or None.
fn open_bar(py: Python<'_>, total: usize, progress: Option<bool>) -> PyResult<Option<Py<PyAny>>> {
    let bar = py.import("flash_rec._progress")?.call_method1("open_bar", (total, progress))?;
    Ok((!bar.is_none()).then(|| bar.unbind()))
}

/// The training error, naming the original id of the row concerned.
fn describe(error: TrainError, shared: &Shared) -> Failure {
    let id = match &error {
        TrainError::NotPositiveDefinite { side, row, .. }
        | TrainError::NonFinite { side, row } => {
            let ids = match side {
                Side::User => &shared.data.users,
                Side::Item => &shared.data.items,
            };
            Some(ids.id_of(*row as u32))
        }
        _ => None,
    };
    Failure::Train { error, id }
}

/// One epoch as `ALS.history` reports it: `seconds` is None for a loaded model.
#[derive(Serialize)]
struct HistoryRow {
    epoch: usize,
    loss: f64,
    train_rmse: f64,
    test_rmse: Option<f64>,
    seconds: Option<f64>,
}

/// The epochs of `fitted`, with the timings of this process's fit when there are any.
pub fn history<'py>(py: Python<'py>, fitted: &Fitted) -> PyResult<Bound<'py, PyList>> {
    let rows: Vec<HistoryRow> = fitted
        .model
        .history
        .iter()
        .enumerate()
        .map(|(index, record)| HistoryRow {
            epoch: record.epoch,
            loss: record.loss,
            train_rmse: record.train_rmse,
            test_rmse: record.test_rmse,
            seconds: fitted.seconds.as_ref().and_then(|s| s.get(index).copied()),
        })
        .collect();
    list_of(py, &rows)
}

fn list_of<'py, T: Serialize>(py: Python<'py>, rows: &[T]) -> PyResult<Bound<'py, PyList>> {
    Ok(to_python(py, rows)?.cast_into::<PyList>()?)
}
