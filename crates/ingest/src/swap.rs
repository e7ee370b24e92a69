//! Publishing a freshly built cache directory in place of the old one.
//!
//! A cache is built in a hidden sibling directory, `.NAME.tmp-PID-N`, then renamed to
//! `NAME`. If `NAME` exists it is first renamed aside to `.NAME.old-PID-N` and removed after
//! the new one is in place. A reader therefore sees the old cache, the new cache, or (for the
//! instant between the two renames, or after a kill there) no cache, which `prepare` rebuilds;
//! never a partial one. Two concurrent `prepare` runs both succeed: the last rename wins.
//! What killed runs leave beside `NAME` is removed by the next `prepare`
//! ([`remove_dead_leftovers`]), whether it rebuilds the cache or finds it up to date.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::IngestError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory being built; removed on drop unless published.
pub(crate) struct StagingDir {
    path: PathBuf,
    published: bool,
}

impl StagingDir {
    /// Creates `.NAME.tmp-PID-N` beside `destination`.
    pub fn create(destination: &Path) -> Result<Self, IngestError> {
        let parent = parent_of(destination);
        fs::create_dir_all(&parent).map_err(|e| IngestError::io(&parent, e))?;
        let path = sibling(destination, "tmp");
        fs::create_dir(&path).map_err(|e| IngestError::io(&path, e))?;
        Ok(StagingDir { path, published: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the staging directory to `destination`, replacing any previous one.
    pub fn publish(mut self, destination: &Path) -> Result<(), IngestError> {
        for _attempt in 0..16 {
            let aside = sibling(destination, "old");
            let moved_aside = match fs::rename(destination, &aside) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => return Err(IngestError::io(destination, e)),
            };
            // Another run may publish between our two renames; then try again.
            if fs::rename(&self.path, destination).is_ok() {
                self.published = true;
                if moved_aside {
                    let _ = fs::remove_dir_all(&aside);
                }
                return Ok(());
            }
            if moved_aside {
                let _ = fs::remove_dir_all(&aside);
            }
        }
        let reason = std::io::Error::other("another process keeps replacing it");
        Err(IngestError::io(destination, reason))
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn sibling(destination: &Path, role: &str) -> PathBuf {
    let name = destination.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    parent_of(destination).join(format!(".{name}.{role}-{}-{unique}", std::process::id()))
}

/// Removes `.NAME.tmp-PID-N` and `.NAME.old-PID-N` siblings whose process no longer runs. A
/// run killed after publishing but before removing the old cache leaves an up-to-date cache
/// and an `old` sibling, so this runs even when nothing is rebuilt.
pub(crate) fn remove_dead_leftovers(destination: &Path) {
    let name = destination.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let Ok(entries) = fs::read_dir(parent_of(destination)) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&format!(".{name}.")) else { continue };
        let Some(tail) = rest.strip_prefix("tmp-").or_else(|| rest.strip_prefix("old-")) else {
            continue;
        };
        let pid = tail.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !process_is_alive(pid)) {
            tracing::info!(path = %entry.path().display(), "removing leftover of a killed run");
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn process_is_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        // Without /proc, keep leftovers rather than risk removing a live run's work.
        true
    }
}
