//! Rust errors to Python exceptions.
//!
//! The exception classes live in `flash_rec/_errors.py` (several derive from two bases, such as
//! `DataError(FlashRecError, ValueError)`, which `create_exception!` cannot express). Work that
//! runs without the interpreter returns a [`Failure`]; it becomes a `PyErr` once attached.
//! Missing and unreadable files become the built-in `FileNotFoundError` and `OSError`, with
//! the path as `filename`.

use std::path::{Path, PathBuf};

use flash_als::{ParamError, Side, TrainError};
use flash_ingest::{IngestError, Position};
use flash_matrix::MatrixError;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyPermissionError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Whose file a [`MatrixError`] is about, which decides the exception class.
#[derive(Clone, Copy, Debug)]
pub enum FileRole {
    /// A prepared cache: `CacheError`.
    Cache,
    /// A model file: `ModelFileError`.
    Model,
}

/// Why a call failed, before it is turned into a Python exception.
#[derive(Debug)]
pub enum Failure {
    /// Reading sources or a cache; `cache` is the cache directory concerned, if any.
    Ingest { error: IngestError, cache: Option<PathBuf> },
    /// A binary file of the project (cache or model).
    File { error: MatrixError, role: FileRole },
    /// Training failed; `id` is the original id of the row concerned, when known.
    Train { error: TrainError, id: Option<i64> },
    /// An argument is out of its domain: `ParameterError`.
    Parameter(String),
    /// A user or movie id the model or dataset does not know: `UnknownIdError`.
    UnknownId { kind: &'static str, id: i64 },
    /// The model has not been fitted or loaded: `NotFittedError`.
    NotFitted,
    /// A model and a dataset of different ids: `DatasetMismatchError`.
    Mismatch(String),
    /// Genre filters or titles without MovieLens features: `MissingFeaturesError`.
    MissingFeatures(String),
    /// An error raised by Python code (a callback, a missing optional package).
    Python(PyErr),
}

impl From<PyErr> for Failure {
    fn from(error: PyErr) -> Self {
        Failure::Python(error)
    }
}

impl From<ParamError> for Failure {
    fn from(error: ParamError) -> Self {
        Failure::Parameter(error.to_string())
    }
}

impl From<TrainError> for Failure {
    fn from(error: TrainError) -> Self {
        Failure::Train { error, id: None }
    }
}

impl From<Failure> for PyErr {
    fn from(failure: Failure) -> PyErr {
        Python::attach(|py| failure.into_pyerr(py))
    }
}

impl Failure {
    /// An ingest error that arose outside any cache directory (reading a source file).
    pub fn ingest(error: IngestError) -> Self {
        Failure::Ingest { error, cache: None }
    }

    /// An ingest error while preparing or opening the cache at `cache`.
    pub fn in_cache(error: IngestError, cache: &Path) -> Self {
        Failure::Ingest { error, cache: Some(cache.to_path_buf()) }
    }

    /// A model-file error.
    pub fn model_file(error: MatrixError) -> Self {
        Failure::File { error, role: FileRole::Model }
    }

    fn into_pyerr(self, py: Python<'_>) -> PyErr {
        let result = match self {
            Failure::Ingest { error, cache } => ingest_error(py, error, cache.as_deref()),
            Failure::File { error, role } => matrix_error(py, error, role),
            Failure::Train { error, id } => train_error(py, error, id),
            Failure::Parameter(message) => raise(py, "ParameterError", message, |_| Ok(())),
            Failure::UnknownId { kind, id } => {
                let message = format!("unknown {kind} id {id}");
                raise(py, "UnknownIdError", message, |kw| {
                    kw.set_item("kind", kind)?;
                    kw.set_item("id", id)
                })
            }
            Failure::NotFitted => {
                let message = "the model is not fitted: call fit(dataset) or flash_rec.load(path)";
                raise(py, "NotFittedError", message.into(), |_| Ok(()))
            }
            Failure::Mismatch(message) => raise(py, "DatasetMismatchError", message, |_| Ok(())),
            Failure::MissingFeatures(message) => {
                raise(py, "MissingFeaturesError", message, |_| Ok(()))
            }
            Failure::Python(error) => Ok(error),
        };
        result.unwrap_or_else(|error| error)
    }
}

/// Instantiates `flash_rec._errors.<class>(message, **attributes)` as a `PyErr`.
fn raise(
    py: Python<'_>,
    class: &str,
    message: String,
    attributes: impl FnOnce(&Bound<'_, PyDict>) -> PyResult<()>,
) -> PyResult<PyErr> {
    let class = py.import("flash_rec._errors")?.getattr(class)?;
    let kwargs = PyDict::new(py);
    attributes(&kwargs)?;
    Ok(PyErr::from_value(class.call((message,), Some(&kwargs))?))
}

fn ingest_error(py: Python<'_>, error: IngestError, cache: Option<&Path>) -> PyResult<PyErr> {
    let message = error.to_string();
    let in_cache = |path: &Path| cache.is_some_and(|dir| path.starts_with(dir));
    match error {
        IngestError::Io { path, source } => Ok(os_error(&path, &source, &message)),
        IngestError::BadValue { path, position, value, reason } => {
            raise(py, "DataError", message, |kw| {
                set_path_and_position(kw, &path, Some(position))?;
                kw.set_item("value", value)?;
                kw.set_item("reason", reason)
            })
        }
        IngestError::Duplicate { path, second, .. } => raise(py, "DataError", message, |kw| {
            set_path_and_position(kw, &path, Some(second))?;
            kw.set_item("reason", "duplicate rating")
        }),
        IngestError::Layout { path, reason } if in_cache(&path) => {
            raise(py, "CacheError", message, |kw| {
                kw.set_item("path", path.display().to_string())?;
                kw.set_item("reason", reason)
            })
        }
        IngestError::Layout { path, reason } | IngestError::Reader { path, message: reason } => {
            raise(py, "DataError", message, |kw| {
                set_path_and_position(kw, &path, None)?;
                kw.set_item("reason", reason)
            })
        }
        IngestError::Matrix(error) => matrix_error(py, error, FileRole::Cache),
        IngestError::DamagedCache { source } => {
            let path = match &source {
                MatrixError::Io { path, .. }
                | MatrixError::Foreign { path, .. }
                | MatrixError::Damaged { path, .. } => Some(path.display().to_string()),
                _ => None,
            };
            raise(py, "CacheError", message, |kw| {
                kw.set_item("path", path)?;
                kw.set_item("reason", source.to_string())
            })
        }
        IngestError::Options(reason) => raise(py, "ParameterError", reason, |_| Ok(())),
        other => raise(py, "FlashRecError", other.to_string(), |_| Ok(())),
    }
}

fn set_path_and_position(
    kwargs: &Bound<'_, PyDict>,
    path: &Path,
    position: Option<Position>,
) -> PyResult<()> {
    kwargs.set_item("path", path.display().to_string())?;
    match position {
        Some(Position::Line(line)) => kwargs.set_item("line", line),
        Some(Position::Row(row)) => kwargs.set_item("row", row),
        None => Ok(()),
    }
}

fn matrix_error(py: Python<'_>, error: MatrixError, role: FileRole) -> PyResult<PyErr> {
    let message = error.to_string();
    let class = match role {
        FileRole::Cache => "CacheError",
        FileRole::Model => "ModelFileError",
    };
    match error {
        MatrixError::Io { path, source } => Ok(os_error(&path, &source, &message)),
        MatrixError::Foreign { path, reason } | MatrixError::Damaged { path, reason } => {
            raise(py, class, message, |kw| {
                kw.set_item("path", path.display().to_string())?;
                kw.set_item("reason", reason)
            })
        }
        other => raise(py, class, other.to_string(), |_| Ok(())),
    }
}

fn train_error(py: Python<'_>, error: TrainError, id: Option<i64>) -> PyResult<PyErr> {
    let side = match &error {
        TrainError::NotPositiveDefinite { side, .. } | TrainError::NonFinite { side, .. } => {
            Some(*side)
        }
        _ => None,
    };
    let message = match (side, id) {
        (Some(side), Some(id)) => format!("training failed at {side} id {id}: {error}"),
        _ => error.to_string(),
    };
    if let TrainError::Params(params) = error {
        return raise(py, "ParameterError", params.to_string(), |_| Ok(()));
    }
    raise(py, "TrainingError", message, |kw| {
        kw.set_item("side", side.map(|s| if s == Side::User { "user" } else { "item" }))?;
        kw.set_item("id", id)
    })
}

/// `FileNotFoundError`, `PermissionError` or `OSError(errno, message, path)`.
fn os_error(path: &Path, source: &std::io::Error, message: &str) -> PyErr {
    let filename = path.display().to_string();
    match source.kind() {
        std::io::ErrorKind::NotFound => {
            let errno = source.raw_os_error().unwrap_or(2);
            PyFileNotFoundError::new_err((errno, message.to_string(), filename))
        }
        std::io::ErrorKind::PermissionDenied => {
            let errno = source.raw_os_error().unwrap_or(13);
            PyPermissionError::new_err((errno, message.to_string(), filename))
        }
        _ => {
            let errno = source.raw_os_error().unwrap_or(5);
            PyOSError::new_err((errno, message.to_string(), filename))
        }
    }
}
