//! Ratings files to a prepared, memory-mapped cache.
//!
//! [`prepare`] reads MovieLens or any ratings file (CSV, TSV, Parquet: plain numeric lines
//! with a parser of its own, anything else with polars), or takes ratings already in memory
//! ([`RatingColumns`], for the Python bindings), maps ids to dense indices, drops
//! duplicates, draws a seeded per-user split and writes the cache atomically;
//! [`Dataset::open`] maps it back, verified. Every error names the file, and the line and
//! value where there is one.
//!
//! The synthetic, MovieLens-shaped generator ([`synth`]) lives here too, since it writes the
//! same kinds of files.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod cache;
mod columns;
mod data_dir;
mod describe;
mod diagnose;
mod error;
mod export;
mod fingerprint;
mod manifest;
mod memory;
mod movies;
mod plain_lines;
mod raw;
mod read;
mod scale;
mod split;
mod swap;
pub mod synth;
mod text;
mod timestamps;

pub use cache::{prepare, rebuild, Dataset, PrepareOutcome, PrepareRequest, Source};
pub use data_dir::{dataset_for_test, locate_dataset, DATA_DIR_VARIABLE, REQUIRE_DATA_VARIABLE};
pub use describe::percentile_names;
pub use error::{IngestError, Position};
pub use export::RecommendationTable;
pub use fingerprint::SourceStamp;
pub use flash_matrix::IdMap;
pub use manifest::{Fingerprint, Manifest, PrepareOptions, Summary, CACHE_VERSION};
pub use memory::RatingColumns;
pub use movies::{FeatureTable, MovieFeatures};
pub use read::{is_parquet, ReadOptions};
pub use scale::RatingScale;
pub use split::{DuplicatePolicy, SplitOptions};
