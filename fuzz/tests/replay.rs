//! Replays the committed corpora and every past crash through the fuzz entry points, without
//! instrumentation: `cargo test --release --manifest-path fuzz/Cargo.toml` (run by
//! `cargo xtask test`). A file that makes an entry point panic fails the test, named.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

fn replay(target: &str, entry: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut failures = Vec::new();
    let mut count = 0;
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else { continue };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| entry(&bytes))).is_err() {
                failures.push(path.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "{target}: inputs that fail: {failures:#?}");
    count
}

#[test]
fn every_committed_input_passes_every_target() {
    for (target, entry) in flash_fuzz::TARGETS {
        let count = replay(target, entry);
        assert!(count > 0, "{target}: no corpus: run the make_seeds example");
    }
}

#[cfg(feature = "polars")]
#[test]
fn every_committed_input_passes_the_polars_targets() {
    replay("ratings_polars", flash_fuzz::ratings_polars);
    replay("dataset_open", flash_fuzz::dataset_open);
}
