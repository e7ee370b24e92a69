//! The description of a prepared cache that `flash-rec info` prints.

use flash_matrix::Csr;
use serde_json::{json, Map, Value};

use crate::Dataset;

/// The degree percentiles reported (nearest rank).
const PERCENTILES: [(&str, f64); 6] =
    [("min", 0.0), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)];

impl Dataset {
    /// Counts, scale, density and degree percentiles, with stable key names: `users`,
    /// `items`, `train_ratings`, `test_ratings`, `rating_scale`, `density`, `user_degree`,
    /// `item_degree` (each `min`, `p10`, `p50`, `p90`, `p99`, `max`), `duplicates_dropped`,
    /// `test_only_items`, `movies_missing_features`, `has_features`, `sources`.
    pub fn describe(&self) -> Value {
        let manifest = self.manifest();
        let summary = &manifest.summary;
        let scale = manifest.fingerprint.options.scale;
        let cells = summary.users as f64 * summary.items as f64;
        let density = if cells > 0.0 { summary.train_ratings as f64 / cells } else { 0.0 };
        let sources: Vec<String> =
            manifest.fingerprint.sources.iter().map(|s| s.path.display().to_string()).collect();
        json!({
            "users": summary.users,
            "items": summary.items,
            "train_ratings": summary.train_ratings,
            "test_ratings": summary.test_ratings,
            "rating_scale": [scale.min, scale.max],
            "density": density,
            "user_degree": degree_percentiles(&self.train_by_user),
            "item_degree": degree_percentiles(&self.train_by_item),
            "duplicates_dropped": summary.duplicates_dropped,
            "test_only_items": summary.test_only_items,
            "movies_missing_features": summary.movies_missing_features,
            "has_features": summary.has_features,
            "sources": sources,
        })
    }
}

/// Percentiles of the degrees of rows with at least one rating.
fn degree_percentiles(matrix: &Csr) -> Value {
    let mut degrees: Vec<usize> =
        (0..matrix.n_rows()).map(|row| matrix.row_len(row)).filter(|&d| d > 0).collect();
    degrees.sort_unstable();
    let mut out = Map::new();
    for (name, quantile) in PERCENTILES {
        let value = match degrees.len() {
            0 => 0,
            n => degrees[((n - 1) as f64 * quantile).round() as usize],
        };
        out.insert(name.to_string(), value.into());
    }
    out.into()
}

/// The names of the reported percentiles, in order.
pub fn percentile_names() -> impl Iterator<Item = &'static str> {
    PERCENTILES.iter().map(|(name, _)| *name)
}
