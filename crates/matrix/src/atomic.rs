//! Writing a file so that readers see either the old version or the complete new one.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::MatrixError;

/// A file being written under a temporary name beside its destination.
///
/// Dropping it without [`AtomicFile::commit`] removes the temporary file, so an error part
/// way leaves nothing behind. A process killed part way leaves a `.tmp-` file that no reader
/// ever opens, and that the next write of the same destination removes.
pub struct AtomicFile {
    destination: PathBuf,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Creates the temporary file beside `destination`, after removing the temporary files
    /// that killed writers of the same destination left.
    pub fn create(destination: &Path) -> Result<Self, MatrixError> {
        remove_dead_siblings(destination);
        let temporary = temporary_sibling(destination);
        let file = File::create(&temporary).map_err(|e| MatrixError::io(&temporary, e))?;
        Ok(AtomicFile {
            destination: destination.to_path_buf(),
            temporary,
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    /// The buffered writer of the temporary file.
    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("the writer is only taken by commit, which consumes self")
    }

    /// Flushes, syncs to disk and renames the temporary file over the destination.
    pub fn commit(mut self) -> Result<(), MatrixError> {
        let writer = self.writer.take().expect("commit runs once");
        let file = writer.into_inner().map_err(|e| MatrixError::io(&self.temporary, e.into()))?;
        file.sync_all().map_err(|e| MatrixError::io(&self.temporary, e))?;
        drop(file);
        fs::rename(&self.temporary, &self.destination)
            .map_err(|e| MatrixError::io(&self.destination, e))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            // Not committed: the partial file must not outlive the failed write.
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Writes `destination` through `fill`, atomically: on any error nothing is left behind.
pub fn write_atomically<F>(destination: &Path, fill: F) -> Result<(), MatrixError>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    let mut file = AtomicFile::create(destination)?;
    let temporary = file.temporary.clone();
    fill(file.writer()).map_err(|e| MatrixError::io(temporary, e))?;
    file.commit()
}

/// `dir/.name.tmp-PID-N`: unique per process and call, hidden, in the same directory so that
/// the final rename never crosses a file system.
pub(crate) fn temporary_sibling(destination: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let name = destination.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temporary = format!(".{name}.tmp-{}-{unique}", std::process::id());
    destination.with_file_name(temporary)
}

/// Removes `.NAME.tmp-PID-N` beside `destination` whose process no longer runs: what a
/// writer killed before its rename left. A live writer's file is never touched.
fn remove_dead_siblings(destination: &Path) {
    let name = destination.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let prefix = format!(".{name}.tmp-");
    let parent = match destination.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !process_is_alive(pid)) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether process `pid` runs; `true` when that cannot be known (no /proc), so that a live
/// writer's file is never removed.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    if pid == std::process::id() || !cfg!(target_os = "linux") {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

impl std::fmt::Debug for AtomicFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicFile").field("destination", &self.destination).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_failed_fill_leaves_neither_file() {
        let dir = std::env::temp_dir().join(format!("flash-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("x.bin");

        let result = write_atomically(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });

        assert!(result.is_err());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "temporary file left behind");
        write_atomically(&target, |w| w.write_all(b"whole")).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"whole");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_killed_writers_temporary_file_is_removed_by_the_next_write() {
        let dir = std::env::temp_dir().join(format!("flash-atomic-dead-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("m.model");
        // PIDs above the kernel's limit (4194304 at most) never run.
        let dead = dir.join(".m.model.tmp-4294967295-0");
        let ours = dir.join(format!(".m.model.tmp-{}-999", std::process::id()));
        let other = dir.join(".other.model.tmp-4294967295-0");
        for path in [&dead, &ours, &other] {
            fs::write(path, b"partial").unwrap();
        }

        write_atomically(&target, |w| w.write_all(b"whole")).unwrap();

        assert!(!dead.exists(), "a dead writer's file was kept");
        assert!(ours.exists() && other.exists(), "a live or unrelated file was removed");
        fs::remove_dir_all(&dir).unwrap();
    }
}
