//! The model file: round trip, reproducible bytes, and refusal of damaged files.

mod common;

use std::ops::ControlFlow;

use flash_als::{fit, AlsParams, EpochRecord, Model, TrainData};
use flash_matrix::IdMap;

fn trained() -> Model {
    trained_on_threads(0)
}

fn trained_on_threads(threads: usize) -> Model {
    let p = common::planted(50, 40, 3, 0.3, 0.3, 9);
    let data = TrainData { by_user: &p.by_user, by_item: &p.by_item, held_out: Some(&p.held_out) };
    let params = AlsParams { epochs: 3, factors: 5, threads, ..AlsParams::default() };
    let outcome = fit(data, &params, |_| ControlFlow::Continue(())).unwrap();
    Model {
        factors: outcome.factors,
        users: IdMap::from_ids(&(0..50).map(|u| u * 10).collect::<Vec<_>>()),
        items: IdMap::from_ids(&(0..40).map(|i| i + 1000).collect::<Vec<_>>()),
        params,
        history: outcome.history.iter().map(EpochRecord::from).collect(),
    }
}

#[test]
fn a_saved_model_loads_back_equal_and_training_twice_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.model"), dir.path().join("b.model"));
    let model = trained();
    model.save(&a).unwrap();
    trained().save(&b).unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert!(Model::load(&a).unwrap() == model, "the loaded model differs");
}

#[test]
fn one_and_two_threads_save_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one.model"), dir.path().join("two.model"));
    trained_on_threads(1).save(&one).unwrap();
    trained_on_threads(2).save(&two).unwrap();
    assert_eq!(std::fs::read(&one).unwrap(), std::fs::read(&two).unwrap());
}

#[test]
fn truncated_flipped_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.model");
    trained().save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.model");

    let step = (bytes.len() / 97).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        std::fs::write(&bad, &bytes[..cut]).unwrap();
        let err = Model::load(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.model"), "cut {cut}: {err}");
    }
    for position in (0..bytes.len()).step_by(step) {
        let mut flipped = bytes.clone();
        flipped[position] ^= 0x10;
        std::fs::write(&bad, &flipped).unwrap();
        assert!(Model::load(&bad).is_err(), "flip at {position} accepted");
    }
    std::fs::write(&bad, b"userId,movieId,rating\n1,2,3\n").unwrap();
    assert!(Model::load(&bad).unwrap_err().to_string().contains("not a flash-rec file"));
}
