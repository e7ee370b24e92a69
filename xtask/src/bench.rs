//! `cargo xtask bench`: the ALS epoch against the machine's limit, side by side.
//!
//! Builds flash-rec in release mode, measures the peak fp32 FMA rate (see `peak`), prepares
//! the data sets (cached under `target/bench-data`), then times training epochs with the SIMD
//! kernels (`FLASH_ALS_KERNEL=simd`: the widest instruction set; `avx2` and the portable
//! `scalar` build for comparison) and with the plain reference (`plain`), the NumPy reference
//! (`bench/numpy_als.py`, in a venv under `target/bench-venv`), `recommend-all`, and one row
//! update by each candidate implementation (`candidates`: plain, SIMD, faer, ndarray), and writes
//! everything to `docs/benchmarks.md` (and prints it).
//!
//! The floor of an epoch is `2 nnz (k^2 + 2k) + (users + items) (k^3 / 3 + 2 k^2)` flops at
//! the measured peak: the upper triangle of every Gram matrix, the right-hand sides, and a
//! Cholesky solve per row.

mod candidates;
mod peak;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::measure::{cpu_model, median};
use crate::{download, flash, workspace_root};

/// Options of `cargo xtask bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Skip the 33.8M-rating set (about two thirds of the time).
    #[arg(long)]
    pub quick: bool,
    /// Training threads (the peak is measured with as many).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Where to write the report.
    #[arg(long, default_value = "docs/benchmarks.md")]
    pub out: PathBuf,
}

/// A synthetic set: name, users, items, ratings.
const SYNTH_5M: (&str, usize, usize, usize) = ("synth-5m", 32_000, 12_000, 5_000_000);
/// The shape of MovieLens ml-latest (2023).
const SYNTH_33M: (&str, usize, usize, usize) = ("synth-33m", 330_975, 86_537, 33_832_162);

/// A prepared data set.
struct Data {
    name: String,
    cache: PathBuf,
    users: u64,
    items: u64,
    /// Train ratings.
    nnz: u64,
    /// Bytes of the rating matrices training maps (train by user and by item, test).
    rating_bytes: u64,
}

/// What one `flash-rec train` run gave.
struct TrainRun {
    label: String,
    data: String,
    kernel: &'static str,
    k: usize,
    epoch_seconds: Vec<f64>,
    test_rmse: f64,
    peak_rss_bytes: u64,
    /// Flops of the epoch's floor (see the module doc).
    floor_flops: f64,
    memory_budget: u64,
    command: String,
}

impl TrainRun {
    /// The fastest epoch after the first (the only one if there is just one).
    fn best(&self) -> f64 {
        let tail = self.epoch_seconds.iter().skip(1).copied().fold(f64::INFINITY, f64::min);
        if tail.is_finite() {
            tail
        } else {
            self.epoch_seconds.first().copied().unwrap_or(f64::NAN)
        }
    }

    /// The median epoch after the first (which also faults in the mapped data).
    fn seconds(&self) -> f64 {
        let mut tail: Vec<f64> = self.epoch_seconds.iter().skip(1).copied().collect();
        if tail.is_empty() {
            tail = self.epoch_seconds.clone();
        }
        tail.sort_by(f64::total_cmp);
        tail[tail.len() / 2]
    }
}

pub fn run(args: BenchArgs) -> Result<()> {
    let started = Instant::now();
    let busy_before = busy_processes();
    let load_before = machine_load();
    flash::build()?;
    let bench_dir = workspace_root().join("target").join("bench-data");
    std::fs::create_dir_all(&bench_dir)?;

    eprintln!("== peak-FMA probe ({} threads)", args.threads);
    let mut peaks = peak::measure(args.threads);
    let peak = peaks.iter().map(|p| p.all_threads).fold(0.0, f64::max) * 1e9;

    let small = prepare_movielens(&bench_dir)?;
    let synth_5m = prepare_synthetic(&bench_dir, SYNTH_5M)?;
    let synth_33m =
        if args.quick { None } else { Some(prepare_synthetic(&bench_dir, SYNTH_33M)?) };

    let threads = args.threads;
    let mut runs = Vec::new();
    let mut train = |data: &Data, kernel: &'static str, k: usize, epochs: usize, seed: bool| {
        let run = train_run(data, kernel, k, epochs, seed, threads, &bench_dir);
        if let Ok(run) = &run {
            eprintln!(
                "   {:<28} {:>6} {:>9.4} s/epoch  {:>6.2}x floor  test RMSE {:.4}",
                run.label,
                run.kernel,
                run.seconds(),
                run.seconds() / (run.floor_flops / peak),
                run.test_rmse
            );
        }
        run.map(|run| runs.push(run))
    };
    eprintln!("== training");
    // Small-set epochs last milliseconds: many of them, so the median means something.
    for kernel in ["simd", "plain"] {
        train(&small, kernel, 10, 30, true)?;
        train(&small, kernel, 64, 10, false)?;
    }
    for kernel in ["simd", "plain"] {
        for k in [10, 64, 128] {
            let epochs = if kernel == "plain" && k == 128 { 2 } else { 3 };
            train(&synth_5m, kernel, k, epochs, false)?;
        }
    }
    // The other builds of the same SIMD code, for docs/performance.md's comparison (the
    // portable scalar build only on the small set: it is a fallback for tests, not for speed).
    train(&synth_5m, "avx2", 64, 3, false)?;
    train(&small, "avx2", 64, 10, false)?;
    train(&small, "scalar", 64, 10, false)?;
    if let Some(data) = &synth_33m {
        train(data, "simd", 64, 3, false)?;
        train(data, "plain", 64, 2, false)?;
    }

    eprintln!("== row-update candidates (plain, simd, faer, ndarray; one thread)");
    let candidates = candidates::measure()?;

    eprintln!("== Python: NumPy and flash_rec in one process");
    let python = BenchPython::set_up()?;
    eprintln!("== NumPy reference (ml-latest-small, k 10, seed formulation)");
    let numpy = (0..NUMPY_PROCESSES)
        .map(|_| numpy_reference(&python, &small, threads))
        .collect::<Result<Vec<_>>>()?;
    eprintln!("== recommend-all against a NumPy brute force (k 64, top 10)");
    let mut numpy_recommend = vec![recommend_against_numpy(&python, &small, &bench_dir)?];
    if let Some(data) = &synth_33m {
        numpy_recommend.push(recommend_against_numpy(&python, data, &bench_dir)?);
    }

    eprintln!("== recommend-all");
    let mut recommend = Vec::new();
    for kernel in ["simd", "plain"] {
        recommend.push(recommend_all(&synth_5m, kernel, threads, &bench_dir)?);
    }
    if let Some(data) = &synth_33m {
        recommend.push(recommend_all(data, "simd", threads, &bench_dir)?);
    }

    // The probe again: on a shared machine either run may be slowed; the best counts.
    for (before, after) in peaks.iter_mut().zip(peak::measure(args.threads)) {
        before.one_thread = before.one_thread.max(after.one_thread);
        before.all_threads = before.all_threads.max(after.all_threads);
    }
    let busy_after = busy_processes();
    let load_after = machine_load();
    let report = Report {
        peaks: &peaks,
        threads,
        runs: &runs,
        candidates: &candidates,
        numpy: &numpy,
        numpy_recommend: &numpy_recommend,
        recommend: &recommend,
        busy: [busy_before, busy_after].concat(),
        load: [load_before, load_after],
        total_seconds: started.elapsed().as_secs_f64(),
        quick: args.quick,
    }
    .render()?;
    let out = workspace_root().join(&args.out);
    std::fs::write(&out, &report).with_context(|| format!("cannot write {}", out.display()))?;
    println!("{report}");
    eprintln!("== wrote {}", out.display());
    Ok(())
}

/// The load average and the busiest processes now (they make the figures noisy).
fn machine_load() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let ps =
        Command::new("ps").args(["-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"]).output();
    let busiest: Vec<String> = ps
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| l.split_whitespace().next().and_then(|c| c.parse::<f64>().ok()) > Some(5.0))
        .take(4)
        .collect();
    format!("load average {} (busiest: {})", load.join(" "), busiest.join(", "))
}

/// Other builds or benchmarks running now (they make the figures noisy).
fn busy_processes() -> Vec<String> {
    let output = Command::new("pgrep").args(["-a", "-f", "cargo |rustc"]).output();
    let own = std::process::id().to_string();
    output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with(&own) && !line.contains("xtask"))
        .map(|line| line.chars().take(100).collect())
        .collect()
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

fn prepare_movielens(bench_dir: &Path) -> Result<Data> {
    let source = download::data_dir(None).join("ml-latest-small");
    if !source.join("ratings.csv").is_file() {
        bail!("{} has no ratings.csv: run `cargo xtask download` first", source.display());
    }
    let cache = bench_dir.join("ml-latest-small");
    prepare(&cache, &["--movielens".into(), text(&source)])?;
    describe("ml-latest-small", cache)
}

fn prepare_synthetic(
    bench_dir: &Path,
    (name, users, items, ratings): (&str, usize, usize, usize),
) -> Result<Data> {
    let csv = bench_dir.join(format!("{name}.csv"));
    let cache = bench_dir.join(name);
    if !cache.join("train.by_user.bin").is_file() {
        if !csv.is_file() {
            eprintln!("== generating {name} ({ratings} ratings)");
            flash::run(&[
                "synth".into(),
                "--users".into(),
                users.to_string(),
                "--items".into(),
                items.to_string(),
                "--ratings".into(),
                ratings.to_string(),
                "--seed".into(),
                "1".into(),
                "--out".into(),
                text(&csv),
            ])?;
        }
        prepare(&cache, &["--ratings".into(), text(&csv)])?;
        // The cache holds everything; the CSV is only a step.
        std::fs::remove_file(&csv).ok();
    }
    describe(name, cache)
}

fn prepare(cache: &Path, source: &[String]) -> Result<()> {
    if cache.join("train.by_user.bin").is_file() {
        return Ok(());
    }
    eprintln!("== prepare {}", cache.display());
    let mut args = vec!["prepare".to_string()];
    args.extend_from_slice(source);
    args.extend(["--out".into(), text(cache)]);
    flash::run(&args).map(drop)
}

/// Reads the shape from the cache's headers (see crates/matrix/src/container.rs).
fn describe(name: &str, cache: PathBuf) -> Result<Data> {
    let dims = |file: &str| -> Result<([u64; 3], u64)> {
        let path = cache.join(file);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let field =
            |i: usize| u64::from_le_bytes(bytes[16 + 8 * i..24 + 8 * i].try_into().unwrap());
        Ok(([field(0), field(1), field(2)], bytes.len() as u64))
    };
    let ([users, items, nnz], by_user) = dims("train.by_user.bin")?;
    let (_, by_item) = dims("train.by_item.bin")?;
    let (_, test) = dims("test.by_user.bin")?;
    Ok(Data {
        name: name.into(),
        cache,
        users,
        items,
        nnz,
        rating_bytes: by_user + by_item + test,
    })
}

/// Flops of one exact-ALS epoch (see the module doc).
fn floor_flops(data: &Data, k: usize) -> f64 {
    let k = k as f64;
    2.0 * data.nnz as f64 * (k * k + 2.0 * k)
        + (data.users + data.items) as f64 * (k * k * k / 3.0 + 2.0 * k * k)
}

fn train_run(
    data: &Data,
    kernel: &'static str,
    k: usize,
    epochs: usize,
    seed_formulation: bool,
    threads: usize,
    bench_dir: &Path,
) -> Result<TrainRun> {
    let model = bench_dir.join(format!("{}-k{k}-{kernel}.flash", data.name));
    let rss_file = bench_dir.join("rss.txt");
    let mut args = vec![
        "train".to_string(),
        "--data".into(),
        text(&data.cache),
        "--model".into(),
        text(&model),
        "--factors".into(),
        k.to_string(),
        "--epochs".into(),
        epochs.to_string(),
        "--threads".into(),
        threads.to_string(),
        "--json".into(),
    ];
    if seed_formulation {
        args.push("--seed-formulation".into());
    }
    let output = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss_file)
        .arg(flash::binary())
        .args(&args)
        .env("FLASH_ALS_KERNEL", kernel)
        .output()
        .context("cannot run /usr/bin/time flash-rec train")?;
    if !output.status.success() {
        bail!("flash-rec {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let epochs_json = json["epochs"].as_array().context("no epochs in train output")?;
    let epoch_seconds = epochs_json.iter().filter_map(|e| e["seconds"].as_f64()).collect();
    let test_rmse = epochs_json.last().and_then(|e| e["test_rmse"].as_f64()).unwrap_or(f64::NAN);
    let rss_kib: u64 = std::fs::read_to_string(&rss_file)?
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .context("no peak RSS from /usr/bin/time")?;
    let factor_bytes = (data.users + data.items) * (k as u64 + 1) * 4;
    let formulation = if seed_formulation { ", seed formulation" } else { "" };
    Ok(TrainRun {
        label: format!("{} k={k}{formulation}", data.name),
        data: data.name.clone(),
        kernel,
        k,
        epoch_seconds,
        test_rmse,
        peak_rss_bytes: rss_kib * 1024,
        floor_flops: floor_flops(data, k),
        memory_budget: data.rating_bytes + factor_bytes,
        command: format!("FLASH_ALS_KERNEL={kernel} flash-rec {}", args.join(" ")),
    })
}

/// What a script of `bench/` printed, for the data set it ran on.
struct NumpyRun {
    data: String,
    json: serde_json::Value,
    command: String,
}

/// The benchmark's Python: a venv under `target/bench-venv` with numpy, and the `flash_rec`
/// package laid out in `target/python-build` from this build's library (no second compile).
struct BenchPython {
    python: PathBuf,
    package_root: PathBuf,
}

impl BenchPython {
    fn set_up() -> Result<Self> {
        let built = crate::test::python::build_workspace()?;
        let venv = workspace_root().join("target").join("bench-venv");
        let python = venv.join("bin").join("python");
        if !python.is_file() {
            eprintln!("== creating {} with numpy", venv.display());
            let status = Command::new("python3").arg("-m").arg("venv").arg(&venv).status()?;
            if !status.success() {
                bail!("python3 -m venv failed ({status})");
            }
            let status = Command::new(&python)
                .args(["-m", "pip", "install", "--quiet", "numpy", "threadpoolctl"])
                .status()?;
            if !status.success() {
                bail!("pip install numpy failed ({status})");
            }
        }
        let package_root = workspace_root().join("target").join("python-build");
        crate::test::python::lay_out_package(&python, &built.library, &package_root)?;
        Ok(BenchPython { python, package_root })
    }

    /// Runs `bench/SCRIPT ARGS` and parses the JSON it prints. OPENBLAS_CORETYPE and
    /// OPENBLAS_L2_SIZE may be set on this machine for old OpenBLAS builds; they slow a
    /// current numpy, so the scripts run without them.
    fn run_json(&self, script: &str, args: &[String]) -> Result<(serde_json::Value, String)> {
        let output = Command::new(&self.python)
            .arg(workspace_root().join("bench").join(script))
            .args(args)
            .env("PYTHONPATH", &self.package_root)
            .env_remove("OPENBLAS_CORETYPE")
            .env_remove("OPENBLAS_L2_SIZE")
            .output()
            .with_context(|| format!("cannot run bench/{script}"))?;
        if !output.status.success() {
            bail!("bench/{script} failed: {}", String::from_utf8_lossy(&output.stderr));
        }
        let json = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("bench/{script} printed no JSON"))?;
        let command = format!(
            "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE PYTHONPATH=target/python-build \
             python bench/{script} {}",
            args.join(" ")
        );
        Ok((json, command))
    }
}

/// Python processes that each time NumPy's and flash_rec's epochs. The machine is shared,
/// and how fast a process runs varies from one to the next by as much as half: each side
/// keeps its fastest process's median.
const NUMPY_PROCESSES: usize = 3;

/// NumPy's epochs and, in the same Python process, flash_rec's (k 10, seed formulation).
fn numpy_reference(python: &BenchPython, small: &Data, threads: usize) -> Result<NumpyRun> {
    let args = [
        "--data".to_string(),
        text(&small.cache),
        "--factors".into(),
        "10".into(),
        "--epochs".into(),
        "3".into(),
        "--seed-formulation".into(),
        "--flash-rec-epochs".into(),
        "30".into(),
        "--threads".into(),
        threads.to_string(),
    ];
    let (json, command) = python.run_json("numpy_als.py", &args)?;
    Ok(NumpyRun { data: small.name.clone(), json, command })
}

/// recommend-all of the k = 64 model of `data` against a NumPy brute force, in one process.
fn recommend_against_numpy(
    python: &BenchPython,
    data: &Data,
    bench_dir: &Path,
) -> Result<NumpyRun> {
    let model = bench_dir.join(format!("{}-k64-simd.flash", data.name));
    let args = [text(&data.cache), text(&model), "10".into()];
    let (json, command) = python.run_json("recommend_all_numpy.py", &args)?;
    eprintln!(
        "   {:<16} numpy {:.3} s, flash_rec {:.4} s, same lists {:.3}",
        data.name,
        fastest(&json["numpy_seconds"]),
        fastest(&json["flash_rec_seconds"]),
        json["same_lists"].as_f64().unwrap_or(f64::NAN)
    );
    Ok(NumpyRun { data: data.name.clone(), json, command })
}

/// What one `flash-rec recommend-all` gave.
struct RecommendRun {
    data: String,
    kernel: &'static str,
    users: u64,
    items: u64,
    scoring_thread_seconds: f64,
    selection_thread_seconds: f64,
    wall_seconds: f64,
    command: String,
}

fn recommend_all(
    data: &Data,
    kernel: &'static str,
    threads: usize,
    bench_dir: &Path,
) -> Result<RecommendRun> {
    let model = bench_dir.join(format!("{}-k64-simd.flash", data.name));
    let out = bench_dir.join(format!("{}-recommendations.parquet", data.name));
    let args = [
        "recommend-all".to_string(),
        "--data".into(),
        text(&data.cache),
        "--model".into(),
        text(&model),
        "--out".into(),
        text(&out),
        "-v".into(),
    ];
    let output = Command::new(flash::binary())
        .args(&args)
        .env("FLASH_ALS_KERNEL", kernel)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env_remove("RUST_LOG")
        .output()
        .context("cannot run flash-rec recommend-all")?;
    if !output.status.success() {
        bail!("recommend-all failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    std::fs::remove_file(&out).ok();
    let log = strip_ansi(&String::from_utf8_lossy(&output.stderr));
    let line = log
        .lines()
        .find(|l| l.contains("recommend_all phases"))
        .context("recommend-all logged no phase timings")?;
    let field = |name: &str| -> Result<f64> {
        let start = line.find(&format!("{name}=")).with_context(|| format!("no {name}"))?;
        let value: String = line[start + name.len() + 1..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-'))
            .collect();
        value.parse().with_context(|| format!("bad {name} {value:?}"))
    };
    let run = RecommendRun {
        data: data.name.clone(),
        kernel,
        users: data.users,
        items: data.items,
        scoring_thread_seconds: field("scoring_thread_seconds")?,
        selection_thread_seconds: field("selection_thread_seconds")?,
        wall_seconds: field("wall_seconds")?,
        command: format!(
            "FLASH_ALS_KERNEL={kernel} RAYON_NUM_THREADS={threads} flash-rec {}",
            args.join(" ")
        ),
    };
    eprintln!(
        "   {:<12} {:>6} scoring {:.2} thread-s, selection {:.2} thread-s, wall {:.2} s",
        run.data,
        kernel,
        run.scoring_thread_seconds,
        run.selection_thread_seconds,
        run.wall_seconds
    );
    Ok(run)
}

struct Report<'a> {
    peaks: &'a [peak::Peak],
    threads: usize,
    runs: &'a [TrainRun],
    candidates: &'a str,
    numpy: &'a [NumpyRun],
    numpy_recommend: &'a [NumpyRun],
    recommend: &'a [RecommendRun],
    busy: Vec<String>,
    load: [String; 2],
    total_seconds: f64,
    quick: bool,
}

impl Report<'_> {
    fn render(&self) -> Result<String> {
        let peak = self.peaks.iter().map(|p| p.all_threads).fold(0.0, f64::max);
        let thread_peak = self.peaks.iter().map(|p| p.one_thread).fold(0.0, f64::max);
        let mut md = String::new();
        let quick = if self.quick { " --quick" } else { "" };
        writeln!(md, "# Benchmarks")?;
        writeln!(md)?;
        writeln!(
            md,
            "Written by `cargo xtask bench{quick}` ({:.0} s); see docs/performance.md for what \
             the kernels do and how the candidates compare. Do not edit by hand.",
            self.total_seconds
        )?;
        writeln!(md)?;
        writeln!(md, "## Machine")?;
        writeln!(md)?;
        writeln!(md, "- CPU: {} ({} cores online)", cpu_model(), online_cores())?;
        writeln!(md, "- {}", command_version("rustc", &["--version"]))?;
        let commit = command_version("git", &["rev-parse", "--short", "HEAD"]);
        let changes =
            if code_changed_since_commit() { " plus the working tree's changes" } else { "" };
        writeln!(md, "- flash-rec commit {commit}{changes}")?;
        writeln!(
            md,
            "- NumPy {} (Python {}), BLAS {}",
            self.numpy[0].json["numpy"].as_str().unwrap_or("?"),
            self.numpy[0].json["python"].as_str().unwrap_or("?"),
            self.numpy[0].json["blas"]
        )?;
        if self.busy.is_empty() {
            writeln!(md, "- Other builds running at the start or end: none")?;
        } else {
            let busy = self.busy.join("; ");
            writeln!(md, "- **Other builds were running** (figures are noisy): {busy}")?;
        }
        writeln!(md, "- At the start: {}", self.load[0])?;
        writeln!(md, "- At the end: {}", self.load[1])?;
        writeln!(
            md,
            "- The machine is shared (2 vCPUs): a load average above 1 means other processes \
             took CPU time from these runs, and every figure below is then pessimistic."
        )?;
        writeln!(md)?;
        writeln!(md, "## Peak fp32 FMA rate (probe)")?;
        writeln!(md)?;
        let threads = self.threads;
        writeln!(
            md,
            "| instruction set | lanes | 1 thread GFLOP/s | {threads} threads GFLOP/s |"
        )?;
        writeln!(md, "|---|---:|---:|---:|")?;
        for p in self.peaks {
            let (isa, lanes, one, all) = (p.isa, p.lanes, p.one_thread, p.all_threads);
            writeln!(md, "| {isa} | {lanes} | {one:.1} | {all:.1} |")?;
        }
        writeln!(md)?;
        writeln!(
            md,
            "Best of a probe before and after the runs. The floor below uses the best \
             {threads}-thread figure: **{peak:.1} GFLOP/s**."
        )?;
        writeln!(md)?;
        writeln!(md, "## Training epochs ({threads} threads)")?;
        writeln!(md)?;
        writeln!(
            md,
            "Seconds per epoch: the median epoch after the first, and the fastest. Floor: \
             `2 nnz (k^2 + 2k) + (users + items) (k^3/3 + 2k^2)` flops at the peak above; \
             x floor uses the median. Memory: peak RSS over (rating matrices + factors)."
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "| data | kernel | s/epoch | best s/epoch | x floor | vs plain | peak RSS MiB | \
             x (ratings + factors) | test RMSE |"
        )?;
        writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
        for run in self.runs {
            let plain = self
                .runs
                .iter()
                .find(|r| r.kernel == "plain" && r.label == run.label)
                .map_or(f64::NAN, |p| p.seconds() / run.seconds());
            writeln!(
                md,
                "| {} | {} | {:.4} | {:.4} | {:.2} | {:.2}x | {:.0} | {:.2} | {:.4} |",
                run.label,
                run.kernel,
                run.seconds(),
                run.best(),
                run.seconds() / (run.floor_flops / (peak * 1e9)),
                plain,
                run.peak_rss_bytes as f64 / (1 << 20) as f64,
                run.peak_rss_bytes as f64 / run.memory_budget as f64,
                run.test_rmse
            )?;
        }
        writeln!(md)?;
        self.render_candidates(&mut md)?;
        self.render_numpy(&mut md)?;
        self.render_numpy_recommend(&mut md)?;
        writeln!(md, "## recommend-all (k=64, top 10, {threads} threads)")?;
        writeln!(md)?;
        writeln!(
            md,
            "Scoring is `2 users items k` flops; its rate is per thread-second of scoring \
             against the one-thread peak ({thread_peak:.1} GFLOP/s)."
        )?;
        writeln!(md)?;
        writeln!(
            md,
            "| data | kernel | scoring thread-s | scoring GFLOP/s per thread | % of peak | \
             selection thread-s | wall s |"
        )?;
        writeln!(md, "|---|---|---:|---:|---:|---:|---:|")?;
        for run in self.recommend {
            let flops = 2.0 * run.users as f64 * run.items as f64 * 64.0;
            let rate = flops / run.scoring_thread_seconds / 1e9;
            writeln!(
                md,
                "| {} | {} | {:.2} | {:.1} | {:.0}% | {:.2} | {:.2} |",
                run.data,
                run.kernel,
                run.scoring_thread_seconds,
                rate,
                100.0 * rate / thread_peak,
                run.selection_thread_seconds,
                run.wall_seconds
            )?;
        }
        writeln!(md)?;
        writeln!(md, "## Commands")?;
        writeln!(md)?;
        writeln!(md, "```text")?;
        for run in self.runs {
            writeln!(md, "{}", run.command)?;
        }
        writeln!(md, "{}", candidates::COMMAND)?;
        writeln!(md, "{}  # {NUMPY_PROCESSES} times", self.numpy[0].command)?;
        for run in self.numpy_recommend {
            writeln!(md, "{}", run.command)?;
        }
        for run in self.recommend {
            writeln!(md, "{}", run.command)?;
        }
        writeln!(md, "```")?;
        Ok(md)
    }
}

impl Report<'_> {
    /// The dense work of one row update by each candidate.
    fn render_candidates(&self, md: &mut String) -> Result<()> {
        writeln!(md, "## Row-update candidates (one thread)")?;
        writeln!(md)?;
        writeln!(
            md,
            "One primal row update (gather, bias, `lam G + tau I`, right-hand side, solve) of \
             n ratings at k factors, by the trainer's plain and SIMD code and by faer and \
             ndarray products (`flash_als::candidates`); the fastest of 5 rounds. The error is \
             the largest difference from an f64 solve, relative to the solution's largest entry."
        )?;
        writeln!(md)?;
        md.push_str(self.candidates);
        writeln!(md)?;
        Ok(())
    }

    /// Epochs of NumPy and of flash_rec in the same Python process, and of the CLI.
    fn render_numpy(&self, md: &mut String) -> Result<()> {
        // Per process: NumPy's median epoch, flash_rec's median epoch after the first (which
        // also faults in the mapped data), and flash_rec's test RMSE.
        let per_process: Vec<(f64, f64, f64)> = self
            .numpy
            .iter()
            .map(|run| {
                let in_process = &run.json["flash_rec"];
                let epochs = seconds_list(&in_process["epoch_seconds"]);
                (
                    median(seconds_list(&run.json["epoch_seconds"])),
                    median(epochs.iter().skip(1).copied().collect()),
                    in_process["test_rmse"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        let numpy_seconds = per_process.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let in_process_seconds = per_process.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let in_process_rmse = per_process[0].2;
        let numpy_rmse = self.numpy[0].json["test_rmse"].as_f64().unwrap_or(f64::NAN);
        let threads = self.threads;

        writeln!(md, "## Against NumPy (ml-latest-small, k=10, seed formulation)")?;
        writeln!(md)?;
        writeln!(md, "| implementation | s/epoch | test RMSE |")?;
        writeln!(md, "|---|---:|---:|")?;
        writeln!(
            md,
            "| NumPy, a row loop with numpy.linalg.solve (median of 3 epochs, fastest of \
             {NUMPY_PROCESSES} processes) | {numpy_seconds:.4} | {numpy_rmse:.4} |"
        )?;
        writeln!(
            md,
            "| flash_rec in the same Python processes, {threads} threads (median of 29 epochs \
             after the first, fastest of {NUMPY_PROCESSES} processes) | \
             {in_process_seconds:.5} | {in_process_rmse:.4} |"
        )?;
        let cli = self
            .runs
            .iter()
            .find(|r| r.kernel == "simd" && r.data == "ml-latest-small" && r.k == 10);
        if let Some(run) = cli {
            let (median, rmse) = (run.seconds(), run.test_rmse);
            writeln!(md, "| flash-rec (CLI, simd), median epoch | {median:.5} | {rmse:.4} |")?;
        }
        writeln!(md)?;
        writeln!(
            md,
            "flash_rec is **{:.0}x** faster per epoch than NumPy, both timed in the same \
             Python processes (medians, each side's fastest process). NumPy runs with \
             OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset. Its test RMSE differs because it \
             starts from its own random factors and runs 3 epochs (flash_rec 30).",
            numpy_seconds / in_process_seconds
        )?;
        writeln!(md)?;
        let ratios: Vec<String> =
            per_process.iter().map(|p| format!("{:.0}x", p.0 / p.1)).collect();
        writeln!(
            md,
            "Process by process (NumPy s, flash_rec s): {}; ratios {}.",
            per_process
                .iter()
                .map(|p| format!("({:.4}, {:.5})", p.0, p.1))
                .collect::<Vec<_>>()
                .join(", "),
            ratios.join(", ")
        )?;
        writeln!(md)?;
        Ok(())
    }

    /// recommend-all against the NumPy brute force, in one Python process.
    fn render_numpy_recommend(&self, md: &mut String) -> Result<()> {
        writeln!(md, "## recommend-all against NumPy (k=64 models, top 10)")?;
        writeln!(md)?;
        writeln!(
            md,
            "The brute force a NumPy user writes (score matrix, train items masked, argpartition, \
             sort), in blocks of users when the score matrix would not fit in memory, against \
             `flash_rec`'s `recommend_all` in the same process, each the fastest of 3 runs (NumPy \
             runs once on the ml-latest shape, where it takes minutes); same lists is the share \
             of users whose two top-10 sets agree."
        )?;
        writeln!(md)?;
        writeln!(md, "| data | users | items | NumPy s | flash_rec s | speed-up | same lists |")?;
        writeln!(md, "|---|---:|---:|---:|---:|---:|---:|")?;
        for run in self.numpy_recommend {
            let json = &run.json;
            let (numpy, fastest) =
                (fastest(&json["numpy_seconds"]), fastest(&json["flash_rec_seconds"]));
            writeln!(
                md,
                "| {} | {} | {} | {numpy:.3} | {fastest:.4} | **{:.0}x** | {:.3} |",
                run.data,
                json["users"],
                json["items"],
                numpy / fastest,
                json["same_lists"].as_f64().unwrap_or(f64::NAN)
            )?;
        }
        writeln!(md)?;
        Ok(())
    }
}

/// The numbers of a JSON array (an empty list for anything else).
fn seconds_list(value: &serde_json::Value) -> Vec<f64> {
    value.as_array().map_or(Vec::new(), |a| a.iter().filter_map(|x| x.as_f64()).collect())
}

/// The smallest number of a JSON array (infinity when there is none).
fn fastest(value: &serde_json::Value) -> f64 {
    seconds_list(value).into_iter().fold(f64::INFINITY, f64::min)
}

/// The text of a log without its colour escapes (`ESC [ ... m`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn online_cores() -> usize {
    std::thread::available_parallelism().map_or(0, |n| n.get())
}

/// Whether tracked files outside docs/ (where the reports go) differ from the commit.
fn code_changed_since_commit() -> bool {
    let status = ["status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs"];
    Command::new("git")
        .args(status)
        .current_dir(workspace_root())
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(true)
}

fn command_version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| format!("{program}: unavailable"))
}
