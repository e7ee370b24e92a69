//! Unpacking a verified archive so that the dataset's folder appears whole or not at all.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{bail, Context, Result};
use zip::read::ZipFile;
use zip::ZipArchive;

use super::REQUIRED_FILES;

/// Refuse archives that unpack to more than this: `ml-latest` unpacks to well under 2 GiB,
/// so more is a decompression bomb or not a MovieLens archive.
const MAX_EXTRACTED_BYTES: u64 = 8 << 30;

/// Unpacks the entries under `top_folder/` of the zip at `archive_path` into `destination`.
///
/// Everything is written to a hidden sibling of `destination`, renamed into place once the
/// last entry is written; on any error that sibling is removed and `destination` never
/// appears. Entries outside `top_folder/` are skipped, and an entry whose path is absolute,
/// contains `..`, or is a symbolic link fails the whole extraction.
pub(super) fn extract_atomically(
    archive_path: &Path,
    top_folder: &str,
    destination: &Path,
) -> Result<()> {
    let file = File::open(archive_path)
        .with_context(|| format!("cannot open {}", archive_path.display()))?;
    let mut archive = ZipArchive::new(file)
        .with_context(|| format!("{} is not a readable zip archive", archive_path.display()))?;
    let staging = StagingDir::beside(destination)?;
    let mut budget = MAX_EXTRACTED_BYTES;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .with_context(|| format!("cannot read entry {index} of {}", archive_path.display()))?;
        extract_entry(&mut entry, top_folder, staging.path(), &mut budget)?;
    }
    require_dataset_files(staging.path(), top_folder)?;
    staging.rename_to(destination)
}

/// Writes one entry below `staging`, if it belongs to `top_folder`.
fn extract_entry(
    entry: &mut ZipFile<'_, File>,
    top_folder: &str,
    staging: &Path,
    budget: &mut u64,
) -> Result<()> {
    let name = entry.name().to_owned();
    let relative = checked_relative_path(&name)?;
    // The zip crate's own check also catches what `Path` does not see, such as NUL bytes.
    if entry.enclosed_name().is_none() {
        bail!("archive entry {name:?} has an unsafe path; nothing was extracted");
    }
    if entry.is_symlink() {
        bail!("archive entry {name:?} is a symbolic link; nothing was extracted");
    }
    let Ok(inside) = relative.strip_prefix(top_folder) else {
        return Ok(());
    };
    let target = staging.join(inside);
    if entry.is_dir() {
        return fs::create_dir_all(&target)
            .with_context(|| format!("cannot create {}", target.display()));
    }
    write_entry_file(entry, &name, &target, budget)
}

/// The entry's path, refused when it is absolute or climbs with `..`.
///
/// `..` is refused even where it would stay inside, as in `a/../b`: no honest dataset
/// archive needs it, and refusing it outright leaves nothing to reason about.
fn checked_relative_path(name: &str) -> Result<PathBuf> {
    let path = Path::new(name);
    for component in path.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                bail!("archive entry {name:?} contains '..'; nothing was extracted")
            }
            Component::RootDir | Component::Prefix(_) => {
                bail!("archive entry {name:?} is an absolute path; nothing was extracted")
            }
        }
    }
    Ok(path.to_path_buf())
}

fn write_entry_file(
    entry: &mut impl Read,
    name: &str,
    target: &Path,
    budget: &mut u64,
) -> Result<()> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    // `create_new`: an archive naming the same file twice is malformed, not an update.
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .open(target)
        .with_context(|| format!("cannot create {} for entry {name:?}", target.display()))?;
    // One byte past the budget tells an archive that is exactly at it from one beyond it.
    let mut limited = entry.take(*budget + 1);
    let written = io::copy(&mut limited, &mut file)
        .with_context(|| format!("cannot extract entry {name:?} to {}", target.display()))?;
    if written > *budget {
        bail!("the archive unpacks to more than {MAX_EXTRACTED_BYTES} bytes (at entry {name:?})");
    }
    *budget -= written;
    Ok(())
}

fn require_dataset_files(staging: &Path, top_folder: &str) -> Result<()> {
    for file in REQUIRED_FILES {
        if !staging.join(file).is_file() {
            bail!("the archive has no {top_folder}/{file}; nothing was extracted");
        }
    }
    Ok(())
}

/// A hidden directory beside the destination, removed on drop unless renamed into place.
struct StagingDir {
    path: PathBuf,
    renamed: bool,
}

impl StagingDir {
    /// `dir/.name.tmp-PID-N`: unique per process and call, and on the destination's file
    /// system so that the final rename is atomic.
    fn beside(destination: &Path) -> Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = destination.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let hidden = format!(".{name}.tmp-{}-{unique}", std::process::id());
        let path = destination.with_file_name(hidden);
        fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(StagingDir { path, renamed: false })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn rename_to(mut self, destination: &Path) -> Result<()> {
        fs::rename(&self.path, destination).with_context(|| {
            format!("cannot move {} to {}", self.path.display(), destination.display())
        })?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for StagingDir {
    fn drop(&mut self) {
        if !self.renamed {
            // A half-extracted tree must not outlive the failed extraction.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_relative_path() {
        let path = checked_relative_path("ml-latest-small/ratings.csv").unwrap();
        assert_eq!(path, Path::new("ml-latest-small/ratings.csv"));
    }

    #[test]
    fn refuses_an_absolute_path_naming_it() {
        let error = checked_relative_path("/etc/passwd").unwrap_err().to_string();
        assert!(error.contains("\"/etc/passwd\"") && error.contains("absolute"), "{error}");
    }

    #[test]
    fn refuses_parent_components_even_when_they_stay_inside() {
        for name in ["../evil", "ml-latest-small/../../evil", "a/../b"] {
            let error = checked_relative_path(name).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(".."), "{error}");
        }
    }
}
