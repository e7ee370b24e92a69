//! `flash-rec`: prepare ratings, train biased ALS, evaluate and recommend.
//!
//! Exit codes: 0 on success, 1 when the work failed (bad input, damaged file, unknown id;
//! the message says which file, line and value), 2 when the command line itself is wrong.

#![forbid(unsafe_code)]

mod commands;
mod logging;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The fastest explicit-rating ALS recommender.
#[derive(Parser)]
#[command(name = "flash-rec", version, about, propagate_version = true)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read ratings (MovieLens, CSV, TSV, Parquet) into a cache: id maps, split, CSR/CSC.
    Prepare(commands::prepare::Args),
    /// Describe a prepared cache.
    Info(commands::info::Args),
    /// Show a movie's title, genres and tags.
    Features(commands::features::Args),
    /// Write a seeded, MovieLens-shaped synthetic ratings file.
    Synth(commands::synth::Args),
    /// Train biased ALS on a prepared cache.
    Train(commands::train::Args),
    /// Evaluate a model on the cache's test split.
    Eval(commands::eval::Args),
    /// Top-K movies for a user, or for a new user from a few ratings (--rate).
    Recommend(commands::recommend::Args),
    /// Movies most similar to a movie (cosine of item factors).
    Similar(commands::recommend::SimilarArgs),
    /// Top-K for every user, written to CSV or Parquet.
    RecommendAll(commands::recommend_all::Args),
    /// Search lam, tau, gamma and k on a validation split carved from train.
    Tune(commands::tune::Args),
    /// Draw training curves and the item-factor projection as PNG files.
    Plot(commands::plot::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let result = match cli.command {
        Command::Prepare(args) => commands::prepare::run(args),
        Command::Info(args) => commands::info::run(args),
        Command::Features(args) => commands::features::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Plot(args) => commands::plot::run(args),
        Command::Tune(args) => commands::tune::run(args),
        Command::Recommend(args) => commands::recommend::run(args),
        Command::Similar(args) => commands::recommend::run_similar(args),
        Command::RecommendAll(args) => commands::recommend_all::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
