//! The row-update candidates of docs/performance.md (plain, flash-rec's SIMD kernels, faer,
//! ndarray), timed by `flash-als`'s `candidates` example on one thread.
//!
//! The example is built with the `candidates` feature, which only it needs: faer and ndarray
//! never enter the trainer's build.

use anyhow::{bail, Context, Result};

use crate::workspace_root;

/// How the table was made, for the report's list of commands.
pub const COMMAND: &str =
    "cargo run --release -p flash-als --features candidates --example candidates";

/// Builds and runs the example; returns its Markdown table.
pub fn measure() -> Result<String> {
    let output = crate::cargo()
        .args(["run", "--release", "--quiet", "-p", "flash-als", "--features", "candidates"])
        .args(["--example", "candidates"])
        .current_dir(workspace_root())
        .output()
        .context("cannot start cargo run of the candidates example")?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!("the candidates example failed ({}): {stderr}", output.status);
    }
    String::from_utf8(output.stdout).context("the candidates example printed non-UTF-8")
}
