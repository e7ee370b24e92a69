//! Times one row update by each candidate of `flash_als::candidates` (plain, SIMD, faer,
//! ndarray) on rows of n ratings at k factors, one thread, and prints a Markdown table:
//! microseconds per row, the speed-up over plain, and the largest difference from an f64
//! solve relative to the solution's largest entry.
//!
//! `cargo run --release -p flash-als --features candidates --example candidates`
//! (`cargo xtask bench` runs it and writes the table into docs/benchmarks.md).

use std::time::Instant;

use flash_als::candidates::{reference, update, Candidate, RowProblem, Workspace};

/// (k, n): ratings in a row, long enough that every candidate solves the primal form.
const SHAPES: [(usize, usize); 6] =
    [(32, 100), (32, 1000), (64, 200), (64, 1000), (128, 300), (128, 1000)];
/// Timed rounds per candidate; the fastest round counts.
const ROUNDS: usize = 5;
/// Work per round, in multiply-adds, so that each round lasts tens of milliseconds.
const ROUND_WORK: usize = 40_000_000;

fn main() {
    println!("| k | n | candidate | us per row | vs plain | max error / max entry |");
    println!("|---:|---:|---|---:|---:|---:|");
    for (k, n) in SHAPES {
        let rows: Vec<RowProblem> =
            (0..8).map(|seed| RowProblem::random(seed, k, n, 4 * n)).collect();
        let references: Vec<_> = rows.iter().map(reference).collect();
        let per_round = (ROUND_WORK / (n * k * k / 2 + k * k * k / 6)).max(rows.len());
        let mut workspace = Workspace::new(k);

        let mut plain_micros = f64::NAN;
        for candidate in Candidate::ALL {
            let mut error = 0f64;
            for (row, (_, want)) in rows.iter().zip(&references) {
                let (_, got) = update(candidate, row, &mut workspace);
                error = error.max(relative_error(&got, want));
            }

            let mut best = f64::INFINITY;
            for _ in 0..ROUNDS {
                let started = Instant::now();
                for round in 0..per_round {
                    std::hint::black_box(update(
                        candidate,
                        &rows[round % rows.len()],
                        &mut workspace,
                    ));
                }
                best = best.min(started.elapsed().as_secs_f64() / per_round as f64);
            }
            let micros = best * 1e6;
            if candidate == Candidate::Plain {
                plain_micros = micros;
            }
            println!(
                "| {k} | {n} | {} | {micros:.1} | {:.1}x | {error:.1e} |",
                candidate.name(),
                plain_micros / micros
            );
        }
    }
}

/// The largest entry-wise difference, relative to the largest entry of the f64 answer.
fn relative_error(got: &[f32], want: &[f64]) -> f64 {
    let scale = want.iter().fold(f64::MIN_POSITIVE, |m, x| m.max(x.abs()));
    let worst = got.iter().zip(want).map(|(&g, &w)| (g as f64 - w).abs()).fold(0.0, f64::max);
    worst / scale
}
