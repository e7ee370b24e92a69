//! Foundation types shared by every flash-rec crate, with no heavy dependencies.
//!
//! - [`Csr`]: a compressed sparse rating matrix. The train matrix "by user" is a `Csr` whose
//!   rows are users; the matrix "by item" (CSC of the same ratings) is the `Csr` of its
//!   transpose, whose rows are items.
//! - [`container`]: the one binary file format of the project (a checksummed header and
//!   8-byte-aligned sections), read through a memory map.
//! - [`IdMap`]: original ids (any `i64`) to dense indices and back.
//! - [`write_atomically`]: every artifact is written to a temporary path and renamed.
//! - [`SeededRng`]: a small, portable, seeded generator, so that splits and initial factors are
//!   the same on every machine.
//!
//! `unsafe` lives in one place only, the memory-mapping module.

#![deny(missing_docs)]

#[cfg(target_endian = "big")]
compile_error!("flash-rec files are little-endian and are mapped without conversion");

mod atomic;
mod buffers;
pub mod container;
mod csr;
mod error;
pub mod holdout;
mod ids;
mod mmap;
mod rng;

pub use atomic::{write_atomically, AtomicFile};
pub use buffers::reuse_for;
pub use csr::{Csr, RowView};
pub use error::MatrixError;
pub use ids::IdMap;
pub use mmap::MappedFile;
pub use rng::SeededRng;
