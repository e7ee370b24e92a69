//! What a cache was built from, to tell whether it is still up to date without reading the
//! sources: each source's length and modification time, and every option of `prepare`.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::IngestError;

/// Length and modification time of one source file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    /// The source, as given.
    pub path: PathBuf,
    /// Its length in bytes.
    pub len: u64,
    /// Its modification time in nanoseconds since the Unix epoch.
    pub modified_ns: u128,
}

impl SourceStamp {
    /// Stamps `path`, which must exist.
    pub fn of(path: &Path) -> Result<Self, IngestError> {
        let metadata = std::fs::metadata(path).map_err(|e| IngestError::io(path, e))?;
        let modified = metadata.modified().map_err(|e| IngestError::io(path, e))?;
        let modified_ns = modified.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        Ok(SourceStamp { path: path.to_path_buf(), len: metadata.len(), modified_ns })
    }

    /// Whether the file still has this length and time; `None` if it no longer exists (a
    /// cache outlives a deleted download).
    pub fn still_matches(&self) -> Option<bool> {
        let current = SourceStamp::of(&self.path).ok()?;
        Some(current == *self)
    }
}
