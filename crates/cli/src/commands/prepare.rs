//! `flash-rec prepare`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use flash_ingest::{
    prepare, rebuild, DuplicatePolicy, PrepareRequest, RatingScale, ReadOptions, Source,
    SplitOptions,
};

/// Options of `prepare`.
#[derive(clap::Args)]
pub struct Args {
    /// A MovieLens directory (ratings.csv, movies.csv, optional tags.csv and links.csv).
    #[arg(long, conflicts_with_all = ["ratings", "test"], required_unless_present = "ratings")]
    movielens: Option<PathBuf>,
    /// Any ratings file: CSV or TSV (header or positional) or Parquet (by extension).
    #[arg(long)]
    ratings: Option<PathBuf>,
    /// A test file whose split is used as is (for example MovieLens 100k's u1.test).
    #[arg(long, requires = "ratings")]
    test: Option<PathBuf>,
    /// The cache directory to write.
    #[arg(long)]
    out: PathBuf,
    /// Share of each user's ratings held out for test.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Seed of the split.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Field separator of a text ratings file (one character, or "tab"); guessed if absent.
    #[arg(long)]
    sep: Option<String>,
    /// The ratings file has no header: columns are user, item, rating[, timestamp].
    #[arg(long)]
    no_header: bool,
    /// The rating scale as MIN,MAX (MovieLens: 0.5,5).
    #[arg(long, default_value = "0.5,5")]
    scale: String,
    /// What to do with a (user, item) pair rated twice.
    #[arg(long, value_enum, default_value_t = OnDuplicate::KeepLatest)]
    on_duplicate: OnDuplicate,
    /// Rebuild the cache even if it looks up to date (the quick check reads only each
    /// file's header; use this when a later command reports a damaged cache file).
    #[arg(long)]
    force: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnDuplicate {
    /// Keep the latest rating (by timestamp, then line) and report how many were dropped.
    KeepLatest,
    /// Refuse the file, naming both lines.
    Error,
}

pub fn run(args: Args) -> Result<()> {
    let source = match (args.movielens, args.ratings) {
        (Some(dir), _) => Source::MovieLens(dir),
        (None, Some(ratings)) => Source::Ratings { ratings, test: args.test },
        (None, None) => bail!("give --movielens DIR or --ratings FILE"),
    };
    let scale = RatingScale::parse(&args.scale).map_err(anyhow::Error::msg)?;
    let separator = args.sep.as_deref().map(parse_separator).transpose()?;
    let request = PrepareRequest {
        source,
        out: args.out.clone(),
        read: ReadOptions { separator, has_header: !args.no_header, scale },
        split: SplitOptions { test_fraction: args.test_fraction, seed: args.seed },
        on_duplicate: match args.on_duplicate {
            OnDuplicate::KeepLatest => DuplicatePolicy::KeepLatest,
            OnDuplicate::Error => DuplicatePolicy::Error,
        },
    };

    let outcome = if args.force { rebuild(&request)? } else { prepare(&request)? };
    let summary = &outcome.manifest.summary;
    if args.json {
        let mut value = serde_json::to_value(summary)?;
        value["cache"] = args.out.display().to_string().into();
        value["rebuilt"] = outcome.rebuilt.into();
        value["rebuild_reason"] = outcome.rebuild_reason.clone().into();
        super::print_json(&value);
        return Ok(());
    }
    if let Some(reason) = &outcome.rebuild_reason {
        println!("{}: rebuilt: {reason}", args.out.display());
    }
    let state = if outcome.rebuilt { "prepared" } else { "up to date" };
    println!(
        "{}: {state}: {} users, {} items, {} train and {} test ratings",
        args.out.display(),
        summary.users,
        summary.items,
        summary.train_ratings,
        summary.test_ratings
    );
    if summary.duplicates_dropped > 0 {
        println!("{} duplicate ratings dropped (latest kept)", summary.duplicates_dropped);
    }
    if summary.movies_missing_features > 0 {
        println!("{} rated movies are missing from movies.csv", summary.movies_missing_features);
    }
    if summary.test_only_items > 0 {
        println!(
            "{} items are rated only in test; their predictions use the biases alone",
            summary.test_only_items
        );
    }
    Ok(())
}

fn parse_separator(text: &str) -> Result<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 => Ok(text.as_bytes()[0]),
        _ => bail!("separator '{text}' must be one ASCII character or 'tab'"),
    }
}
