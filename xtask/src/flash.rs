//! Building and running the `flash-rec` binary from xtask commands.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::workspace_root;

/// Builds `flash-rec` in the release profile (the profile tests use too, so nothing is
/// compiled twice) and returns its path.
pub fn build() -> Result<PathBuf> {
    let status = crate::cargo()
        .args(["build", "--release", "--workspace", "--bins", "--quiet"])
        .current_dir(workspace_root())
        .status()
        .context("cannot start cargo build")?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    Ok(binary())
}

/// Where the release `flash-rec` binary is.
pub fn binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("release").join("flash-rec")
}

/// Runs `flash-rec ARGS`, letting its stderr through, and returns its stdout.
pub fn run(args: &[String]) -> Result<String> {
    let output = Command::new(binary())
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", binary().display()))?;
    if !output.status.success() {
        bail!("flash-rec {} failed ({})", args.join(" "), output.status);
    }
    String::from_utf8(output.stdout).context("flash-rec printed invalid UTF-8")
}

/// Runs `flash-rec ARGS --json` and parses its output.
pub fn run_json(args: &[String]) -> Result<serde_json::Value> {
    let mut args = args.to_vec();
    args.push("--json".into());
    let stdout = run(&args)?;
    serde_json::from_str(&stdout)
        .with_context(|| format!("flash-rec {} printed no JSON", args.join(" ")))
}
