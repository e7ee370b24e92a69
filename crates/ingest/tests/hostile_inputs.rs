//! Broken and hostile inputs: every one is an error (never a panic) naming the file, and the
//! line and value where there is one, and leaves neither a cache nor a temporary directory.
//! Then damaged caches: `Dataset::open` names the damaged file.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_mentions, prepare_and_open, refused, Scratch};
use flash_ingest::{prepare, Dataset, Source};

const HEADER: &str = "userId,movieId,rating,timestamp\n";

/// Prepares a `ratings.csv` holding `contents`, which must be refused; returns the message.
fn refuse_csv(contents: impl AsRef<[u8]>) -> String {
    let scratch = Scratch::new();
    scratch.write("ratings.csv", contents);
    refused(&scratch.request("ratings.csv"), "ratings.csv")
}

/// The header, two good lines (lines 2 and 3), then `bad` as line 4 and one more good line.
fn with_bad_fourth_line(bad: &str) -> String {
    format!("{HEADER}1,10,4.0,1\n1,20,3.0,2\n{bad}\n2,10,5.0,3\n")
}

#[test]
fn a_missing_file_is_named() {
    let scratch = Scratch::new();
    let message = refused(&scratch.request("nowhere.csv"), "nowhere.csv");
    assert_mentions(&message, &["No such file"]);
}

#[test]
fn a_missing_movielens_directory_is_named() {
    let scratch = Scratch::new();
    let mut request = scratch.request("unused");
    request.source = Source::MovieLens(scratch.input.join("ml-nowhere"));
    let message = refused(&request, "ml-nowhere");
    assert_mentions(&message, &["no such directory"]);
}

#[test]
fn an_empty_file_is_refused_as_empty() {
    assert_mentions(&refuse_csv(""), &["the file is empty"]);
}

#[test]
fn a_header_without_ratings_is_refused() {
    assert_mentions(&refuse_csv(HEADER), &["no ratings"]);
}

#[test]
fn a_header_without_a_rating_column_names_the_columns_it_has() {
    let message = refuse_csv("userId,movieId,score\n1,2,3\n");
    assert_mentions(&message, &["line 1", "no rating column", "userId, movieId, score"]);
}

#[test]
fn a_short_row_is_refused_with_its_line_and_text() {
    let message = refuse_csv(with_bad_fourth_line("1,30,4.0"));
    assert_mentions(&message, &["line 4", "'1,30,4.0'", "3 fields, expected 4"]);
}

#[test]
fn a_long_row_is_refused_with_its_line_and_text() {
    let message = refuse_csv(with_bad_fourth_line("1,30,4.0,5,extra"));
    assert_mentions(&message, &["line 4", "'1,30,4.0,5,extra'", "5 fields, expected 4"]);
}

#[test]
fn a_non_numeric_user_id_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("alice,30,4.0,5"));
    assert_mentions(&message, &["line 4", "'alice'", "user id is not a 64-bit integer"]);
}

#[test]
fn an_item_id_beyond_64_bits_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,99999999999999999999,4.0,5"));
    assert_mentions(&message, &["line 4", "'99999999999999999999'", "item id"]);
}

#[test]
fn a_space_after_an_id_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30 ,4.0,5"));
    assert_mentions(&message, &["line 4", "'30 '", "item id is not a 64-bit integer"]);
}

#[test]
fn a_space_after_a_rating_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,4.0 ,5"));
    assert_mentions(&message, &["line 4", "'4.0 '", "rating is not a number"]);
}

#[test]
fn a_nan_rating_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,NaN,5"));
    assert_mentions(&message, &["line 4", "'NaN'", "not finite"]);
}

#[test]
fn an_infinite_rating_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,inf,5"));
    assert_mentions(&message, &["line 4", "'inf'", "not finite"]);
}

#[test]
fn a_negative_rating_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,-1,5"));
    assert_mentions(&message, &["line 4", "'-1'", "outside the scale 0.5..5"]);
}

#[test]
fn a_rating_above_the_scale_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,5.5,5"));
    assert_mentions(&message, &["line 4", "'5.5'", "outside the scale 0.5..5"]);
}

#[test]
fn a_text_rating_is_refused_with_its_line_and_value() {
    let message = refuse_csv(with_bad_fourth_line("1,30,good,5"));
    assert_mentions(&message, &["line 4", "'good'", "rating is not a number"]);
}

#[test]
fn a_missing_rating_is_refused_with_its_line() {
    let message = refuse_csv(with_bad_fourth_line("1,30,,5"));
    assert_mentions(&message, &["line 4", "rating is not a number"]);
}

#[test]
fn random_binary_bytes_are_refused_without_quoting_them_whole() {
    // A fixed pseudo-random sequence (xorshift), with a few newlines among the bytes.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let message = refuse_csv(&bytes);
    assert_mentions(&message, &["line 1"]);
    assert!(message.len() < 1_000, "{} bytes of message", message.len());
}

#[test]
fn random_binary_bytes_in_a_headerless_file_are_refused() {
    let scratch = Scratch::new();
    let bytes: Vec<u8> =
        (0..50_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    scratch.write("ratings.csv", bytes);
    let mut request = scratch.request("ratings.csv");
    request.read.has_header = false;
    let message = refused(&request, "ratings.csv");
    assert_mentions(&message, &["line "]);
    assert!(message.len() < 1_000, "{} bytes of message", message.len());
}

#[test]
fn a_directory_in_place_of_the_ratings_file_is_refused() {
    let scratch = Scratch::new();
    std::fs::create_dir(scratch.input.join("ratings.csv")).unwrap();
    let message = refused(&scratch.request("ratings.csv"), "ratings.csv");
    assert_mentions(&message, &["not a regular file"]);
}

#[test]
fn invalid_utf8_in_an_id_is_refused_with_its_line() {
    let mut bytes = with_bad_fourth_line("1,3\u{0}0,4.0,5").into_bytes();
    let nul = bytes.iter().position(|&b| b == 0).unwrap();
    bytes[nul] = 0xff;
    let message = refuse_csv(bytes);
    // The value is quoted with the invalid byte replaced by U+FFFD.
    assert_mentions(&message, &["line 4", "'3\u{fffd}0'", "item id is not a 64-bit integer"]);
}

#[test]
fn a_ten_megabyte_line_is_refused_and_quoted_short() {
    let huge = "7".repeat(10 << 20);
    let message = refuse_csv(with_bad_fourth_line(&format!("1,{huge},4.0,5")));
    assert_mentions(&message, &["line 4", "7777777", "bytes)"]);
    assert!(message.len() < 1_000, "{} bytes of message", message.len());
}

#[test]
fn a_ten_megabyte_file_of_one_line_is_refused_and_quoted_short() {
    let message = refuse_csv("x".repeat(10 << 20));
    assert_mentions(&message, &["line 1", "xxxxxxx", "bytes)"]);
    assert!(message.len() < 1_000, "{} bytes of message", message.len());
}

#[test]
fn a_blank_line_in_the_middle_is_refused_with_its_line() {
    let message = refuse_csv(format!("{HEADER}1,10,4.0,1\n\n1,20,3.0,2\n"));
    assert_mentions(&message, &["line 3", "empty line"]);
    let message = refuse_csv(format!("{HEADER}1,10,4.0,1\n\n\n1,20,3.0,2\n\n"));
    assert_mentions(&message, &["line 3", "empty line"]);
}

#[test]
fn an_unclosed_quote_is_refused() {
    let message = refuse_csv(with_bad_fourth_line("1,\"30,4.0,5"));
    assert_mentions(&message, &["line 4"]);
}

#[test]
fn a_bad_test_file_is_named_rather_than_the_train_file() {
    let scratch = Scratch::new();
    let train = scratch.write("u1.base", "1\t10\t4\t1\n");
    let test = scratch.write("u1.test", "1\t20\t4\t1\n2\t20\tx\t1\n");
    let mut request = scratch.request("u1.base");
    request.source = Source::Ratings { ratings: train, test: Some(test) };
    request.read.has_header = false;
    let message = refused(&request, "u1.test");
    assert_mentions(&message, &["line 2", "'x'"]);
    assert!(!message.contains("u1.base"), "{message}");
}

#[test]
fn a_failed_prepare_keeps_the_previous_cache() {
    let scratch = Scratch::new();
    let ratings = scratch.write("ratings.csv", format!("{HEADER}1,10,4.0,1\n1,20,3.0,2\n"));
    prepare_and_open(&scratch.request("ratings.csv"));
    std::fs::write(&ratings, with_bad_fourth_line("1,30,9,5")).unwrap();

    let message = prepare(&scratch.request("ratings.csv")).unwrap_err().to_string();
    assert_mentions(&message, &["ratings.csv", "line 4", "'9'"]);
    let siblings = std::fs::read_dir(scratch.cache.parent().unwrap()).unwrap().count();
    assert_eq!(siblings, 1, "a temporary directory was left beside the cache");
    // The old cache is intact, though now stale.
    let message = Dataset::open(&scratch.cache).unwrap_err().to_string();
    assert_mentions(&message, &["stale cache", "ratings.csv"]);
}

#[test]
fn an_out_folder_that_is_not_a_cache_is_refused_and_kept() {
    let scratch = Scratch::new();
    scratch.write("ratings.csv", format!("{HEADER}1,10,4.0,1\n1,20,3.0,2\n"));
    // Preparing into the source folder itself would delete the sources.
    let mut request = scratch.request("ratings.csv");
    request.out = scratch.input.clone();
    let message = prepare(&request).unwrap_err().to_string();
    let input = scratch.input.display().to_string();
    assert_mentions(&message, &[&input, "not a cache", "refusing to replace it"]);
    assert!(scratch.input.join("ratings.csv").is_file());

    let file = scratch.write("notes.txt", "keep me");
    request.out = file.clone();
    let message = prepare(&request).unwrap_err().to_string();
    assert_mentions(&message, &["notes.txt", "a file", "refusing to replace it"]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[test]
fn an_empty_out_folder_or_an_old_cache_is_replaced() {
    let scratch = Scratch::new();
    scratch.write("ratings.csv", format!("{HEADER}1,10,4.0,1\n1,20,3.0,2\n"));
    std::fs::create_dir_all(&scratch.cache).unwrap();
    prepare_and_open(&scratch.request("ratings.csv"));
    // A cache whose manifest is damaged is still a cache: it is rebuilt.
    std::fs::write(scratch.cache.join("manifest.json"), "garbage").unwrap();
    assert!(prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
}

/// A small prepared cache; returns the scratch folder that owns it.
fn prepared_cache() -> Scratch {
    let scratch = Scratch::new();
    let mut text = String::from(HEADER);
    for user in 1..=20 {
        for item in 1..=8 {
            text.push_str(&format!("{user},{},{}.5,{}\n", item * 11, item % 5, user * item));
        }
    }
    scratch.write("ratings.csv", text);
    prepare_and_open(&scratch.request("ratings.csv"));
    scratch
}

fn open_error(cache: &Path) -> String {
    match Dataset::open(cache) {
        Ok(_) => panic!("a damaged cache was opened"),
        Err(error) => error.to_string(),
    }
}

fn train_file(scratch: &Scratch) -> PathBuf {
    scratch.cache.join("train.by_user.bin")
}

#[test]
fn a_truncated_matrix_file_is_named() {
    let scratch = prepared_cache();
    let path = train_file(&scratch);
    let good = std::fs::read(&path).unwrap();
    for keep in [0, 10, 63, 64, 200, good.len() - 1] {
        std::fs::write(&path, &good[..keep]).unwrap();
        assert_mentions(&open_error(&scratch.cache), &["train.by_user.bin"]);
    }
}

#[test]
fn a_matrix_file_cut_by_one_byte_is_named_as_damaged() {
    let scratch = prepared_cache();
    let path = train_file(&scratch);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    assert_mentions(&open_error(&scratch.cache), &["train.by_user.bin", "damaged file"]);
}

#[test]
fn a_flipped_byte_of_a_matrix_file_is_named() {
    let scratch = prepared_cache();
    let path = train_file(&scratch);
    let good = std::fs::read(&path).unwrap();
    // In the header, in the section table, in the middle of the payload, in the last byte.
    for offset in [20, 70, good.len() / 2, good.len() - 1] {
        let mut bytes = good.clone();
        bytes[offset] ^= 0x5a;
        std::fs::write(&path, &bytes).unwrap();
        let message = open_error(&scratch.cache);
        assert_mentions(&message, &["train.by_user.bin", "checksum mismatch"]);
    }
    std::fs::write(&path, &good).unwrap();
    Dataset::open(&scratch.cache).unwrap();
}

#[test]
fn a_csv_in_place_of_a_matrix_file_is_not_a_flash_rec_file() {
    let scratch = prepared_cache();
    std::fs::copy(scratch.input.join("ratings.csv"), scratch.cache.join("test.by_user.bin"))
        .unwrap();
    let message = open_error(&scratch.cache);
    assert_mentions(&message, &["test.by_user.bin", "not a flash-rec file"]);
}

#[test]
fn swapped_matrix_files_are_refused_by_kind() {
    let scratch = prepared_cache();
    let by_item = scratch.cache.join("train.by_item.bin");
    std::fs::copy(&by_item, train_file(&scratch)).unwrap();
    let message = open_error(&scratch.cache);
    assert_mentions(&message, &["train.by_user.bin", "expected RatingsByUser"]);
}

#[test]
fn a_missing_matrix_file_is_named() {
    let scratch = prepared_cache();
    std::fs::remove_file(scratch.cache.join("items.bin")).unwrap();
    assert_mentions(&open_error(&scratch.cache), &["items.bin", "No such file"]);
    // prepare notices the missing file and rebuilds.
    assert!(prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
    Dataset::open(&scratch.cache).unwrap();
}

#[test]
fn a_garbage_manifest_is_refused_clearly_and_rebuilt_by_prepare() {
    let scratch = prepared_cache();
    std::fs::write(scratch.cache.join("manifest.json"), "{\"cache_version\": [garbage").unwrap();
    let message = open_error(&scratch.cache);
    assert_mentions(&message, &["manifest.json", "not a flash-rec cache manifest"]);
    assert!(prepare(&scratch.request("ratings.csv")).unwrap().rebuilt);
    Dataset::open(&scratch.cache).unwrap();
}

#[test]
fn a_binary_manifest_is_refused_clearly() {
    let scratch = prepared_cache();
    std::fs::write(scratch.cache.join("manifest.json"), [0xff, 0xfe, 0x00, 0x9c]).unwrap();
    assert_mentions(&open_error(&scratch.cache), &["manifest.json"]);
}

#[test]
fn a_folder_without_manifest_is_not_a_prepared_cache() {
    let scratch = Scratch::new();
    let message = open_error(&scratch.input);
    assert_mentions(&message, &["not a prepared cache", "run prepare"]);
}

/// Prepares a MovieLens folder with good ratings and `name` holding `contents` (beside a good
/// `movies.csv` unless `name` is that file); it must be refused naming `name`.
fn refuse_movielens_file(name: &str, contents: &str) -> String {
    let scratch = Scratch::new();
    let dir = scratch.input.join("ml");
    std::fs::create_dir(&dir).unwrap();
    let ratings = format!("{HEADER}1,10,4.0,1\n1,20,3.0,2\n2,10,5.0,3\n2,20,2.0,4\n");
    std::fs::write(dir.join("ratings.csv"), ratings).unwrap();
    let movies = "movieId,title,genres\n10,\"Ten, The (1999)\",Drama\n20,Twenty (2000),Comedy\n";
    std::fs::write(dir.join("movies.csv"), movies).unwrap();
    std::fs::write(dir.join(name), contents).unwrap();
    let mut request = scratch.request("unused");
    request.source = Source::MovieLens(dir);
    refused(&request, name)
}

#[test]
fn a_bad_movies_file_is_refused_with_its_line_and_value() {
    let good = "movieId,title,genres\n10,Ten (1999),Drama\n";
    let message =
        refuse_movielens_file("movies.csv", &format!("{good}ten,Twenty (2000),Comedy\n"));
    assert_mentions(&message, &["line 3", "'ten'", "movieId is not a 64-bit integer"]);
    let message = refuse_movielens_file("movies.csv", &format!("{good}20,Twenty (2000)\n"));
    assert_mentions(&message, &["line 3", "2 fields, expected 3"]);
    let message = refuse_movielens_file("movies.csv", "id,title,genres\n10,Ten (1999),Drama\n");
    assert_mentions(&message, &["line 1", "header must be movieId,title,genres"]);
    assert_mentions(&refuse_movielens_file("movies.csv", ""), &["the file is empty"]);
}

#[test]
fn a_bad_tags_file_is_refused_with_its_line_and_value() {
    let header = "userId,movieId,tag,timestamp\n";
    let message =
        refuse_movielens_file("tags.csv", &format!("{header}1,10,funny,5\n1,x20,dark,6\n"));
    assert_mentions(&message, &["line 3", "'x20'", "movieId is not a 64-bit integer"]);
    let message = refuse_movielens_file("tags.csv", &format!("{header}1,10,funny\n"));
    assert_mentions(&message, &["line 2", "3 fields, expected 4"]);
}
