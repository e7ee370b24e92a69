//! Small seeded data sets shared by the integration tests.

#![allow(dead_code)] // each test file uses a different part

use flash_matrix::{Csr, SeededRng};

/// Ratings of a planted model `3.5 + b_u + b_i + u.v + noise`, each user rating about
/// `density` of the items; a fifth of them held out.
pub struct Planted {
    pub by_user: Csr,
    pub by_item: Csr,
    pub held_out: Csr,
}

pub fn planted(
    n_users: usize,
    n_items: usize,
    rank: usize,
    density: f64,
    noise: f64,
    seed: u64,
) -> Planted {
    let mut rng = SeededRng::new(seed);
    let draw = |rng: &mut SeededRng, n: usize| -> Vec<f64> {
        (0..n).map(|_| rng.next_normal()).collect()
    };
    let users = draw(&mut rng, n_users * rank);
    let items = draw(&mut rng, n_items * rank);
    let user_bias = draw(&mut rng, n_users);
    let item_bias = draw(&mut rng, n_items);

    let (mut train, mut test) = (Triplets::default(), Triplets::default());
    for u in 0..n_users {
        for i in 0..n_items {
            if rng.next_f64() >= density {
                continue;
            }
            let signal: f64 = (0..rank).map(|d| users[u * rank + d] * items[i * rank + d]).sum();
            let value = 3.5
                + 0.3 * user_bias[u]
                + 0.3 * item_bias[i]
                + signal / (rank as f64).sqrt()
                + noise * rng.next_normal();
            let target = if rng.next_f64() < 0.2 { &mut test } else { &mut train };
            target.push(u, i, value as f32);
        }
    }
    let by_user = train.build(n_users, n_items);
    let by_item = by_user.transpose();
    Planted { by_user, by_item, held_out: test.build(n_users, n_items) }
}

#[derive(Default)]
pub struct Triplets {
    rows: Vec<u32>,
    cols: Vec<u32>,
    values: Vec<f32>,
}

impl Triplets {
    pub fn push(&mut self, row: usize, col: usize, value: f32) {
        self.rows.push(row as u32);
        self.cols.push(col as u32);
        self.values.push(value);
    }

    pub fn build(&self, n_rows: usize, n_cols: usize) -> Csr {
        Csr::from_triplets(n_rows, n_cols, &self.rows, &self.cols, &self.values).unwrap()
    }
}
