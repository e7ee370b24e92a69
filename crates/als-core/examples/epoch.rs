//! Times half-epochs of training on a prepared cache, without the CLI or polars: the harness
//! behind the kernel comparisons of docs/performance.md.
//!
//! ```text
//! cargo run --release -p flash-als --example epoch -- CACHE K EPOCHS [THREADS] [seed]
//! ```
//!
//! `seed` trains the seed formulation (lam 0.01, tau 0.1, gamma 0.1, no global mean) instead
//! of the defaults. Prints the seconds of each half-epoch and, at the end, the train RMSE, so
//! that a faster kernel is seen to give the same model. `FLASH_ALS_KERNEL` picks the kernel.

use std::path::Path;
use std::time::Instant;

use flash_als::{AlsParams, TrainData, Trainer};
use flash_matrix::container::FileKind;
use flash_matrix::Csr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cache, k, epochs, rest @ ..] = args.as_slice() else {
        return Err("usage: epoch CACHE K EPOCHS [THREADS] [seed]".into());
    };
    let cache = Path::new(cache);
    let by_user = Csr::open(&cache.join("train.by_user.bin"), FileKind::RatingsByUser)?;
    let by_item = Csr::open(&cache.join("train.by_item.bin"), FileKind::RatingsByItem)?;

    let mut params = if rest.iter().any(|a| a == "seed") {
        AlsParams::seed_formulation()
    } else {
        AlsParams::default()
    };
    params.factors = k.parse()?;
    params.epochs = epochs.parse()?;
    params.threads = rest.first().and_then(|t| t.parse().ok()).unwrap_or(0);

    let data = TrainData { by_user: &by_user, by_item: &by_item, held_out: None };
    let mut trainer = Trainer::new(data, &params)?;
    let (mut items_total, mut users_total) = (0.0, 0.0);
    for epoch in 1..=params.epochs {
        let started = Instant::now();
        trainer.update_items()?;
        let items = started.elapsed().as_secs_f64();
        let started = Instant::now();
        trainer.update_users()?;
        let users = started.elapsed().as_secs_f64();
        println!(
            "epoch {epoch}: items {items:.5} s, users {users:.5} s, total {:.5}",
            items + users
        );
        if epoch > 1 {
            items_total += items;
            users_total += users;
        }
    }
    let later = params.epochs.saturating_sub(1).max(1) as f64;
    println!(
        "mean after the first: items {:.5} s, users {:.5} s, epoch {:.5} s",
        items_total / later,
        users_total / later,
        (items_total + users_total) / later
    );
    println!("train RMSE {:.6}", trainer.train_errors().rmse);
    Ok(())
}
