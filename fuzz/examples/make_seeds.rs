//! Writes the seed corpora of the fuzz targets, small valid files made by flash-rec's own
//! writers, into `fuzz/corpus/<target>/seed-*`:
//!
//! ```sh
//! cargo run --release --manifest-path fuzz/Cargo.toml --example make_seeds
//! cargo run --release --manifest-path fuzz/Cargo.toml --features polars --example make_seeds
//! ```
//!
//! The second form also writes the seeds of the polars targets. Both also write the
//! reconstructed crash inputs of `fuzz/regressions/` (see [`regressions`]).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use flash_als::{fit, AlsParams, EpochRecord, Model, TrainData};
use flash_matrix::container::FileKind;
use flash_matrix::{Csr, IdMap};

fn main() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let scratch = tempfile::tempdir().unwrap();
    let file = |name: &str| scratch.path().join(name);

    let example =
        Csr::from_triplets(3, 4, &[2, 0, 2, 0], &[1, 3, 0, 0], &[1.0, 3.5, 5.0, 4.0]).unwrap();
    example.save(&file("by_user.bin"), FileKind::RatingsByUser).unwrap();
    example.transpose().save(&file("by_item.bin"), FileKind::RatingsByItem).unwrap();
    Csr::empty(0, 0).save(&file("empty.bin"), FileKind::RatingsByUser).unwrap();
    IdMap::from_ids(&[30, -2, 7]).save(&file("ids.bin")).unwrap();
    IdMap::default().save(&file("no-ids.bin")).unwrap();
    small_model(2).save(&file("k2.model")).unwrap();
    small_model(1).save(&file("k1.model")).unwrap();

    let copy = |target: &str, names: &[&str]| {
        for name in names {
            seed(&corpus, target, name, &std::fs::read(file(name)).unwrap());
        }
    };
    copy("container", &["by_user.bin", "ids.bin", "k1.model"]);
    copy("csr", &["by_user.bin", "by_item.bin", "empty.bin"]);
    copy("idmap", &["ids.bin", "no-ids.bin"]);
    copy("model", &["k2.model", "k1.model"]);

    for (name, bytes) in ratings_seeds() {
        seed(&corpus, "ratings_lines", &name, &bytes);
        #[cfg(feature = "polars")]
        seed(&corpus, "ratings_polars", &name, &bytes);
    }
    #[cfg(feature = "polars")]
    polars_seeds(&corpus, scratch.path());
    regressions(scratch.path());
}

/// Crash inputs the fuzzers found, rebuilt with flash-rec's writers so that they survive
/// format changes; `tests/replay.rs` runs each through its target.
///
/// - `model/fold-in-overflowing-item.model`: a model with valid checksums whose item vector
///   holds 4.4e21; `fold_in` squared it to infinity in f32 and panicked on the indefinite
///   system ("a positive definite fold-in system"). Fixed in flash-als `fold_in`.
fn regressions(scratch: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut model = small_model(2);
    model.factors.item[0] = 4.4e21;
    let path = scratch.join("overflow.model");
    model.save(&path).unwrap();
    let dir = root.join("model");
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("fold-in-overflowing-item.model");
    std::fs::write(&target, std::fs::read(&path).unwrap()).unwrap();
    println!("{}", target.display());
}

fn seed(corpus: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = corpus.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("seed-{name}"));
    std::fs::write(&path, bytes).unwrap();
    println!("{} ({} bytes)", path.display(), bytes.len());
}

/// Three users and four items, trained for two epochs.
fn small_model(k: usize) -> Model {
    let by_user =
        Csr::from_triplets(3, 4, &[0, 0, 1, 2, 2], &[0, 1, 1, 2, 3], &[4.0, 3.0, 5.0, 2.5, 1.0])
            .unwrap();
    let by_item = by_user.transpose();
    let data = TrainData { by_user: &by_user, by_item: &by_item, held_out: None };
    let params = AlsParams { factors: k, epochs: 2, threads: 1, ..AlsParams::default() };
    let outcome = fit(data, &params, |_| ControlFlow::Continue(())).unwrap();
    Model {
        factors: outcome.factors,
        users: IdMap::from_ids(&[1, 5, 9]),
        items: IdMap::from_ids(&[10, 20, 30, 40]),
        params,
        history: outcome.history.iter().map(EpochRecord::from).collect(),
    }
}

/// Ratings files, each behind the option byte of `flash_fuzz::lines`.
fn ratings_seeds() -> Vec<(String, Vec<u8>)> {
    let with = |control: u8, text: &str| {
        let mut bytes = vec![control];
        bytes.extend_from_slice(text.as_bytes());
        bytes
    };
    vec![
        (
            "movielens.csv".into(),
            with(0, "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n"),
        ),
        ("no-header.csv".into(), with(1, "1,10,4\n2,10,3.5\n2,11,0.5\n")),
        ("tab.tsv".into(), with(4, "user\titem\trating\n1\t2\t5\n3\t4\t1\n")),
        ("semicolon.csv".into(), with(6, "item;\"user\";rating\n7;1;2\n")),
        ("bom-crlf.csv".into(), with(0, "\u{feff}userId,movieId,rating\r\n1,1,4\r\n1,2,3\r\n")),
        ("scale.csv".into(), with(8, "user,item,rating\n1,1,7\n1,2,10\n")),
        ("scale-line.csv".into(), with(16, "1,10\n")),
        ("bad-value.csv".into(), with(0, "userId,movieId,rating\n1,1,4\n2,1,oops\n")),
    ]
}

#[cfg(feature = "polars")]
fn polars_seeds(corpus: &Path, scratch: &Path) {
    use flash_ingest::{prepare, DuplicatePolicy, PrepareRequest, ReadOptions, Source};
    let ratings = scratch.join("r.csv");
    std::fs::write(&ratings, "user,item,rating\n1,1,4\n1,2,3\n2,1,5\n2,3,1\n3,2,2.5\n").unwrap();
    let out = scratch.join("cache");
    let request = PrepareRequest {
        source: Source::Ratings { ratings, test: None },
        out: out.clone(),
        read: ReadOptions::default(),
        split: flash_ingest::SplitOptions { test_fraction: 0.3, seed: 1 },
        on_duplicate: DuplicatePolicy::KeepLatest,
    };
    prepare(&request).unwrap();
    let mut input = vec![0u8];
    for name in flash_fuzz::full::CACHE_FILES {
        let bytes = std::fs::read(out.join(name)).unwrap();
        input.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        input.extend_from_slice(&bytes);
    }
    seed(corpus, "dataset_open", "cache", &input);
}
