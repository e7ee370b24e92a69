//! Project chores run through `cargo xtask`.

pub mod bench;
pub mod bench_prepare;
pub mod download;
mod flash;
pub mod fuzz;
mod measure;
pub mod test;
pub mod train;

use std::path::PathBuf;
use std::process::Command;

/// A `cargo` command: the cargo that runs xtask (`$CARGO`), else the one on the PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(PathBuf::from).unwrap_or(manifest_dir)
}
