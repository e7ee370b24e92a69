//! The data layer on the real ml-latest-small: counts, the per-user split rule, determinism,
//! movie features, and the freshness of the cache. Skipped (loudly) without FLASH_DATA_DIR.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use common::{all_triples, assert_mentions, prepare_and_open, train_and_test};
use flash_ingest::{
    dataset_for_test, prepare, Dataset, DuplicatePolicy, FeatureTable, PrepareRequest,
    ReadOptions, Source, SplitOptions,
};

fn movielens(test: &str) -> Option<PathBuf> {
    dataset_for_test("ml-latest-small", test)
}

fn request(source: &Path, out: &Path, seed: u64) -> PrepareRequest {
    PrepareRequest {
        source: Source::MovieLens(source.to_path_buf()),
        out: out.to_path_buf(),
        read: ReadOptions::default(),
        split: SplitOptions { test_fraction: 0.2, seed },
        on_duplicate: DuplicatePolicy::KeepLatest,
    }
}

fn features_of(source: &Path) -> FeatureTable {
    let out = tempfile::tempdir().unwrap();
    let (_, dataset) = prepare_and_open(&request(source, &out.path().join("cache"), 42));
    dataset.features().unwrap().expect("a MovieLens cache has features")
}

/// Every file of a cache directory, by name.
fn cache_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let bytes = std::fs::read(entry.path()).unwrap();
            (entry.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// A copy of the data set that a test may modify (in a temporary folder, never in the repo).
fn copy_of(source: &Path, into: &Path) -> PathBuf {
    let copy = into.join("ml-latest-small");
    std::fs::create_dir(&copy).unwrap();
    for name in ["ratings.csv", "movies.csv", "tags.csv", "links.csv"] {
        std::fs::copy(source.join(name), copy.join(name)).unwrap();
    }
    copy
}

#[test]
fn ml_latest_small_keeps_every_user_item_and_rating() {
    let Some(source) = movielens("ml_latest_small_keeps_every_user_item_and_rating") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let (outcome, dataset) = prepare_and_open(&request(&source, &out.path().join("cache"), 42));

    let summary = &outcome.manifest.summary;
    assert!(outcome.rebuilt);
    assert_eq!((summary.users, summary.items), (610, 9_724));
    assert_eq!(summary.train_ratings + summary.test_ratings, 100_836);
    assert_eq!(summary.duplicates_dropped, 0);
    assert!(summary.has_features);
    assert_eq!((dataset.users.len(), dataset.items.len()), (610, 9_724));
    assert_eq!(dataset.train_by_user.nnz(), summary.train_ratings);
    assert_eq!(dataset.train_by_item.nnz(), summary.train_ratings);
    assert_eq!(dataset.test_by_user.nnz(), summary.test_ratings);
    assert_eq!(all_triples(&dataset).len(), 100_836);
    // The first line of ratings.csv: user 1 rates movie 1 with 4 stars.
    assert!(all_triples(&dataset).contains(&(1, 1, 4.0)));
}

#[test]
fn each_user_holds_out_a_fifth_of_its_ratings_rounded_and_clamped() {
    let Some(source) = movielens("each_user_holds_out_a_fifth_of_its_ratings_rounded_and_clamped")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let (outcome, dataset) = prepare_and_open(&request(&source, &out.path().join("cache"), 42));

    let (train, test) = (&dataset.train_by_user, &dataset.test_by_user);
    for user in 0..dataset.users.len() {
        let n = train.row_len(user) + test.row_len(user);
        let expected = if n < 2 { 0 } else { ((0.2 * n as f64).round() as usize).clamp(1, n - 1) };
        assert_eq!(test.row_len(user), expected, "user {} with {n} ratings", user + 1);
        for item in test.row(user).indices {
            assert!(!train.row(user).contains(*item), "user {user} has item {item} twice");
        }
    }
    let summary = &outcome.manifest.summary;
    let total = summary.train_ratings + summary.test_ratings;
    let share = summary.test_ratings as f64 / total as f64;
    assert!((0.195..0.205).contains(&share), "test share {share}");
}

#[test]
fn the_same_seed_gives_identical_bytes_and_another_seed_another_split() {
    let Some(source) =
        movielens("the_same_seed_gives_identical_bytes_and_another_seed_another_split")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let (first, again, other) =
        (out.path().join("first"), out.path().join("again"), out.path().join("other"));
    prepare(&request(&source, &first, 42)).unwrap();
    prepare(&request(&source, &again, 42)).unwrap();
    prepare(&request(&source, &other, 43)).unwrap();

    let (first_files, again_files) = (cache_files(&first), cache_files(&again));
    let names: Vec<&String> = first_files.keys().collect();
    assert_eq!(
        names,
        [
            "features.json.zst",
            "items.bin",
            "manifest.json",
            "test.by_user.bin",
            "train.by_item.bin",
            "train.by_user.bin",
            "users.bin"
        ]
    );
    for (name, bytes) in &first_files {
        assert!(again_files[name] == *bytes, "{name} differs between two runs with one seed");
    }

    let (a, b) = (Dataset::open(&first).unwrap(), Dataset::open(&other).unwrap());
    assert_eq!(a.test_by_user.nnz(), b.test_by_user.nnz(), "the counts follow the rule");
    assert_ne!(train_and_test(&a).1, train_and_test(&b).1, "seed 43 drew the same test set");
    assert_eq!(all_triples(&a), all_triples(&b));
}

#[test]
fn toy_story_has_its_title_genres_pixar_tag_and_links() {
    let Some(source) = movielens("toy_story_has_its_title_genres_pixar_tag_and_links") else {
        return;
    };
    let features = features_of(&source);
    let toy_story = features.get(1).expect("movie 1");

    assert_eq!(toy_story.title, "Toy Story (1995)");
    assert_eq!(toy_story.genres, ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]);
    // tags.csv: users 336 and 474 tag it "pixar", user 567 "fun".
    assert_eq!(toy_story.tags, ["pixar", "fun"]);
    assert_eq!((toy_story.imdb_id, toy_story.tmdb_id), (Some(114_709), Some(862)));
    assert_eq!(features.movies().len(), 9_742);
}

#[test]
fn quoted_commas_doubled_quotes_and_accents_in_titles_are_read_exactly() {
    let Some(source) =
        movielens("quoted_commas_doubled_quotes_and_accents_in_titles_are_read_exactly")
    else {
        return;
    };
    let features = features_of(&source);
    let title = |id: i64| features.get(id).unwrap_or_else(|| panic!("movie {id}")).title.clone();

    assert_eq!(title(11), "American President, The (1995)");
    assert_eq!(title(73), "Misérables, Les (1995)");
    assert_eq!(title(293), "Léon: The Professional (a.k.a. The Professional) (Léon) (1994)");
    assert_eq!(title(29), "City of Lost Children, The (Cité des enfants perdus, La) (1995)");
    assert_eq!(title(7789), "11'09\"01 - September 11 (2002)");
    assert_eq!(features.get(29).unwrap().genres.len(), 5);
}

#[test]
fn an_unchanged_source_is_not_prepared_again() {
    let Some(source) = movielens("an_unchanged_source_is_not_prepared_again") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let cache = out.path().join("cache");
    let first = prepare(&request(&source, &cache, 42)).unwrap();
    let written = modified(&cache.join("train.by_user.bin"));

    let started = Instant::now();
    let second = prepare(&request(&source, &cache, 42)).unwrap();
    let elapsed = started.elapsed();

    assert!(first.rebuilt && !second.rebuilt);
    assert_eq!(first.manifest, second.manifest);
    assert_eq!(modified(&cache.join("train.by_user.bin")), written, "the cache was rewritten");
    assert!(elapsed < Duration::from_millis(500), "an up-to-date check took {elapsed:?}");
    // Another option is another cache content: it is rebuilt.
    assert!(prepare(&request(&source, &cache, 7)).unwrap().rebuilt);
}

#[test]
fn a_changed_source_makes_the_cache_stale_until_it_is_prepared_again() {
    let Some(source) =
        movielens("a_changed_source_makes_the_cache_stale_until_it_is_prepared_again")
    else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let copy = copy_of(&source, scratch.path());
    let cache = scratch.path().join("cache");
    assert!(prepare(&request(&copy, &cache, 42)).unwrap().rebuilt);
    Dataset::open(&cache).unwrap();

    // Touch tags.csv: same bytes, a new modification time.
    let tags = std::fs::File::options().append(true).open(copy.join("tags.csv")).unwrap();
    tags.set_modified(SystemTime::now() + Duration::from_secs(60)).unwrap();
    drop(tags);
    let message = Dataset::open(&cache).unwrap_err().to_string();
    assert_mentions(&message, &["stale cache", "tags.csv", "prepare again"]);
    assert!(prepare(&request(&copy, &cache, 42)).unwrap().rebuilt);
    Dataset::open(&cache).unwrap();

    // Change ratings.csv: one more rating, by a new user.
    let mut ratings = std::fs::read(copy.join("ratings.csv")).unwrap();
    ratings.extend_from_slice(b"611,1,5.0,1600000000\r\n");
    std::fs::write(copy.join("ratings.csv"), ratings).unwrap();
    let message = Dataset::open(&cache).unwrap_err().to_string();
    assert_mentions(&message, &["stale cache", "ratings.csv"]);
    let outcome = prepare(&request(&copy, &cache, 42)).unwrap();
    assert!(outcome.rebuilt);
    assert_eq!(outcome.manifest.summary.users, 611);
    assert_eq!(Dataset::open(&cache).unwrap().manifest().summary.users, 611);
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}
