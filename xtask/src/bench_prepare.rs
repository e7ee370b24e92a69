//! `cargo xtask bench-prepare`: the data layer's speed and memory on an ml-latest-shaped
//! synthetic CSV, against polars alone reading the same file in the same run.
//!
//! Prints and writes `docs/data-layer-benchmarks.md`: prepare time against the polars read
//! time, peak memory against the size of the CSR + CSC files it writes, the time of a
//! `prepare` on an unchanged source, and how fast a cache is verified when opened, against
//! reading the same mapped files and against memory bandwidth (`examples/verify_cache.rs`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::measure::{cpu_model, median};
use crate::{flash, workspace_root};

/// ml-latest's shape: users, items, ratings.
const SHAPE: (usize, usize, usize) = (331_000, 86_500, 33_800_000);

/// Options of `cargo xtask bench-prepare`.
#[derive(clap::Args, Debug)]
pub struct BenchPrepareArgs {
    /// Ratings in the synthetic file (default: ml-latest's 33.8M).
    #[arg(long, default_value_t = SHAPE.2)]
    pub ratings: usize,
    /// Repetitions of each timed step (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

pub fn run(args: BenchPrepareArgs) -> Result<()> {
    build_tools()?;
    let bench_dir = workspace_root().join("target").join("bench-data");
    std::fs::create_dir_all(&bench_dir)?;
    let scale = args.ratings as f64 / SHAPE.2 as f64;
    let users = ((SHAPE.0 as f64 * scale) as usize).max(100);
    let items = ((SHAPE.1 as f64 * scale.sqrt()) as usize).max(100);
    let csv = bench_dir.join(format!("prepare-{}.csv", args.ratings));
    if !csv.is_file() {
        eprintln!("== generating {}", csv.display());
        flash::run(&strings(&[
            "synth",
            "--users",
            &users.to_string(),
            "--items",
            &items.to_string(),
            "--ratings",
            &args.ratings.to_string(),
            "--seed",
            "7",
            "--out",
            &text(&csv),
        ]))?;
    }
    let csv_bytes = std::fs::metadata(&csv)?.len();

    // Polars and prepare take turns, so that both see the machine in the same state: on a
    // shared virtual machine the speed drifts by tens of percent within minutes.
    eprintln!("== polars alone, then prepare (cold cache), {} times", args.repeat);
    let cache = bench_dir.join(format!("prepare-{}.cache", args.ratings));
    let (mut polars_runs, mut prepare_runs, mut peak_kib) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..args.repeat {
        polars_runs.push(polars_read(&csv)?);
        let _ = std::fs::remove_dir_all(&cache);
        let (seconds, peak) = timed_with_peak(&strings(&[
            "prepare",
            "--ratings",
            &text(&csv),
            "--out",
            &text(&cache),
        ]))?;
        prepare_runs.push(seconds);
        peak_kib.extend(peak);
    }
    let pair_ratios: Vec<f64> =
        prepare_runs.iter().zip(&polars_runs).map(|(prepare, polars)| prepare / polars).collect();
    let polars_seconds = median(polars_runs);
    let prepare_seconds = median(prepare_runs);

    eprintln!("== prepare (unchanged source)");
    let unchanged = median(
        (0..5)
            .map(|_| {
                timed_with_peak(&strings(&[
                    "prepare",
                    "--ratings",
                    &text(&csv),
                    "--out",
                    &text(&cache),
                ]))
                .map(|r| r.0)
            })
            .collect::<Result<_>>()?,
    );

    eprintln!("== open and verify, against reading the mapped files (examples/verify_cache)");
    let verify = verify_cache(&cache)?;

    let size = |name: &str| std::fs::metadata(cache.join(name)).map(|m| m.len()).unwrap_or(0);
    let matrices = size("train.by_user.bin") + size("train.by_item.bin");
    let peak = peak_kib.iter().copied().max().map(|kib| kib * 1024);

    let report = render(&Figures {
        ratings: args.ratings,
        users,
        items,
        csv_bytes,
        polars_seconds,
        prepare_seconds,
        pair_ratios,
        unchanged,
        verify,
        matrices,
        peak,
    });
    println!("{report}");
    let path = workspace_root().join("docs").join("data-layer-benchmarks.md");
    let notes = std::fs::read_to_string(&path).map(|old| kept_notes(&old)).unwrap_or_default();
    std::fs::write(&path, report + &notes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("written to {}", path.display());
    Ok(())
}

/// The hand-written part of a report: everything from its first `## ` heading on (the
/// generated part is a title and one table), so that a new run replaces the figures and
/// keeps the notes that explain them.
fn kept_notes(report: &str) -> String {
    match report.find("\n## ") {
        Some(start) => report[start..].to_string(),
        None => String::new(),
    }
}

struct Figures {
    ratings: usize,
    users: usize,
    items: usize,
    csv_bytes: u64,
    polars_seconds: f64,
    prepare_seconds: f64,
    /// Prepare's time over polars' in each pair of runs.
    pair_ratios: Vec<f64>,
    unchanged: f64,
    verify: VerifyFigures,
    matrices: u64,
    peak: Option<u64>,
}

fn render(f: &Figures) -> String {
    let gib = |bytes: u64| bytes as f64 / (1u64 << 30) as f64;
    let peak = match f.peak {
        Some(peak) => format!(
            "{:.2} GiB, {:.2}x the CSR + CSC files (target: 2x)",
            gib(peak),
            peak as f64 / f.matrices as f64
        ),
        None => "not measured (needs GNU time at /usr/bin/time)".into(),
    };
    format!(
        "# Data-layer benchmark\n\n\
         Made by `cargo xtask bench-prepare --ratings {ratings}` on {cpu}, {cores} cores.\n\
         Synthetic MovieLens-shaped CSV: {users} users, {items} items, {ratings} ratings, \
         {csv:.2} GiB.\n\
         Timings are medians of wall-clock runs of the release binaries, page cache warm; \
         polars and prepare run in turns.\n\n\
         | step | figure | target |\n|---|---|---|\n\
         | polars alone reads the CSV (`examples/polars_read.rs`) | {polars:.2} s | baseline |\n\
         | `flash-rec prepare` (read, validate, split, CSR + CSC, write) | \
         {prepare:.2} s = {ratio:.2}x polars ({pairs} in each pair of runs) | <= 1.5x |\n\
         | peak memory of `prepare` | {peak} | <= 2x |\n\
         | `prepare` on an unchanged source (process start included) | {unchanged:.1} ms | \
         < 50 ms |\n\
         | open + verify every checksum and index (`Dataset::open`, in process) | \
         {open:.3} s for {bins:.2} GiB = {speed:.1} GiB/s; reading every byte of the same \
         files freshly mapped: {read:.3} s ({read_speed:.1} GiB/s); summing them once mapped \
         (memory bandwidth): {resident:.3} s ({resident_speed:.1} GiB/s); their checksums \
         alone once mapped, a file per thread: {checksums:.3} s ({checksum_speed:.1} GiB/s) | \
         memory bandwidth |\n",
        ratings = f.ratings,
        cpu = cpu_model(),
        cores = std::thread::available_parallelism().map_or(1, |n| n.get()),
        users = f.users,
        items = f.items,
        csv = gib(f.csv_bytes),
        polars = f.polars_seconds,
        prepare = f.prepare_seconds,
        ratio = f.prepare_seconds / f.polars_seconds,
        pairs = f.pair_ratios.iter().map(|r| format!("{r:.2}x")).collect::<Vec<_>>().join(", "),
        unchanged = f.unchanged * 1000.0,
        open = f.verify.open,
        bins = gib(f.verify.bytes),
        speed = gib(f.verify.bytes) / f.verify.open,
        read = f.verify.read,
        read_speed = gib(f.verify.bytes) / f.verify.read,
        resident = f.verify.resident,
        resident_speed = gib(f.verify.bytes) / f.verify.resident,
        checksums = f.verify.checksums,
        checksum_speed = gib(f.verify.bytes) / f.verify.checksums,
    )
}

fn build_tools() -> Result<()> {
    let status = crate::cargo()
        .args(["build", "--release", "--workspace", "--bins", "--examples", "--quiet"])
        .current_dir(workspace_root())
        .status()?;
    if !status.success() {
        bail!("cargo build failed ({status})");
    }
    Ok(())
}

/// What `examples/verify_cache` measured: medians of its rounds, in seconds.
struct VerifyFigures {
    open: f64,
    read: f64,
    resident: f64,
    checksums: f64,
    bytes: u64,
}

fn verify_cache(cache: &Path) -> Result<VerifyFigures> {
    let stdout = run_example("verify_cache", cache)?;
    let fields: Vec<f64> =
        stdout.split_whitespace().take(5).filter_map(|f| f.parse().ok()).collect();
    let [open, read, resident, bytes, checksums] = fields[..] else {
        bail!("verify_cache printed {stdout:?}");
    };
    Ok(VerifyFigures { open, read, resident, checksums, bytes: bytes as u64 })
}

fn polars_read(csv: &Path) -> Result<f64> {
    let stdout = run_example("polars_read", csv)?;
    stdout
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("polars_read printed no time")
}

/// The standard output of the release example `name` run on `path`, which must succeed.
fn run_example(name: &str, path: &Path) -> Result<String> {
    let example = flash::binary().with_file_name("examples").join(name);
    let output = Command::new(&example)
        .arg(path)
        .output()
        .with_context(|| format!("cannot run {}", example.display()))?;
    if !output.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Wall-clock seconds of `flash-rec ARGS`, and its peak resident memory in KiB when GNU time
/// is available.
fn timed_with_peak(args: &[String]) -> Result<(f64, Option<u64>)> {
    let gnu_time = PathBuf::from("/usr/bin/time");
    let started = Instant::now();
    let output = if gnu_time.is_file() {
        Command::new(&gnu_time)
            .args(["-f", "peak_kib=%M"])
            .arg(flash::binary())
            .args(args)
            .output()?
    } else {
        Command::new(flash::binary()).args(args).output()?
    };
    let seconds = started.elapsed().as_secs_f64();
    if !output.status.success() {
        bail!("flash-rec {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_kib="))
        .and_then(|v| v.trim().parse().ok());
    Ok((seconds, peak))
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::kept_notes;

    #[test]
    fn a_new_report_keeps_the_notes_of_the_old_one() {
        let old = "# Data-layer benchmark\n\n| step | figure |\n|---|---|\n| a | 1 s |\n\n\
                   ## Notes\n\n- why a is 1 s\n";
        assert_eq!(kept_notes(old), "\n## Notes\n\n- why a is 1 s\n");
        assert_eq!(kept_notes("# Data-layer benchmark\n\n| a | 1 s |\n"), "");
    }
}
