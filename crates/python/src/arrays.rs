//! NumPy arrays in and out.
//!
//! Out: read-only views on Rust buffers, without a copy. The buffer's owner (an `Arc` of a
//! model or dataset, which nothing mutates) is kept alive by an [`Owner`] object set as each
//! array's `base`, so a view outlives a refit or the model object itself. This module holds
//! the crate's only `unsafe` code.
//!
//! In: owned vectors of ids and ratings, converted by `flash_rec._convert` (which checks that
//! ids are whole numbers) and copied, so that no other Python thread can change them while
//! the interpreter is released.

use std::any::Any;
use std::sync::Arc;

use numpy::ndarray::{ArrayView1, ArrayView2};
use numpy::{Element, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;

/// Keeps a Rust buffer alive while NumPy arrays view it (the `base` of those arrays).
#[pyclass(frozen, module = "flash_rec._native", name = "_Owner")]
pub struct Owner {
    _value: Arc<dyn Any + Send + Sync>,
}

/// A read-only 1-D view of the slice `project(owner)`.
pub fn view_1d<'py, M, T>(
    py: Python<'py>,
    owner: &Arc<M>,
    project: impl Fn(&M) -> &[T],
) -> PyResult<Bound<'py, PyArray1<T>>>
where
    M: Send + Sync + 'static,
    T: Element,
{
    let slice = project(owner);
    let base = Bound::new(py, Owner { _value: owner.clone() })?;
    // SAFETY: `slice` lies inside the value of `owner`, an `Arc` whose content is never
    // mutated or moved (nothing takes `&mut` or calls `Arc::get_mut` on it), and `base` holds
    // a clone of that `Arc` for as long as the array lives.
    let array = unsafe { PyArray1::borrow_from_array(&ArrayView1::from(slice), base.into_any()) };
    array.readwrite().make_nonwriteable();
    Ok(array)
}

/// A read-only `rows x cols` row-major view of the slice `project(owner)`.
pub fn view_2d<'py, M, T>(
    py: Python<'py>,
    owner: &Arc<M>,
    shape: (usize, usize),
    project: impl Fn(&M) -> &[T],
) -> PyResult<Bound<'py, PyArray2<T>>>
where
    M: Send + Sync + 'static,
    T: Element,
{
    let slice = project(owner);
    let view = ArrayView2::from_shape(shape, slice)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    let base = Bound::new(py, Owner { _value: owner.clone() })?;
    // SAFETY: as in `view_1d`: the memory belongs to the never-mutated value of `owner`, which
    // `base` keeps alive.
    let array = unsafe { PyArray2::borrow_from_array(&view, base.into_any()) };
    array.readwrite().make_nonwriteable();
    Ok(array)
}

/// Whole-number ids from any array-like (`flash_rec._convert.ids` checks and converts);
/// messages call them `what` and name the argument `name`.
pub fn ids(
    py: Python<'_>,
    values: &Bound<'_, PyAny>,
    what: &str,
    name: &str,
) -> PyResult<Vec<i64>> {
    let converted = py.import("flash_rec._convert")?.call_method1("ids", (values, what, name))?;
    copy(converted.cast_into::<PyArray1<i64>>()?.readonly())
}

/// Copies a 1-D array (contiguous or not) into a vector.
pub fn copy<T: Element + Copy>(array: PyReadonlyArray1<'_, T>) -> PyResult<Vec<T>> {
    Ok(array.as_array().iter().copied().collect())
}
