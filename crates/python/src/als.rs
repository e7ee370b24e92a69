//! `ALS`: hyper-parameters, the fitted model and every method on it, and `load`.
//!
//! The methods are thin: training is in [`crate::fitting`], recommendations and predictions in
//! [`crate::serve`], metrics in [`crate::evaluate`].

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flash_als::{AlsParams, EarlyStopping, Model, Regularization};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::arrays::{view_1d, view_2d};
use crate::dataset::{Dataset, Shared};
use crate::errors::Failure;
use crate::filters::FilterArgs;
use crate::pyvalue::to_python;
use crate::threads::in_pool;
use crate::{evaluate, fitting, serve};

/// A fitted (or loaded) model, the dataset it is used with, and its epochs' timings.
#[derive(Clone)]
pub struct Fitted {
    /// Factors, id maps, parameters and history; never mutated (arrays view into it).
    pub model: Arc<Model>,
    /// The train data: seen items to exclude, and features for genre filters and titles.
    pub dataset: Option<Arc<Shared>>,
    /// Seconds per epoch when fitted in this process (model files keep no timings).
    pub seconds: Option<Vec<f64>>,
}

/// Biased alternating least squares for explicit ratings (the model of ``flash-rec train``).
///
/// A rating is predicted as ``mu + b_user + b_item + p_user . q_item`` and the model minimises
/// ``lam/2 * squared errors + tau/2 * |factors|^2 + gamma/2 * biases^2``, the penalties scaled
/// per row as ``regularization`` says. Every parameter left as None takes the shipped default,
/// that of ``flash-rec train`` (``ALS().params`` lists them); ``ALS.seed_formulation()`` gives
/// the reference settings.
///
/// Parameters
/// ----------
/// factors : int, optional
///     Length k of each factor vector, 1 to 1024.
/// epochs : int, optional
///     Full epochs (every item, then every user).
/// lam : float, optional
///     Weight of the data term (> 0).
/// tau : float, optional
///     Weight of the factor penalty (> 0).
/// gamma : float, optional
///     Weight of the bias penalty (>= 0).
/// global_mean : bool, optional
///     Whether predictions include the mean train rating ``mu``.
/// regularization : str, optional
///     ``"scaled-by-count"`` (tau and gamma times the row's rating count),
///     ``"scaled-factors"`` (tau times the count, gamma fixed) or ``"fixed"``.
/// seed : int, optional
///     Seed of the initial factors: equal seeds give bit-identical models.
/// threads : int, optional
///     Worker threads; 0 means one per core. Results do not depend on it.
/// early_stopping : tuple of (int, float), optional
///     ``(patience, min_delta)``: stop when the test RMSE has not improved by ``min_delta``
///     for ``patience`` epochs, and keep the best epoch's model.
///
/// Raises
/// ------
/// ParameterError
///     If a parameter is out of its domain.
#[pyclass(frozen, module = "flash_rec._native", name = "ALS")]
pub struct Als {
    params: AlsParams,
    state: Mutex<Option<Fitted>>,
}

impl Als {
    fn with_params(params: AlsParams) -> Result<Self, Failure> {
        params.validate()?;
        Ok(Als { params, state: Mutex::new(None) })
    }

    /// The parameters.
    pub fn params(&self) -> &AlsParams {
        &self.params
    }

    /// The fitted state, or `NotFittedError`.
    pub fn fitted(&self) -> Result<Fitted, Failure> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(Failure::NotFitted)
    }

    /// Replaces the fitted state.
    pub fn set_fitted(&self, fitted: Fitted) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(fitted);
    }
}

fn parse_regularization(text: &str) -> Result<Regularization, Failure> {
    // serde's message lists the variants: "unknown variant `x`, expected one of ...".
    serde_json::from_value(serde_json::Value::String(text.replace('_', "-")))
        .map_err(|e| Failure::Parameter(format!("regularization: {e}")))
}

/// The name of a regularisation, as the command line and the params dict spell it.
fn regularization_name(regularization: Regularization) -> String {
    match serde_json::to_value(regularization) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{regularization:?}"),
    }
}

/// The parameters given to `ALS(...)` or `ALS.seed_formulation(...)`; None keeps the base's.
struct Overrides<'a> {
    factors: Option<usize>,
    epochs: Option<usize>,
    lam: Option<f64>,
    tau: Option<f64>,
    gamma: Option<f64>,
    global_mean: Option<bool>,
    regularization: Option<&'a str>,
    seed: Option<u64>,
    threads: Option<usize>,
    early_stopping: Option<(usize, f64)>,
}

impl Overrides<'_> {
    fn apply(self, base: AlsParams) -> Result<AlsParams, Failure> {
        let regularization = self.regularization.map(parse_regularization).transpose()?;
        let early_stopping =
            self.early_stopping.map(|(patience, min_delta)| EarlyStopping { patience, min_delta });
        Ok(AlsParams {
            factors: self.factors.unwrap_or(base.factors),
            epochs: self.epochs.unwrap_or(base.epochs),
            lambda: self.lam.unwrap_or(base.lambda),
            tau: self.tau.unwrap_or(base.tau),
            gamma: self.gamma.unwrap_or(base.gamma),
            global_mean: self.global_mean.unwrap_or(base.global_mean),
            regularization: regularization.unwrap_or(base.regularization),
            seed: self.seed.unwrap_or(base.seed),
            threads: self.threads.unwrap_or(base.threads),
            early_stopping: early_stopping.or(base.early_stopping),
        })
    }
}

#[pymethods]
impl Als {
    #[new]
    #[pyo3(signature = (
        *, factors=None, epochs=None, lam=None, tau=None, gamma=None, global_mean=None,
        regularization=None, seed=None, threads=None, early_stopping=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        factors: Option<usize>,
        epochs: Option<usize>,
        lam: Option<f64>,
        tau: Option<f64>,
        gamma: Option<f64>,
        global_mean: Option<bool>,
        regularization: Option<&str>,
        seed: Option<u64>,
        threads: Option<usize>,
        early_stopping: Option<(usize, f64)>,
    ) -> PyResult<Self> {
        let overrides = Overrides {
            factors,
            epochs,
            lam,
            tau,
            gamma,
            global_mean,
            regularization,
            seed,
            threads,
            early_stopping,
        };
        Ok(Als::with_params(overrides.apply(AlsParams::default())?)?)
    }

    /// The reference formulation (k 10, lam 0.01, tau 0.1, gamma 0.1, no global mean, fixed
    /// penalties, 20 epochs), as ``flash-rec train --seed-formulation``; keywords override.
    #[staticmethod]
    #[pyo3(signature = (
        *, factors=None, epochs=None, lam=None, tau=None, gamma=None, global_mean=None,
        regularization=None, seed=None, threads=None, early_stopping=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn seed_formulation(
        factors: Option<usize>,
        epochs: Option<usize>,
        lam: Option<f64>,
        tau: Option<f64>,
        gamma: Option<f64>,
        global_mean: Option<bool>,
        regularization: Option<&str>,
        seed: Option<u64>,
        threads: Option<usize>,
        early_stopping: Option<(usize, f64)>,
    ) -> PyResult<Self> {
        let overrides = Overrides {
            factors,
            epochs,
            lam,
            tau,
            gamma,
            global_mean,
            regularization,
            seed,
            threads,
            early_stopping,
        };
        Ok(Als::with_params(overrides.apply(AlsParams::seed_formulation())?)?)
    }

    /// A model with the parameters of a ``params`` dict (as ``ALS.params`` gives, or the
    /// ``params`` of ``flash-rec train --json`` and of a ``tune`` trial).
    #[staticmethod]
    fn from_params(py: Python<'_>, params: &Bound<'_, PyDict>) -> PyResult<Self> {
        let text: String = py.import("json")?.call_method1("dumps", (params,))?.extract()?;
        let params: AlsParams = serde_json::from_str(&text)
            .map_err(|e| Failure::Parameter(format!("not a parameter dict: {e}")))?;
        Ok(Als::with_params(params)?)
    }

    /// Length k of each factor vector.
    #[getter]
    fn factors(&self) -> usize {
        self.params.factors
    }

    /// Number of epochs.
    #[getter]
    fn epochs(&self) -> usize {
        self.params.epochs
    }

    /// Weight of the data term.
    #[getter]
    fn lam(&self) -> f64 {
        self.params.lambda
    }

    /// Weight of the factor penalty.
    #[getter]
    fn tau(&self) -> f64 {
        self.params.tau
    }

    /// Weight of the bias penalty.
    #[getter]
    fn gamma(&self) -> f64 {
        self.params.gamma
    }

    /// Whether predictions include the mean train rating.
    #[getter]
    fn global_mean(&self) -> bool {
        self.params.global_mean
    }

    /// ``"scaled-by-count"``, ``"scaled-factors"`` or ``"fixed"``.
    #[getter]
    fn regularization(&self) -> String {
        regularization_name(self.params.regularization)
    }

    /// Seed of the initial factors.
    #[getter]
    fn seed(&self) -> u64 {
        self.params.seed
    }

    /// Worker threads (0: one per core).
    #[getter]
    fn threads(&self) -> usize {
        self.params.threads
    }

    /// ``(patience, min_delta)``, or None.
    #[getter]
    fn early_stopping(&self) -> Option<(usize, f64)> {
        self.params.early_stopping.map(|s| (s.patience, s.min_delta))
    }

    /// Every parameter as a dict, as ``flash-rec train --json`` prints them (``lambda`` for
    /// ``lam``).
    #[getter(params)]
    fn params_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.params)
    }

    /// Whether the model has been fitted or loaded.
    #[getter]
    fn is_fitted(&self) -> bool {
        self.fitted().is_ok()
    }

    /// Trains on ``dataset``'s train ratings, watching the RMSE on its test ratings.
    ///
    /// Parameters
    /// ----------
    /// dataset : Dataset
    ///     The prepared ratings.
    /// callback : callable, optional
    ///     Called after each epoch with that epoch's dict; returning ``False`` stops training
    ///     and keeps the model of that epoch. An exception it raises stops training and
    ///     propagates, leaving the model as it was.
    /// progress : bool, optional
    ///     Show a tqdm bar (when tqdm is installed). By default, only in a terminal or a
    ///     notebook.
    ///
    /// Returns
    /// -------
    /// list of dict
    ///     One dict per epoch with ``epoch``, ``loss``, ``train_rmse``, ``test_rmse`` and
    ///     ``seconds``, as the ``epochs`` of ``flash-rec train --json``.
    ///
    /// The interpreter is released while training, so other Python threads run meanwhile.
    #[pyo3(signature = (dataset, callback=None, progress=None))]
    fn fit<'py>(
        &self,
        py: Python<'py>,
        dataset: &Bound<'py, Dataset>,
        callback: Option<Py<PyAny>>,
        progress: Option<bool>,
    ) -> PyResult<Bound<'py, PyList>> {
        fitting::fit(self, py, &dataset.get().shared, callback, progress)
    }

    /// The per-epoch dicts of the last fit, or of the loaded model (``seconds`` is then None).
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        fitting::history(py, &self.fitted()?)
    }

    /// Writes the model file (the format of ``flash-rec train --model``), atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let model = self.fitted()?.model;
        py.detach(|| model.save(&path).map_err(Failure::model_file))?;
        Ok(())
    }

    /// The dataset the model was fitted on or loaded with, or None.
    #[getter]
    fn dataset(&self) -> PyResult<Option<Dataset>> {
        Ok(self.fitted()?.dataset.map(|shared| Dataset { shared }))
    }

    /// ``mu``: the mean train rating, or 0 without the global-mean term.
    #[getter]
    fn mu(&self) -> PyResult<f32> {
        Ok(self.fitted()?.model.factors.global_mean)
    }

    /// User vectors, ``(n_users, factors)`` float32, a read-only view without copy.
    #[getter]
    fn user_factors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = self.fitted()?.model;
        let shape = (model.factors.n_users(), model.factors.k);
        view_2d(py, &model, shape, |m| &m.factors.user)
    }

    /// Item vectors, ``(n_items, factors)`` float32, a read-only view without copy.
    #[getter]
    fn item_factors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let model = self.fitted()?.model;
        let shape = (model.factors.n_items(), model.factors.k);
        view_2d(py, &model, shape, |m| &m.factors.item)
    }

    /// User biases, ``(n_users,)`` float32, a read-only view without copy.
    #[getter]
    fn user_bias<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        view_1d(py, &self.fitted()?.model, |m| &m.factors.user_bias)
    }

    /// Item biases, ``(n_items,)`` float32, a read-only view without copy.
    #[getter]
    fn item_bias<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        view_1d(py, &self.fitted()?.model, |m| &m.factors.item_bias)
    }

    /// Original user ids of the factor rows, a read-only int64 view.
    #[getter]
    fn user_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        view_1d(py, &self.fitted()?.model, |m| m.users.ids())
    }

    /// Original item ids of the factor rows, a read-only int64 view.
    #[getter]
    fn item_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        view_1d(py, &self.fitted()?.model, |m| m.items.ids())
    }

    /// Top-k movies for a known user, as ``flash-rec recommend --user``.
    ///
    /// Parameters
    /// ----------
    /// user_id : int
    ///     The original user id.
    /// k : int
    ///     How many movies.
    /// item_bias_weight : float
    ///     Weight of the item bias in the score: 1 ranks by predicted rating, less damps
    ///     popular items.
    /// exclude_seen : bool
    ///     Leave out the user's train movies (needs the model's dataset).
    /// genres, exclude_genres : list of str, optional
    ///     Only movies of one of these genres; never movies of these (MovieLens features).
    /// allow, deny : list of int, optional
    ///     Only these movie ids; never these.
    /// as_frame : bool
    ///     Return a pandas DataFrame (movie_id, score, and title when there are features).
    ///
    /// Returns
    /// -------
    /// (numpy.ndarray, numpy.ndarray)
    ///     Movie ids (int64) and scores (float32), best first.
    #[pyo3(signature = (
        user_id, k=10, *, item_bias_weight=1.0, exclude_seen=true, genres=None,
        exclude_genres=None, allow=None, deny=None, as_frame=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn recommend<'py>(
        &self,
        py: Python<'py>,
        user_id: i64,
        k: usize,
        item_bias_weight: f32,
        exclude_seen: bool,
        genres: Option<Vec<String>>,
        exclude_genres: Option<Vec<String>>,
        allow: Option<Vec<i64>>,
        deny: Option<Vec<i64>>,
        as_frame: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = filter_args(genres, exclude_genres, allow, deny);
        let rule = flash_als::RankingRule { k, item_bias_weight };
        let fitted = self.fitted()?;
        let list = py.detach(|| serve::for_user(&fitted, user_id, exclude_seen, &filter, rule))?;
        serve::list_to_python(py, &fitted, &list, as_frame)
    }

    /// Top-k movies for a new user from a few ratings (folded in, items fixed), as
    /// ``flash-rec recommend --rate MOVIE=RATING``.
    ///
    /// ``ratings`` maps movie ids to ratings (a dict, or ``(movie_id, rating)`` pairs); the
    /// other arguments and the result are those of ``recommend``. The rated movies are never
    /// recommended. Needs no dataset, except for genre filters and titles.
    #[pyo3(signature = (
        ratings, k=10, *, item_bias_weight=1.0, genres=None, exclude_genres=None, allow=None,
        deny=None, as_frame=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn recommend_new<'py>(
        &self,
        py: Python<'py>,
        ratings: &Bound<'py, PyAny>,
        k: usize,
        item_bias_weight: f32,
        genres: Option<Vec<String>>,
        exclude_genres: Option<Vec<String>>,
        allow: Option<Vec<i64>>,
        deny: Option<Vec<i64>>,
        as_frame: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = filter_args(genres, exclude_genres, allow, deny);
        let rule = flash_als::RankingRule { k, item_bias_weight };
        let ratings = serve::rating_pairs(ratings)?;
        let fitted = self.fitted()?;
        let list = py.detach(|| serve::for_new_user(&fitted, &ratings, &filter, rule))?;
        serve::list_to_python(py, &fitted, &list, as_frame)
    }

    /// The k movies most similar to ``movie_id`` (cosine of item factors), as
    /// ``flash-rec similar``; filters and result as in ``recommend`` (scores are cosines).
    ///
    /// Only movies with at least ``min_ratings`` train ratings are candidates: a vector learnt
    /// from a handful of ratings points anywhere. None means 10, as on the command line, when
    /// the model has its dataset, and no minimum otherwise.
    #[pyo3(signature = (
        movie_id, k=10, *, min_ratings=None, genres=None, exclude_genres=None, allow=None,
        deny=None, as_frame=false
    ))]
    #[allow(clippy::too_many_arguments)]
    fn similar<'py>(
        &self,
        py: Python<'py>,
        movie_id: i64,
        k: usize,
        min_ratings: Option<usize>,
        genres: Option<Vec<String>>,
        exclude_genres: Option<Vec<String>>,
        allow: Option<Vec<i64>>,
        deny: Option<Vec<i64>>,
        as_frame: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = filter_args(genres, exclude_genres, allow, deny);
        let fitted = self.fitted()?;
        let list = py.detach(|| serve::similar(&fitted, movie_id, k, min_ratings, &filter))?;
        serve::list_to_python(py, &fitted, &list, as_frame)
    }

    /// Top-k movies for every user, as ``flash-rec recommend-all``, without the interpreter.
    ///
    /// Returns ``(user_ids, ranks, movie_ids, scores)`` arrays with one row per
    /// recommendation (ranks count from 1), or a pandas DataFrame of those columns with
    /// ``as_frame=True``. With ``out``, the table is also written there (CSV, or Parquet when
    /// the name ends in .parquet), byte for byte as ``flash-rec recommend-all --out``.
    /// ``exclude_seen`` needs the model's dataset; filters are those of ``recommend``.
    #[pyo3(signature = (
        k=10, *, item_bias_weight=1.0, exclude_seen=true, genres=None, exclude_genres=None,
        allow=None, deny=None, as_frame=false, out=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn recommend_all<'py>(
        &self,
        py: Python<'py>,
        k: usize,
        item_bias_weight: f32,
        exclude_seen: bool,
        genres: Option<Vec<String>>,
        exclude_genres: Option<Vec<String>>,
        allow: Option<Vec<i64>>,
        deny: Option<Vec<i64>>,
        as_frame: bool,
        out: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let filter = filter_args(genres, exclude_genres, allow, deny);
        let rule = flash_als::RankingRule { k, item_bias_weight };
        let fitted = self.fitted()?;
        let threads = self.params.threads;
        let table = py.detach(|| {
            serve::for_everyone(&fitted, exclude_seen, &filter, rule, threads, out.as_deref())
        })?;
        serve::table_to_python(py, table, as_frame)
    }

    /// Predicted ratings of ``(user_ids[i], movie_ids[i])`` pairs: float32, one per pair.
    ///
    /// Both are array-likes of original ids (or scalars), broadcast against each other.
    /// Raises ``UnknownIdError`` for the first id the model does not know.
    fn predict<'py>(
        &self,
        py: Python<'py>,
        user_ids: &Bound<'py, PyAny>,
        movie_ids: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        serve::predict(py, &self.fitted()?, user_ids, movie_ids)
    }

    /// The metrics of ``flash-rec eval --json`` on ``dataset``'s test ratings, as a dict:
    /// rmse, mae, test_ratings, precision@k, recall@k, ndcg@k, map@k, hit_rate@k,
    /// coverage@k, novelty@k, ranked_users and relevance_threshold.
    ///
    /// Test ratings at or above ``relevance_threshold`` are relevant. Raises
    /// ``DatasetMismatchError`` if ``dataset`` has other users or items than the model. The
    /// interpreter is released while computing.
    #[pyo3(signature = (dataset, k=10, relevance_threshold=4.0))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        dataset: &Bound<'py, Dataset>,
        k: usize,
        relevance_threshold: f32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fitted = self.fitted()?;
        let shared = dataset.get().shared.clone();
        let threads = self.params.threads;
        let report =
            py.detach(|| evaluate::evaluate(&fitted, &shared, k, relevance_threshold, threads))?;
        to_python(py, &report)
    }

    fn __repr__(&self) -> String {
        let p = &self.params;
        let state = match self.fitted() {
            Ok(fitted) => format!(
                ", fitted: {} users x {} items",
                fitted.model.users.len(),
                fitted.model.items.len()
            ),
            Err(_) => String::new(),
        };
        format!(
            "ALS(factors={}, epochs={}, lam={:?}, tau={:?}, gamma={:?}, global_mean={}, \
             regularization='{}', seed={}, threads={}{state})",
            p.factors,
            p.epochs,
            p.lambda,
            p.tau,
            p.gamma,
            if p.global_mean { "True" } else { "False" },
            self.regularization(),
            p.seed,
            p.threads
        )
    }
}

fn filter_args(
    genres: Option<Vec<String>>,
    exclude_genres: Option<Vec<String>>,
    allow: Option<Vec<i64>>,
    deny: Option<Vec<i64>>,
) -> FilterArgs {
    FilterArgs {
        genres: genres.unwrap_or_default(),
        exclude_genres: exclude_genres.unwrap_or_default(),
        allow: allow.unwrap_or_default(),
        deny: deny.unwrap_or_default(),
    }
}

/// Reads a model file (written by ``ALS.save`` or ``flash-rec train``).
///
/// Parameters
/// ----------
/// path : str or os.PathLike
///     The model file.
/// dataset : Dataset, optional
///     The dataset the model was trained on: needed to exclude seen movies and for genre
///     filters and titles. Its users and items must be the model's.
///
/// Raises
/// ------
/// FileNotFoundError
///     If the file is missing.
/// ModelFileError
///     If it is not a model file or is damaged.
/// DatasetMismatchError
///     If ``dataset`` has other users or items than the model.
#[pyfunction]
#[pyo3(signature = (path, dataset=None))]
pub fn load(py: Python<'_>, path: PathBuf, dataset: Option<&Bound<'_, Dataset>>) -> PyResult<Als> {
    let model = py.detach(|| in_pool(0, || Model::load(&path))?.map_err(Failure::model_file))?;
    let dataset = dataset.map(|d| d.get().shared.clone());
    if let Some(shared) = &dataset {
        check_same_ids(&model, shared, &path.display().to_string())?;
    }
    let als = Als::with_params(model.params.clone())?;
    als.set_fitted(Fitted { model: Arc::new(model), dataset, seconds: None });
    Ok(als)
}

/// `DatasetMismatchError` unless `model` was trained on the ids of `dataset`.
pub fn check_same_ids(model: &Model, dataset: &Shared, model_name: &str) -> Result<(), Failure> {
    if model.users != dataset.data.users || model.items != dataset.data.items {
        return Err(Failure::Mismatch(format!(
            "model {model_name} was trained on other data than {} (their users or items differ)",
            dataset.data.dir().display()
        )));
    }
    Ok(())
}
