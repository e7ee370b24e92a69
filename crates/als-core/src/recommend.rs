//! Top-K recommendations, similar items and catalogue filters.

use flash_matrix::RowView;
use rayon::prelude::*;

use crate::topk::TopK;
use crate::update::dot;
use crate::Factors;

/// Which items may be recommended: all, only an allow list, or all but a deny list.
#[derive(Clone, Debug, Default)]
pub struct ItemFilter {
    allowed: Option<Vec<bool>>,
}

impl ItemFilter {
    /// Every item.
    pub fn all() -> Self {
        ItemFilter { allowed: None }
    }

    /// Only `items` (dense indices) out of `n_items`.
    pub fn allow(n_items: usize, items: impl IntoIterator<Item = u32>) -> Self {
        let mut allowed = vec![false; n_items];
        for item in items {
            if let Some(slot) = allowed.get_mut(item as usize) {
                *slot = true;
            }
        }
        ItemFilter { allowed: Some(allowed) }
    }

    /// Every item but `items`, combined with the current filter.
    pub fn deny(mut self, n_items: usize, items: impl IntoIterator<Item = u32>) -> Self {
        let allowed = self.allowed.get_or_insert_with(|| vec![true; n_items]);
        for item in items {
            if let Some(slot) = allowed.get_mut(item as usize) {
                *slot = false;
            }
        }
        self
    }

    /// Whether `item` may be recommended.
    #[inline]
    pub fn admits(&self, item: usize) -> bool {
        self.allowed.as_ref().is_none_or(|allowed| allowed.get(item).copied().unwrap_or(false))
    }
}

/// How recommendations are scored and cut.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankingRule {
    /// How many items to return.
    pub k: usize,
    /// Weight of the item bias in the score: 1 ranks by predicted rating, less than 1 damps
    /// popular, widely liked items.
    pub item_bias_weight: f32,
}

impl Default for RankingRule {
    fn default() -> Self {
        RankingRule { k: 10, item_bias_weight: 1.0 }
    }
}

/// The top `rule.k` items for a user vector and bias, best first, as `(item, score)` with
/// `score = mean + user_bias + w * item_bias + user . item`. Items in `seen` (sorted) and
/// items the filter refuses are skipped.
pub fn recommend_for_vector(
    factors: &Factors,
    user_vector: &[f32],
    user_bias: f32,
    seen: &[u32],
    filter: &ItemFilter,
    rule: RankingRule,
) -> Vec<(u32, f32)> {
    let mut top = TopK::new(rule.k);
    let offset = factors.global_mean + user_bias;
    let mut seen = seen.iter().peekable();
    for item in 0..factors.n_items() {
        if seen.next_if(|&&s| s as usize == item).is_some() || !filter.admits(item) {
            continue;
        }
        let score = offset
            + rule.item_bias_weight * factors.item_bias[item]
            + dot(user_vector, factors.item_vector(item));
        top.push(item as u32, score);
    }
    top.drain_sorted()
}

/// The top items for dense user `user`, excluding the items of `seen` (its train row).
pub fn recommend(
    factors: &Factors,
    user: usize,
    seen: RowView<'_>,
    filter: &ItemFilter,
    rule: RankingRule,
) -> Vec<(u32, f32)> {
    let vector = factors.user_vector(user);
    recommend_for_vector(factors, vector, factors.user_bias[user], seen.indices, filter, rule)
}

/// Items whose vectors have the highest cosine similarity with `item`'s (itself excluded),
/// best first, as `(item, cosine)`. Items with zero vectors are never similar.
pub fn similar_items(
    factors: &Factors,
    item: usize,
    k: usize,
    filter: &ItemFilter,
) -> Vec<(u32, f32)> {
    let target = factors.item_vector(item);
    let target_norm = dot(target, target).sqrt();
    let mut top = TopK::new(k);
    if target_norm == 0.0 {
        return Vec::new();
    }
    for other in 0..factors.n_items() {
        if other == item || !filter.admits(other) {
            continue;
        }
        let vector = factors.item_vector(other);
        let norm = dot(vector, vector).sqrt();
        if norm > 0.0 {
            top.push(other as u32, dot(target, vector) / (target_norm * norm));
        }
    }
    top.drain_sorted()
}

/// Users scored per block: the block's score rows stay in cache while items stream past.
const USER_BLOCK: usize = 64;
/// Items per tile of the blocked product.
const ITEM_TILE: usize = 512;

/// Top-K for every user (seen items of `seen_by_user` excluded), in parallel over blocks of
/// users. Memory is bounded by one `USER_BLOCK x n_items` score block per thread, never
/// users x items.
pub fn recommend_all(
    factors: &Factors,
    seen_by_user: &flash_matrix::Csr,
    filter: &ItemFilter,
    rule: RankingRule,
) -> Vec<Vec<(u32, f32)>> {
    let n_users = factors.n_users();
    let n_items = factors.n_items();
    let blocks: Vec<usize> = (0..n_users.div_ceil(USER_BLOCK)).collect();
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = blocks
        .into_par_iter()
        .map_init(
            || vec![0f32; USER_BLOCK * n_items],
            |scores, block| {
                let users = block * USER_BLOCK..((block + 1) * USER_BLOCK).min(n_users);
                score_block(factors, users.clone(), rule.item_bias_weight, scores);
                users
                    .enumerate()
                    .map(|(row, user)| {
                        let row_scores = &scores[row * n_items..(row + 1) * n_items];
                        select_row(row_scores, seen_by_user.row(user).indices, filter, rule.k)
                    })
                    .collect()
            },
        )
        .collect();
    per_block.into_iter().flatten().collect()
}

/// `scores[r][i] = mean + b_u + w * b_i + u . v_i` for the users of `users`, tile by tile.
fn score_block(factors: &Factors, users: std::ops::Range<usize>, weight: f32, scores: &mut [f32]) {
    let n_items = factors.n_items();
    for tile_start in (0..n_items).step_by(ITEM_TILE) {
        let tile = tile_start..(tile_start + ITEM_TILE).min(n_items);
        for (row, user) in users.clone().enumerate() {
            let vector = factors.user_vector(user);
            let offset = factors.global_mean + factors.user_bias[user];
            let row_scores = &mut scores[row * n_items..(row + 1) * n_items];
            for item in tile.clone() {
                row_scores[item] = offset
                    + weight * factors.item_bias[item]
                    + dot(vector, factors.item_vector(item));
            }
        }
    }
}

fn select_row(scores: &[f32], seen: &[u32], filter: &ItemFilter, k: usize) -> Vec<(u32, f32)> {
    let mut top = TopK::new(k);
    let mut seen = seen.iter().peekable();
    for (item, &score) in scores.iter().enumerate() {
        if seen.next_if(|&&s| s as usize == item).is_some() || !filter.admits(item) {
            continue;
        }
        top.push(item as u32, score);
    }
    top.drain_sorted()
}
