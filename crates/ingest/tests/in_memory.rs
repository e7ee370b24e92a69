//! Ratings from memory (`Source::Columns`, what the Python bindings prepare data frames and
//! arrays with): the same cache as the same ratings in a file, a cache keyed by content, and
//! bad values named by row.

mod common;

use std::sync::Arc;

use common::{assert_mentions, prepare_and_open, refused, train_and_test, Scratch};
use flash_ingest::{prepare, DuplicatePolicy, PrepareRequest, RatingColumns, Source};

/// Ten users with four to seven ratings each, deterministic and varied.
fn columns() -> RatingColumns {
    let mut columns = RatingColumns { name: "frame".into(), ..RatingColumns::default() };
    for user in 0..10i64 {
        for j in 0..(4 + user % 4) {
            columns.users.push(100 + user * 7);
            columns.items.push((user * 3 + j * 5) % 23);
            columns.ratings.push(0.5 + ((user + j) % 10) as f64 * 0.5);
        }
    }
    columns
}

fn columns_request(columns: RatingColumns, scratch: &Scratch) -> PrepareRequest {
    PrepareRequest { source: Source::Columns(Arc::new(columns)), ..scratch.request("unused") }
}

#[test]
fn columns_give_the_cache_of_the_same_ratings_in_a_file() {
    let from_file = Scratch::new();
    let mut csv = String::from("userId,movieId,rating\n");
    let data = columns();
    for row in 0..data.len() {
        csv.push_str(&format!("{},{},{}\n", data.users[row], data.items[row], data.ratings[row]));
    }
    from_file.write("ratings.csv", csv);
    let (_, file_dataset) = prepare_and_open(&from_file.request("ratings.csv"));

    let from_memory = Scratch::new();
    let (outcome, memory_dataset) = prepare_and_open(&columns_request(data, &from_memory));
    assert!(outcome.manifest.summary.test_ratings > 0);
    assert_eq!(train_and_test(&memory_dataset), train_and_test(&file_dataset));
    assert_eq!(memory_dataset.users, file_dataset.users);
    assert_eq!(memory_dataset.items, file_dataset.items);
}

#[test]
fn the_cache_is_reused_for_the_same_content_and_rebuilt_for_another() {
    let scratch = Scratch::new();
    let first = prepare(&columns_request(columns(), &scratch)).unwrap();
    assert!(first.rebuilt);
    let expected = format!("{:016x}", columns().content_hash());
    assert_eq!(first.manifest.fingerprint.content, Some(expected));
    assert!(first.manifest.fingerprint.sources.is_empty());

    let renamed = RatingColumns { name: "another name".into(), ..columns() };
    assert!(!prepare(&columns_request(renamed, &scratch)).unwrap().rebuilt);

    let mut changed = columns();
    changed.ratings[0] = 1.0;
    let rebuilt = prepare(&columns_request(changed, &scratch)).unwrap();
    assert!(rebuilt.rebuilt);
    assert_ne!(rebuilt.manifest.fingerprint, first.manifest.fingerprint);
}

#[test]
fn the_latest_duplicate_is_kept_by_timestamp() {
    let scratch = Scratch::new();
    let data = RatingColumns {
        name: "frame".into(),
        users: vec![1, 1, 1],
        items: vec![10, 10, 20],
        ratings: vec![2.0, 4.0, 3.0],
        timestamps: Some(vec![50, 10, 20]),
    };
    let mut request = columns_request(data, &scratch);
    request.split.test_fraction = 0.0;
    let (outcome, dataset) = prepare_and_open(&request);
    assert_eq!(outcome.manifest.summary.duplicates_dropped, 1);
    assert_eq!(train_and_test(&dataset).0, vec![(1, 10, 2.0), (1, 20, 3.0)]);
}

#[test]
fn bad_columns_are_refused_naming_the_row_and_value_and_leave_nothing() {
    let scratch = Scratch::new();
    let mut off_scale = columns();
    off_scale.ratings[3] = 9.5;
    let message = refused(&columns_request(off_scale, &scratch), "frame");
    assert_mentions(&message, &["row 4", "'9.5'", "outside the scale"]);

    let mut not_finite = columns();
    not_finite.ratings[0] = f64::NAN;
    let message = refused(&columns_request(not_finite, &scratch), "frame");
    assert_mentions(&message, &["row 1", "not finite"]);

    let short = RatingColumns { ratings: vec![4.0], ..columns() };
    assert_mentions(&refused(&columns_request(short, &scratch), "frame"), &["differ in length"]);
    let empty = RatingColumns { name: "frame".into(), ..RatingColumns::default() };
    assert_mentions(&refused(&columns_request(empty, &scratch), "frame"), &["no ratings"]);

    let mut twice = columns();
    twice.items[1] = twice.items[0];
    let mut request = columns_request(twice, &scratch);
    request.on_duplicate = DuplicatePolicy::Error;
    assert_mentions(&refused(&request, "frame"), &["twice", "row 1", "row 2"]);
}
