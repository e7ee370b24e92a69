//! Ratings files other than MovieLens: header names, TSV without header, a given split,
//! Parquet, a custom scale, CRLF, a byte order mark, and duplicate ratings.

mod common;

use std::path::Path;

use common::{
    all_triples, assert_mentions, prepare_and_open, refused, sort, train_and_test, without_test,
    Scratch, Triple,
};
use flash_ingest::{prepare, DuplicatePolicy, PrepareRequest, RatingScale, Source};
use polars::prelude::*;

/// The ratings every small file of this test describes, in file order.
const RATINGS: [Triple; 6] =
    [(1, 10, 4.0), (1, 20, 3.5), (2, 10, 5.0), (2, 30, 1.0), (3, 20, 2.5), (3, 30, 0.5)];

/// `RATINGS` as text lines, fields joined by `separator`, each followed by `end`, with a
/// timestamp column when `timestamps` is set.
fn lines(separator: &str, end: &str, timestamps: bool) -> String {
    let mut text = String::new();
    for (row, (user, item, rating)) in RATINGS.iter().enumerate() {
        let fields = [user.to_string(), item.to_string(), rating.to_string()];
        text.push_str(&fields.join(separator));
        if timestamps {
            text.push_str(&format!("{separator}{}", 881_250_949 + row));
        }
        text.push_str(end);
    }
    text
}

/// Prepares `request` with nothing held out and returns every rating read, sorted.
fn read_back(request: PrepareRequest) -> Vec<Triple> {
    let (outcome, dataset) = prepare_and_open(&without_test(request));
    assert_eq!(outcome.manifest.summary.train_ratings, dataset.train_by_user.nnz());
    all_triples(&dataset)
}

#[test]
fn a_headed_csv_without_timestamp_is_read_by_its_column_names() {
    let scratch = Scratch::new();
    scratch.write("r.csv", format!("user_id,item_id,rating\n{}", lines(",", "\n", false)));
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn blank_lines_at_the_end_of_a_file_are_ignored() {
    for end in ["\n", "\n\n", "\r\n\r\n  \n"] {
        let scratch = Scratch::new();
        let body = lines(",", "\n", true);
        scratch.write("r.csv", format!("userId,movieId,rating,timestamp\n{body}{end}"));
        assert_eq!(read_back(scratch.request("r.csv")), RATINGS, "ending {end:?}");
    }
}

#[test]
fn ids_far_apart_are_mapped_densely() {
    // Ten million apart and up to the largest 64-bit ids: the maps hold the distinct ids only,
    // so three users cost three entries, never an array as long as the largest id.
    let scratch = Scratch::new();
    let big = i64::MAX;
    let text = format!(
        "userId,movieId,rating\n0,{big},4.0\n10000000,{big},3.0\n{big},10000000,5.0\n\
         -{big},0,1.0\n"
    );
    scratch.write("r.csv", text);
    let (outcome, dataset) = prepare_and_open(&without_test(scratch.request("r.csv")));
    assert_eq!(dataset.users.ids(), [-big, 0, 10_000_000, big]);
    assert_eq!(dataset.items.ids(), [0, 10_000_000, big]);
    assert_eq!(outcome.manifest.summary.train_ratings, 4);
    let cache_bytes: u64 = std::fs::read_dir(dataset.dir())
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum();
    assert!(cache_bytes < 64 * 1024, "the cache takes {cache_bytes} bytes");
}

#[test]
fn columns_are_found_by_name_in_any_order_and_case() {
    let scratch = Scratch::new();
    let mut text = String::from("Rating,Timestamp,MovieId,UserId\n");
    for (user, item, rating) in RATINGS {
        text.push_str(&format!("{rating},1,{item},{user}\n"));
    }
    scratch.write("r.csv", text);
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn an_item_column_before_the_user_column_is_not_read_as_users() {
    // Both id columns are integers: a mix-up would go unnoticed by the types.
    let scratch = Scratch::new();
    let mut text = String::from("movieId,userId,rating\n");
    for (user, item, rating) in RATINGS {
        text.push_str(&format!("{item},{user},{rating}\n"));
    }
    scratch.write("r.csv", text);
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn spaces_before_the_values_are_allowed() {
    let scratch = Scratch::new();
    scratch.write("r.csv", format!("userId, movieId, rating\n{}", lines(", ", "\n", false)));
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn a_tsv_without_header_is_read_as_user_item_rating_timestamp() {
    // The shape of MovieLens 100k's u1.base: user, item, rating, timestamp, tab-separated.
    let scratch = Scratch::new();
    scratch.write("u1.base", lines("\t", "\n", true));
    let mut request = scratch.request("u1.base");
    request.read.has_header = false;
    assert_eq!(read_back(request), RATINGS);
}

#[test]
fn a_given_test_file_lands_exactly_in_the_test_matrix() {
    let scratch = Scratch::new();
    let base = scratch.write("u1.base", "1\t10\t4\t1\n1\t20\t3\t2\n2\t10\t5\t3\n2\t30\t1\t4\n");
    // User 3 and item 40 appear only in test; user 1 rates item 30 only in test.
    let test = scratch.write("u1.test", "1\t30\t2\t5\n3\t40\t4\t6\n");
    let mut request = scratch.request("u1.base");
    request.source = Source::Ratings { ratings: base, test: Some(test) };
    request.read.has_header = false;

    let (outcome, dataset) = prepare_and_open(&request);
    let (train, test) = train_and_test(&dataset);
    assert_eq!(train, [(1, 10, 4.0), (1, 20, 3.0), (2, 10, 5.0), (2, 30, 1.0)]);
    assert_eq!(test, [(1, 30, 2.0), (3, 40, 4.0)]);
    let summary = &outcome.manifest.summary;
    assert_eq!((summary.users, summary.items, summary.test_only_items), (3, 4, 1));
    assert!(outcome.manifest.fingerprint.options.given_test);
    assert_eq!(outcome.manifest.fingerprint.sources.len(), 2);
}

fn write_parquet(path: &Path, mut frame: DataFrame) {
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(&mut frame).unwrap();
}

fn ratings_frame() -> DataFrame {
    let users: Vec<i64> = RATINGS.iter().map(|r| r.0).collect();
    let items: Vec<i64> = RATINGS.iter().map(|r| r.1).collect();
    let ratings: Vec<f64> = RATINGS.iter().map(|r| r.2 as f64).collect();
    df!("userId" => users, "movieId" => items, "rating" => ratings).unwrap()
}

#[test]
fn a_parquet_file_is_read_by_its_column_names() {
    let scratch = Scratch::new();
    let mut frame = ratings_frame();
    frame.with_column(Column::new("timestamp".into(), [7i64; 6])).unwrap();
    write_parquet(&scratch.input.join("r.parquet"), frame);
    assert_eq!(read_back(scratch.request("r.parquet")), RATINGS);
}

#[test]
fn parquet_integer_ratings_and_narrow_ids_are_widened() {
    let scratch = Scratch::new();
    let frame = df!(
        "item" => [10i32, 20, 10],
        "user" => [1i32, 1, 2],
        "rating" => [4i64, 3, 5],
    )
    .unwrap();
    write_parquet(&scratch.input.join("r.pq"), frame);
    let expected = [(1, 10, 4.0), (1, 20, 3.0), (2, 10, 5.0)];
    assert_eq!(read_back(scratch.request("r.pq")), expected);
}

#[test]
fn random_bytes_and_a_cut_parquet_file_are_refused_naming_the_file() {
    let scratch = Scratch::new();
    let noise: Vec<u8> =
        (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    scratch.write("noise.parquet", &noise);
    refused(&scratch.request("noise.parquet"), "noise.parquet");

    let whole = scratch.input.join("whole.parquet");
    write_parquet(&whole, ratings_frame());
    let bytes = std::fs::read(&whole).unwrap();
    for cut in [8, bytes.len() / 2, bytes.len() - 3] {
        scratch.write("cut.parquet", &bytes[..cut]);
        refused(&scratch.request("cut.parquet"), "cut.parquet");
    }
}

#[test]
fn a_parquet_null_rating_is_refused_with_its_row() {
    let scratch = Scratch::new();
    let ratings = Column::new("rating".into(), [Some(4.0), None, Some(3.0)]);
    let frame = df!("userId" => [1i64, 2, 3], "movieId" => [5i64, 5, 5]).unwrap();
    write_parquet(&scratch.input.join("r.parquet"), frame.hstack(&[ratings]).unwrap());
    let message = refused(&scratch.request("r.parquet"), "r.parquet");
    assert_mentions(&message, &["row 2", "missing rating"]);
}

#[test]
fn a_parquet_text_user_id_is_refused_with_its_row_and_value() {
    let scratch = Scratch::new();
    let frame =
        df!("userId" => ["1", "2", "bob"], "movieId" => [5i64, 6, 7], "rating" => [1.0, 2.0, 3.0])
            .unwrap();
    write_parquet(&scratch.input.join("r.parquet"), frame);
    let message = refused(&scratch.request("r.parquet"), "r.parquet");
    assert_mentions(&message, &["row 3", "bob", "userId"]);
}

#[test]
fn a_parquet_rating_off_the_scale_is_refused_with_its_row_and_value() {
    let scratch = Scratch::new();
    let frame = df!("userId" => [1i64, 2], "movieId" => [5i64, 6], "rating" => [1.0, 9.5]);
    let frame = frame.unwrap();
    write_parquet(&scratch.input.join("r.parquet"), frame);
    let message = refused(&scratch.request("r.parquet"), "r.parquet");
    assert_mentions(&message, &["row 2", "'9.5'", "outside the scale"]);
}

#[test]
fn a_scale_of_one_to_ten_accepts_seven_and_refuses_eleven() {
    let scratch = Scratch::new();
    scratch.write("good.csv", "user,item,rating\n1,1,7\n1,2,10\n2,1,1\n");
    scratch.write("bad.csv", "user,item,rating\n1,1,7\n1,2,11\n");
    let scale = RatingScale::parse("1,10").unwrap();

    let mut bad = scratch.request("bad.csv");
    bad.read.scale = scale;
    let message = refused(&bad, "bad.csv");
    assert_mentions(&message, &["line 3", "'11'", "outside the scale 1..10"]);
    // The default MovieLens scale refuses the 7.
    let message = refused(&scratch.request("good.csv"), "good.csv");
    assert_mentions(&message, &["line 2", "'7'", "outside the scale 0.5..5"]);

    let mut good = scratch.request("good.csv");
    good.read.scale = scale;
    assert_eq!(read_back(good), [(1, 1, 7.0), (1, 2, 10.0), (2, 1, 1.0)]);
}

#[test]
fn crlf_line_ends_are_read_like_lf() {
    let scratch = Scratch::new();
    let header = "userId,movieId,rating,timestamp\r\n";
    scratch.write("r.csv", format!("{header}{}", lines(",", "\r\n", true)));
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn crlf_without_timestamp_keeps_the_rating_clean() {
    // The rating is the last field, right before the '\r'.
    let scratch = Scratch::new();
    scratch.write("r.tsv", lines("\t", "\r\n", false));
    let mut request = scratch.request("r.tsv");
    request.read.has_header = false;
    assert_eq!(read_back(request), RATINGS);
}

#[test]
fn a_utf8_byte_order_mark_before_the_header_is_ignored() {
    let scratch = Scratch::new();
    let text = format!("\u{feff}userId,movieId,rating\r\n{}", lines(",", "\r\n", false));
    scratch.write("r.csv", text);
    assert_eq!(read_back(scratch.request("r.csv")), RATINGS);
}

#[test]
fn a_utf8_byte_order_mark_before_headerless_data_is_ignored() {
    let scratch = Scratch::new();
    scratch.write("r.csv", format!("\u{feff}{}", lines(",", "\n", false)));
    let mut request = scratch.request("r.csv");
    request.read.has_header = false;
    assert_eq!(read_back(request), RATINGS);
}

#[test]
fn the_latest_duplicate_by_timestamp_is_kept_and_the_dropped_ones_counted() {
    let scratch = Scratch::new();
    // (1, 10) three times: the latest timestamp is on the middle line.
    scratch.write(
        "r.csv",
        "userId,movieId,rating,timestamp\n1,10,2,100\n1,10,4,300\n2,10,3,50\n1,10,1,200\n",
    );
    let (outcome, dataset) = prepare_and_open(&without_test(scratch.request("r.csv")));
    assert_eq!(all_triples(&dataset), [(1, 10, 4.0), (2, 10, 3.0)]);
    assert_eq!(outcome.manifest.summary.duplicates_dropped, 2);
}

#[test]
fn without_timestamps_the_later_line_of_a_duplicate_is_kept() {
    let scratch = Scratch::new();
    scratch.write("r.csv", "user,item,rating\n1,10,2\n2,10,3\n1,10,4\n");
    let (outcome, dataset) = prepare_and_open(&without_test(scratch.request("r.csv")));
    assert_eq!(all_triples(&dataset), [(1, 10, 4.0), (2, 10, 3.0)]);
    assert_eq!(outcome.manifest.summary.duplicates_dropped, 1);
}

#[test]
fn equal_timestamps_of_a_duplicate_are_broken_by_the_later_line() {
    let scratch = Scratch::new();
    scratch.write("r.csv", "user,item,rating,timestamp\n1,10,4,9\n1,10,2,9\n");
    let (outcome, dataset) = prepare_and_open(&without_test(scratch.request("r.csv")));
    assert_eq!(all_triples(&dataset), [(1, 10, 2.0)]);
    assert_eq!(outcome.manifest.summary.duplicates_dropped, 1);
}

#[test]
fn refused_duplicates_name_the_ids_and_both_lines() {
    let scratch = Scratch::new();
    scratch.write("r.csv", "user,item,rating\n1,10,2\n2,10,3\n7,20,1\n1,11,4\n7,20,5\n1,10,4\n");
    let mut request = scratch.request("r.csv");
    request.on_duplicate = DuplicatePolicy::Error;
    let message = refused(&request, "r.csv");
    // (7, 20) repeats first: lines 4 and 6; (1, 10) only on line 7.
    assert_mentions(&message, &["user 7", "item 20", "line 4", "line 6", "keep-latest"]);
}

#[test]
fn the_split_of_a_generic_file_puts_each_rating_in_train_or_test_once() {
    let scratch = Scratch::new();
    let mut text = String::from("user,item,rating\n");
    let mut expected = Vec::new();
    for user in 1..=40 {
        for item in 1..=(user % 9 + 1) {
            let rating = 1 + (user + item) % 5;
            text.push_str(&format!("{user},{},{rating}\n", item * 3));
            expected.push((user, item * 3, rating as f32));
        }
    }
    scratch.write("r.csv", text);
    let (outcome, dataset) = prepare_and_open(&scratch.request("r.csv"));
    let (train, test) = train_and_test(&dataset);

    assert_eq!(test.len(), outcome.manifest.summary.test_ratings);
    // 40 users with 1 to 9 ratings: all but the 4 with one rating hold out at least one.
    assert!(test.len() >= 36, "{} test ratings", test.len());
    let pair = |t: &Triple| (t.0, t.1);
    assert!(test.iter().all(|t| !train.iter().any(|r| pair(r) == pair(t))));
    assert_eq!(all_triples(&dataset), sort(expected));
    assert!(!prepare(&scratch.request("r.csv")).unwrap().rebuilt);
}
