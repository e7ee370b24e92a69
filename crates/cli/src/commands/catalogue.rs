//! Turning movie ids and genres from the command line into dense indices and filters.

use anyhow::{bail, Result};
use flash_als::ItemFilter;
use flash_ingest::{Dataset, FeatureTable};

/// `--genre`, `--exclude-genre`, `--allow-movie`, `--deny-movie`: which movies may appear.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct FilterFlags {
    /// Only movies of this genre (repeatable: any of them).
    #[arg(long)]
    pub genre: Vec<String>,
    /// Never movies of this genre (repeatable).
    #[arg(long)]
    pub exclude_genre: Vec<String>,
    /// Only these movie ids (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub allow_movie: Vec<i64>,
    /// Never these movie ids (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub deny_movie: Vec<i64>,
}

impl FilterFlags {
    /// The filter these flags describe; unknown movie ids are an error naming the id.
    pub fn build(&self, dataset: &Dataset, features: Option<&FeatureTable>) -> Result<ItemFilter> {
        let n_items = dataset.items.len();
        let genres_needed = !self.genre.is_empty() || !self.exclude_genre.is_empty();
        let features = match features {
            Some(features) => Some(features),
            None if genres_needed => {
                bail!("genre filters need movie features (prepare --movielens)")
            }
            None => None,
        };
        let has_genre = |item: usize, wanted: &[String]| {
            let id = dataset.items.id_of(item as u32);
            features.and_then(|f| f.get(id)).is_some_and(|m| {
                m.genres.iter().any(|g| wanted.iter().any(|w| w.eq_ignore_ascii_case(g)))
            })
        };

        let mut filter = if !self.allow_movie.is_empty() {
            ItemFilter::allow(n_items, dense_items(dataset, &self.allow_movie)?)
        } else if !self.genre.is_empty() {
            ItemFilter::allow(
                n_items,
                (0..n_items).filter(|&i| has_genre(i, &self.genre)).map(|i| i as u32),
            )
        } else {
            ItemFilter::all()
        };
        if !self.deny_movie.is_empty() {
            filter = filter.deny(n_items, dense_items(dataset, &self.deny_movie)?);
        }
        if !self.exclude_genre.is_empty() {
            let excluded =
                (0..n_items).filter(|&i| has_genre(i, &self.exclude_genre)).map(|i| i as u32);
            filter = filter.deny(n_items, excluded);
        }
        Ok(filter)
    }
}

/// Dense index of each movie id, or an error naming the first unknown one.
pub fn dense_items(dataset: &Dataset, movie_ids: &[i64]) -> Result<Vec<u32>> {
    movie_ids.iter().map(|&id| dense_item(dataset, id)).collect()
}

/// Dense index of one movie id, or an error naming it.
pub fn dense_item(dataset: &Dataset, movie_id: i64) -> Result<u32> {
    match dataset.items.index_of(movie_id) {
        Some(index) => Ok(index),
        None => bail!("movie {movie_id} has no ratings in {}", dataset.dir().display()),
    }
}

/// A movie's title, or an empty string without features.
pub fn title(features: Option<&FeatureTable>, movie_id: i64) -> String {
    features.and_then(|f| f.get(movie_id)).map(|m| m.title.clone()).unwrap_or_default()
}
