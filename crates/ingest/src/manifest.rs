//! `manifest.json`: what a cache holds, what it was built from, and its summary figures.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::fingerprint::SourceStamp;
use crate::{DuplicatePolicy, IngestError, RatingScale, SplitOptions};

/// Layout version of the cache directory; a different one is rebuilt, never read.
pub const CACHE_VERSION: u32 = 1;

/// The manifest of a prepared cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`CACHE_VERSION`] at the time of writing.
    pub cache_version: u32,
    /// The sources and options the cache was built from.
    pub fingerprint: Fingerprint,
    /// Figures computed while preparing.
    pub summary: Summary,
}

/// Everything that decides a cache's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Every file read, with its length and modification time.
    pub sources: Vec<SourceStamp>,
    /// For ratings from memory ([`Source::Columns`](crate::Source::Columns)): the xxh3-64 of
    /// their content as 16 hex digits; `None` for files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The options that shaped the result.
    pub options: PrepareOptions,
}

/// Options of `prepare` that change the content of the cache.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrepareOptions {
    /// The held-out share and seed; unused when the split is given.
    pub split: SplitOptions,
    /// Whether a test file was given (then `split` is unused).
    pub given_test: bool,
    /// The separator, or `None` to guess.
    pub separator: Option<u8>,
    /// Whether the ratings file has a header.
    pub has_header: bool,
    /// The rating scale.
    pub scale: RatingScale,
    /// The duplicate policy.
    pub on_duplicate: DuplicatePolicy,
}

/// Figures about the prepared data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Users with at least one rating (train or test).
    pub users: usize,
    /// Items with at least one rating (train or test).
    pub items: usize,
    /// Ratings in the train split.
    pub train_ratings: usize,
    /// Ratings in the test split.
    pub test_ratings: usize,
    /// Duplicate ratings dropped.
    pub duplicates_dropped: usize,
    /// Items rated only in test: their predictions fall back to the biases.
    pub test_only_items: usize,
    /// Rated movies that `movies.csv` does not list (MovieLens sources only).
    pub movies_missing_features: usize,
    /// Whether movie features are available.
    pub has_features: bool,
}

impl Manifest {
    /// Reads a manifest, `None` if the file does not exist.
    pub fn read(path: &Path) -> Result<Option<Self>, IngestError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(IngestError::io(path, e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| IngestError::layout(path, format!("not a flash-rec cache manifest: {e}")))
    }

    /// Writes the manifest atomically.
    pub fn write(&self, path: &Path) -> Result<(), IngestError> {
        let text = serde_json::to_string_pretty(self).expect("a manifest always serialises");
        flash_matrix::write_atomically(path, |out| {
            std::io::Write::write_all(out, text.as_bytes())
        })?;
        Ok(())
    }
}
