//! A cache whose bytes were damaged or whose source changed is noticed: `prepare`'s quick
//! check rebuilds it and says why, or `Dataset::open` refuses it naming the file and how to
//! rebuild it; `rebuild` (`prepare --force`) repairs any state. The quick check stays fast.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{assert_mentions, Scratch};
use flash_ingest::synth::{generate, SynthSpec};
use flash_ingest::{prepare, rebuild, Dataset};

const RATINGS: &str = "userId,movieId,rating\n1,1,4\n1,2,3.5\n2,1,5\n2,3,2\n3,2,1\n3,3,4.5\n";

fn prepared() -> Scratch {
    let scratch = Scratch::new();
    scratch.write("ratings.csv", RATINGS);
    assert!(prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
    scratch
}

fn damage(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
    let mut bytes = std::fs::read(path).unwrap();
    change(&mut bytes);
    std::fs::write(path, bytes).unwrap();
}

/// Runs `prepare` and returns the reason it gives for rebuilding (panics if it did not).
#[track_caller]
fn rebuild_reason(scratch: &Scratch) -> String {
    let outcome = prepare(&scratch.request("ratings.csv")).unwrap();
    assert!(outcome.rebuilt, "the damaged cache was taken as up to date");
    Dataset::open(&scratch.cache).unwrap();
    outcome.rebuild_reason.expect("a replaced cache has a reason")
}

#[test]
fn an_up_to_date_cache_is_left_alone_without_a_reason() {
    let scratch = prepared();
    let outcome = prepare(&scratch.request("ratings.csv")).unwrap();
    assert!(!outcome.rebuilt);
    assert_eq!(outcome.rebuild_reason, None);
}

/// A run killed after publishing its cache but before removing the one it moved aside leaves
/// an up-to-date cache and a `.cache.old-PID-N` sibling: the next `prepare` removes it even
/// though it rebuilds nothing.
#[test]
fn an_up_to_date_cache_loses_what_a_killed_run_left_beside_it() {
    let scratch = prepared();
    let mut finished = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = finished.id();
    finished.wait().unwrap();
    let name = scratch.cache.file_name().unwrap().to_string_lossy().into_owned();
    let aside = scratch.cache.with_file_name(format!(".{name}.old-{dead_pid}-0"));
    std::fs::create_dir(&aside).unwrap();
    std::fs::write(aside.join("train.by_user.bin"), b"an older cache").unwrap();

    assert!(!prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
    assert!(!aside.exists(), "{} was left behind", aside.display());
}

#[test]
fn a_damaged_header_is_rebuilt_by_prepare_naming_the_file() {
    let scratch = prepared();
    for (name, offset) in [("train.by_user.bin", 20), ("items.bin", 0), ("test.by_user.bin", 60)] {
        damage(&scratch.cache.join(name), |bytes| bytes[offset] ^= 0x20);
        let reason = rebuild_reason(&scratch);
        assert_mentions(&reason, &[name]);
    }
}

#[test]
fn a_file_of_the_wrong_length_is_rebuilt_by_prepare() {
    let scratch = prepared();
    let path = scratch.cache.join("train.by_item.bin");
    damage(&path, |bytes| {
        bytes.pop();
    });
    assert_mentions(&rebuild_reason(&scratch), &["train.by_item.bin", "damaged file"]);
    damage(&path, |bytes| bytes.extend_from_slice(&[0; 8]));
    assert_mentions(&rebuild_reason(&scratch), &["train.by_item.bin", "header says"]);
    std::fs::write(&path, b"").unwrap();
    assert_mentions(&rebuild_reason(&scratch), &["train.by_item.bin"]);
}

#[test]
fn swapped_or_missing_files_are_rebuilt_by_prepare() {
    let scratch = prepared();
    std::fs::copy(scratch.cache.join("users.bin"), scratch.cache.join("train.by_user.bin"))
        .unwrap();
    assert_mentions(&rebuild_reason(&scratch), &["train.by_user.bin", "expected RatingsByUser"]);
    std::fs::remove_file(scratch.cache.join("users.bin")).unwrap();
    assert_mentions(&rebuild_reason(&scratch), &["users.bin"]);
}

#[test]
fn a_damaged_payload_is_refused_by_open_with_the_way_to_rebuild_it() {
    let scratch = prepared();
    let path = scratch.cache.join("train.by_user.bin");
    damage(&path, |bytes| *bytes.last_mut().unwrap() ^= 1);

    // The quick check reads headers only: the cache looks up to date...
    assert!(!prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
    // ...and opening it, which verifies every byte, refuses it and says what to do.
    let message = Dataset::open(&scratch.cache).unwrap_err().to_string();
    assert_mentions(&message, &["train.by_user.bin", "checksum mismatch", "--force"]);

    let outcome = rebuild(&scratch.request("ratings.csv")).unwrap();
    assert!(outcome.rebuilt);
    assert_eq!(outcome.rebuild_reason.as_deref(), Some("a rebuild was asked for"));
    Dataset::open(&scratch.cache).unwrap();
}

#[test]
fn a_changed_source_is_refused_by_open_and_rebuilt_by_prepare_naming_it() {
    let scratch = prepared();
    scratch.write("ratings.csv", format!("{RATINGS}4,1,3\n"));
    let message = Dataset::open(&scratch.cache).unwrap_err().to_string();
    assert_mentions(&message, &["stale cache", "ratings.csv", "changed", "run prepare again"]);
    assert_mentions(&rebuild_reason(&scratch), &["ratings.csv", "changed"]);
    assert_eq!(Dataset::open(&scratch.cache).unwrap().users.len(), 4);
}

#[test]
fn changed_options_and_a_garbage_manifest_are_rebuilt_with_their_reason() {
    let scratch = prepared();
    let mut request = scratch.request("ratings.csv");
    request.split.seed += 1;
    let outcome = prepare(&request).unwrap();
    assert_eq!(outcome.rebuild_reason.as_deref(), Some("the options changed"));

    std::fs::write(scratch.cache.join("manifest.json"), "{").unwrap();
    let outcome = prepare(&request).unwrap();
    assert_mentions(&outcome.rebuild_reason.unwrap(), &["manifest.json"]);
}

#[test]
fn an_up_to_date_prepare_of_a_large_cache_stays_fast() {
    let scratch = Scratch::new();
    let source = scratch.input.join("ratings.csv");
    let spec = SynthSpec { users: 20_000, items: 5_000, ratings: 1_000_000, seed: 7 };
    generate(&spec, &source).unwrap();
    let request = scratch.request("ratings.csv");
    assert!(prepare(&request).unwrap().rebuilt);

    // The best of a few runs, so that a busy machine does not fail the test.
    let mut best = Duration::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        assert!(!prepare(&request).unwrap().rebuilt);
        best = best.min(started.elapsed());
    }
    assert!(best < Duration::from_millis(50), "an up-to-date prepare took {best:?}");
}
