//! `cargo xtask fuzz-smoke`: a short coverage-guided run of every polars-free fuzz target.
//!
//! The targets live in `fuzz/`, a crate outside the workspace (docs/reliability.md). This
//! machine has a stable toolchain only, so cargo-fuzz's `-Z` flags are let through with
//! `RUSTC_BOOTSTRAP=1`; cargo-fuzz itself is installed from crates.io when missing. Each
//! target starts from a scratch copy of its committed corpus, so the run never rewrites
//! `fuzz/corpus/`; a crash is written to `fuzz/artifacts/TARGET/` and fails the command.
//!
//! For longer runs: `cargo xtask fuzz-smoke --seconds 600 --target model`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::workspace_root;

/// The targets that need no polars, so that their instrumented build takes about a minute.
pub const POLARS_FREE_TARGETS: [&str; 5] = ["container", "csr", "idmap", "model", "ratings_lines"];

/// The cargo-fuzz release this command installs when none is present.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Options of `cargo xtask fuzz-smoke`.
#[derive(clap::Args, Debug)]
pub struct FuzzSmokeArgs {
    /// Seconds of fuzzing per target.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Fuzz only these targets (repeatable); default: every polars-free target.
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// libFuzzer's memory limit per target, in MB.
    #[arg(long, default_value_t = 2048)]
    pub rss_limit_mb: u64,
}

/// Builds the targets with instrumentation and fuzzes each for `args.seconds`.
pub fn run(args: FuzzSmokeArgs) -> Result<()> {
    let started = Instant::now();
    let fuzz_dir = workspace_root().join("fuzz");
    ensure_cargo_fuzz()?;
    let targets: Vec<String> = if args.targets.is_empty() {
        POLARS_FREE_TARGETS.iter().map(|t| t.to_string()).collect()
    } else {
        args.targets.clone()
    };

    let build = Instant::now();
    // Without a target name, every target whose features are on: the polars-free ones.
    let named: Vec<Option<&String>> =
        if args.targets.is_empty() { vec![None] } else { targets.iter().map(Some).collect() };
    for target in named {
        let mut command = cargo_fuzz(&fuzz_dir);
        command.args(["build", "--features", "libfuzzer"]).args(target);
        status_of(command, "cargo fuzz build")?;
    }
    println!("fuzz-smoke: instrumented build in {:.0} s", build.elapsed().as_secs_f64());

    let scratch = std::env::temp_dir().join(format!("flash-fuzz-smoke-{}", std::process::id()));
    let mut failed = Vec::new();
    for target in &targets {
        let corpus = scratch.join(target);
        copy_corpus(&fuzz_dir.join("corpus").join(target), &corpus)?;
        let output = cargo_fuzz(&fuzz_dir)
            .args(["run", "--features", "libfuzzer", target])
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={}", args.seconds))
            .arg(format!("-rss_limit_mb={}", args.rss_limit_mb))
            .stdout(Stdio::null())
            .output()
            .context("cannot start cargo fuzz run")?;
        let log = String::from_utf8_lossy(&output.stderr);
        let done = log.lines().rev().find(|line| line.starts_with("Done "));
        let done = done.unwrap_or("no summary");
        println!("fuzz-smoke: {target}: {done}");
        if !output.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            eprintln!("{}", tail.join("\n"));
            failed.push(target.clone());
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("fuzz-smoke: {:.0} s in all", started.elapsed().as_secs_f64());
    if !failed.is_empty() {
        bail!(
            "fuzz targets failed: {}; the inputs are in fuzz/artifacts/ (add each to \
             fuzz/regressions/TARGET/ with a named test once fixed)",
            failed.join(", ")
        );
    }
    Ok(())
}

/// `cargo fuzz` in `fuzz_dir`, with the nightly flags accepted by the stable compiler.
fn cargo_fuzz(fuzz_dir: &Path) -> Command {
    let mut command = crate::cargo();
    command.arg("fuzz").current_dir(fuzz_dir).env("RUSTC_BOOTSTRAP", "1");
    command
}

/// Installs cargo-fuzz from crates.io unless `cargo fuzz` already runs.
fn ensure_cargo_fuzz() -> Result<()> {
    let present = crate::cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if present {
        return Ok(());
    }
    println!("fuzz-smoke: installing cargo-fuzz {CARGO_FUZZ_VERSION}");
    let mut command = crate::cargo();
    command.args(["install", "cargo-fuzz", "--locked", "--version", CARGO_FUZZ_VERSION]);
    status_of(command, "cargo install cargo-fuzz")
}

fn status_of(mut command: Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn copy_corpus(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    let entries = std::fs::read_dir(from)
        .with_context(|| format!("no corpus at {}: run the make_seeds example", from.display()))?;
    for entry in entries {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))
            .with_context(|| format!("cannot copy {}", entry.path().display()))?;
    }
    Ok(())
}
