//! The Python half of `cargo xtask test`.
//!
//! 1. [`build_workspace`]: `cargo test --release --workspace --no-run` compiles every test and
//!    the `flash-rec` binary; then `cargo build --release --workspace --lib --examples` adds
//!    the `flash_python` cdylib, which `cargo test` does not build. Asking for examples makes
//!    cargo unify the dev-dependencies' features as `cargo test` does (a plain `cargo build`
//!    would not, and would compile polars a second time), so that step finds everything but
//!    the bindings fresh; it warns if polars was compiled again. Cargo's JSON messages give the
//!    artifacts' paths.
//! 2. [`run_tests`]: a venv in `target/python-venv` with the packages of
//!    `crates/python/tests/requirements.txt` (installed again only when that file changes),
//!    the package laid out in `target/python-build/flash_rec` (the Python sources and the
//!    library as `_native<EXT_SUFFIX>`, no second compile), then pytest on
//!    `crates/python/tests` with `FLASH_REC_BIN` naming the binary for the CLI comparisons.
//!    pytest's exit code 5 (no test collected) is a failure.
//!
//! `pip install ./crates/python` (maturin) is the users' way; see `crates/python/README.md`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::workspace_root;

/// What the workspace build produced that the Python tests need.
#[derive(Debug)]
pub struct Built {
    /// The bindings, `libflash_python.so` (or `.dylib`).
    pub library: PathBuf,
    /// The `flash-rec` binary.
    pub cli: PathBuf,
}

/// Builds every test, binary and library of the workspace with the features of
/// `cargo test --release --workspace`, and finds the artifacts.
pub fn build_workspace() -> Result<Built> {
    let tests = cargo_artifacts(&["test", "--release", "--workspace", "--no-run"])?;
    let cli = tests
        .iter()
        .find(|a| a.name == "flash-rec" && a.kinds.iter().any(|k| k == "bin") && !a.test)
        .and_then(|a| a.executable.clone())
        .context("cargo built no flash-rec binary")?;
    let libraries =
        cargo_artifacts(&["build", "--release", "--workspace", "--lib", "--examples"])?;
    let recompiled: Vec<&str> = libraries
        .iter()
        .filter(|a| a.name.starts_with("polars") && !a.fresh)
        .map(|a| a.name.as_str())
        .collect();
    if !recompiled.is_empty() {
        eprintln!("warning: the library build compiled {recompiled:?} again: its features differ");
    }
    let library = libraries
        .iter()
        .find(|a| a.name == "flash_python" && a.kinds.iter().any(|k| k == "cdylib"))
        .and_then(|a| a.filenames.first().cloned())
        .context("cargo built no flash_python library")?;
    Ok(Built { library, cli })
}

/// One `compiler-artifact` message of cargo.
struct Artifact {
    name: String,
    kinds: Vec<String>,
    test: bool,
    fresh: bool,
    filenames: Vec<PathBuf>,
    executable: Option<PathBuf>,
}

/// Runs `cargo ARGS --message-format=json-render-diagnostics` (diagnostics still go to the
/// terminal) and returns the artifacts it reports.
fn cargo_artifacts(args: &[&str]) -> Result<Vec<Artifact>> {
    let mut child = crate::cargo()
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start cargo {}", args.join(" ")))?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    let mut artifacts = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's messages")?;
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let strings = |value: &serde_json::Value| -> Vec<String> {
            let items = value.as_array().map(Vec::as_slice).unwrap_or_default();
            items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
        };
        artifacts.push(Artifact {
            name: message["target"]["name"].as_str().unwrap_or_default().to_string(),
            kinds: strings(&message["target"]["kind"]),
            test: message["profile"]["test"] == true,
            fresh: message["fresh"] == true,
            filenames: strings(&message["filenames"]).into_iter().map(PathBuf::from).collect(),
            executable: message["executable"].as_str().map(PathBuf::from),
        });
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(artifacts)
}

/// Sets up the venv and the package, and runs pytest.
pub fn run_tests(built: &Built) -> Result<()> {
    let root = workspace_root();
    let python = venv(&root.join("target").join("python-venv"))?;
    let package_root = root.join("target").join("python-build");
    lay_out_package(&python, &built.library, &package_root)?;

    eprintln!("== pytest crates/python/tests");
    let status = Command::new(&python)
        .args(["-m", "pytest", "crates/python/tests", "-ra", "-p", "no:cacheprovider"])
        .env("PYTHONPATH", &package_root)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("FLASH_REC_BIN", &built.cli)
        .current_dir(&root)
        .status()
        .context("cannot start pytest")?;
    match status.code() {
        Some(0) => Ok(()),
        Some(5) => bail!("pytest collected no test in crates/python/tests"),
        _ => bail!("the Python tests failed ({status})"),
    }
}

/// The venv's python, after creating the venv and installing the test requirements if they
/// are not there yet (or changed).
fn venv(dir: &Path) -> Result<PathBuf> {
    let python = dir.join("bin").join("python");
    let requirements = workspace_root().join("crates/python/tests/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("cannot read {}", requirements.display()))?;
    let marker = dir.join("flash-requirements.txt");
    if python.exists() && std::fs::read_to_string(&marker).ok().as_deref() == Some(&wanted) {
        return Ok(python);
    }
    if !python.exists() {
        eprintln!("== creating {}", dir.display());
        run(Command::new("python3").args(["-m", "venv"]).arg(dir), "python3 -m venv")?;
    }
    eprintln!("== installing {}", requirements.display());
    let mut pip = Command::new(&python);
    pip.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]);
    run(pip.arg(&requirements), "pip install")?;
    std::fs::write(&marker, wanted)
        .with_context(|| format!("cannot write {}", marker.display()))?;
    Ok(python)
}

/// `out/flash_rec/`: the Python sources, and the library under the name CPython imports.
pub(crate) fn lay_out_package(python: &Path, library: &Path, out: &Path) -> Result<()> {
    let sources = workspace_root().join("crates/python/python/flash_rec");
    let package = out.join("flash_rec");
    if out.exists() {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot clear {}", out.display()))?;
    }
    std::fs::create_dir_all(&package)?;
    for entry in std::fs::read_dir(&sources)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), package.join(entry.file_name()))?;
        }
    }
    let output = Command::new(python)
        .args(["-c", "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))"])
        .output()
        .context("cannot ask python for its extension suffix")?;
    let suffix = String::from_utf8(output.stdout)?.trim().to_string();
    if !output.status.success() || suffix.is_empty() {
        bail!("python gave no extension suffix");
    }
    let target = package.join(format!("_native{suffix}"));
    std::fs::copy(library, &target)
        .with_context(|| format!("cannot copy {} to {}", library.display(), target.display()))?;
    Ok(())
}

fn run(command: &mut Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
