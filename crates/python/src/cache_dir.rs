//! Where a dataset's cache goes when the caller gives no `cache` directory.
//!
//! The root is `$FLASH_CACHE_DIR`, else `$XDG_CACHE_HOME/flash-rec`, else
//! `~/.cache/flash-rec`. Inside it, each source and set of options gets its own folder,
//! `<kind>-<label>-<16 hex digits>`, the digits being the xxh3-64 of the absolute source path
//! (or of the ratings' content for in-memory data) and of every option. `prepare` then reuses
//! the folder while its manifest still matches, exactly as `flash-rec prepare --out` does.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

/// The variable that moves the default cache root.
pub const CACHE_DIR_VARIABLE: &str = "FLASH_CACHE_DIR";

/// The root of the default caches.
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_DIR_VARIABLE).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("flash-rec");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".cache").join("flash-rec"),
        None => std::env::temp_dir().join("flash-rec"),
    }
}

/// `root()/<kind>-<label>-<hash of key>`; `label` is cut to 40 safe characters.
pub fn folder(kind: &str, label: &str, key: &str) -> PathBuf {
    let safe: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(40)
        .collect();
    root().join(format!("{kind}-{safe}-{:016x}", xxh3_64(key.as_bytes())))
}

/// The absolute form of `path` (canonical when it exists), so that two spellings of one file
/// share a cache.
pub fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The last component of `path`, for a readable folder name.
pub fn label_of(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}
