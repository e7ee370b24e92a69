//! The whole command-line workflow on real MovieLens data: prepare, train, eval, recommend,
//! similar, recommend-all, plot; and the accuracy the README promises.

mod common;

use std::path::Path;

use common::*;
use flash_ingest::{dataset_for_test, Dataset};
use serde_json::Value;

fn last_epoch(trained: &Value) -> &Value {
    trained["epochs"].as_array().and_then(|e| e.last()).expect("at least one epoch")
}

fn train(cache: &Path, model: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["train", "--data", text(cache), "--model", text(model), "--json"];
    args.extend_from_slice(extra);
    json_of(&flash_rec(&args))
}

#[test]
fn movielens_small_end_to_end() {
    let Some(movielens) = dataset_for_test("ml-latest-small", "movielens_small_end_to_end") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let prepared = json_of(&flash_rec(&[
        "prepare",
        "--movielens",
        text(&movielens),
        "--out",
        text(&cache),
        "--json",
    ]));
    assert_eq!(prepared["users"], 610);

    // The shipped defaults reach the accuracy target, and eval agrees with training.
    let model = dir.path().join("default.model");
    let trained = train(&cache, &model, &[]);
    for key in ["epoch", "loss", "train_rmse", "test_rmse", "seconds"] {
        assert!(last_epoch(&trained).get(key).is_some(), "epoch entry lacks {key}");
    }
    assert_eq!(trained["params"]["factors"], 32);
    let test_rmse = last_epoch(&trained)["test_rmse"].as_f64().unwrap();
    assert!(test_rmse <= 0.855, "default test RMSE {test_rmse}");
    let evaluation = json_of(&flash_rec(&[
        "eval",
        "--data",
        text(&cache),
        "--model",
        text(&model),
        "-k",
        "10",
        "--json",
    ]));
    assert!((evaluation["rmse"].as_f64().unwrap() - test_rmse).abs() < 1e-12);
    for key in [
        "mae",
        "precision@10",
        "recall@10",
        "ndcg@10",
        "map@10",
        "hit_rate@10",
        "coverage@10",
        "novelty@10",
    ] {
        assert!(evaluation[key].is_number(), "eval lacks {key}");
    }

    // The seed formulation after 10 epochs, without and with the global mean.
    let seed_model = dir.path().join("seed.model");
    let seed = train(&cache, &seed_model, &["--seed-formulation", "--epochs", "10"]);
    let seed_rmse = last_epoch(&seed)["test_rmse"].as_f64().unwrap();
    assert!((0.90..0.96).contains(&seed_rmse), "seed formulation RMSE {seed_rmse}");
    let with_mean =
        train(&cache, &seed_model, &["--seed-formulation", "--epochs", "10", "--global-mean"]);
    let mean_rmse = last_epoch(&with_mean)["test_rmse"].as_f64().unwrap();
    assert!((0.84..0.88).contains(&mean_rmse), "seed formulation with mean RMSE {mean_rmse}");

    check_recommendations(&cache, &model, dir.path());
}

fn check_recommendations(cache: &Path, model: &Path, dir: &Path) {
    let dataset = Dataset::open(cache).unwrap();
    let base = ["--data", text(cache), "--model", text(model), "--json"];
    let ids = |value: &Value, key: &str| -> Vec<i64> {
        value[key].as_array().unwrap().iter().map(|e| e["movie_id"].as_i64().unwrap()).collect()
    };

    let listed = json_of(&flash_rec(&[&["recommend", "--user", "1"][..], &base[..]].concat()));
    let movies = ids(&listed, "recommendations");
    assert_eq!(movies.len(), 10);
    let user = dataset.users.index_of(1).unwrap() as usize;
    for movie in &movies {
        let item = dataset.items.index_of(*movie).unwrap();
        assert!(!dataset.train_by_user.row(user).contains(item), "movie {movie} was rated");
    }
    assert!(listed["recommendations"][0]["title"].as_str().is_some_and(|t| !t.is_empty()));

    let new_user = json_of(&flash_rec(
        &[&["recommend", "--rate", "1=5", "--rate", "260=4.5"][..], &base[..]].concat(),
    ));
    let folded = ids(&new_user, "recommendations");
    assert_eq!(folded.len(), 10);
    assert!(!folded.contains(&1) && !folded.contains(&260));

    let similar = json_of(&flash_rec(&[&["similar", "--movie", "1"][..], &base[..]].concat()));
    assert!(!ids(&similar, "recommendations").contains(&1));

    let comedies = json_of(&flash_rec(
        &[&["recommend", "--user", "1", "--genre", "Comedy"][..], &base[..]].concat(),
    ));
    let features = dataset.features().unwrap().unwrap();
    for movie in ids(&comedies, "recommendations") {
        assert!(features.get(movie).unwrap().genres.iter().any(|g| g == "Comedy"));
    }

    let unknown = flash_rec(&[&["recommend", "--user", "999999"][..], &base[..]].concat());
    assert_fails_with(&unknown, 1, &["user 999999"]);

    let all = dir.join("all.csv");
    let output = flash_rec(&[
        "recommend-all",
        "--data",
        text(cache),
        "--model",
        text(model),
        "--out",
        text(&all),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let csv = std::fs::read_to_string(&all).unwrap();
    assert_eq!(csv.lines().count(), 1 + 610 * 10);
    for line in csv.lines().skip(1) {
        let fields: Vec<i64> = line.split(',').take(3).map(|f| f.parse().unwrap()).collect();
        let user = dataset.users.index_of(fields[0]).unwrap() as usize;
        let item = dataset.items.index_of(fields[2]).unwrap();
        assert!(!dataset.train_by_user.row(user).contains(item));
    }

    let plots = dir.join("plots");
    let output =
        flash_rec(&["plot", "--model", text(model), "--data", text(cache), "--out", text(&plots)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for (name, width) in [("training_curves.png", 1280), ("item_factors_pca.png", 900)] {
        let bytes = std::fs::read(plots.join(name)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{name} is not a PNG");
        // IHDR: the width is the big-endian u32 at byte 16.
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), width, "{name}");
    }
}

#[test]
fn training_flags_are_validated_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());
    let model = dir.path().join("m.model");
    for (flag, value, message) in [
        ("--lambda", "0", "lambda"),
        ("--factors", "0", "factors"),
        ("--tau", "-1", "tau"),
        ("--epochs", "0", "epochs"),
    ] {
        let flag = format!("{flag}={value}");
        let output = flash_rec(&["train", "--data", text(&cache), "--model", text(&model), &flag]);
        assert_fails_with(&output, 1, &[message]);
        assert!(!model.exists());
    }
}

#[test]
fn a_model_from_other_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());
    let model = dir.path().join("m.model");
    let output = flash_rec(&[
        "train",
        "--data",
        text(&cache),
        "--model",
        text(&model),
        "--epochs",
        "2",
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let ratings = other_dir.join("r.csv");
    std::fs::write(&ratings, "user,item,rating\n7,1,4\n7,2,3\n8,1,5\n").unwrap();
    let other = other_dir.join("cache");
    let output = flash_rec(&["prepare", "--ratings", text(&ratings), "--out", text(&other)]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = flash_rec(&["eval", "--data", text(&other), "--model", text(&model)]);
    assert_fails_with(&output, 1, &["trained on other data"]);
}
