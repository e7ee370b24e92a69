//! `flash_rec._native`: the compiled half of the `flash_rec` Python package.
//!
//! The bindings are thin: each method extracts its Python arguments, releases the interpreter
//! (`Python::detach`) for any real work, and calls the same library functions as the
//! `flash-rec` command line, so both give the same numbers. Nothing here is used by the core
//! crates.
//!
//! - [`dataset`]: `Dataset` and `MovieLens`: prepared, cached, memory-mapped ratings.
//! - [`als`]: `ALS`: parameters, `fit`, the factors as NumPy views, `save` and `load`.
//! - [`serve`], [`evaluate`]: recommendations, predictions and metrics of a fitted model.
//! - [`errors`]: Rust errors to the Python exceptions of `flash_rec/_errors.py`.
//!
//! Work never runs on rayon's global pool: each call builds its own pool ([`threads`]), so a
//! process that forks after using the package still works in the child.

mod als;
mod arrays;
mod cache_dir;
mod dataset;
mod errors;
mod evaluate;
mod filters;
mod fitting;
mod pyvalue;
mod serve;
mod threads;
mod tools;

use pyo3::prelude::*;

/// The compiled part of flash_rec; import `flash_rec` instead.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<dataset::Dataset>()?;
    module.add_class::<als::Als>()?;
    module.add_class::<arrays::Owner>()?;
    module.add_function(wrap_pyfunction!(dataset::movielens, module)?)?;
    module.add_function(wrap_pyfunction!(als::load, module)?)?;
    module.add_function(wrap_pyfunction!(tools::tune, module)?)?;
    module.add_function(wrap_pyfunction!(tools::synth, module)?)?;
    Ok(())
}
