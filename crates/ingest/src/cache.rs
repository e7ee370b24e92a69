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
use std::time::Instant;

use flash_matrix::container::FileKind;
use flash_matrix::Csr;

use crate::fingerprint::SourceStamp;
use crate::manifest::{Fingerprint, Manifest, PrepareOptions, Summary, CACHE_VERSION};
use crate::read::{read_ratings, ReadOptions};
use crate::split::{given_split, split_ratings, SplitRatings};
use crate::swap::StagingDir;
use crate::{DuplicatePolicy, FeatureTable, IdMap, IngestError, SplitOptions};

const MANIFEST: &str = "manifest.json";
const TRAIN_BY_USER: &str = "train.by_user.bin";
const TRAIN_BY_ITEM: &str = "train.by_item.bin";
const TEST_BY_USER: &str = "test.by_user.bin";
const USERS: &str = "users.bin";
const ITEMS: &str = "items.bin";
const FEATURES: &str = "features.json.zst";

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
}

/// Builds the cache of `request`, or returns at once if it is up to date.
///
/// Up to date means: same cache version, same options, and every source has the length and
/// modification time recorded in the manifest. Only the manifest is read for that check.
///
/// An existing `out` that is neither a cache nor an empty directory is refused before any
/// work: publishing the new cache would delete it.
pub fn prepare(request: &PrepareRequest) -> Result<PrepareOutcome, IngestError> {
    let _span = tracing::info_span!("prepare", out = %request.out.display()).entered();
    validate(request)?;
    let fingerprint = fingerprint_of(request)?;
    if let Ok(Some(manifest)) = Manifest::read(&request.out.join(MANIFEST)) {
        if manifest.cache_version == CACHE_VERSION
            && manifest.fingerprint == fingerprint
            && all_files_present(&request.out, manifest.summary.has_features)
        {
            tracing::info!("cache is up to date");
            return Ok(PrepareOutcome { manifest, rebuilt: false });
        }
    }

    let started = Instant::now();
    let staging = StagingDir::create(&request.out)?;
    let manifest = build(request, fingerprint, staging.path())?;
    staging.publish(&request.out)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "cache written");
    Ok(PrepareOutcome { manifest, rebuilt: true })
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
    Ok(Fingerprint { sources, options })
}

fn all_files_present(dir: &Path, has_features: bool) -> bool {
    let mut files = vec![TRAIN_BY_USER, TRAIN_BY_ITEM, TEST_BY_USER, USERS, ITEMS];
    if has_features {
        files.push(FEATURES);
    }
    files.iter().all(|f| dir.join(f).is_file())
}

fn build(
    request: &PrepareRequest,
    fingerprint: Fingerprint,
    dir: &Path,
) -> Result<Manifest, IngestError> {
    let (split, features) = match &request.source {
        Source::MovieLens(movielens) => {
            let raw = read_ratings(&movielens.join("ratings.csv"), &request.read)?;
            let split = split_ratings(&raw, request.on_duplicate, request.split)?;
            drop(raw);
            (split, Some(FeatureTable::read_movielens(movielens)?))
        }
        Source::Ratings { ratings, test: None } => {
            let raw = read_ratings(ratings, &request.read)?;
            (split_ratings(&raw, request.on_duplicate, request.split)?, None)
        }
        Source::Ratings { ratings, test: Some(test) } => {
            let train_raw = read_ratings(ratings, &request.read)?;
            let test_raw = read_ratings(test, &request.read)?;
            (given_split(&train_raw, &test_raw, request.on_duplicate)?, None)
        }
    };

    let _span = tracing::info_span!("write_cache").entered();
    let by_item = split.train.transpose();
    split.train.save(&dir.join(TRAIN_BY_USER), FileKind::RatingsByUser)?;
    by_item.save(&dir.join(TRAIN_BY_ITEM), FileKind::RatingsByItem)?;
    split.test.save(&dir.join(TEST_BY_USER), FileKind::RatingsByUser)?;
    split.users.save(&dir.join(USERS))?;
    split.items.save(&dir.join(ITEMS))?;

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
        summary: summarise(&split, &by_item, movies_missing_features, features.is_some()),
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
    pub fn open(dir: &Path) -> Result<Self, IngestError> {
        let _span = tracing::info_span!("open_cache", dir = %dir.display()).entered();
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

        let dataset = Dataset {
            train_by_user: Csr::open(&dir.join(TRAIN_BY_USER), FileKind::RatingsByUser)?,
            train_by_item: Csr::open(&dir.join(TRAIN_BY_ITEM), FileKind::RatingsByItem)?,
            test_by_user: Csr::open(&dir.join(TEST_BY_USER), FileKind::RatingsByUser)?,
            users: IdMap::open(&dir.join(USERS))?,
            items: IdMap::open(&dir.join(ITEMS))?,
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
            return Err(IngestError::layout(&self.dir, "cache files disagree on their shapes"));
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
