//! Top-K recommendations, similar items and catalogue filters.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use flash_matrix::RowView;
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::kernels::{tile, Kernel, ROW_QUANTUM};
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

    /// Overwrites the scores of refused items (`scores[i]` is item i's) with NaN.
    fn mask(&self, scores: &mut [f32]) {
        if self.allowed.is_none() {
            return;
        }
        for (item, score) in scores.iter_mut().enumerate() {
            if !self.admits(item) {
                *score = f32::NAN;
            }
        }
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
/// Items per tile of the plain blocked product.
const ITEM_TILE: usize = 512;

/// Top-K for every user (seen items of `seen_by_user` excluded), in parallel over blocks of
/// users. Memory is bounded by one `USER_BLOCK x n_items` score block per thread, never
/// users x items, plus (SIMD kernels) one transposed copy of the item vectors.
///
/// Each block is scored, then selected; the time of each phase (summed over threads) is
/// logged at info level as `recommend_all phases`.
pub fn recommend_all(
    factors: &Factors,
    seen_by_user: &flash_matrix::Csr,
    filter: &ItemFilter,
    rule: RankingRule,
) -> Vec<Vec<(u32, f32)>> {
    let n_users = factors.n_users();
    let n_items = factors.n_items();
    let started = Instant::now();
    let items = ItemPanel::new(factors, Kernel::configured(), rule.item_bias_weight);
    let pack_seconds = started.elapsed().as_secs_f64();
    let scoring_nanos = AtomicU64::new(0);
    let selection_nanos = AtomicU64::new(0);
    let blocks: Vec<usize> = (0..n_users.div_ceil(USER_BLOCK)).collect();
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = blocks
        .into_par_iter()
        .map_init(
            || (vec![0f32; USER_BLOCK * n_items], Vec::new()),
            |(scores, user_panel), block| {
                let users = block * USER_BLOCK..((block + 1) * USER_BLOCK).min(n_users);
                let scoring = Instant::now();
                score_block(factors, &items, users.clone(), scores, user_panel);
                let selection = Instant::now();
                let lists = users
                    .enumerate()
                    .map(|(row, user)| {
                        let row_scores = &mut scores[row * n_items..(row + 1) * n_items];
                        select_row(row_scores, seen_by_user.row(user).indices, filter, rule.k)
                    })
                    .collect();
                let nanos = |d: std::time::Duration| d.as_nanos() as u64;
                scoring_nanos.fetch_add(nanos(selection - scoring), Ordering::Relaxed);
                selection_nanos.fetch_add(nanos(selection.elapsed()), Ordering::Relaxed);
                lists
            },
        )
        .collect();
    let seconds = |nanos: &AtomicU64| nanos.load(Ordering::Relaxed) as f64 * 1e-9;
    tracing::info!(
        users = n_users,
        items = n_items,
        k = factors.k,
        kernel = items.name(),
        pack_seconds,
        scoring_thread_seconds = seconds(&scoring_nanos),
        selection_thread_seconds = seconds(&selection_nanos),
        wall_seconds = started.elapsed().as_secs_f64(),
        "recommend_all phases"
    );
    per_block.into_iter().flatten().collect()
}

/// The item side of the scoring product, laid out for the kernel in use.
///
/// For the SIMD kernels: `coords` holds, for each group of [`ITEM_QUANTUM`] items, a k x
/// `ITEM_QUANTUM` block whose row a is coordinate a of the group's items (zero past the last
/// item); `offsets[i]` = `w * b_i` (`ld` entries).
struct ItemPanel {
    kernel: Kernel,
    ld: usize,
    coords: Vec<f32>,
    offsets: Vec<f32>,
    weight: f32,
}

/// Items per tile width that every instruction set's tile divides (16 lanes x 4 vectors).
const ITEM_QUANTUM: usize = 64;

impl ItemPanel {
    fn new(factors: &Factors, kernel: Kernel, weight: f32) -> Self {
        let (k, n_items) = (factors.k, factors.n_items());
        let mut panel =
            ItemPanel { kernel, ld: 0, coords: Vec::new(), offsets: Vec::new(), weight };
        if let Kernel::Simd(_) = kernel {
            let ld = n_items.next_multiple_of(ITEM_QUANTUM);
            // Group by group of ITEM_QUANTUM items, each a contiguous k x ITEM_QUANTUM block:
            // a tile then reads one compact block rather than k rows far apart.
            let mut coords = vec![0f32; k * ld];
            for (item, vector) in factors.item.chunks_exact(k.max(1)).enumerate().take(n_items) {
                let group = &mut coords[item / ITEM_QUANTUM * k * ITEM_QUANTUM..];
                for (row, &value) in group.chunks_exact_mut(ITEM_QUANTUM).zip(vector) {
                    row[item % ITEM_QUANTUM] = value;
                }
            }
            let mut offsets = vec![0f32; ld];
            for (offset, &b) in offsets.iter_mut().zip(&factors.item_bias) {
                *offset = weight * b;
            }
            panel.ld = ld;
            panel.coords = coords;
            panel.offsets = offsets;
        }
        panel
    }

    fn name(&self) -> &'static str {
        match self.kernel {
            Kernel::Plain => "plain",
            Kernel::Simd(pulp::Arch::Scalar) => "scalar",
            Kernel::Simd(_) => "simd",
        }
    }
}

/// `scores[r][i] = mean + b_u + w * b_i + u . v_i` for the users of `users`.
fn score_block(
    factors: &Factors,
    items: &ItemPanel,
    users: Range<usize>,
    scores: &mut [f32],
    user_panel: &mut Vec<f32>,
) {
    match items.kernel {
        Kernel::Plain => score_block_plain(factors, users, items.weight, scores),
        Kernel::Simd(arch) => {
            arch.dispatch(ScoreBlock { factors, items, users, scores, user_panel })
        }
    }
}

/// The reference scoring: one dot product per (user, item), tile by tile.
fn score_block_plain(factors: &Factors, users: Range<usize>, weight: f32, scores: &mut [f32]) {
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

/// The SIMD scoring of one block of users: the block's vectors transposed into a k x 72
/// panel, then register tiles of [`tile`] (MR users x NC vectors of items, k multiply-adds
/// deep) over the item panel. Per item group the item sub-panel (k x NC W floats, contiguous)
/// stays in L1 while every user group of the block passes over it. Cost: users * items * k
/// multiply-adds, plus the stores of the scores.
struct ScoreBlock<'a> {
    factors: &'a Factors,
    items: &'a ItemPanel,
    users: Range<usize>,
    scores: &'a mut [f32],
    user_panel: &'a mut Vec<f32>,
}

impl WithSimd for ScoreBlock<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        match S::F32_LANES {
            16.. => score_shaped::<S, 6, 4>(simd, self),
            8.. => score_shaped::<S, 6, 2>(simd, self),
            _ => score_shaped::<S, 4, 4>(simd, self),
        }
    }
}

#[inline(always)]
fn score_shaped<S: Simd, const MR: usize, const NC: usize>(simd: S, block: ScoreBlock<'_>) {
    let ScoreBlock { factors, items, users, scores, user_panel } = block;
    let (k, n_items, lanes) = (factors.k, factors.n_items(), S::F32_LANES);
    let n_users = users.len();
    let user_ld = USER_BLOCK.next_multiple_of(ROW_QUANTUM);
    user_panel.clear();
    user_panel.resize(k * user_ld, 0.0);
    for (column, user) in users.clone().enumerate() {
        for (row, &value) in user_panel.chunks_exact_mut(user_ld).zip(factors.user_vector(user)) {
            row[column] = value;
        }
    }
    let item_vectors = S::as_simd_f32s(&items.coords).0;
    let offsets = S::as_simd_f32s(&items.offsets).0;
    // Vectors per row of a group's block; NC * lanes divides ITEM_QUANTUM on every build.
    let ldb = ITEM_QUANTUM / lanes;
    let n_vectors = n_items.div_ceil(lanes);
    for c0 in (0..n_vectors).step_by(NC) {
        let block = &item_vectors[c0 / ldb * k * ldb..];
        for i0 in (0..n_users).step_by(MR) {
            let acc = tile::<S, MR, NC>(simd, user_panel, user_ld, i0, block, ldb, c0 % ldb, k);
            for (i, acc_row) in acc.iter().enumerate().take(n_users - i0) {
                let user = users.start + i0 + i;
                let offset = simd.splat_f32s(factors.global_mean + factors.user_bias[user]);
                let row_start = (i0 + i) * n_items;
                let (head, tail) = S::as_mut_simd_f32s(&mut scores[row_start..row_start + n_items]);
                for (c, &sum) in acc_row.iter().enumerate() {
                    let vector = c0 + c;
                    let score = simd.add_f32s(simd.add_f32s(offset, offsets[vector]), sum);
                    if let Some(slot) = head.get_mut(vector) {
                        *slot = score;
                    } else if vector == head.len() && !tail.is_empty() {
                        simd.partial_store_f32s(tail, score);
                    }
                }
            }
        }
    }
}

/// Scores compared at once by [`select_row`]'s skip test.
const SCAN_CHUNK: usize = 64;

/// The `k` best of one user's scores, skipping the `seen` items and those `filter` refuses.
///
/// Excluded items are first overwritten with NaN, which fails every comparison. Once `k`
/// items are kept, a candidate must beat the worst of them; after the first few hundred items
/// that is rare, so the scan first asks of each chunk of scores whether any beats it (a
/// comparison per score, vectorised) and looks at single scores only when one does. A heap
/// operation per item made selection slower than scoring on the ml-latest shape.
fn select_row(scores: &mut [f32], seen: &[u32], filter: &ItemFilter, k: usize) -> Vec<(u32, f32)> {
    for &item in seen {
        if let Some(score) = scores.get_mut(item as usize) {
            *score = f32::NAN;
        }
    }
    filter.mask(scores);

    let mut top = TopK::new(k);
    let mut worst_kept: Option<f32> = None;
    for (chunk_index, chunk) in scores.chunks(SCAN_CHUNK).enumerate() {
        if let Some(worst) = worst_kept {
            let better = chunk.iter().fold(0u32, |count, &score| count + u32::from(score > worst));
            if better == 0 {
                continue;
            }
        }
        for (offset, &score) in chunk.iter().enumerate() {
            // Items come in increasing order, so a score equal to the worst kept one loses
            // its tie (the lower index wins): strictly greater is the right test.
            let enters = match worst_kept {
                Some(worst) => score > worst,
                None => !score.is_nan(),
            };
            if enters {
                top.push((chunk_index * SCAN_CHUNK + offset) as u32, score);
                worst_kept = top.worst_when_full();
            }
        }
    }
    top.drain_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::test_arches;
    use flash_matrix::SeededRng;

    fn random_factors(rng: &mut SeededRng, n_users: usize, n_items: usize, k: usize) -> Factors {
        let mut draw = |n: usize| (0..n).map(|_| rng.next_normal() as f32).collect::<Vec<_>>();
        Factors {
            k,
            user: draw(n_users * k),
            item: draw(n_items * k),
            user_bias: draw(n_users),
            item_bias: draw(n_items),
            global_mean: 3.5,
        }
    }

    #[test]
    fn simd_scores_match_the_plain_ones() {
        let mut rng = SeededRng::new(31);
        for (k, n_items) in [(1, 5), (10, 37), (16, 64), (64, 131), (65, 100), (130, 17)] {
            let n_users = 70;
            let factors = random_factors(&mut rng, n_users, n_items, k);
            for arch in test_arches() {
                let items = ItemPanel::new(&factors, Kernel::Simd(arch), 0.7);
                for users in [0..USER_BLOCK, USER_BLOCK..n_users] {
                    let mut want = vec![f32::NAN; USER_BLOCK * n_items];
                    score_block_plain(&factors, users.clone(), 0.7, &mut want);
                    let mut got = vec![f32::NAN; USER_BLOCK * n_items];
                    score_block(&factors, &items, users.clone(), &mut got, &mut Vec::new());
                    for (row, user) in users.enumerate() {
                        let u = factors.user_vector(user);
                        for item in 0..n_items {
                            let v = factors.item_vector(item);
                            let size: f32 = u.iter().zip(v).map(|(a, b)| (a * b).abs()).sum();
                            let (g, w) = (got[row * n_items + item], want[row * n_items + item]);
                            let tolerance = 1e-5 * (size + 10.0);
                            assert!((g - w).abs() <= tolerance, "{arch:?} k {k}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }
}
