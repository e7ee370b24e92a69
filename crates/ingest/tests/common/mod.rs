//! Helpers shared by the data-layer integration tests: writing small input files, preparing
//! them, reading a cache back as (user id, item id, rating) triples, and checking that a
//! refused input names what it should and leaves nothing behind.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use flash_ingest::{
    prepare, Dataset, DuplicatePolicy, IdMap, PrepareOutcome, PrepareRequest, ReadOptions, Source,
    SplitOptions,
};
use flash_matrix::Csr;

/// A rating as the source file writes it: original user id, original item id, value.
pub type Triple = (i64, i64, f32);

/// Writes `contents` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// A request for one ratings file with default options, into `out`.
pub fn ratings_request(ratings: PathBuf, out: PathBuf) -> PrepareRequest {
    PrepareRequest {
        source: Source::Ratings { ratings, test: None },
        out,
        read: ReadOptions::default(),
        split: SplitOptions::default(),
        on_duplicate: DuplicatePolicy::KeepLatest,
    }
}

/// The same request with nothing held out, so that every kept rating lands in train.
pub fn without_test(request: PrepareRequest) -> PrepareRequest {
    PrepareRequest { split: SplitOptions { test_fraction: 0.0, seed: 1 }, ..request }
}

/// Prepares `request`, which must succeed, and opens the result.
pub fn prepare_and_open(request: &PrepareRequest) -> (PrepareOutcome, Dataset) {
    let outcome = prepare(request).unwrap_or_else(|e| panic!("prepare failed: {e}"));
    let dataset = Dataset::open(&request.out).unwrap_or_else(|e| panic!("open failed: {e}"));
    (outcome, dataset)
}

/// Every entry of `matrix` (rows are users) as original ids, sorted.
pub fn triples(matrix: &Csr, users: &IdMap, items: &IdMap) -> Vec<Triple> {
    let mut out = Vec::with_capacity(matrix.nnz());
    for user in 0..matrix.n_rows() {
        let row = matrix.row(user);
        for (&item, &value) in row.indices.iter().zip(row.values) {
            out.push((users.id_of(user as u32), items.id_of(item), value));
        }
    }
    sort(out)
}

/// The train and the test triples of a dataset.
pub fn train_and_test(dataset: &Dataset) -> (Vec<Triple>, Vec<Triple>) {
    let (users, items) = (&dataset.users, &dataset.items);
    (triples(&dataset.train_by_user, users, items), triples(&dataset.test_by_user, users, items))
}

/// Train and test together, sorted.
pub fn all_triples(dataset: &Dataset) -> Vec<Triple> {
    let (mut train, test) = train_and_test(dataset);
    train.extend(test);
    sort(train)
}

/// `triples`, sorted by (user, item).
pub fn sort(mut triples: Vec<Triple>) -> Vec<Triple> {
    triples.sort_by_key(|t| (t.0, t.1));
    triples
}

/// Runs `request`, which must fail, and returns the message after checking that it names the
/// file `names_file` and that neither the cache nor any temporary sibling was left in the
/// cache's parent directory.
pub fn refused(request: &PrepareRequest, names_file: &str) -> String {
    let message = match prepare(request) {
        Ok(outcome) => panic!("accepted, with summary {:?}", outcome.manifest.summary),
        Err(error) => error.to_string(),
    };
    assert_mentions(&message, &[names_file]);
    assert_nothing_left(&request.out);
    message
}

/// Asserts that `cache` does not exist and that its parent holds nothing, or does not exist.
pub fn assert_nothing_left(cache: &Path) {
    assert!(!cache.exists(), "{} exists after a failure", cache.display());
    let parent = cache.parent().unwrap();
    if parent.exists() {
        let left: Vec<_> = std::fs::read_dir(parent).unwrap().map(|e| e.unwrap().path()).collect();
        assert!(left.is_empty(), "left behind after a failure: {left:?}");
    }
}

/// Asserts that `message` contains every one of `parts`.
#[track_caller]
pub fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "'{part}' missing from the message: {message}");
    }
}

/// A scratch folder with `in/` for the sources and `out/cache` as the cache, so that `out/`
/// holds nothing but the cache and its temporary siblings.
pub struct Scratch {
    _root: tempfile::TempDir,
    /// Where the test writes its input files.
    pub input: PathBuf,
    /// The cache directory (not created).
    pub cache: PathBuf,
}

impl Scratch {
    /// A fresh scratch folder.
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let input = root.path().join("in");
        std::fs::create_dir(&input).unwrap();
        let cache = root.path().join("out").join("cache");
        Scratch { _root: root, input, cache }
    }

    /// Writes an input file.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        write_file(&self.input, name, contents)
    }

    /// A request for the input file `name` with default options.
    pub fn request(&self, name: &str) -> PrepareRequest {
        ratings_request(self.input.join(name), self.cache.clone())
    }
}
