//! The learned parameters: factor matrices, biases and the global mean.

use flash_matrix::SeededRng;

/// Factors and biases of a trained (or training) model.
///
/// `user` is `n_users x k` and `item` is `n_items x k`, row-major; a prediction is
/// `global_mean + user_bias[u] + item_bias[i] + user[u] . item[i]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Factors {
    /// Length of each vector.
    pub k: usize,
    /// User vectors, row-major.
    pub user: Vec<f32>,
    /// Item vectors, row-major.
    pub item: Vec<f32>,
    /// One bias per user.
    pub user_bias: Vec<f32>,
    /// One bias per item.
    pub item_bias: Vec<f32>,
    /// The mean train rating, or 0 when the model has no global mean term.
    pub global_mean: f32,
}

impl Factors {
    /// Initial factors: each entry drawn from N(0, (1/sqrt(k))^2) (standard deviation
    /// 1/sqrt(k)) with `seed`, users first then items; biases zero. Rows listed as empty
    /// get zero vectors.
    pub(crate) fn initial(
        n_users: usize,
        n_items: usize,
        k: usize,
        seed: u64,
        global_mean: f32,
    ) -> Self {
        let sd = 1.0 / (k as f64).sqrt();
        let draw = |n: usize, stream: u64| -> Vec<f32> {
            let mut rng = SeededRng::for_stream(seed, stream);
            (0..n * k).map(|_| (rng.next_normal() * sd) as f32).collect()
        };
        Factors {
            k,
            user: draw(n_users, 1),
            item: draw(n_items, 2),
            user_bias: vec![0.0; n_users],
            item_bias: vec![0.0; n_items],
            global_mean,
        }
    }

    /// Number of users.
    pub fn n_users(&self) -> usize {
        self.user_bias.len()
    }

    /// Number of items.
    pub fn n_items(&self) -> usize {
        self.item_bias.len()
    }

    /// The vector of dense user `user`.
    #[track_caller]
    pub fn user_vector(&self, user: usize) -> &[f32] {
        &self.user[user * self.k..(user + 1) * self.k]
    }

    /// The vector of dense item `item`.
    #[track_caller]
    pub fn item_vector(&self, item: usize) -> &[f32] {
        &self.item[item * self.k..(item + 1) * self.k]
    }

    /// The predicted rating of dense `user` for dense `item`.
    #[track_caller]
    pub fn predict(&self, user: usize, item: usize) -> f32 {
        self.global_mean
            + self.user_bias[user]
            + self.item_bias[item]
            + crate::update::dot(self.user_vector(user), self.item_vector(item))
    }
}
