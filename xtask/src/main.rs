//! `cargo xtask COMMAND`: the project's chores, in Rust so they run wherever cargo does.
//!
//! - `download`: fetch MovieLens into `$FLASH_DATA_DIR` (default `data/`).
//! - `train`: data to a trained model, metrics and plots in `results/<dataset>/`.
//! - `test`: every test of the project (the README's test command and CI's).

use anyhow::Result;
use clap::{Parser, Subcommand};
use xtask::{download, test, train};

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
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    std::env::set_current_dir(xtask::workspace_root())?;
    match cli.command {
        Command::Download(args) => download::run(args),
        Command::Test(args) => test::run(args),
        Command::Train(args) => train::run(args),
    }
}
