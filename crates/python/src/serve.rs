//! Recommendations, similar movies and predictions of a fitted model: the computations of
//! `flash-rec recommend`, `similar` and `recommend-all`, on original ids.

use std::path::Path;

use flash_als::{fold_in, recommend_all, recommend_for_vector, similar_items, RankingRule};
use flash_ingest::RecommendationTable;
use flash_matrix::Csr;
use numpy::PyArray1;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::als::Fitted;
use crate::arrays;
use crate::dataset::Shared;
use crate::errors::Failure;
use crate::filters::{dense_item, FilterArgs};
use crate::threads::in_pool;

/// Dense items and scores, best first.
pub type List = Vec<(u32, f32)>;

/// The dataset of `fitted`, or a `ParameterError` saying that `what` needs it.
fn require_dataset<'a>(fitted: &'a Fitted, what: &str) -> Result<&'a Shared, Failure> {
    fitted.dataset.as_deref().ok_or_else(|| {
        Failure::Parameter(format!(
            "{what} needs the model's dataset: fit it, or flash_rec.load(path, dataset=...)"
        ))
    })
}

/// Top items for the known user `user_id`.
pub fn for_user(
    fitted: &Fitted,
    user_id: i64,
    exclude_seen: bool,
    filter: &FilterArgs,
    rule: RankingRule,
) -> Result<List, Failure> {
    let model = &fitted.model;
    let factors = &model.factors;
    let user =
        model.users.index_of(user_id).ok_or(Failure::UnknownId { kind: "user", id: user_id })?;
    let item_filter = filter.build(&model.items, fitted.dataset.as_deref())?;
    let seen = if exclude_seen {
        require_dataset(fitted, "exclude_seen=True")?.data.train_by_user.row(user as usize).indices
    } else {
        &[]
    };
    let (vector, bias) = (factors.user_vector(user as usize), factors.user_bias[user as usize]);
    Ok(recommend_for_vector(factors, vector, bias, seen, &item_filter, rule))
}

/// `(movie_id, rating)` pairs from a dict (in its order) or an iterable of pairs.
pub fn rating_pairs(ratings: &Bound<'_, PyAny>) -> PyResult<Vec<(i64, f32)>> {
    let pairs = match ratings.cast::<PyDict>() {
        Ok(dict) => dict.items().into_any(),
        Err(_) => ratings.clone(),
    };
    pairs.try_iter()?.map(|pair| pair?.extract::<(i64, f32)>()).collect()
}

/// Top items for a new user folded in from `ratings` (original movie id, rating).
pub fn for_new_user(
    fitted: &Fitted,
    ratings: &[(i64, f32)],
    filter: &FilterArgs,
    rule: RankingRule,
) -> Result<List, Failure> {
    let model = &fitted.model;
    let mut dense = Vec::with_capacity(ratings.len());
    for &(movie_id, rating) in ratings {
        let item = dense_item(&model.items, movie_id)?;
        if !rating.is_finite() {
            return Err(Failure::Parameter(format!(
                "rating {rating} of movie {movie_id} is not finite"
            )));
        }
        if dense.iter().any(|&(i, _)| i == item) {
            return Err(Failure::Parameter(format!("movie {movie_id} is rated twice")));
        }
        dense.push((item, rating));
    }
    let item_filter = filter.build(&model.items, fitted.dataset.as_deref())?;
    let user = fold_in(&model.factors, &model.params, &dense);
    let mut seen: Vec<u32> = dense.iter().map(|&(item, _)| item).collect();
    seen.sort_unstable();
    Ok(recommend_for_vector(&model.factors, &user.vector, user.bias, &seen, &item_filter, rule))
}

/// The `k` items most similar to `movie_id`, among those with at least `min_ratings` train
/// ratings (`None`: 10 when the dataset is known, as `flash-rec similar`, else no minimum).
pub fn similar(
    fitted: &Fitted,
    movie_id: i64,
    k: usize,
    min_ratings: Option<usize>,
    filter: &FilterArgs,
) -> Result<List, Failure> {
    let model = &fitted.model;
    let item = dense_item(&model.items, movie_id)?;
    let mut item_filter = filter.build(&model.items, fitted.dataset.as_deref())?;
    let min_ratings = match (min_ratings, &fitted.dataset) {
        (Some(0), _) | (None, None) => 0,
        (Some(n), _) => n,
        (None, Some(_)) => DEFAULT_MIN_RATINGS,
    };
    if min_ratings > 0 {
        let by_item = &require_dataset(fitted, "min_ratings")?.data.train_by_item;
        let rare = (0..by_item.n_rows()).filter(|&i| by_item.row_len(i) < min_ratings);
        item_filter = item_filter.deny(by_item.n_rows(), rare.map(|i| i as u32));
    }
    Ok(similar_items(&model.factors, item as usize, k, &item_filter))
}

/// `flash-rec similar --min-ratings`' default: a vector learnt from fewer ratings points
/// anywhere, and its cosine means little.
const DEFAULT_MIN_RATINGS: usize = 10;

/// Top items for every user, as the table `flash-rec recommend-all` writes (and written to
/// `out` when given).
pub fn for_everyone(
    fitted: &Fitted,
    exclude_seen: bool,
    filter: &FilterArgs,
    rule: RankingRule,
    threads: usize,
    out: Option<&Path>,
) -> Result<RecommendationTable, Failure> {
    let model = &fitted.model;
    let (n_users, n_items) = (model.users.len(), model.items.len());
    let item_filter = filter.build(&model.items, fitted.dataset.as_deref())?;
    let nothing_seen;
    let seen = if exclude_seen {
        &require_dataset(fitted, "exclude_seen=True")?.data.train_by_user
    } else {
        nothing_seen = Csr::from_parts(n_users, n_items, vec![0; n_users + 1], vec![], vec![])
            .map_err(Failure::Parameter)?;
        &nothing_seen
    };
    let lists = in_pool(threads, || recommend_all(&model.factors, seen, &item_filter, rule))?;

    let table = RecommendationTable::from_lists(&model.users, &model.items, &lists);
    if let Some(out) = out {
        table.write(out).map_err(Failure::ingest)?;
    }
    Ok(table)
}

/// Predicted ratings of the pairs `(user_ids[i], movie_ids[i])` after broadcasting.
pub fn predict<'py>(
    py: Python<'py>,
    fitted: &Fitted,
    user_ids: &Bound<'py, PyAny>,
    movie_ids: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let pairs = py.import("flash_rec._convert")?.call_method1("pairs", (user_ids, movie_ids))?;
    let (users, items): (Bound<'py, PyAny>, Bound<'py, PyAny>) = pairs.extract()?;
    let users = arrays::ids(py, &users, "user id", "user_ids")?;
    let items = arrays::ids(py, &items, "movie id", "movie_ids")?;
    let model = &fitted.model;
    let predictions = py.detach(|| -> Result<Vec<f32>, Failure> {
        users
            .iter()
            .zip(&items)
            .map(|(&user_id, &movie_id)| {
                let user = model.users.index_of(user_id);
                let user = user.ok_or(Failure::UnknownId { kind: "user", id: user_id })?;
                let item = dense_item(&model.items, movie_id)?;
                Ok(model.factors.predict(user as usize, item as usize))
            })
            .collect()
    })?;
    Ok(PyArray1::from_vec(py, predictions))
}

/// `(movie_ids, scores)`, or a DataFrame with titles when the dataset has features.
pub fn list_to_python<'py>(
    py: Python<'py>,
    fitted: &Fitted,
    list: &List,
    as_frame: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let items = &fitted.model.items;
    let movie_ids: Vec<i64> = list.iter().map(|&(item, _)| items.id_of(item)).collect();
    let scores: Vec<f32> = list.iter().map(|&(_, score)| score).collect();
    let titles = match (as_frame, &fitted.dataset) {
        (true, Some(shared)) => shared.features()?.map(|table| {
            let title = |id: &i64| table.get(*id).map(|m| m.title.clone()).unwrap_or_default();
            movie_ids.iter().map(title).collect::<Vec<String>>()
        }),
        _ => None,
    };
    let movie_ids = PyArray1::from_vec(py, movie_ids).into_any();
    let scores = PyArray1::from_vec(py, scores).into_any();
    if !as_frame {
        return Ok(PyTuple::new(py, [movie_ids, scores])?.into_any());
    }
    let columns = PyDict::new(py);
    columns.set_item("movie_id", movie_ids)?;
    columns.set_item("score", scores)?;
    if let Some(titles) = titles {
        columns.set_item("title", titles)?;
    }
    data_frame(py, columns)
}

/// `(user_ids, ranks, movie_ids, scores)`, or a DataFrame of those columns.
pub fn table_to_python(
    py: Python<'_>,
    table: RecommendationTable,
    as_frame: bool,
) -> PyResult<Bound<'_, PyAny>> {
    let columns = [
        ("user_id", PyArray1::from_vec(py, table.user_ids).into_any()),
        ("rank", PyArray1::from_vec(py, table.ranks).into_any()),
        ("movie_id", PyArray1::from_vec(py, table.movie_ids).into_any()),
        ("score", PyArray1::from_vec(py, table.scores).into_any()),
    ];
    if !as_frame {
        return Ok(PyTuple::new(py, columns.map(|(_, array)| array))?.into_any());
    }
    let frame = PyDict::new(py);
    for (name, array) in columns {
        frame.set_item(name, array)?;
    }
    data_frame(py, frame)
}

/// `pandas.DataFrame(columns)`; an ImportError that says why pandas is needed otherwise.
fn data_frame<'py>(py: Python<'py>, columns: Bound<'py, PyDict>) -> PyResult<Bound<'py, PyAny>> {
    let pandas = py.import("pandas").map_err(|_| {
        pyo3::exceptions::PyImportError::new_err("as_frame=True needs pandas (pip install pandas)")
    })?;
    pandas.getattr("DataFrame")?.call1((columns,))
}
