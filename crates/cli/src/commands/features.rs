//! `flash-rec features`.

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use flash_ingest::Dataset;

/// Options of `features`.
#[derive(clap::Args)]
pub struct Args {
    /// The prepared cache.
    #[arg(long)]
    data: PathBuf,
    /// The MovieLens movie id.
    #[arg(long)]
    movie: i64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let dataset = Dataset::open(&args.data)?;
    let features = dataset.features()?.ok_or_else(|| {
        anyhow!("{} has no movie features (not prepared from MovieLens)", args.data.display())
    })?;
    let movie = features
        .get(args.movie)
        .ok_or_else(|| anyhow!("movie {} is not in movies.csv", args.movie))?;
    if args.json {
        super::print_json(&serde_json::to_value(movie)?);
    } else {
        println!("{}  {}", movie.movie_id, movie.title);
        println!("genres: {}", movie.genres.join(", "));
        println!("tags:   {}", movie.tags.join(", "));
    }
    Ok(())
}
