//! `cargo xtask COMMAND`: the project's chores, in Rust so they run wherever cargo does.
//!
//! - `download`: fetch MovieLens into `$FLASH_DATA_DIR` (default `data/`).
//! - `train`: data to a trained model, metrics and plots in `results/<dataset>/`.
//! - `test`: every test of the project (the README's test command and CI's).
//! - `fuzz-smoke`: a short instrumented run of every polars-free fuzz target.
//! - `bench-prepare`: the data layer against polars alone.
//! - `bench`: ALS epochs against the machine's peak, the plain kernels and NumPy.

use anyhow::Result;
use clap::{Parser, Subcommand};
use xtask::{bench, bench_prepare, download, fuzz, test, train};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "flash-rec project chores")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Download a MovieLens data set (checksummed, resumable, extracted atomically).
    Download(download::DownloadArgs),
    /// Run every test: Rust (all crates) and, when its crate exists, Python.
    Test(test::TestArgs),
    /// Download if missing, prepare, train, evaluate and plot into results/<dataset>/.
    Train(train::TrainArgs),
    /// Build the polars-free fuzz targets with instrumentation and fuzz each briefly.
    FuzzSmoke(fuzz::FuzzSmokeArgs),
    /// Benchmarks: epochs vs the peak-FMA floor, plain kernels and NumPy; writes
    /// docs/benchmarks.md.
    Bench(bench::BenchArgs),
    /// The data layer's benchmark: prepare against polars alone on an ml-latest-shaped CSV;
    /// writes docs/data-layer-benchmarks.md.
    BenchPrepare(bench_prepare::BenchPrepareArgs),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    std::env::set_current_dir(xtask::workspace_root())?;
    match cli.command {
        Command::Download(args) => download::run(args),
        Command::Test(args) => test::run(args),
        Command::Train(args) => train::run(args),
        Command::FuzzSmoke(args) => fuzz::run(args),
        Command::Bench(args) => bench::run(args),
        Command::BenchPrepare(args) => bench_prepare::run(args),
    }
}
