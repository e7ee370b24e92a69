//! The verification figures of the data-layer benchmark, in one process and on the same
//! threads:
//!
//! - `open`: [`Dataset::open`], which maps the cache's files and verifies every checksum
//!   and every index before anything trusts them;
//! - `read`: mapping the same files afresh and summing every 8-byte word, the least work
//!   that touches each byte of a freshly mapped file (the kernel must map its pages first);
//! - `resident`: summing the words again once mapped, which only memory bandwidth limits;
//! - `checksums`: the xxh3 checksums alone once mapped, one file per thread as `open` does.
//!
//! Prints `open_seconds read_seconds resident_seconds bytes checksums_seconds`, medians of
//! five rounds.
//!
//! `cargo run --release -p flash-ingest --example verify_cache -- CACHE`

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use flash_ingest::Dataset;
use flash_matrix::container::payload_checksum;
use flash_matrix::MappedFile;
use rayon::prelude::*;

const FILES: [&str; 5] =
    ["train.by_user.bin", "train.by_item.bin", "test.by_user.bin", "users.bin", "items.bin"];
const ROUNDS: usize = 5;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: verify_cache CACHE")?);
    let paths: Vec<PathBuf> = FILES.iter().map(|name| dir.join(name)).collect();
    let (mut open, mut read, mut resident) = (Vec::new(), Vec::new(), Vec::new());
    let mut checksums = Vec::new();
    // Printed so that no sum can be optimised away.
    let mut fold = 0u64;
    let mut bytes = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        drop(Dataset::open(&dir)?);
        open.push(started.elapsed().as_secs_f64());

        let started = Instant::now();
        let maps: Vec<MappedFile> =
            paths.iter().map(|path| MappedFile::open(path)).collect::<Result<_, _>>()?;
        fold = fold.wrapping_add(sum_all(&maps)?);
        read.push(started.elapsed().as_secs_f64());

        let started = Instant::now();
        fold = fold.wrapping_add(sum_all(&maps)?);
        resident.push(started.elapsed().as_secs_f64());

        let started = Instant::now();
        let hashes = maps.par_iter().map(|map| payload_checksum(map.bytes()));
        fold = fold.wrapping_add(hashes.reduce(|| 0, u64::wrapping_add));
        checksums.push(started.elapsed().as_secs_f64());
        bytes = maps.iter().map(|map| map.bytes().len()).sum::<usize>();
    }
    let (open, read, resident) = (median(open), median(read), median(resident));
    println!("{open:.6} {read:.6} {resident:.6} {bytes} {:.6} {fold:x}", median(checksums));
    Ok(())
}

/// The wrapping sum of every whole 8-byte word of every map, on every thread.
fn sum_all(maps: &[MappedFile]) -> Result<u64, Box<dyn Error>> {
    let mut words = Vec::with_capacity(maps.len());
    for map in maps {
        let whole = map.bytes().len() / 8 * 8;
        // Maps start on a page boundary, so the cast only fails on a foreign platform.
        let file_words: &[u64] = bytemuck::try_cast_slice(&map.bytes()[..whole])
            .map_err(|e| format!("{}: {e}", map.path().display()))?;
        words.push(file_words);
    }
    Ok(words
        .par_iter()
        .flat_map(|file_words| file_words.par_chunks(1 << 16))
        .map(|chunk| chunk.iter().fold(0u64, |sum, &word| sum.wrapping_add(word)))
        .reduce(|| 0, u64::wrapping_add))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
