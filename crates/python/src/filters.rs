//! Catalogue filters from keyword arguments, with the meaning of the command line's
//! `--genre`, `--exclude-genre`, `--allow-movie` and `--deny-movie`.

use flash_als::ItemFilter;
use flash_ingest::{FeatureTable, IdMap};

use crate::dataset::Shared;
use crate::errors::Failure;

/// Which movies may be recommended.
#[derive(Clone, Debug, Default)]
pub struct FilterArgs {
    /// Only movies of one of these genres (ignored when `allow` is given, as on the CLI).
    pub genres: Vec<String>,
    /// Never movies of these genres.
    pub exclude_genres: Vec<String>,
    /// Only these movie ids.
    pub allow: Vec<i64>,
    /// Never these movie ids.
    pub deny: Vec<i64>,
}

impl FilterArgs {
    /// The filter over `items`; genres need the features of `dataset`. Unknown movie ids are
    /// an `UnknownIdError`.
    pub fn build(&self, items: &IdMap, dataset: Option<&Shared>) -> Result<ItemFilter, Failure> {
        let n_items = items.len();
        let features = if self.genres.is_empty() && self.exclude_genres.is_empty() {
            None
        } else {
            match dataset {
                Some(shared) => Some(shared.require_features("a genre filter")?),
                None => {
                    return Err(Failure::MissingFeatures(
                        "a genre filter needs movie features: fit on a MovieLens dataset or \
                         load the model with its dataset"
                            .into(),
                    ))
                }
            }
        };
        let with_genre = |wanted: &[String]| -> Vec<u32> {
            let table = features.as_deref();
            (0..n_items as u32).filter(|&i| has_genre(table, items.id_of(i), wanted)).collect()
        };

        let mut filter = if !self.allow.is_empty() {
            ItemFilter::allow(n_items, dense_items(items, &self.allow)?)
        } else if !self.genres.is_empty() {
            ItemFilter::allow(n_items, with_genre(&self.genres))
        } else {
            ItemFilter::all()
        };
        if !self.deny.is_empty() {
            filter = filter.deny(n_items, dense_items(items, &self.deny)?);
        }
        if !self.exclude_genres.is_empty() {
            filter = filter.deny(n_items, with_genre(&self.exclude_genres));
        }
        Ok(filter)
    }
}

fn has_genre(features: Option<&FeatureTable>, movie_id: i64, wanted: &[String]) -> bool {
    features.and_then(|f| f.get(movie_id)).is_some_and(|movie| {
        movie.genres.iter().any(|genre| wanted.iter().any(|w| w.eq_ignore_ascii_case(genre)))
    })
}

/// Dense index of each movie id, or an `UnknownIdError` for the first unknown one.
pub fn dense_items(items: &IdMap, movie_ids: &[i64]) -> Result<Vec<u32>, Failure> {
    movie_ids.iter().map(|&id| dense_item(items, id)).collect()
}

/// Dense index of one movie id.
pub fn dense_item(items: &IdMap, movie_id: i64) -> Result<u32, Failure> {
    items.index_of(movie_id).ok_or(Failure::UnknownId { kind: "movie", id: movie_id })
}
