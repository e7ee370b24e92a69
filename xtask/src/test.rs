//! `cargo xtask test`: the one command that runs every test.

use std::process::Command;

use anyhow::{bail, Context, Result};

/// Options of `cargo xtask test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Extra arguments passed to `cargo test` after `--` (a test name filter, say).
    #[arg(trailing_var_arg = true)]
    pub filter: Vec<String>,
}

/// Runs the Rust tests of the whole workspace in the release profile (the one the tools and
/// benchmarks are built in, so CI compiles polars once).
pub fn run(args: TestArgs) -> Result<()> {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["test", "--release", "--workspace"]);
    if !args.filter.is_empty() {
        cargo.arg("--").args(&args.filter);
    }
    let status = cargo.status().context("cannot start cargo test")?;
    if !status.success() {
        bail!("cargo test failed ({status})");
    }
    Ok(())
}
