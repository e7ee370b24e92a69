//! Writing recommendation lists: CSV, or Parquet when the path ends in `.parquet`.

use std::io::Write;
use std::path::Path;

use flash_matrix::{AtomicFile, IdMap};
use polars::prelude::*;

use crate::{is_parquet, IngestError};

/// Rows `user_id, rank, movie_id, score`, in the given order.
#[derive(Debug, Default)]
pub struct RecommendationTable {
    /// Original user id of each row.
    pub user_ids: Vec<i64>,
    /// 1-based rank within the user's list.
    pub ranks: Vec<u32>,
    /// Original item id.
    pub movie_ids: Vec<i64>,
    /// The ranking score.
    pub scores: Vec<f32>,
}

impl RecommendationTable {
    /// The rows of `lists[user]` (dense `(item, score)` pairs, best first) for every user,
    /// with original ids.
    pub fn from_lists(users: &IdMap, items: &IdMap, lists: &[Vec<(u32, f32)>]) -> Self {
        let mut table = RecommendationTable::default();
        for (user, list) in lists.iter().enumerate() {
            for (rank, &(item, score)) in list.iter().enumerate() {
                table.user_ids.push(users.id_of(user as u32));
                table.ranks.push(rank as u32 + 1);
                table.movie_ids.push(items.id_of(item));
                table.scores.push(score);
            }
        }
        table
    }

    /// Writes the table atomically (CSV with a header, or Parquet by extension).
    pub fn write(&self, path: &Path) -> Result<(), IngestError> {
        let mut file = AtomicFile::create(path)?;
        if is_parquet(path) {
            DataFrame::new(vec![
                Column::new("user_id".into(), &self.user_ids),
                Column::new("rank".into(), &self.ranks),
                Column::new("movie_id".into(), &self.movie_ids),
                Column::new("score".into(), &self.scores),
            ])
            .and_then(|mut frame| ParquetWriter::new(file.writer()).finish(&mut frame))
            .map_err(|e| IngestError::Reader { path: path.into(), message: e.to_string() })?;
        } else {
            let out = file.writer();
            let io = |e: std::io::Error| IngestError::io(path, e);
            out.write_all(b"user_id,rank,movie_id,score\n").map_err(io)?;
            for row in 0..self.user_ids.len() {
                writeln!(
                    out,
                    "{},{},{},{}",
                    self.user_ids[row], self.ranks[row], self.movie_ids[row], self.scores[row]
                )
                .map_err(io)?;
            }
        }
        file.commit()?;
        Ok(())
    }
}
