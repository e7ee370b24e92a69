//! The entry points of flash-rec's fuzz targets, shared by the libFuzzer binaries in
//! `fuzz_targets/` and by the replay test (`tests/replay.rs`), which runs the committed
//! corpus and every past crash through the very same functions without instrumentation.
//!
//! Each function takes arbitrary bytes, feeds them to one reader the way a user's file
//! would reach it, and panics only when the reader breaks its own contract: a panic, an
//! accepted file that violates the invariants the reader promises, or an error message that
//! does not name the file. Refusing the input is the expected outcome for almost every input.
//!
//! Binary files carry checksums that random mutation almost never satisfies, so the binary
//! targets open each input twice: as given (which exercises the checksum and length checks)
//! and with its length and checksums recomputed (which lets the fuzzer reach the section
//! table and the per-kind validation behind them).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use flash_als::{fold_in, recommend, similar_items, ItemFilter, Model, RankingRule};
use flash_matrix::container::{Container, FileKind};
use flash_matrix::{Csr, IdMap, MatrixError};

pub mod lines;

// The pure-Rust modules of flash-ingest's ratings reader, compiled here from flash-ingest's
// own source files so that fuzzing them needs no polars (an instrumented polars build takes
// over 20 minutes). They only use each other, `thiserror` and `flash-matrix`; if one of them
// starts to depend on more, the `ratings_lines` build here says so at once.
#[allow(dead_code)]
#[path = "../../crates/ingest/src/columns.rs"]
mod columns;
#[allow(dead_code)]
#[path = "../../crates/ingest/src/diagnose.rs"]
mod diagnose;
#[allow(dead_code)]
#[path = "../../crates/ingest/src/error.rs"]
mod error;
#[allow(dead_code)]
#[path = "../../crates/ingest/src/scale.rs"]
mod scale;
#[allow(dead_code)]
#[path = "../../crates/ingest/src/text.rs"]
mod text;

use error::{IngestError, Position};
use scale::RatingScale;

const HEADER_LEN: usize = 64;

/// Largest dimension the harness walks through after a successful open (transposing a matrix
/// allocates one counter per column, and a valid file may announce 4 billion columns).
const WALK_LIMIT: usize = 1 << 20;

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// A directory of this thread's own (in /dev/shm when it exists, for speed), removed at exit
/// of the thread; each input is written to a file in it before a reader opens it by path.
struct Scratch {
    dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `body` with a path holding `bytes`, named `name` in this thread's scratch directory.
pub fn with_file<T>(name: &str, bytes: &[u8], body: impl FnOnce(&Path) -> T) -> T {
    let path = SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        let scratch = scratch.get_or_insert_with(|| {
            use std::sync::atomic::{AtomicU64, Ordering};
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let shm = Path::new("/dev/shm");
            let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
            let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = base.join(format!("flash-fuzz-{}-{unique}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("scratch directory");
            Scratch { dir }
        });
        scratch.dir.join(name)
    });
    std::fs::write(&path, bytes).expect("scratch file");
    body(&path)
}

/// `bytes` with the header's payload length and both checksums recomputed, so that the
/// readers look past them; `None` when too short to have a header.
pub fn with_valid_checksums(bytes: &[u8]) -> Option<Vec<u8>> {
    use xxhash_rust::xxh3::xxh3_64;
    if bytes.len() < HEADER_LEN {
        return None;
    }
    let mut fixed = bytes.to_vec();
    let payload_len = (fixed.len() - HEADER_LEN) as u64;
    fixed[40..48].copy_from_slice(&payload_len.to_le_bytes());
    let payload_checksum = xxh3_64(&fixed[HEADER_LEN..]);
    fixed[48..56].copy_from_slice(&payload_checksum.to_le_bytes());
    let header_checksum = xxh3_64(&fixed[..56]);
    fixed[56..64].copy_from_slice(&header_checksum.to_le_bytes());
    Some(fixed)
}

/// Calls `open` on `data` as given and, when it has a header, with valid checksums.
fn both_ways(name: &str, data: &[u8], open: impl Fn(&Path)) {
    with_file(name, data, &open);
    if let Some(fixed) = with_valid_checksums(data) {
        with_file(name, &fixed, &open);
    }
}

/// Every refusal names the file it refuses.
#[track_caller]
fn assert_names_file(error: &MatrixError, path: &Path) {
    let message = error.to_string();
    let name = path.file_name().unwrap().to_string_lossy();
    assert!(message.contains(name.as_ref()), "message without the file name: {message}");
}

/// Target `container`: [`Container::open`] for every kind.
pub fn container(data: &[u8]) {
    both_ways("input.bin", data, |path| {
        let kinds =
            [FileKind::RatingsByUser, FileKind::RatingsByItem, FileKind::IdMap, FileKind::Model];
        for kind in kinds {
            match Container::open(path, kind) {
                Ok(file) => {
                    let mut end = 0usize;
                    for index in 0..file.section_count() {
                        let section = file.section(index);
                        assert_eq!(section.as_ptr() as usize % 8, 0, "section {index} unaligned");
                        end += section.len();
                        let _ = file.section_as::<u64>(index);
                        let _ = file.section_as::<f32>(index);
                    }
                    assert!(end <= data.len(), "sections longer than the file");
                }
                Err(error) => assert_names_file(&error, path),
            }
        }
    });
}

/// Target `csr`: [`Csr::open`] by user and by item, then a walk of every row.
pub fn csr(data: &[u8]) {
    both_ways("ratings.bin", data, |path| {
        for kind in [FileKind::RatingsByUser, FileKind::RatingsByItem] {
            match Csr::open(path, kind) {
                Ok(matrix) => walk_matrix(&matrix),
                Err(error) => assert_names_file(&error, path),
            }
        }
    });
}

/// Checks what [`Csr::open`] promises: every row is in bounds, sorted and finite.
fn walk_matrix(matrix: &Csr) {
    let mut entries = 0usize;
    for row in 0..matrix.n_rows() {
        let view = matrix.row(row);
        assert_eq!(view.len(), matrix.row_len(row));
        assert!(view.indices.windows(2).all(|w| w[0] < w[1]), "row {row} unsorted");
        assert!(view.indices.iter().all(|&c| (c as usize) < matrix.n_cols()), "row {row}");
        assert!(view.values.iter().all(|v| v.is_finite()), "row {row} not finite");
        entries += view.len();
    }
    assert_eq!(entries, matrix.nnz());
    if matrix.n_cols() <= WALK_LIMIT {
        let back = matrix.transpose().transpose();
        assert_eq!(back.indptr(), matrix.indptr());
        assert_eq!(back.indices(), matrix.indices());
    }
}

/// Target `idmap`: [`IdMap::open`], then both directions of the map.
pub fn idmap(data: &[u8]) {
    both_ways("users.bin", data, |path| match IdMap::open(path) {
        Ok(map) => {
            for (index, &id) in map.ids().iter().enumerate() {
                assert_eq!(map.index_of(id), Some(index as u32));
            }
        }
        Err(error) => assert_names_file(&error, path),
    });
}

/// Target `model`: [`Model::load`], then what the commands do with a loaded model:
/// predictions, top-K, similar items and folding in a new user.
pub fn model(data: &[u8]) {
    both_ways("input.model", data, |path| match Model::load(path) {
        Ok(model) => use_model(&model),
        Err(error) => assert_names_file(&error, path),
    });
}

fn use_model(model: &Model) {
    let f = &model.factors;
    assert_eq!(model.users.len(), f.n_users());
    assert_eq!(model.items.len(), f.n_items());
    assert_eq!(f.user.len(), f.n_users() * f.k);
    assert_eq!(f.item.len(), f.n_items() * f.k);
    let all = f.user.iter().chain(&f.item).chain(&f.user_bias).chain(&f.item_bias);
    assert!(all.chain([&f.global_mean]).all(|x| x.is_finite()), "a loaded value is not finite");
    if f.n_items() == 0 || f.n_items() > WALK_LIMIT || f.n_users() > WALK_LIMIT {
        return;
    }
    let seen = Csr::empty(f.n_users(), f.n_items());
    let filter = ItemFilter::default();
    let rule = RankingRule { k: 3, item_bias_weight: 1.0 };
    if f.n_users() > 0 {
        let _ = f.predict(0, 0);
        let _ = recommend(f, 0, seen.row(0), &filter, rule);
    }
    let _ = similar_items(f, 0, 3, &filter);
    let rated: Vec<(u32, f32)> = (0..f.n_items().min(3) as u32).map(|i| (i, 3.0)).collect();
    let _ = fold_in(f, &model.params, &rated);
}

/// Target `ratings_lines`: the pure-Rust part of the ratings reader (header, separator,
/// field splitting, line-by-line diagnosis, rating scale); see [`lines`].
pub fn ratings_lines(data: &[u8]) {
    lines::check(data);
}

#[cfg(feature = "polars")]
pub mod full;
#[cfg(feature = "polars")]
pub use full::{dataset_open, ratings_polars};

/// A target's entry point.
pub type Entry = fn(&[u8]);

/// The targets every build has, by name, for the replay test.
pub const TARGETS: [(&str, Entry); 5] = [
    ("container", container),
    ("csr", csr),
    ("idmap", idmap),
    ("model", model),
    ("ratings_lines", ratings_lines),
];
