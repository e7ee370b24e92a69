//! Rust values to Python ones through JSON, so that a dictionary returned to Python is the
//! very document the command line prints with `--json`.

use pyo3::prelude::*;
use serde::Serialize;

/// `json.loads(serde_json::to_string(value))`: dicts, lists, floats, ints, strings and None.
pub fn to_python<'py, T: Serialize + ?Sized>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (text,))
}
