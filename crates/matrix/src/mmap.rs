//! The only module of the crate that uses `unsafe`: mapping a file into memory.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::MatrixError;

/// A read-only memory map of a whole file, with the path it came from for error messages.
///
/// An empty file is represented without a map (mapping zero bytes is an error on Linux).
pub struct MappedFile {
    path: PathBuf,
    map: Option<Mmap>,
}

impl MappedFile {
    /// Maps `path` read-only.
    ///
    /// # Safety of the map
    /// A map is only sound while nobody truncates or rewrites the file. flash-rec never
    /// modifies a finished file in place: every writer goes through
    /// [`write_atomically`](crate::write_atomically), which renames a new file over the old
    /// one, and a mapping of the old inode stays valid after such a rename. A *foreign*
    /// process that truncates the file while it is mapped can still make reads fault
    /// (SIGBUS); that is the documented limit of zero-copy reading.
    pub fn open(path: &Path) -> Result<Self, MatrixError> {
        let file = File::open(path).map_err(|e| MatrixError::io(path, e))?;
        let metadata = file.metadata().map_err(|e| MatrixError::io(path, e))?;
        if !metadata.is_file() {
            return Err(MatrixError::foreign(path, "not a regular file"));
        }
        let map = if metadata.len() == 0 {
            None
        } else {
            // SAFETY: the file is opened read-only and flash-rec never writes into an
            // existing file (see the doc above); the map is only read through `bytes()`.
            Some(unsafe { Mmap::map(&file) }.map_err(|e| MatrixError::io(path, e))?)
        };
        Ok(MappedFile { path: path.to_path_buf(), map })
    }

    /// The file's bytes. The map starts on a page boundary, so any offset that is a
    /// multiple of 8 is aligned for `u64`, `i64`, `f32` and `u32` slices.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The path the map was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl std::fmt::Debug for MappedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MappedFile")
            .field("path", &self.path)
            .field("len", &self.bytes().len())
            .finish()
    }
}
