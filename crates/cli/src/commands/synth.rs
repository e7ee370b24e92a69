//! `flash-rec synth`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use flash_ingest::synth::{generate, SynthSpec};

/// Options of `synth`.
#[derive(clap::Args)]
pub struct Args {
    /// Number of users.
    #[arg(long)]
    users: usize,
    /// Number of items.
    #[arg(long)]
    items: usize,
    /// Number of ratings.
    #[arg(long)]
    ratings: usize,
    /// Seed of every draw.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output file: CSV, or Parquet when it ends in .parquet.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let spec =
        SynthSpec { users: args.users, items: args.items, ratings: args.ratings, seed: args.seed };
    let started = Instant::now();
    let written = generate(&spec, &args.out)?;
    println!(
        "{}: {written} ratings of {} users on {} items in {:.1} s",
        args.out.display(),
        spec.users,
        spec.items,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
