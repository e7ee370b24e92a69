//! `Dataset` and `MovieLens`: ratings prepared into a cache (as `flash-rec prepare` does) and
//! opened memory-mapped.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use flash_ingest::{
    prepare, Dataset as Prepared, DuplicatePolicy, FeatureTable, PrepareRequest, RatingColumns,
    RatingScale, ReadOptions, Source, SplitOptions,
};
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::PyFileNotFoundError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::arrays::{self, view_1d};
use crate::cache_dir;
use crate::errors::Failure;
use crate::pyvalue::to_python;
use crate::threads::in_pool;

/// An opened cache and its movie features, read on first use; shared with fitted models.
pub struct Shared {
    /// The cache: train and test matrices and id maps.
    pub data: Prepared,
    features: OnceLock<Option<Arc<FeatureTable>>>,
}

impl Shared {
    /// The movie features, `None` when the ratings did not come from MovieLens.
    pub fn features(&self) -> Result<Option<Arc<FeatureTable>>, Failure> {
        if let Some(features) = self.features.get() {
            return Ok(features.clone());
        }
        let read = self.data.features().map_err(|e| Failure::in_cache(e, self.data.dir()))?;
        Ok(self.features.get_or_init(|| read.map(Arc::new)).clone())
    }

    /// The features, or `MissingFeaturesError` saying what needed them.
    pub fn require_features(&self, purpose: &str) -> Result<Arc<FeatureTable>, Failure> {
        self.features()?.ok_or_else(|| {
            Failure::MissingFeatures(format!(
                "{purpose} needs movie features, and {} was not prepared from MovieLens",
                self.data.dir().display()
            ))
        })
    }
}

/// Ratings prepared into a cache folder: id maps, a seeded per-user train/test split, and the
/// train matrix by user and by item, memory-mapped.
///
/// Make one with `flash_rec.MovieLens(path)`, `Dataset.from_ratings(data)` or
/// `Dataset.open(cache)`. Preparing is skipped when the cache is up to date, exactly as
/// `flash-rec prepare` does, and a cache made here can be given to the command line as `--data`.
#[pyclass(frozen, module = "flash_rec._native")]
pub struct Dataset {
    pub shared: Arc<Shared>,
}

impl Dataset {
    fn new(data: Prepared) -> Self {
        Dataset { shared: Arc::new(Shared { data, features: OnceLock::new() }) }
    }

    fn data(&self) -> &Prepared {
        &self.shared.data
    }
}

/// How to prepare, besides the source and the folder.
struct Options {
    test_fraction: f64,
    seed: u64,
    read: ReadOptions,
    on_duplicate: DuplicatePolicy,
}

impl Options {
    /// Every option, for the cache folder's name.
    fn key(&self) -> String {
        let read = &self.read;
        format!(
            "{:?}|{}|{:?}|{}|{:?}|{:?}",
            self.test_fraction,
            self.seed,
            read.separator,
            read.has_header,
            (read.scale.min, read.scale.max),
            self.on_duplicate
        )
    }

    fn request(self, source: Source, out: PathBuf) -> PrepareRequest {
        PrepareRequest {
            source,
            out,
            read: self.read,
            split: SplitOptions { test_fraction: self.test_fraction, seed: self.seed },
            on_duplicate: self.on_duplicate,
        }
    }
}

/// Prepares `request` (or finds it up to date) and opens the cache, without the interpreter.
fn prepare_and_open(py: Python<'_>, request: PrepareRequest) -> PyResult<Dataset> {
    let out = request.out.clone();
    let data = py.detach(|| {
        in_pool(0, || prepare(&request).and_then(|_| Prepared::open(&out)))?
            .map_err(|e| Failure::in_cache(e, &out))
    })?;
    Ok(Dataset::new(data))
}

/// Prepares a MovieLens folder (ratings.csv, movies.csv, optional tags.csv and links.csv).
///
/// Parameters
/// ----------
/// path : str or os.PathLike
///     The MovieLens folder, e.g. ``data/ml-latest-small``.
/// test_fraction : float
///     Share of each user's ratings held out for test, in [0, 1).
/// seed : int
///     Seed of the split; the same seed gives the same split on every machine.
/// cache : str or os.PathLike, optional
///     The cache folder (``flash-rec prepare --out``). By default a folder under
///     ``$FLASH_CACHE_DIR`` (else ``~/.cache/flash-rec``) named after the source and options.
///
/// Returns
/// -------
/// Dataset
///     The prepared ratings, with movie titles, genres and tags (see ``Dataset.features``).
///
/// Raises
/// ------
/// FileNotFoundError
///     If the folder or its ratings.csv or movies.csv is missing.
/// DataError
///     If a file holds a bad value (the message names the file, line and value).
#[pyfunction(name = "MovieLens")]
#[pyo3(signature = (path, test_fraction=0.2, seed=42, cache=None))]
pub fn movielens(
    py: Python<'_>,
    path: PathBuf,
    test_fraction: f64,
    seed: u64,
    cache: Option<PathBuf>,
) -> PyResult<Dataset> {
    let options = Options {
        test_fraction,
        seed,
        read: ReadOptions::default(),
        on_duplicate: DuplicatePolicy::KeepLatest,
    };
    let source_dir = cache_dir::absolute(&path);
    let out = cache.unwrap_or_else(|| {
        let key = format!("{}|{}", source_dir.display(), options.key());
        cache_dir::folder("movielens", &cache_dir::label_of(&source_dir), &key)
    });
    prepare_and_open(py, options.request(Source::MovieLens(path), out))
}

#[pymethods]
impl Dataset {
    /// Opens a cache prepared before, here or by ``flash-rec prepare``.
    ///
    /// Raises ``CacheError`` if the folder is not a cache, is damaged, or is stale (its
    /// sources changed since it was prepared), and ``FileNotFoundError`` if it is missing.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        if !path.exists() {
            let message = format!("{}: no such cache folder", path.display());
            let filename = path.display().to_string();
            return Err(PyFileNotFoundError::new_err((2, message, filename)));
        }
        let data = py.detach(|| {
            in_pool(0, || Prepared::open(&path))?.map_err(|e| Failure::in_cache(e, &path))
        })?;
        Ok(Dataset::new(data))
    }

    /// Prepares ratings from a file, a DataFrame, NumPy arrays or a SciPy sparse matrix.
    ///
    /// Parameters
    /// ----------
    /// data : str, os.PathLike, DataFrame, tuple of arrays, dict of arrays or sparse matrix
    ///     A ratings file (CSV or TSV, with a header or as ``user, item, rating[, timestamp]``
    ///     with ``has_header=False``, or Parquet by extension); a pandas or polars DataFrame or
    ///     a dict whose columns are named as in a file header (``userId``/``user``/``user_id``,
    ///     ``movieId``/``item``/``item_id``/``movie_id``, ``rating``, optional ``timestamp``,
    ///     any case); a tuple ``(users, items, ratings[, timestamps])`` of arrays; or a SciPy
    ///     sparse matrix whose row and column indices are the user and item ids.
    /// test : str or os.PathLike, optional
    ///     A test file whose split is used as is (files only).
    /// test_fraction : float
    ///     Share of each user's ratings held out for test, in [0, 1).
    /// seed : int
    ///     Seed of the split.
    /// cache : str or os.PathLike, optional
    ///     The cache folder. By default a folder under ``$FLASH_CACHE_DIR`` (else
    ///     ``~/.cache/flash-rec``) named after the file, or after a fingerprint (xxh3) of the
    ///     content for in-memory data, and the options.
    /// sep : str, optional
    ///     Field separator of a text file (one character, or "tab"); guessed when absent.
    /// has_header : bool
    ///     Whether a text file's first line names its columns.
    /// scale : tuple of two floats, optional
    ///     ``(min, max)`` of the ratings; MovieLens' ``(0.5, 5.0)`` when absent.
    /// on_duplicate : str
    ///     ``"keep-latest"`` (by timestamp, then by position) or ``"error"``.
    ///
    /// Raises
    /// ------
    /// FileNotFoundError
    ///     If a file is missing.
    /// DataError
    ///     If a value is bad; ``path``, ``line`` (text files) or ``row`` (Parquet, in-memory
    ///     data, counted from 1) and ``value`` say where.
    /// ParameterError
    ///     If an option is out of its domain.
    #[staticmethod]
    #[pyo3(signature = (
        data, *, test=None, test_fraction=0.2, seed=42, cache=None, sep=None, has_header=true,
        scale=None, on_duplicate="keep-latest"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn from_ratings(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        test: Option<PathBuf>,
        test_fraction: f64,
        seed: u64,
        cache: Option<PathBuf>,
        sep: Option<String>,
        has_header: bool,
        scale: Option<(f64, f64)>,
        on_duplicate: &str,
    ) -> PyResult<Self> {
        let read = ReadOptions {
            separator: sep.as_deref().map(parse_separator).transpose()?,
            has_header,
            scale: parse_scale(scale)?,
        };
        let on_duplicate = parse_duplicate_policy(on_duplicate)?;
        let options = Options { test_fraction, seed, read, on_duplicate };
        let path_like = py.import("os")?.getattr("PathLike")?;
        if data.is_instance_of::<pyo3::types::PyString>() || data.is_instance(&path_like)? {
            let ratings: PathBuf = data.extract()?;
            let mut key = format!("{}|{}", cache_dir::absolute(&ratings).display(), options.key());
            if let Some(test) = &test {
                key.push_str(&format!("|{}", cache_dir::absolute(test).display()));
            }
            let out = cache.unwrap_or_else(|| {
                cache_dir::folder("ratings", &cache_dir::label_of(&ratings), &key)
            });
            return prepare_and_open(py, options.request(Source::Ratings { ratings, test }, out));
        }
        if test.is_some() {
            let message = "test= is for files; split in-memory data with test_fraction";
            return Err(Failure::Parameter(message.into()).into());
        }
        let columns = columns_of(py, data)?;
        let key = format!("{:016x}|{}", columns.content_hash(), options.key());
        let out = cache.unwrap_or_else(|| cache_dir::folder("memory", &columns.name, &key));
        prepare_and_open(py, options.request(Source::Columns(Arc::new(columns)), out))
    }

    /// The cache folder.
    #[getter]
    fn path(&self) -> String {
        self.data().dir().display().to_string()
    }

    /// Number of users (rows of the rating matrices).
    #[getter]
    fn n_users(&self) -> usize {
        self.data().users.len()
    }

    /// Number of items (columns of the rating matrices).
    #[getter]
    fn n_items(&self) -> usize {
        self.data().items.len()
    }

    /// Number of train ratings.
    #[getter]
    fn n_train(&self) -> usize {
        self.data().train_by_user.nnz()
    }

    /// Number of test ratings.
    #[getter]
    fn n_test(&self) -> usize {
        self.data().test_by_user.nnz()
    }

    /// Original user ids in dense order (ascending), a read-only int64 view.
    #[getter]
    fn user_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        view_1d(py, &self.shared, |shared| shared.data.users.ids())
    }

    /// Original item (movie) ids in dense order (ascending), a read-only int64 view.
    #[getter]
    fn item_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        view_1d(py, &self.shared, |shared| shared.data.items.ids())
    }

    /// Whether movie features (titles, genres, tags) are available: MovieLens sources only.
    #[getter]
    fn has_features(&self) -> bool {
        self.data().manifest().summary.has_features
    }

    /// A movie's features: a dict with movie_id, title, genres, tags, imdb_id and tmdb_id.
    ///
    /// Raises ``UnknownIdError`` if movies.csv does not list the movie, and
    /// ``MissingFeaturesError`` if the ratings did not come from MovieLens.
    fn features<'py>(&self, py: Python<'py>, movie_id: i64) -> PyResult<Bound<'py, PyAny>> {
        let shared = self.shared.clone();
        let table = py.detach(move || shared.require_features("features()"))?;
        match table.get(movie_id) {
            Some(movie) => to_python(py, movie),
            None => Err(Failure::UnknownId { kind: "movie", id: movie_id }.into()),
        }
    }

    /// The same dict as ``flash-rec info --json``: sizes, density, degree percentiles, etc.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.data().describe())
    }

    /// The train ratings as ``(user_ids, item_ids, ratings)`` arrays of original ids.
    fn train_ratings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        triples(py, &self.data().train_by_user, self.data())
    }

    /// The test ratings as ``(user_ids, item_ids, ratings)`` arrays of original ids.
    fn test_ratings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        triples(py, &self.data().test_by_user, self.data())
    }

    fn __repr__(&self) -> String {
        format!(
            "Dataset('{}', users={}, items={}, train={}, test={})",
            self.path(),
            self.n_users(),
            self.n_items(),
            self.n_train(),
            self.n_test()
        )
    }
}

/// Every entry of `matrix` (rows are users) as arrays of original ids and ratings.
fn triples<'py>(
    py: Python<'py>,
    matrix: &flash_matrix::Csr,
    data: &Prepared,
) -> PyResult<Bound<'py, PyTuple>> {
    let (mut users, mut items) = (Vec::with_capacity(matrix.nnz()), Vec::new());
    items.reserve(matrix.nnz());
    for user in 0..matrix.n_rows() {
        let row = matrix.row(user);
        let user_id = data.users.id_of(user as u32);
        users.extend(std::iter::repeat_n(user_id, row.len()));
        items.extend(row.indices.iter().map(|&item| data.items.id_of(item)));
    }
    let users = PyArray1::from_vec(py, users);
    let items = PyArray1::from_vec(py, items);
    let ratings = PyArray1::from_slice(py, matrix.values());
    PyTuple::new(py, [users.into_any(), items.into_any(), ratings.into_any()])
}

/// What `flash_rec._convert.to_columns` returns: a name for messages, then int64 users and
/// items, float64 ratings and optional int64 timestamps.
type Converted<'py> = (
    String,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
    Option<Bound<'py, PyArray1<i64>>>,
);

/// In-memory ratings converted by `flash_rec._convert.to_columns`.
fn columns_of(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<RatingColumns> {
    let converted = py.import("flash_rec._convert")?.call_method1("to_columns", (data,))?;
    let (name, users, items, ratings, timestamps): Converted<'_> = converted.extract()?;
    Ok(RatingColumns {
        name,
        users: arrays::copy(users.readonly())?,
        items: arrays::copy(items.readonly())?,
        ratings: arrays::copy(ratings.readonly())?,
        timestamps: timestamps.map(|t| arrays::copy(t.readonly())).transpose()?,
    })
}

fn parse_separator(text: &str) -> Result<u8, Failure> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 => Ok(text.as_bytes()[0]),
        _ => Err(Failure::Parameter(format!(
            "separator '{text}' must be one ASCII character or 'tab'"
        ))),
    }
}

fn parse_scale(scale: Option<(f64, f64)>) -> Result<RatingScale, Failure> {
    let Some((min, max)) = scale else { return Ok(RatingScale::MOVIELENS) };
    RatingScale::parse(&format!("{min:?},{max:?}")).map_err(Failure::Parameter)
}

fn parse_duplicate_policy(text: &str) -> Result<DuplicatePolicy, Failure> {
    match text.replace('_', "-").as_str() {
        "keep-latest" => Ok(DuplicatePolicy::KeepLatest),
        "error" => Ok(DuplicatePolicy::Error),
        _ => Err(Failure::Parameter(format!(
            "on_duplicate '{text}' is neither 'keep-latest' nor 'error'"
        ))),
    }
}
