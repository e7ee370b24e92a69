//! `flash-rec prepare`, `info` and `features` as a user runs them: exit codes (0 success,
//! 1 failed work, 2 bad usage), messages on stderr, JSON on stdout.

mod common;

use common::*;

#[test]
fn a_bad_value_exits_1_naming_the_file_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "userId,movieId,rating\n1,1,4\n1,2,4.5\n2,1,oops\n").unwrap();
    let cache = dir.path().join("X");

    let output = flash_rec(&["prepare", "--ratings", text(&bad), "--out", text(&cache)]);

    assert_fails_with(&output, 1, &["bad.csv", "line 4", "'oops'", "rating is not a number"]);
    assert!(!cache.exists());
    assert!(output.stdout.is_empty());
}

#[test]
fn a_rating_off_a_custom_scale_exits_1_and_one_on_it_is_prepared() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = dir.path().join("r.csv");
    let cache = dir.path().join("cache");
    let prepare = || {
        let (ratings, cache) = (text(&ratings), text(&cache));
        flash_rec(&["prepare", "--ratings", ratings, "--out", cache, "--scale", "1,10", "--json"])
    };
    std::fs::write(&ratings, "user,item,rating\n1,1,7\n1,2,11\n").unwrap();
    assert_fails_with(&prepare(), 1, &["r.csv", "line 3", "'11'", "1..10"]);

    std::fs::write(&ratings, "user,item,rating\n1,1,7\n1,2,10\n").unwrap();
    let summary = json_of(&prepare());
    let count = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(count("train_ratings") + count("test_ratings"), 2);
    assert_eq!(summary["rebuilt"], true);
}

#[test]
fn info_prints_the_summary_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());

    let info = json_of(&flash_rec(&["info", "--data", text(&cache), "--json"]));

    assert_eq!(info["users"], 3);
    assert_eq!(info["items"], 3);
    let (train, test) =
        (info["train_ratings"].as_u64().unwrap(), info["test_ratings"].as_u64().unwrap());
    assert_eq!(train + test, 7);
    // Users with 3, 2 and 2 ratings each hold out one.
    assert_eq!(test, 3);
    assert_eq!(info["rating_scale"], serde_json::json!([0.5, 5.0]));
    let density = info["density"].as_f64().unwrap();
    assert!((density - train as f64 / 9.0).abs() < 1e-12, "density {density}");
    for key in ["user_degree", "item_degree"] {
        let degrees = info[key].as_object().unwrap_or_else(|| panic!("{key} is not an object"));
        for percentile in ["min", "p10", "p50", "p90", "p99", "max"] {
            assert!(degrees[percentile].is_u64(), "{key}.{percentile}: {}", degrees[percentile]);
        }
    }
    assert_eq!(info["has_features"], true);
}

#[test]
fn features_prints_a_movie_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());

    let movie =
        json_of(&flash_rec(&["features", "--data", text(&cache), "--movie", "1", "--json"]));

    assert_eq!(movie["movie_id"], 1);
    assert_eq!(movie["title"], "Toy Story (1995)");
    let genres = serde_json::json!(["Adventure", "Animation", "Children", "Comedy", "Fantasy"]);
    assert_eq!(movie["genres"], genres);
    // "pixar" twice (case merged, first spelling kept), "fun" once.
    assert_eq!(movie["tags"], serde_json::json!(["pixar", "fun"]));
    assert_eq!(movie["imdb_id"], 114_709);

    let other =
        json_of(&flash_rec(&["features", "--data", text(&cache), "--movie", "2", "--json"]));
    assert_eq!(other["title"], "American President, The (1995)");
    assert!(other["tags"].as_array().unwrap().is_empty());
}

#[test]
fn an_unknown_movie_exits_1_naming_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());
    let output = flash_rec(&["features", "--data", text(&cache), "--movie", "424242"]);
    assert_fails_with(&output, 1, &["424242"]);
}

#[test]
fn features_of_a_cache_without_movielens_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let ratings = dir.path().join("r.csv");
    std::fs::write(&ratings, "user,item,rating\n1,1,4\n1,2,3\n").unwrap();
    let cache = dir.path().join("cache");
    let output = flash_rec(&["prepare", "--ratings", text(&ratings), "--out", text(&cache)]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));

    let output = flash_rec(&["features", "--data", text(&cache), "--movie", "1"]);
    assert_fails_with(&output, 1, &["no movie features"]);
}

#[test]
fn an_out_folder_holding_other_files_exits_1_and_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let source = tiny_movielens(dir.path());
    let output = flash_rec(&["prepare", "--movielens", text(&source), "--out", text(&source)]);
    assert_fails_with(&output, 1, &["ml-tiny", "refusing to replace it"]);
    assert!(source.join("ratings.csv").is_file() && source.join("movies.csv").is_file());
}

#[test]
fn a_missing_out_is_a_usage_error_with_exit_2() {
    let output = flash_rec(&["prepare", "--ratings", "ratings.csv"]);
    assert_fails_with(&output, 2, &["--out"]);
}

#[test]
fn info_of_a_damaged_cache_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = prepared(dir.path());
    let matrix = cache.join("test.by_user.bin");
    let mut bytes = std::fs::read(&matrix).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&matrix, bytes).unwrap();

    let output = flash_rec(&["info", "--data", text(&cache), "--json"]);
    assert_fails_with(&output, 1, &["test.by_user.bin", "damaged"]);
}

#[test]
fn a_second_prepare_reports_the_cache_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let source = tiny_movielens(dir.path());
    let cache = dir.path().join("cache");
    let args = ["prepare", "--movielens", text(&source), "--out", text(&cache), "--json"];
    assert_eq!(json_of(&flash_rec(&args))["rebuilt"], true);
    let again = json_of(&flash_rec(&args));
    assert_eq!(again["rebuilt"], false);
    assert_eq!(again["users"], 3);
}
