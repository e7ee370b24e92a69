//! SIGKILL in the middle of real runs of `flash-rec prepare` and `flash-rec train`: whatever
//! the instant, the artifact is afterwards either the previous one, intact, or absent, never a
//! damaged one; and the next run cleans up what the killed one left behind.
//!
//! Each test times one full run, then kills fresh runs at fractions of that time, so the
//! kills land in reading, splitting, writing and publishing whatever the machine's speed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use flash_als::Model;
use flash_ingest::Dataset;

/// Every run of flash-rec here is killed if it lasts longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Where runs are killed, as fractions of the duration of a full run.
const KILL_POINTS: [f64; 7] = [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95];

fn flash_rec<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flash-rec"));
    command.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    command
}

/// Runs to the end (bounded by [`RUN_LIMIT`]) and returns how long it took.
#[track_caller]
fn run_to_end<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> Duration {
    let started = Instant::now();
    let child = flash_rec(args).spawn().expect("flash-rec starts");
    let output = wait_bounded(child);
    assert!(
        output.status.success(),
        "flash-rec {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

/// Starts a run and SIGKILLs it after `delay` (if it is still running then).
fn run_and_kill<S: AsRef<std::ffi::OsStr>>(args: &[S], delay: Duration) -> bool {
    let mut child = flash_rec(args).spawn().expect("flash-rec starts");
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // Child::kill sends SIGKILL on Unix: no destructor, no cleanup, like a power cut of the
    // process (the page cache survives; see docs/reliability.md for power loss).
    let killed = child.kill().is_ok();
    let _ = child.wait();
    killed
}

fn wait_bounded(mut child: Child) -> std::process::Output {
    let deadline = Instant::now() + RUN_LIMIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("flash-rec ran longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A synthetic ratings file of 1M ratings (a full prepare of it takes about a second).
fn synth(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let out = dir.join(name);
    let seed = seed.to_string();
    run_to_end(&[
        "synth",
        "--users",
        "20000",
        "--items",
        "5000",
        "--ratings",
        "1000000",
        "--seed",
        &seed,
        "--out",
        text(&out),
    ]);
    out
}

fn prepare_args<'a>(source: &'a Path, cache: &'a Path) -> [&'a str; 5] {
    ["prepare", "--ratings", text(source), "--out", text(cache)]
}

/// Hidden `.NAME.tmp-*` / `.NAME.old-*` siblings of `path`.
fn leftovers_of(path: &Path) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let prefix = format!(".{name}.");
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|entry| entry.starts_with(&prefix))
        .collect()
}

/// The source the cache at `cache` was built from, after checking that it opens; `None`
/// when there is no cache.
#[track_caller]
fn intact_cache_source(cache: &Path) -> Option<PathBuf> {
    if !cache.exists() {
        return None;
    }
    let dataset = Dataset::open(cache).unwrap_or_else(|e| panic!("damaged cache after kill: {e}"));
    Some(dataset.manifest().fingerprint.sources[0].path.clone())
}

#[test]
fn prepare_killed_at_any_point_leaves_the_previous_cache_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (synth(dir.path(), "a.csv", 1), synth(dir.path(), "b.csv", 2));
    let cache = dir.path().join("cache");

    // Without any cache yet: a killed run leaves none, or (killed after publishing) a whole one.
    let full = run_to_end(&prepare_args(&first, &cache));
    std::fs::remove_dir_all(&cache).unwrap();
    let mut kills = 0;
    for fraction in KILL_POINTS {
        kills += usize::from(run_and_kill(&prepare_args(&first, &cache), full.mul_f64(fraction)));
        if let Some(source) = intact_cache_source(&cache) {
            assert_eq!(source, first);
            std::fs::remove_dir_all(&cache).unwrap();
        }
    }

    // With a cache of `first` in place, runs building `second` over it are killed: the cache
    // is then the one of `first`, or the one of `second` complete, or (killed between the two
    // renames of the publication) absent. It is never a mixture or a damaged file.
    for fraction in KILL_POINTS {
        run_to_end(&prepare_args(&first, &cache));
        kills += usize::from(run_and_kill(&prepare_args(&second, &cache), full.mul_f64(fraction)));
        if let Some(source) = intact_cache_source(&cache) {
            assert!(source == first || source == second, "{source:?}");
        }
    }
    assert!(kills >= KILL_POINTS.len(), "only {kills} runs were still running when killed");

    // The next run removes what the killed ones left beside the cache and builds it.
    run_to_end(&prepare_args(&second, &cache));
    assert_eq!(intact_cache_source(&cache), Some(second));
    assert_eq!(leftovers_of(&cache), Vec::<String>::new(), "leftovers of killed runs remain");
}

#[test]
fn train_killed_at_any_point_leaves_the_previous_model_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = synth(dir.path(), "r.csv", 3);
    let cache = dir.path().join("cache");
    run_to_end(&["prepare", "--ratings", text(&ratings), "--out", text(&cache)]);
    let model = dir.path().join("m.model");
    let (cache_arg, model_arg) = (text(&cache), text(&model));
    let train = |seed: &'static str| {
        let model = ["train", "--data", cache_arg, "--model", model_arg, "--seed", seed];
        [&model[..], &["--quiet", "--threads", "2", "--factors", "16", "--epochs", "4"]].concat()
    };

    // No model yet: a killed run leaves none, or a whole one.
    let full = run_to_end(&train("1"));
    let first = std::fs::read(&model).unwrap();
    std::fs::remove_file(&model).unwrap();
    let mut kills = 0;
    for fraction in KILL_POINTS {
        kills += usize::from(run_and_kill(&train("1"), full.mul_f64(fraction)));
        if model.exists() {
            Model::load(&model).unwrap_or_else(|e| panic!("damaged model after kill: {e}"));
            assert_eq!(std::fs::read(&model).unwrap(), first);
            std::fs::remove_file(&model).unwrap();
        }
    }

    // A model in place, and runs writing another one killed: the file is the old model or
    // the new one, whole.
    run_to_end(&train("1"));
    for fraction in KILL_POINTS {
        kills += usize::from(run_and_kill(&train("2"), full.mul_f64(fraction)));
        let loaded = Model::load(&model).unwrap_or_else(|e| panic!("damaged model: {e}"));
        let seed = loaded.params.seed;
        assert!(seed == 1 || seed == 2, "seed {seed}");
        if seed == 2 {
            run_to_end(&train("1"));
        }
        assert_eq!(std::fs::read(&model).unwrap(), first);
    }
    assert!(kills >= KILL_POINTS.len(), "only {kills} runs were still running when killed");

    // The next write removes temporary files that killed runs left beside the model.
    run_to_end(&train("2"));
    assert_eq!(Model::load(&model).unwrap().params.seed, 2);
    assert_eq!(leftovers_of(&model), Vec::<String>::new(), "leftovers of killed runs remain");
}
