//! Concurrent runs on one cache: two `flash-rec prepare` at once both succeed and leave a
//! valid cache, and a reader opening the cache while it is being replaced sees the old cache
//! or the new one, never a mixture of the two.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use flash_ingest::Dataset;

/// Every run of flash-rec here is killed if it lasts longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_flash-rec"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("flash-rec starts")
}

fn finish(mut child: Child) -> Output {
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

#[track_caller]
fn assert_success(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status.code());
}

fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

fn synth(dir: &Path, name: &str, ratings: usize, seed: u64) -> PathBuf {
    let out = dir.join(name);
    let (ratings, seed) = (ratings.to_string(), seed.to_string());
    let args = ["synth", "--users", "5000", "--items", "2000", "--ratings", &ratings];
    let args = [&args[..], &["--seed", &seed, "--out", text(&out)]].concat();
    assert_success(&finish(start(&args)));
    out
}

fn leftovers_of(path: &Path) -> Vec<String> {
    let prefix = format!(".{}.", path.file_name().unwrap().to_string_lossy());
    std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|entry| entry.starts_with(&prefix))
        .collect()
}

#[test]
fn two_prepares_of_one_cache_at_once_both_succeed_and_leave_a_valid_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    for round in 0..3u64 {
        // A new source each round, so that both runs have to build.
        let ratings = synth(dir.path(), &format!("r{round}.csv"), 300_000, round);
        let args = ["prepare", "--ratings", text(&ratings), "--out", text(&cache), "--json"];
        let (a, b) = (start(&args), start(&args));
        let (a, b) = (finish(a), finish(b));
        assert_success(&a);
        assert_success(&b);
        let dataset = Dataset::open(&cache).unwrap();
        assert_eq!(dataset.manifest().fingerprint.sources[0].path, ratings);
        assert_eq!(leftovers_of(&cache), Vec::<String>::new(), "round {round}");
    }

    // Both forced: both rebuild the same cache at the same time.
    let ratings = dir.path().join("r2.csv");
    let args = ["prepare", "--ratings", text(&ratings), "--out", text(&cache), "--force"];
    let (a, b) = (start(&args), start(&args));
    assert_success(&finish(a));
    assert_success(&finish(b));
    Dataset::open(&cache).unwrap();
    assert_eq!(leftovers_of(&cache), Vec::<String>::new());
}

#[test]
fn a_reader_during_a_rebuild_sees_the_old_or_the_new_cache_never_a_mixture() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    // Two sources of different shapes: a mixture of their files cannot pass for either.
    let small = synth(dir.path(), "small.csv", 100_000, 1);
    let large = synth(dir.path(), "large.csv", 400_000, 2);
    let prepare = |source: &Path| {
        start(&["prepare", "--ratings", text(source), "--out", text(&cache), "--force"])
    };
    assert_success(&finish(prepare(&small)));

    let (mut opened, mut refused) = (0, Vec::new());
    for round in 0..6 {
        let source = if round % 2 == 0 { &large } else { &small };
        let mut writer = prepare(source);
        let deadline = Instant::now() + RUN_LIMIT;
        while writer.try_wait().unwrap().is_none() && Instant::now() < deadline {
            match Dataset::open(&cache) {
                Ok(dataset) => {
                    opened += 1;
                    let summary = &dataset.manifest().summary;
                    assert_eq!(dataset.users.len(), summary.users);
                    assert_eq!(dataset.train_by_user.nnz(), summary.train_ratings);
                }
                Err(error) => refused.push(error.to_string()),
            }
        }
        assert_success(&finish(writer));
    }
    assert!(opened > 0, "the reader never opened the cache");
    // A reader may find no cache in the instant between the two renames of a publication;
    // it must never find a damaged or inconsistent one.
    for message in &refused {
        assert!(message.contains("not a prepared cache"), "reader refused: {message}");
    }
}
