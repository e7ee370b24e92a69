//! A seeded, MovieLens-shaped synthetic ratings generator.
//!
//! Shape, after ml-25m: user and item degrees follow power laws (a few users rate thousands
//! of movies, most rate a few dozen; a few movies are rated by a large share of users, most by
//! a handful). Ratings are a global mean plus user and item biases plus a rank-8 signal plus
//! Gaussian noise, rounded to half stars and clipped to 0.5..5.0. The same seed gives the same
//! file on every machine.
//!
//! Memory is bounded by the catalogue, not by the ratings: item factors and popularity tables
//! (O(items)), one degree per user (4 bytes each), and one user's row at a time; rows stream
//! to the output (CSV, or Parquet in batches of a million rows).

use std::io::Write;
use std::path::Path;

use flash_matrix::{AtomicFile, SeededRng};
use polars::prelude::*;

use crate::{is_parquet, IngestError};

const RANK: usize = 8;
const GLOBAL_MEAN: f64 = 3.5;
const USER_BIAS_SD: f64 = 0.35;
const ITEM_BIAS_SD: f64 = 0.45;
const SIGNAL_SD: f64 = 0.6;
const NOISE_SD: f64 = 0.6;
/// Power-law exponents of the degree tails (smaller is heavier).
const USER_DEGREE_EXPONENT: f64 = 1.4;
const ITEM_POPULARITY_EXPONENT: f64 = 2.0;
/// Rank offset of the popularity law: the most popular item gets about 1% of all ratings.
const ITEM_POPULARITY_OFFSET: f64 = 100.0;
const PARQUET_BATCH_ROWS: usize = 1 << 20;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct SynthSpec {
    /// Number of users (each gets at least one rating).
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Total number of ratings.
    pub ratings: usize,
    /// Seed of every draw.
    pub seed: u64,
}

impl SynthSpec {
    fn validate(&self) -> Result<(), IngestError> {
        let fail = |reason: String| Err(IngestError::Options(reason));
        if self.users == 0 || self.items == 0 {
            return fail("synthetic data needs at least one user and one item".into());
        }
        if self.ratings < self.users {
            return fail(format!(
                "{} ratings cannot give each of {} users one",
                self.ratings, self.users
            ));
        }
        let capacity = self.users as u128 * max_degree(self.items) as u128;
        if self.ratings as u128 > capacity {
            return fail(format!(
                "{} ratings exceed what {} users can give {} items (at most {capacity})",
                self.ratings, self.users, self.items
            ));
        }
        Ok(())
    }
}

/// Writes the ratings of `spec` to `out` (CSV with a MovieLens header, or Parquet by
/// extension), atomically. Returns the number of ratings written.
pub fn generate(spec: &SynthSpec, out: &Path) -> Result<usize, IngestError> {
    let _span = tracing::info_span!("synth", ratings = spec.ratings).entered();
    spec.validate()?;
    let degrees = user_degrees(spec);
    let catalogue = Catalogue::new(spec);

    let mut file = AtomicFile::create(out)?;
    let mut sink: Box<dyn RowSink + '_> = if is_parquet(out) {
        Box::new(ParquetSink::new(file.writer()).map_err(|e| polars_error(out, e))?)
    } else {
        Box::new(CsvSink::new(file.writer()).map_err(|e| IngestError::io(out, e))?)
    };

    let mut chosen = Vec::new();
    let mut stamps = vec![u32::MAX; spec.items];
    let mut written = 0usize;
    for (user, &degree) in degrees.iter().enumerate() {
        let mut rng = SeededRng::for_stream(spec.seed, user as u64 + 1);
        let factors: [f64; RANK] = std::array::from_fn(|_| rng.next_normal() * factor_sd());
        let bias = rng.next_normal() * USER_BIAS_SD;
        catalogue.sample_distinct(
            &mut rng,
            degree as usize,
            user as u32,
            &mut stamps,
            &mut chosen,
        );
        for &item in &chosen {
            let rating = catalogue.rating(item, &factors, bias, &mut rng);
            let timestamp = 1_000_000_000 + written as i64;
            sink.push(user as i64 + 1, item as i64 + 1, rating, timestamp)
                .map_err(|e| sink_error(out, e))?;
            written += 1;
        }
    }
    sink.finish().map_err(|e| sink_error(out, e))?;
    drop(sink);
    file.commit()?;
    Ok(written)
}

/// Standard deviation of each factor so that the dot product of two has `SIGNAL_SD`.
fn factor_sd() -> f64 {
    (SIGNAL_SD / (RANK as f64).sqrt()).sqrt()
}

fn max_degree(items: usize) -> usize {
    (items / 3).max(1)
}

/// Power-law degrees, at least 1 and at most a third of the catalogue, summing to `ratings`.
fn user_degrees(spec: &SynthSpec) -> Vec<u32> {
    let mut rng = SeededRng::for_stream(spec.seed, 0);
    let raw: Vec<f64> = (0..spec.users)
        .map(|_| (1.0 - rng.next_f64()).powf(-1.0 / USER_DEGREE_EXPONENT))
        .collect();
    let cap = max_degree(spec.items) as f64;
    let mut scale = spec.ratings as f64 / raw.iter().sum::<f64>();
    let mut degrees = Vec::new();
    for _ in 0..30 {
        degrees = raw.iter().map(|&r| (r * scale).round().clamp(1.0, cap) as u32).collect();
        let total: f64 = degrees.iter().map(|&d| d as f64).sum();
        if (total - spec.ratings as f64).abs() < 1.0 {
            break;
        }
        scale *= spec.ratings as f64 / total;
    }

    // Settle the last few ratings one by one, cycling over users.
    let mut total: i64 = degrees.iter().map(|&d| d as i64).sum();
    let target = spec.ratings as i64;
    let mut user = 0;
    while total != target {
        let degree = &mut degrees[user % spec.users];
        if total < target && (*degree as f64) < cap {
            *degree += 1;
            total += 1;
        } else if total > target && *degree > 1 {
            *degree -= 1;
            total -= 1;
        }
        user += 1;
    }
    degrees
}

/// Items: popularity (an alias table), bias and factors.
struct Catalogue {
    alias: AliasTable,
    bias: Vec<f64>,
    factors: Vec<[f64; RANK]>,
}

impl Catalogue {
    fn new(spec: &SynthSpec) -> Self {
        let mut rng = SeededRng::for_stream(spec.seed, u64::MAX);
        // Popularity by a random rank, so that item ids carry no order.
        let mut ranks: Vec<usize> = (0..spec.items).collect();
        for i in (1..ranks.len()).rev() {
            ranks.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let weights: Vec<f64> = ranks
            .iter()
            .map(|&r| (r as f64 + ITEM_POPULARITY_OFFSET).powf(-ITEM_POPULARITY_EXPONENT))
            .collect();
        let bias = (0..spec.items).map(|_| rng.next_normal() * ITEM_BIAS_SD).collect();
        let factors = (0..spec.items)
            .map(|_| std::array::from_fn(|_| rng.next_normal() * factor_sd()))
            .collect();
        Catalogue { alias: AliasTable::new(&weights), bias, factors }
    }

    /// `count` distinct items by popularity into `chosen`, sorted; `stamps` marks the items
    /// already taken by `user` (reset-free: each user has its own stamp value).
    fn sample_distinct(
        &self,
        rng: &mut SeededRng,
        count: usize,
        user: u32,
        stamps: &mut [u32],
        chosen: &mut Vec<u32>,
    ) {
        chosen.clear();
        let n_items = stamps.len() as u64;
        let mut attempts = 0usize;
        while chosen.len() < count {
            // Heavy users exhaust the popular items; past a budget, draw uniformly instead.
            let item = if attempts < 20 * count {
                self.alias.sample(rng)
            } else {
                rng.below(n_items) as usize
            };
            attempts += 1;
            if stamps[item] != user {
                stamps[item] = user;
                chosen.push(item as u32);
            }
        }
        chosen.sort_unstable();
    }

    fn rating(
        &self,
        item: u32,
        user_factors: &[f64; RANK],
        user_bias: f64,
        rng: &mut SeededRng,
    ) -> f64 {
        let item = item as usize;
        let signal: f64 = user_factors.iter().zip(&self.factors[item]).map(|(a, b)| a * b).sum();
        let value =
            GLOBAL_MEAN + user_bias + self.bias[item] + signal + rng.next_normal() * NOISE_SD;
        ((value * 2.0).round() / 2.0).clamp(0.5, 5.0)
    }
}

/// Walker's alias method: O(1) draws from a fixed discrete distribution.
struct AliasTable {
    probability: Vec<f64>,
    alias: Vec<u32>,
}

impl AliasTable {
    fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias = vec![0u32; n];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..n).partition(|&i| scaled[i] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        for i in small.into_iter().chain(large) {
            scaled[i] = 1.0;
        }
        AliasTable { probability: scaled, alias }
    }

    fn sample(&self, rng: &mut SeededRng) -> usize {
        let column = rng.below(self.probability.len() as u64) as usize;
        if rng.next_f64() < self.probability[column] {
            column
        } else {
            self.alias[column] as usize
        }
    }
}

fn polars_error(path: &Path, error: PolarsError) -> IngestError {
    IngestError::Reader { path: path.to_path_buf(), message: error.to_string() }
}

fn sink_error(path: &Path, error: SinkError) -> IngestError {
    match error {
        SinkError::Io(e) => IngestError::io(path, e),
        SinkError::Polars(e) => polars_error(path, e),
    }
}

enum SinkError {
    Io(std::io::Error),
    Polars(PolarsError),
}

/// Where generated rows go.
trait RowSink {
    fn push(&mut self, user: i64, item: i64, rating: f64, timestamp: i64)
        -> Result<(), SinkError>;
    fn finish(&mut self) -> Result<(), SinkError>;
}

struct CsvSink<W: Write> {
    out: W,
}

impl<W: Write> CsvSink<W> {
    fn new(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"userId,movieId,rating,timestamp\n")?;
        Ok(CsvSink { out })
    }
}

impl<W: Write> RowSink for CsvSink<W> {
    fn push(
        &mut self,
        user: i64,
        item: i64,
        rating: f64,
        timestamp: i64,
    ) -> Result<(), SinkError> {
        writeln!(self.out, "{user},{item},{rating:.1},{timestamp}").map_err(SinkError::Io)
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        self.out.flush().map_err(SinkError::Io)
    }
}

struct ParquetSink<W: Write> {
    writer: polars::io::parquet::write::BatchedWriter<W>,
    columns: (Vec<i64>, Vec<i64>, Vec<f64>, Vec<i64>),
}

impl<W: Write> ParquetSink<W> {
    fn new(out: W) -> PolarsResult<Self> {
        let schema = Schema::from_iter([
            Field::new("userId".into(), DataType::Int64),
            Field::new("movieId".into(), DataType::Int64),
            Field::new("rating".into(), DataType::Float64),
            Field::new("timestamp".into(), DataType::Int64),
        ]);
        let writer = ParquetWriter::new(out).batched(&schema)?;
        Ok(ParquetSink { writer, columns: Default::default() })
    }

    fn flush_batch(&mut self) -> PolarsResult<()> {
        let (users, items, ratings, timestamps) = std::mem::take(&mut self.columns);
        let frame = DataFrame::new(vec![
            Column::new("userId".into(), users),
            Column::new("movieId".into(), items),
            Column::new("rating".into(), ratings),
            Column::new("timestamp".into(), timestamps),
        ])?;
        self.writer.write_batch(&frame)
    }
}

impl<W: Write> RowSink for ParquetSink<W> {
    fn push(
        &mut self,
        user: i64,
        item: i64,
        rating: f64,
        timestamp: i64,
    ) -> Result<(), SinkError> {
        self.columns.0.push(user);
        self.columns.1.push(item);
        self.columns.2.push(rating);
        self.columns.3.push(timestamp);
        if self.columns.0.len() >= PARQUET_BATCH_ROWS {
            self.flush_batch().map_err(SinkError::Polars)?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), SinkError> {
        if !self.columns.0.is_empty() {
            self.flush_batch().map_err(SinkError::Polars)?;
        }
        self.writer.finish().map(|_| ()).map_err(SinkError::Polars)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_hit_the_total_and_are_heavy_tailed() {
        let spec = SynthSpec { users: 2000, items: 3000, ratings: 100_000, seed: 5 };
        let degrees = user_degrees(&spec);
        assert_eq!(degrees.iter().map(|&d| d as usize).sum::<usize>(), spec.ratings);
        let mut sorted = degrees.clone();
        sorted.sort_unstable();
        let median = sorted[sorted.len() / 2] as f64;
        let max = *sorted.last().unwrap() as f64;
        assert!(max > 10.0 * median, "median {median} max {max}");
        assert!(max <= 1000.0);
    }

    #[test]
    fn alias_table_follows_the_weights() {
        let table = AliasTable::new(&[1.0, 3.0, 0.0, 4.0]);
        let mut rng = SeededRng::new(3);
        let mut counts = [0usize; 4];
        for _ in 0..80_000 {
            counts[table.sample(&mut rng)] += 1;
        }
        assert_eq!(counts[2], 0);
        assert!((counts[1] as f64 / counts[0] as f64 - 3.0).abs() < 0.2, "{counts:?}");
        assert!((counts[3] as f64 / counts[0] as f64 - 4.0).abs() < 0.25, "{counts:?}");
    }

    #[test]
    fn impossible_specs_are_refused() {
        let too_many = SynthSpec { users: 2, items: 6, ratings: 100, seed: 1 };
        assert!(too_many.validate().is_err());
        let too_few = SynthSpec { users: 10, items: 6, ratings: 5, seed: 1 };
        assert!(too_few.validate().is_err());
    }
}
