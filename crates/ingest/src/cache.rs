//! The cache directory: `prepare` builds it, [`Dataset::open`] reads it.
//!
//! ```text
//! CACHE/
//!   manifest.json          sources, options and summary (see Manifest)
//!   train.by_user.bin      train ratings, rows = users (CSR)
//!   train.by_item.bin      the same ratings, rows = items (CSC of the above)
//!   test.by_user.bin       test ratings, rows = users
//!   users.bin, items.bin   id maps: dense index -> original id
//!   features.json.zst      movie features (MovieLens sources only)
//! ```

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use flash_matrix::container::{self, FileKind};
use flash_matrix::{Csr, MatrixError};

use crate::fingerprint::SourceStamp;
use crate::manifest::{Fingerprint, Manifest, PrepareOptions, Summary, CACHE_VERSION};
use crate::memory::RatingColumns;
use crate::read::{read_ratings, ReadOptions};
use crate::split::{given_split, split_ratings, SplitRatings};
use crate::swap::{remove_dead_leftovers, StagingDir};
use crate::{DuplicatePolicy, FeatureTable, IdMap, IngestError, SplitOptions};

const MANIFEST: &str = "manifest.json";
const TRAIN_BY_USER: &str = "train.by_user.bin";
const TRAIN_BY_ITEM: &str = "train.by_item.bin";
const TEST_BY_USER: &str = "test.by_user.bin";
const USERS: &str = "users.bin";
const ITEMS: &str = "items.bin";
const FEATURES: &str = "features.json.zst";

/// The binary files of a cache and their kinds.
const BINARY_FILES: [(&str, FileKind); 5] = [
    (TRAIN_BY_USER, FileKind::RatingsByUser),
    (TRAIN_BY_ITEM, FileKind::RatingsByItem),
    (TEST_BY_USER, FileKind::RatingsByUser),
    (USERS, FileKind::IdMap),
    (ITEMS, FileKind::IdMap),
];

/// Where the ratings come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A MovieLens directory: `ratings.csv`, `movies.csv`, optional `tags.csv`, `links.csv`.
    MovieLens(PathBuf),
    /// Any ratings file, with an optional given test file.
    Ratings {
        /// The ratings (or the train part when `test` is given).
        ratings: PathBuf,
        /// A test file whose split is used as is.
        test: Option<PathBuf>,
    },
    /// Ratings already in memory; the cache is keyed by their content, and the split is drawn
    /// as for a file.
    Columns(Arc<RatingColumns>),
}

/// A request to prepare a cache.
#[derive(Clone, Debug)]
pub struct PrepareRequest {
    /// The input.
    pub source: Source,
    /// The cache directory to create or refresh. If it exists it must be a cache (hold a
    /// `manifest.json`) or an empty directory: anything else is refused, never replaced.
    pub out: PathBuf,
    /// How to read the ratings file(s).
    pub read: ReadOptions,
    /// How to draw the split when none is given.
    pub split: SplitOptions,
    /// What to do with repeated (user, item) pairs.
    pub on_duplicate: DuplicatePolicy,
}

/// What `prepare` did.
#[derive(Debug)]
pub struct PrepareOutcome {
    /// The manifest of the cache now in place.
    pub manifest: Manifest,
    /// `false` when the cache was already up to date and left untouched.
    pub rebuilt: bool,
    /// Why a cache that was in place was replaced (sources or options changed, a file is
    /// missing or damaged, or a rebuild was forced); `None` when there was none, or when it
    /// was up to date.
    pub rebuild_reason: Option<String>,
}

/// Builds the cache of `request`, or returns at once if it is up to date.
///
/// Up to date means: same cache version, same options, every source has the length and
/// modification time recorded in the manifest, and every file of the cache is present with
/// an intact header and the length that header records. That reads the manifest and 64
/// bytes of each file, so it takes a few milliseconds whatever the cache's size; damage
/// inside a file's payload is left to [`Dataset::open`], which verifies every byte and
/// suggests [`rebuild`].
///
/// An existing `out` that is neither a cache nor an empty directory is refused before any
/// work: publishing the new cache would delete it.
pub fn prepare(request: &PrepareRequest) -> Result<PrepareOutcome, IngestError> {
    prepare_with(request, false)
}

/// Builds the cache of `request` even if the one in place looks up to date
/// (`flash-rec prepare --force`), with the same refusal of an `out` that is not a cache.
pub fn rebuild(request: &PrepareRequest) -> Result<PrepareOutcome, IngestError> {
    prepare_with(request, true)
}

fn prepare_with(request: &PrepareRequest, force: bool) -> Result<PrepareOutcome, IngestError> {
    let _span = tracing::info_span!("prepare", out = %request.out.display()).entered();
    validate(request)?;
    let fingerprint = fingerprint_of(request)?;
    remove_dead_leftovers(&request.out);
    let rebuild_reason = match freshness(&request.out, &fingerprint) {
        Freshness::UpToDate(manifest) if !force => {
            tracing::info!("cache is up to date");
            return Ok(PrepareOutcome { manifest, rebuilt: false, rebuild_reason: None });
        }
        Freshness::UpToDate(_) => Some("a rebuild was asked for".to_string()),
        Freshness::Absent => None,
        Freshness::Stale(reason) => Some(reason),
    };
    if let Some(reason) = &rebuild_reason {
        tracing::info!(%reason, "rebuilding the cache");
    }

    let started = Instant::now();
    let staging = StagingDir::create(&request.out)?;
    let manifest = build(request, fingerprint, staging.path())?;
    staging.publish(&request.out)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "cache written");
    Ok(PrepareOutcome { manifest, rebuilt: true, rebuild_reason })
}

/// The state of the cache at `out` with respect to `fingerprint`.
enum Freshness {
    /// No cache there (no manifest).
    Absent,
    /// It must be rebuilt, for the reason given.
    Stale(String),
    /// It is up to date; its manifest.
    UpToDate(Manifest),
}

fn freshness(out: &Path, fingerprint: &Fingerprint) -> Freshness {
    let manifest = match Manifest::read(&out.join(MANIFEST)) {
        Ok(Some(manifest)) => manifest,
        Ok(None) => return Freshness::Absent,
        Err(error) => return Freshness::Stale(error.to_string()),
    };
    if manifest.cache_version != CACHE_VERSION {
        let version = manifest.cache_version;
        return Freshness::Stale(format!(
            "cache version {version}, this build writes {CACHE_VERSION}"
        ));
    }
    if manifest.fingerprint.options != fingerprint.options {
        return Freshness::Stale("the options changed".into());
    }
    if manifest.fingerprint.content != fingerprint.content {
        return Freshness::Stale("the ratings in memory changed".into());
    }
    if manifest.fingerprint.sources != fingerprint.sources {
        let changed = fingerprint
            .sources
            .iter()
            .find(|source| !manifest.fingerprint.sources.contains(source))
            .map_or("the list of sources changed".into(), |source| {
                format!("{} changed", source.path.display())
            });
        return Freshness::Stale(changed);
    }
    for (name, kind) in BINARY_FILES {
        if let Err(error) = container::check_header(&out.join(name), kind) {
            return Freshness::Stale(error.to_string());
        }
    }
    if manifest.summary.has_features && !out.join(FEATURES).is_file() {
        return Freshness::Stale(format!("{} is missing", out.join(FEATURES).display()));
    }
    Freshness::UpToDate(manifest)
}

fn validate(request: &PrepareRequest) -> Result<(), IngestError> {
    let fraction = request.split.test_fraction;
    if !(0.0..1.0).contains(&fraction) {
        return Err(IngestError::Options(format!("test fraction {fraction} is not in [0, 1)")));
    }
    check_replaceable(&request.out)?;
    if let Source::MovieLens(dir) = &request.source {
        if !dir.is_dir() {
            let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
            return Err(IngestError::io(dir, missing));
        }
    }
    if let Source::Columns(columns) = &request.source {
        columns.check_shape()?;
    }
    Ok(())
}

/// `Ok` if `out` is absent, an empty directory or a cache (it holds a manifest, even a
/// damaged one); publishing replaces `out` and deletes what it held.
fn check_replaceable(out: &Path) -> Result<(), IngestError> {
    let Ok(metadata) = std::fs::metadata(out) else { return Ok(()) };
    let replaceable = metadata.is_dir()
        && (out.join(MANIFEST).is_file()
            || std::fs::read_dir(out).map_err(|e| IngestError::io(out, e))?.next().is_none());
    if !replaceable {
        let reason = if metadata.is_dir() {
            "not a cache (no manifest.json) and not empty; refusing to replace it"
        } else {
            "a file, not a cache directory; refusing to replace it"
        };
        return Err(IngestError::layout(out, reason));
    }
    Ok(())
}

fn fingerprint_of(request: &PrepareRequest) -> Result<Fingerprint, IngestError> {
    let mut paths = Vec::new();
    let given_test = match &request.source {
        Source::MovieLens(dir) => {
            paths.push(dir.join("ratings.csv"));
            paths.push(dir.join("movies.csv"));
            paths.extend(
                ["tags.csv", "links.csv"].map(|f| dir.join(f)).into_iter().filter(|p| p.exists()),
            );
            false
        }
        Source::Ratings { ratings, test } => {
            paths.push(ratings.clone());
            paths.extend(test.clone());
            test.is_some()
        }
        Source::Columns(_) => false,
    };
    let content = match &request.source {
        Source::Columns(columns) => Some(format!("{:016x}", columns.content_hash())),
        _ => None,
    };
    let sources = paths.iter().map(|p| SourceStamp::of(p)).collect::<Result<_, _>>()?;
    let options = PrepareOptions {
        split: request.split,
        given_test,
        separator: request.read.separator,
        has_header: request.read.has_header,
        scale: request.read.scale,
        on_duplicate: request.on_duplicate,
    };
    Ok(Fingerprint { sources, content, options })
}

fn build(
    request: &PrepareRequest,
    fingerprint: Fingerprint,
    dir: &Path,
) -> Result<Manifest, IngestError> {
    let (split, features) = match &request.source {
        Source::MovieLens(movielens) => {
            let raw = read_ratings(&movielens.join("ratings.csv"), &request.read)?;
            let split = split_ratings(raw, request.on_duplicate, request.split)?;
            (split, Some(FeatureTable::read_movielens(movielens)?))
        }
        Source::Ratings { ratings, test: None } => {
            let raw = read_ratings(ratings, &request.read)?;
            (split_ratings(raw, request.on_duplicate, request.split)?, None)
        }
        Source::Ratings { ratings, test: Some(test) } => {
            let train_raw = read_ratings(ratings, &request.read)?;
            let test_raw = read_ratings(test, &request.read)?;
            (given_split(train_raw, test_raw, request.on_duplicate)?, None)
        }
        Source::Columns(columns) => {
            let raw = columns.to_raw(request.read.scale)?;
            (split_ratings(raw, request.on_duplicate, request.split)?, None)
        }
    };

    let _span = tracing::info_span!("write_cache").entered();
    // The by-item file on one thread and the others on another: writing into the page cache
    // is a copy, which one core does at a few GB/s.
    let by_item = &split.train_by_item;
    let (by_item_saved, others_saved) = rayon::join(
        || by_item.save(&dir.join(TRAIN_BY_ITEM), FileKind::RatingsByItem),
        || -> Result<(), MatrixError> {
            split.train.save(&dir.join(TRAIN_BY_USER), FileKind::RatingsByUser)?;
            split.test.save(&dir.join(TEST_BY_USER), FileKind::RatingsByUser)?;
            split.users.save(&dir.join(USERS))?;
            split.items.save(&dir.join(ITEMS))
        },
    );
    by_item_saved?;
    others_saved?;

    let movies_missing_features = match &features {
        Some(table) => {
            write_features(&dir.join(FEATURES), table)?;
            count_missing_movies(&split.items, table)
        }
        None => 0,
    };
    let manifest = Manifest {
        cache_version: CACHE_VERSION,
        fingerprint,
        summary: summarise(&split, by_item, movies_missing_features, features.is_some()),
    };
    manifest.write(&dir.join(MANIFEST))?;
    Ok(manifest)
}

fn summarise(
    split: &SplitRatings,
    by_item: &Csr,
    movies_missing_features: usize,
    has_features: bool,
) -> Summary {
    let test_by_item_counts = {
        let mut counts = vec![0u32; split.items.len()];
        for &item in split.test.indices() {
            counts[item as usize] += 1;
        }
        counts
    };
    let test_only_items = (0..split.items.len())
        .filter(|&item| by_item.row_len(item) == 0 && test_by_item_counts[item] > 0)
        .count();
    Summary {
        users: split.users.len(),
        items: split.items.len(),
        train_ratings: split.train.nnz(),
        test_ratings: split.test.nnz(),
        duplicates_dropped: split.duplicates_dropped,
        test_only_items,
        movies_missing_features,
        has_features,
    }
}

fn count_missing_movies(items: &IdMap, table: &FeatureTable) -> usize {
    let missing: Vec<i64> =
        items.ids().iter().copied().filter(|&id| table.get(id).is_none()).collect();
    if !missing.is_empty() {
        let first: Vec<i64> = missing.iter().take(10).copied().collect();
        tracing::warn!(count = missing.len(), ?first, "rated movies missing from movies.csv");
    }
    missing.len()
}

fn write_features(path: &Path, table: &FeatureTable) -> Result<(), IngestError> {
    let json = serde_json::to_vec(table).expect("features always serialise");
    flash_matrix::write_atomically(path, |out| {
        let mut encoder = zstd::Encoder::new(out, 3)?;
        encoder.write_all(&json)?;
        encoder.finish().map(|_| ())
    })?;
    Ok(())
}

/// How many times [`Dataset::open`] tries when the cache keeps being replaced under it.
const OPEN_ATTEMPTS: usize = 5;

/// What changes when a cache directory is published over `dir`: the directory itself (a new
/// one is renamed in) and its manifest.
fn generation(dir: &Path) -> (Option<u64>, Option<Vec<u8>>) {
    #[cfg(unix)]
    let identity = std::fs::metadata(dir).ok().map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    #[cfg(not(unix))]
    let identity = None;
    (identity, std::fs::read(dir.join(MANIFEST)).ok())
}

/// A prepared cache, opened: matrices are memory-mapped and fully verified.
#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    /// Train ratings, one row per user.
    pub train_by_user: Csr,
    /// Train ratings, one row per item.
    pub train_by_item: Csr,
    /// Test ratings, one row per user (same users and items as train).
    pub test_by_user: Csr,
    /// Dense user index to original user id.
    pub users: IdMap,
    /// Dense item index to original item id.
    pub items: IdMap,
}

impl Dataset {
    /// Opens the cache at `dir`, verifying checksums, invariants and the consistency of its
    /// files, and refusing a cache whose sources have changed since it was built.
    ///
    /// A `prepare` may publish a new cache while this one is being opened, and the files
    /// would then come from two builds. The directory and its manifest are looked at again at
    /// the end: if they changed, the open starts over (a few times at most), so a reader gets
    /// the old cache or the new one, never a mixture.
    pub fn open(dir: &Path) -> Result<Self, IngestError> {
        let _span = tracing::info_span!("open_cache", dir = %dir.display()).entered();
        let mut attempts = 0;
        loop {
            let before = generation(dir);
            let result = Self::open_once(dir);
            attempts += 1;
            if attempts == OPEN_ATTEMPTS || generation(dir) == before {
                return result;
            }
            tracing::info!("the cache was replaced while being opened; opening it again");
        }
    }

    fn open_once(dir: &Path) -> Result<Self, IngestError> {
        let manifest_path = dir.join(MANIFEST);
        let manifest = Manifest::read(&manifest_path)?.ok_or_else(|| {
            IngestError::layout(dir, "not a prepared cache (no manifest.json); run prepare")
        })?;
        if manifest.cache_version != CACHE_VERSION {
            let reason = format!(
                "cache version {}, this build reads {CACHE_VERSION}; run prepare again",
                manifest.cache_version
            );
            return Err(IngestError::layout(dir, reason));
        }
        for source in &manifest.fingerprint.sources {
            if source.still_matches() == Some(false) {
                let reason = format!(
                    "stale cache: {} changed after the cache was built; run prepare again",
                    source.path.display()
                );
                return Err(IngestError::layout(dir, reason));
            }
        }

        let damaged = |source: MatrixError| IngestError::DamagedCache { source };
        let matrix = |name: &str, kind| Csr::open(&dir.join(name), kind).map_err(damaged);
        let ids = |name: &str| IdMap::open(&dir.join(name)).map_err(damaged);
        // The three matrices are verified side by side: one thread maps, hashes and checks a
        // file at a few GiB/s, well short of what memory delivers.
        let ((train_by_user, train_by_item), test_by_user) = rayon::join(
            || {
                rayon::join(
                    || matrix(TRAIN_BY_USER, FileKind::RatingsByUser),
                    || matrix(TRAIN_BY_ITEM, FileKind::RatingsByItem),
                )
            },
            || matrix(TEST_BY_USER, FileKind::RatingsByUser),
        );
        let dataset = Dataset {
            train_by_user: train_by_user?,
            train_by_item: train_by_item?,
            test_by_user: test_by_user?,
            users: ids(USERS)?,
            items: ids(ITEMS)?,
            dir: dir.to_path_buf(),
            manifest,
        };
        dataset.check_consistency()?;
        Ok(dataset)
    }

    fn check_consistency(&self) -> Result<(), IngestError> {
        let (n_users, n_items) = (self.users.len(), self.items.len());
        let shapes_agree = [&self.train_by_user, &self.test_by_user]
            .iter()
            .all(|m| m.n_rows() == n_users && m.n_cols() == n_items)
            && self.train_by_item.n_rows() == n_items
            && self.train_by_item.n_cols() == n_users
            && self.train_by_item.nnz() == self.train_by_user.nnz();
        if !shapes_agree {
            let reason = "cache files disagree on their shapes; run prepare again with --force";
            return Err(IngestError::layout(&self.dir, reason));
        }
        Ok(())
    }

    /// The manifest the cache was opened with.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Movie features, read on demand; `None` when the source was not MovieLens.
    pub fn features(&self) -> Result<Option<FeatureTable>, IngestError> {
        if !self.manifest.summary.has_features {
            return Ok(None);
        }
        let path = self.dir.join(FEATURES);
        let file = std::fs::File::open(&path).map_err(|e| IngestError::io(&path, e))?;
        let mut json = Vec::new();
        zstd::Decoder::new(file)
            .and_then(|mut decoder| decoder.read_to_end(&mut json))
            .map_err(|e| IngestError::io(&path, e))?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| IngestError::layout(&path, format!("damaged features: {e}")))
    }
}
