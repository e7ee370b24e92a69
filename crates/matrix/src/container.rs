//! The project's one binary file format.
//!
//! ```text
//! offset  size  field
//!      0     8  magic "FLASHREC"
//!      8     4  format version (little-endian u32)
//!     12     4  file kind (see FileKind)
//!     16    24  three u64 dimensions whose meaning belongs to the kind
//!     40     8  payload length in bytes
//!     48     8  xxh3-64 of the payload
//!     56     8  xxh3-64 of bytes 0..56
//!     64        payload: u64 section count, u64 length of each section, then each section
//!               padded with zeros to a multiple of 8 bytes
//! ```
//!
//! Every section starts at a multiple of 8 from the start of the file, which is page-aligned
//! when mapped, so sections can be viewed as `u64`, `i64`, `u32` or `f32` slices in place.
//! Opening checks, in this order, the magic, the header checksum, the version, the kind, the
//! length and the payload checksum; the section table is then read with checked arithmetic.
//! Checksums catch damage; they do not make a hostile file trustworthy, so the readers of each
//! kind still validate the values they rely on (see [`Csr::open`](crate::Csr::open)).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::{write_atomically, MappedFile, MatrixError};

const MAGIC: &[u8; 8] = b"FLASHREC";
const HEADER_LEN: usize = 64;

/// Bytes handed to one `write` call for a large section. On the benchmark machine (a virtual
/// machine whose host takes back free memory), one call for 434 MB took 1.25 to 1.5 s and
/// calls of 256 KiB 0.10 to 0.16 s. The likely cause: the kernel sizes page-cache pages by
/// the length of the call, and its largest pages come from the memory the host took back.
/// Elsewhere a few thousand more calls per gigabyte should cost little.
/// (docs/data-layer-benchmarks.md.)
const WRITE_PIECE: usize = 256 << 10;

/// The version this build writes and reads. Any change of layout increments it.
pub const FORMAT_VERSION: u32 = 1;

/// What a file holds; a reader asks for one kind and refuses the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FileKind {
    /// Ratings as compressed rows, one row per user (CSR of users x items).
    RatingsByUser = 1,
    /// Ratings as compressed rows, one row per item (CSC of users x items).
    RatingsByItem = 2,
    /// A sorted list of original ids; the position is the dense index.
    IdMap = 3,
    /// A trained model.
    Model = 4,
}

impl FileKind {
    fn from_u32(value: u32) -> Option<Self> {
        [Self::RatingsByUser, Self::RatingsByItem, Self::IdMap, Self::Model]
            .into_iter()
            .find(|kind| *kind as u32 == value)
    }
}

/// Writes a file of `kind` atomically.
pub fn write(
    path: &Path,
    kind: FileKind,
    dims: [u64; 3],
    sections: &[&[u8]],
) -> Result<(), MatrixError> {
    let table = section_table(sections);
    let mut hasher = Xxh3::new();
    hasher.update(&table);
    for section in sections {
        hasher.update(section);
        hasher.update(padding(section.len()));
    }
    let payload_len =
        table.len() + sections.iter().map(|s| s.len().next_multiple_of(8)).sum::<usize>();

    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    header.extend_from_slice(&(kind as u32).to_le_bytes());
    for dim in dims {
        header.extend_from_slice(&dim.to_le_bytes());
    }
    header.extend_from_slice(&(payload_len as u64).to_le_bytes());
    header.extend_from_slice(&hasher.digest().to_le_bytes());
    let header_checksum = xxh3_64(&header);
    header.extend_from_slice(&header_checksum.to_le_bytes());

    write_atomically(path, |out| {
        out.write_all(&header)?;
        out.write_all(&table)?;
        for section in sections {
            write_in_pieces(out, section)?;
            out.write_all(padding(section.len()))?;
        }
        Ok(())
    })
}

/// Writes `bytes` in calls of [`WRITE_PIECE`] bytes, past `out`'s buffer (which would
/// gather them into calls of its own size).
fn write_in_pieces(out: &mut BufWriter<File>, bytes: &[u8]) -> std::io::Result<()> {
    out.flush()?;
    for piece in bytes.chunks(WRITE_PIECE) {
        out.get_mut().write_all(piece)?;
    }
    Ok(())
}

/// The checksum a file's header records for its payload: the xxh3 of everything after the
/// header (of nothing, for a file shorter than a header).
pub fn payload_checksum(file: &[u8]) -> u64 {
    xxh3_64(file.get(HEADER_LEN..).unwrap_or_default())
}

/// An opened, verified file: its kind, dimensions and sections.
#[derive(Debug)]
pub struct Container {
    file: MappedFile,
    dims: [u64; 3],
    sections: Vec<Range<usize>>,
}

impl Container {
    /// Maps `path` and verifies it is an intact file of `expected` kind.
    pub fn open(path: &Path, expected: FileKind) -> Result<Self, MatrixError> {
        let file = MappedFile::open(path)?;
        let bytes = file.bytes();
        verify_header(path, bytes, bytes.len() as u64, expected)?;
        if payload_checksum(bytes) != read_u64(bytes, 48) {
            return Err(MatrixError::damaged(path, "payload checksum mismatch"));
        }

        let dims = [read_u64(bytes, 16), read_u64(bytes, 24), read_u64(bytes, 32)];
        let sections = parse_section_table(bytes)
            .ok_or_else(|| MatrixError::damaged(path, "inconsistent section table"))?;
        Ok(Container { file, dims, sections })
    }

    /// The three dimensions written with the file.
    pub fn dims(&self) -> [u64; 3] {
        self.dims
    }

    /// How many sections the file has.
    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// The bytes of section `index` (8-byte aligned in memory).
    ///
    /// # Panics
    /// If `index >= self.section_count()`.
    #[track_caller]
    pub fn section(&self, index: usize) -> &[u8] {
        &self.file.bytes()[self.sections[index].clone()]
    }

    /// Section `index` viewed as a slice of `T`, or an error naming the file if its length is
    /// not a whole number of `T`.
    pub fn section_as<T: bytemuck::Pod>(&self, index: usize) -> Result<&[T], MatrixError> {
        let bytes = self.section(index);
        bytemuck::try_cast_slice(bytes).map_err(|_| {
            MatrixError::damaged(
                self.path(),
                format!("section {index} is {} bytes, not a whole number of values", bytes.len()),
            )
        })
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// Checks that `path` is a file of `expected` kind whose header is intact and whose length
/// is the one its header records, reading only the 64-byte header: the cheap check of
/// `prepare`'s up-to-date test. The payload checksum is left to [`Container::open`], which
/// reads every byte.
pub fn check_header(path: &Path, expected: FileKind) -> Result<(), MatrixError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| MatrixError::io(path, e))?;
    let metadata = file.metadata().map_err(|e| MatrixError::io(path, e))?;
    if !metadata.is_file() {
        return Err(MatrixError::foreign(path, "not a regular file"));
    }
    let mut header = Vec::with_capacity(HEADER_LEN);
    file.take(HEADER_LEN as u64).read_to_end(&mut header).map_err(|e| MatrixError::io(path, e))?;
    verify_header(path, &header, metadata.len(), expected)
}

/// The checks of the header, in the order of the module doc, against a file of `file_len`
/// bytes whose first bytes are `bytes` (at least the header, unless the file is shorter).
fn verify_header(
    path: &Path,
    bytes: &[u8],
    file_len: u64,
    expected: FileKind,
) -> Result<(), MatrixError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(MatrixError::foreign(path, "not a flash-rec file (no FLASHREC magic)"));
    }
    if bytes.len() < HEADER_LEN {
        return Err(MatrixError::damaged(path, "truncated inside the header"));
    }
    let stored_header_checksum = read_u64(bytes, 56);
    if xxh3_64(&bytes[..56]) != stored_header_checksum {
        return Err(MatrixError::damaged(path, "header checksum mismatch"));
    }
    let version = read_u32(bytes, 8);
    if version != FORMAT_VERSION {
        return Err(MatrixError::foreign(
            path,
            format!("format version {version}; this build reads version {FORMAT_VERSION}"),
        ));
    }
    let kind_value = read_u32(bytes, 12);
    match FileKind::from_u32(kind_value) {
        Some(kind) if kind == expected => {}
        Some(kind) => {
            return Err(MatrixError::foreign(
                path,
                format!("holds {kind:?}, expected {expected:?}"),
            ))
        }
        None => return Err(MatrixError::foreign(path, format!("unknown file kind {kind_value}"))),
    }
    let payload_len = read_u64(bytes, 40);
    let actual = file_len - HEADER_LEN as u64;
    if payload_len != actual {
        return Err(MatrixError::damaged(
            path,
            format!("payload is {actual} bytes, header says {payload_len}"),
        ));
    }
    Ok(())
}

fn section_table(sections: &[&[u8]]) -> Vec<u8> {
    let mut table = Vec::with_capacity(8 * (sections.len() + 1));
    table.extend_from_slice(&(sections.len() as u64).to_le_bytes());
    for section in sections {
        table.extend_from_slice(&(section.len() as u64).to_le_bytes());
    }
    table
}

/// The byte ranges of the sections, or `None` if the table does not fit the file exactly.
fn parse_section_table(bytes: &[u8]) -> Option<Vec<Range<usize>>> {
    let count = usize::try_from(read_u64_checked(bytes, HEADER_LEN)?).ok()?;
    let table_end = HEADER_LEN.checked_add(count.checked_add(1)?.checked_mul(8)?)?;
    if table_end > bytes.len() {
        return None;
    }
    let mut start = table_end;
    let mut ranges = Vec::with_capacity(count);
    for index in 0..count {
        let len = usize::try_from(read_u64(bytes, HEADER_LEN + 8 * (index + 1))).ok()?;
        let end = start.checked_add(len)?;
        ranges.push(start..end);
        start = end.checked_next_multiple_of(8)?;
    }
    (start == bytes.len()).then_some(ranges)
}

fn padding(len: usize) -> &'static [u8] {
    &[0u8; 8][..len.next_multiple_of(8) - len]
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().expect("4 bytes"))
}

fn read_u64(bytes: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(bytes[offset..offset + 8].try_into().expect("8 bytes"))
}

fn read_u64_checked(bytes: &[u8], offset: usize) -> Option<u64> {
    let chunk = bytes.get(offset..offset.checked_add(8)?)?;
    Some(u64::from_le_bytes(chunk.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("flash-container-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn sections_round_trip_aligned() {
        let path = scratch("round.bin");
        let ids: Vec<i64> = vec![3, -1, 9];
        write(&path, FileKind::IdMap, [3, 0, 0], &[b"abc", bytemuck::cast_slice(&ids)]).unwrap();

        let file = Container::open(&path, FileKind::IdMap).unwrap();
        assert_eq!(file.dims(), [3, 0, 0]);
        assert_eq!(file.section(0), b"abc");
        assert_eq!(file.section_as::<i64>(1).unwrap(), &ids[..]);
    }

    #[test]
    fn every_single_bit_flip_is_refused() {
        let path = scratch("flip.bin");
        write(&path, FileKind::IdMap, [2, 0, 0], &[bytemuck::cast_slice(&[5i64, 6])]).unwrap();
        let good = std::fs::read(&path).unwrap();
        let damaged = scratch("flip-damaged.bin");
        for byte in 0..good.len() {
            for bit in 0..8 {
                let mut bytes = good.clone();
                bytes[byte] ^= 1 << bit;
                std::fs::write(&damaged, &bytes).unwrap();
                assert!(
                    Container::open(&damaged, FileKind::IdMap).is_err(),
                    "flip of bit {bit} in byte {byte} accepted"
                );
            }
        }
    }

    #[test]
    fn truncation_kind_and_version_are_named() {
        let path = scratch("kinds.bin");
        write(&path, FileKind::Model, [0, 0, 0], &[b"x"]).unwrap();
        let bytes = std::fs::read(&path).unwrap();

        let err = Container::open(&path, FileKind::IdMap).unwrap_err().to_string();
        assert!(err.contains("holds Model, expected IdMap"), "{err}");

        let short = scratch("short.bin");
        for len in [0, 4, 30, bytes.len() - 1] {
            std::fs::write(&short, &bytes[..len]).unwrap();
            let err = Container::open(&short, FileKind::Model).unwrap_err().to_string();
            assert!(err.contains("short.bin"), "{err}");
        }

        let mut newer = bytes.clone();
        newer[8..12].copy_from_slice(&2u32.to_le_bytes());
        let checksum = xxh3_64(&newer[..56]);
        newer[56..64].copy_from_slice(&checksum.to_le_bytes());
        std::fs::write(&short, &newer).unwrap();
        let err = Container::open(&short, FileKind::Model).unwrap_err().to_string();
        assert!(err.contains("format version 2"), "{err}");
    }

    #[test]
    fn the_header_check_sees_header_damage_and_length_but_not_the_payload() {
        let path = scratch("header.bin");
        write(&path, FileKind::IdMap, [2, 0, 0], &[bytemuck::cast_slice(&[5i64, 6])]).unwrap();
        let good = std::fs::read(&path).unwrap();
        check_header(&path, FileKind::IdMap).unwrap();
        let err = check_header(&path, FileKind::Model).unwrap_err().to_string();
        assert!(err.contains("holds IdMap, expected Model"), "{err}");

        let damaged = scratch("header-damaged.bin");
        let mut cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 1].to_vec(), "header says"),
            ([&good[..], &[0u8; 8]].concat(), "header says"),
            (good[..40].to_vec(), "truncated inside the header"),
            (Vec::new(), "no FLASHREC magic"),
        ];
        let mut flipped = good.clone();
        flipped[20] ^= 1;
        cases.push((flipped, "header checksum mismatch"));
        for (bytes, reason) in cases {
            std::fs::write(&damaged, &bytes).unwrap();
            let err = check_header(&damaged, FileKind::IdMap).unwrap_err().to_string();
            assert!(err.contains(reason) && err.contains("header-damaged.bin"), "{err}");
        }

        // A payload flip keeps the header intact: only a full open sees it.
        let mut payload_flip = good.clone();
        *payload_flip.last_mut().unwrap() ^= 1;
        std::fs::write(&damaged, &payload_flip).unwrap();
        check_header(&damaged, FileKind::IdMap).unwrap();
        assert!(Container::open(&damaged, FileKind::IdMap).is_err());
        assert!(check_header(&std::env::temp_dir(), FileKind::IdMap).is_err());
    }

    #[test]
    fn a_directory_is_not_a_file() {
        let err = Container::open(&std::env::temp_dir(), FileKind::Model).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
}
