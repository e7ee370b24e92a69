//! Targets through flash-ingest and therefore polars (feature `polars`; outside CI, since an
//! instrumented polars build takes over 20 minutes).

use std::path::Path;

use flash_ingest::{
    prepare, Dataset, DuplicatePolicy, IngestError, PrepareRequest, RatingScale, ReadOptions,
    Source, SplitOptions,
};

use crate::{with_file, with_valid_checksums};

/// Target `ratings_polars`: a whole `prepare` of the input as a ratings file (the first byte
/// chooses the options as in [`crate::lines`]; bit 5 makes it a Parquet file), then, when it
/// is accepted, `Dataset::open` of the cache it wrote, which must hold every rating.
pub fn ratings_polars(data: &[u8]) {
    let Some((&control, file)) = data.split_first() else { return };
    let separator = [None, Some(b','), Some(b'\t'), Some(b';')][usize::from((control >> 1) & 3)];
    let ten = RatingScale { min: 1.0, max: 10.0 };
    let scale = if control & 8 == 0 { RatingScale::MOVIELENS } else { ten };
    let read = ReadOptions { separator, has_header: control & 1 == 0, scale };
    let name = if control & 32 == 0 { "ratings.csv" } else { "ratings.parquet" };
    with_file(name, file, |path| {
        let out = path.with_file_name("cache");
        let _ = std::fs::remove_dir_all(&out);
        let request = PrepareRequest {
            source: Source::Ratings { ratings: path.to_path_buf(), test: None },
            out: out.clone(),
            read: read.clone(),
            split: SplitOptions { test_fraction: 0.2, seed: 1 },
            on_duplicate: DuplicatePolicy::KeepLatest,
        };
        match prepare(&request) {
            Ok(outcome) => {
                let summary = outcome.manifest.summary;
                let dataset = Dataset::open(&out).expect("a cache prepare wrote opens");
                assert_eq!(dataset.train_by_user.nnz(), summary.train_ratings);
                assert_eq!(dataset.test_by_user.nnz(), summary.test_ratings);
                if name.ends_with(".csv") {
                    let kept = summary.train_ratings + summary.test_ratings;
                    let lines = data_lines(file, read.has_header);
                    assert_eq!(kept + summary.duplicates_dropped, lines, "ratings lost");
                }
            }
            Err(error) => {
                let message = error.to_string();
                let named = message.contains(name) || matches!(error, IngestError::Options(_));
                assert!(named, "message without the file: {message}");
            }
        }
    });
}

fn data_lines(file: &[u8], has_header: bool) -> usize {
    let newlines = file.iter().filter(|&&b| b == b'\n').count();
    let lines = newlines + usize::from(file.last().is_some_and(|&b| b != b'\n'));
    lines - usize::from(has_header)
}

/// The files of a cache, in the order `dataset_open` inputs hold them.
pub const CACHE_FILES: [&str; 6] = [
    "manifest.json",
    "train.by_user.bin",
    "train.by_item.bin",
    "test.by_user.bin",
    "users.bin",
    "items.bin",
];

/// Target `dataset_open`: `Dataset::open` of a cache directory made from the input, which
/// holds each file of [`CACHE_FILES`] as a little-endian u32 length and its bytes. The first
/// byte's bit 0 recomputes the binary files' checksums.
pub fn dataset_open(data: &[u8]) {
    let Some((&control, mut rest)) = data.split_first() else { return };
    with_file("unused", b"", |scratch| {
        let dir = scratch.with_file_name("dataset");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        for name in CACHE_FILES {
            let Some((bytes, tail)) = take_chunk(rest) else { break };
            rest = tail;
            let fixed = if control & 1 == 1 && name.ends_with(".bin") {
                with_valid_checksums(bytes)
            } else {
                None
            };
            std::fs::write(dir.join(name), fixed.as_deref().unwrap_or(bytes)).unwrap();
        }
        open_dataset(&dir);
    });
}

fn take_chunk(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let length = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let rest = &bytes[4..];
    let length = length.min(rest.len());
    Some(rest.split_at(length))
}

fn open_dataset(dir: &Path) {
    match Dataset::open(dir) {
        Ok(dataset) => {
            let (users, items) = (dataset.users.len(), dataset.items.len());
            for matrix in [&dataset.train_by_user, &dataset.test_by_user] {
                assert_eq!((matrix.n_rows(), matrix.n_cols()), (users, items));
            }
            assert_eq!(dataset.train_by_item.n_rows(), items);
            assert_eq!(dataset.train_by_item.nnz(), dataset.train_by_user.nnz());
            let _ = dataset.features();
        }
        Err(error) => {
            let message = error.to_string();
            assert!(message.contains("dataset"), "message without the cache: {message}");
        }
    }
}
