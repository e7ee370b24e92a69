//! `cargo xtask test`: the one command that runs every test: the Rust tests of the workspace,
//! the test of the bench's row-update candidates (behind a feature), the fuzz corpus replay,
//! then the Python tests of `crates/python` against the library built by the same cargo run
//! (see [`python`]).

pub(crate) mod python;

use anyhow::{bail, Context, Result};

/// Options of `cargo xtask test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Only the Python tests (the workspace is still built first, as for a full run).
    #[arg(long)]
    pub python_only: bool,
    /// Extra arguments passed to `cargo test` after `--` (a test name filter, say).
    #[arg(trailing_var_arg = true)]
    pub filter: Vec<String>,
}

/// Builds the workspace once in the release profile (the one the tools and benchmarks are
/// built in, so CI compiles polars once), runs its Rust tests, then the Python tests.
pub fn run(args: TestArgs) -> Result<()> {
    // Tests look for MovieLens in $FLASH_DATA_DIR; without it, in the folder that
    // `cargo xtask download` fills, so that download-then-test finds the data. Absolute,
    // because cargo runs each test in its crate's folder.
    let data_dir = std::path::absolute(crate::download::data_dir(None))?;
    std::env::set_var(crate::download::DATA_DIR_VARIABLE, &data_dir);
    eprintln!("== data sets from {}", data_dir.display());

    let built = python::build_workspace()?;
    if !args.python_only {
        let mut cargo = crate::cargo();
        cargo.args(["test", "--release", "--workspace"]);
        if !args.filter.is_empty() {
            cargo.arg("--").args(&args.filter);
        }
        let status = cargo.status().context("cannot start cargo test")?;
        if !status.success() {
            bail!("cargo test failed ({status})");
        }
        test_candidates()?;
        replay_fuzz_corpus()?;
    }
    python::run_tests(&built)
}

/// The row-update candidates that the bench compares (faer and ndarray, behind a feature
/// that only the bench enables) give the f64 answer too.
fn test_candidates() -> Result<()> {
    let status = crate::cargo()
        .args(["test", "--release", "-p", "flash-als", "--features", "candidates", "--lib"])
        .arg("candidates")
        .status()
        .context("cannot start cargo test of the candidates")?;
    if !status.success() {
        bail!("the candidates' test failed ({status})");
    }
    Ok(())
}

/// The fuzz crate is outside the workspace (it is built with instrumentation by cargo-fuzz);
/// its replay test runs the committed corpus and past crashes through the fuzz entry points,
/// uninstrumented (docs/reliability.md).
fn replay_fuzz_corpus() -> Result<()> {
    let manifest = crate::workspace_root().join("fuzz").join("Cargo.toml");
    let status = crate::cargo()
        .args(["test", "--release", "--manifest-path"])
        .arg(&manifest)
        .status()
        .context("cannot start cargo test of the fuzz crate")?;
    if !status.success() {
        bail!("the fuzz corpus replay failed ({status})");
    }
    Ok(())
}
