//! Movie features from MovieLens' `movies.csv`, `tags.csv` and `links.csv`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::diagnose::scan_lines;
use crate::text::split_fields;
use crate::IngestError;

/// What is known of one movie besides its ratings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MovieFeatures {
    /// The original MovieLens id.
    pub movie_id: i64,
    /// Title with year, as in `movies.csv`.
    pub title: String,
    /// Genres; empty for MovieLens' "(no genres listed)".
    pub genres: Vec<String>,
    /// Distinct user tags, most used first (ties alphabetical).
    pub tags: Vec<String>,
    /// IMDb id from `links.csv`, when present.
    pub imdb_id: Option<i64>,
    /// TMDB id from `links.csv`, when present.
    pub tmdb_id: Option<i64>,
}

/// Features of every movie of `movies.csv`, sorted by id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureTable {
    movies: Vec<MovieFeatures>,
}

impl FeatureTable {
    /// The features of `movie_id`, if `movies.csv` listed it.
    pub fn get(&self, movie_id: i64) -> Option<&MovieFeatures> {
        let index = self.movies.binary_search_by_key(&movie_id, |m| m.movie_id).ok()?;
        Some(&self.movies[index])
    }

    /// Every movie, by ascending id.
    pub fn movies(&self) -> &[MovieFeatures] {
        &self.movies
    }

    /// Reads `movies.csv` and, when they exist beside it, `tags.csv` and `links.csv`.
    pub fn read_movielens(dir: &Path) -> Result<Self, IngestError> {
        let _span = tracing::info_span!("features", dir = %dir.display()).entered();
        let mut tags = read_tags(&dir.join("tags.csv"))?;
        let links = read_links(&dir.join("links.csv"))?;

        let path = dir.join("movies.csv");
        let frame =
            read_strings(&path, &[("movieId", true), ("title", false), ("genres", false)])?;
        let ids = frame[0].i64().map_err(|e| reader_error(&path, e))?;
        let titles = frame[1].str().map_err(|e| reader_error(&path, e))?;
        let genres = frame[2].str().map_err(|e| reader_error(&path, e))?;

        let mut movies = Vec::with_capacity(ids.len());
        for (row, ((id, title), genre_list)) in ids.iter().zip(titles).zip(genres).enumerate() {
            let Some(movie_id) = id else {
                let line = crate::Position::Line(row as u64 + 2);
                return Err(IngestError::bad_value(&path, line, "", "missing movieId"));
            };
            let (imdb_id, tmdb_id) = links.get(&movie_id).copied().unwrap_or((None, None));
            movies.push(MovieFeatures {
                movie_id,
                title: title.unwrap_or_default().to_string(),
                genres: parse_genres(genre_list.unwrap_or_default()),
                tags: tags.remove(&movie_id).map(rank_tags).unwrap_or_default(),
                imdb_id,
                tmdb_id,
            });
        }
        movies.sort_by_key(|m| m.movie_id);
        movies.dedup_by_key(|m| m.movie_id);
        Ok(FeatureTable { movies })
    }
}

fn parse_genres(text: &str) -> Vec<String> {
    if text.is_empty() || text == "(no genres listed)" {
        return Vec::new();
    }
    text.split('|').map(str::to_string).collect()
}

/// Distinct tags, case-insensitively merged (the first spelling wins), most used first.
fn rank_tags(tags: Vec<String>) -> Vec<String> {
    let mut counts: HashMap<String, (usize, String)> = HashMap::new();
    for tag in tags {
        let tag = tag.trim().to_string();
        if tag.is_empty() {
            continue;
        }
        counts.entry(tag.to_lowercase()).or_insert((0, tag)).0 += 1;
    }
    let mut ranked: Vec<(usize, String)> = counts.into_values().collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    ranked.into_iter().map(|(_, tag)| tag).collect()
}

fn read_tags(path: &Path) -> Result<BTreeMap<i64, Vec<String>>, IngestError> {
    let mut by_movie: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    if !path.exists() {
        return Ok(by_movie);
    }
    let frame = read_strings(
        path,
        &[("userId", true), ("movieId", true), ("tag", false), ("timestamp", true)],
    )?;
    let ids = frame[1].i64().map_err(|e| reader_error(path, e))?;
    let tags = frame[2].str().map_err(|e| reader_error(path, e))?;
    for (id, tag) in ids.iter().zip(tags) {
        if let (Some(id), Some(tag)) = (id, tag) {
            by_movie.entry(id).or_default().push(tag.to_string());
        }
    }
    Ok(by_movie)
}

type Links = HashMap<i64, (Option<i64>, Option<i64>)>;

fn read_links(path: &Path) -> Result<Links, IngestError> {
    if !path.exists() {
        return Ok(Links::new());
    }
    let frame = read_strings(path, &[("movieId", true), ("imdbId", true), ("tmdbId", true)])?;
    let column = |index: usize| frame[index].i64().map_err(|e| reader_error(path, e));
    let (ids, imdb, tmdb) = (column(0)?, column(1)?, column(2)?);
    let mut links = Links::new();
    for ((id, imdb), tmdb) in ids.iter().zip(imdb).zip(tmdb) {
        if let Some(id) = id {
            links.insert(id, (imdb, tmdb));
        }
    }
    Ok(links)
}

/// Reads a headed CSV whose header must be exactly `columns` (name, is-integer); integer
/// columns become `Int64`, the rest strings. On failure the file is scanned line by line to
/// name the first bad line.
fn read_strings(path: &Path, columns: &[(&str, bool)]) -> Result<Vec<Column>, IngestError> {
    let header = crate::read::read_first_line(path)?
        .ok_or_else(|| IngestError::layout(path, "the file is empty"))?;
    let names = split_fields(&header, b',');
    let expected: Vec<&str> = columns.iter().map(|c| c.0).collect();
    if names != expected {
        let reason = format!("header must be {}", expected.join(","));
        return Err(IngestError::bad_value(path, crate::Position::Line(1), &header, reason));
    }

    let schema = Schema::from_iter(columns.iter().map(|(name, integer)| {
        let dtype = if *integer { DataType::Int64 } else { DataType::String };
        Field::new((*name).into(), dtype)
    }));
    let result = CsvReadOptions::default()
        .with_has_header(true)
        .with_schema(Some(Arc::new(schema)))
        .with_rechunk(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .and_then(|reader| reader.finish());
    let check_lines = || scan_lines(path, true, |line| check_record(line, columns));
    match result {
        Ok(frame) => {
            // polars fills the missing fields of a short row with nulls; an empty field is a
            // null too. Only then are the lines checked, to refuse a short row by its line.
            if frame.get_columns().iter().any(|column| column.null_count() > 0) {
                check_lines()?;
            }
            Ok(frame.get_columns().to_vec())
        }
        Err(error) => {
            check_lines()?;
            Err(reader_error(path, error))
        }
    }
}

fn check_record(line: &str, columns: &[(&str, bool)]) -> Result<(), (String, String)> {
    let fields = split_fields(line, b',');
    if fields.len() != columns.len() {
        let reason = format!("{} fields, expected {}", fields.len(), columns.len());
        return Err((line.to_string(), reason));
    }
    for (field, (name, integer)) in fields.iter().zip(columns) {
        if *integer && !field.is_empty() && field.trim().parse::<i64>().is_err() {
            return Err((field.clone(), format!("{name} is not a 64-bit integer")));
        }
    }
    Ok(())
}

fn reader_error(path: &Path, error: PolarsError) -> IngestError {
    IngestError::Reader { path: path.to_path_buf(), message: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genres_and_tags_are_cleaned() {
        assert_eq!(parse_genres("Comedy|Drama"), ["Comedy", "Drama"]);
        assert!(parse_genres("(no genres listed)").is_empty());
        let tags = ["funny", "Pixar", "pixar", " dark ", "funny", "pixar"];
        let ranked = rank_tags(tags.iter().map(|s| s.to_string()).collect());
        assert_eq!(ranked, ["Pixar", "funny", "dark"]);
    }
}
