//! Top-K recommendations, similar items and catalogue filters.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use flash_matrix::RowView;
use pulp::{Simd, WithSimd};
use rayon::prelude::*;

use crate::kernels::{tile, Kernel, ROW_QUANTUM};
use crate::selection::RunningTopK;
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

    /// Overwrites the scores of refused items with NaN (`scores[i]` is item `first + i`'s).
    pub(crate) fn mask(&self, scores: &mut [f32], first: usize) {
        if self.allowed.is_none() {
            return;
        }
        for (offset, score) in scores.iter_mut().enumerate() {
            if !self.admits(first + offset) {
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

/// The most users scored per block: the whole item panel streams past each block, so the
/// larger the block, the less often it is read (the block's vectors, k x 256 floats, stay in
/// L2). On the ml-latest shape, blocks of 256 users scored about 15% faster than blocks of
/// 64. Small user sets get smaller blocks ([`users_per_block`]).
const USER_BLOCK: usize = 256;
/// Blocks per thread that [`users_per_block`] aims at, so that threads finish together.
const BLOCKS_PER_THREAD: usize = 8;
/// Items scored at once for a block of users: the block's scores (256 x 512 floats, 512
/// KiB) are selected from while still in the L2 cache, before the next chunk is scored.
const ITEM_CHUNK: usize = 512;
/// Items per tile of the plain blocked product.
const ITEM_TILE: usize = 512;

/// Top-K for every user (seen items of `seen_by_user` excluded), in parallel over blocks of
/// users. Memory is bounded by one `USER_BLOCK x ITEM_CHUNK` score block per thread, never
/// users x items, plus (SIMD kernels) one transposed copy of the item vectors.
///
/// Each block is scored and selected chunk of items by chunk; the time of each phase
/// (summed over threads) is logged at info level as `recommend_all phases`.
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
    let block_users = users_per_block(n_users);
    let blocks: Vec<usize> = (0..n_users.div_ceil(block_users)).collect();
    let per_block: Vec<Vec<Vec<(u32, f32)>>> = blocks
        .into_par_iter()
        .map_init(
            || (vec![0f32; block_users * ITEM_CHUNK.min(n_items)], Vec::new()),
            |(scores, user_panel), block| {
                let users = block * block_users..((block + 1) * block_users).min(n_users);
                let mut tops: Vec<RunningTopK> = users
                    .clone()
                    .map(|user| RunningTopK::new(rule.k, seen_by_user.row(user).indices))
                    .collect();
                let (mut scoring, mut selection) = (0, 0);
                for first in (0..n_items).step_by(ITEM_CHUNK) {
                    let chunk = first..(first + ITEM_CHUNK).min(n_items);
                    let started = Instant::now();
                    score_block(factors, &items, users.clone(), chunk.clone(), scores, user_panel);
                    let scored = Instant::now();
                    for (row, top) in tops.iter_mut().enumerate() {
                        let row_scores = &mut scores[row * chunk.len()..(row + 1) * chunk.len()];
                        top.scan(row_scores, first, filter);
                    }
                    scoring += (scored - started).as_nanos() as u64;
                    selection += scored.elapsed().as_nanos() as u64;
                }
                scoring_nanos.fetch_add(scoring, Ordering::Relaxed);
                selection_nanos.fetch_add(selection, Ordering::Relaxed);
                tops.into_iter().map(RunningTopK::finish).collect()
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

/// Users per block of [`recommend_all`]: [`USER_BLOCK`], or fewer when there are not
/// [`BLOCKS_PER_THREAD`] such blocks per thread (ml-latest-small's 610 users would make 3
/// blocks for 2 threads), rounded up to a multiple of [`ROW_QUANTUM`]. The scores and the
/// lists do not depend on it.
fn users_per_block(n_users: usize) -> usize {
    let threads = rayon::current_num_threads();
    let even_share = n_users.div_ceil(threads * BLOCKS_PER_THREAD);
    even_share.next_multiple_of(ROW_QUANTUM).clamp(ROW_QUANTUM, USER_BLOCK)
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
            // a tile then reads one compact block rather than k rows far apart. Each group is
            // transposed from its items' vectors, which lie side by side (both fit L1 up to
            // k = 64 or so), and the groups on every thread (one thread, item by item, took
            // 1.6 of 6.6 ms on ml-latest-small).
            let mut coords = vec![0f32; k * ld];
            if k > 0 {
                let group_len = k * ITEM_QUANTUM;
                coords.par_chunks_mut(group_len).enumerate().for_each(|(group, block)| {
                    let first = group * ITEM_QUANTUM;
                    let last = (first + ITEM_QUANTUM).min(n_items);
                    let vectors = &factors.item[first * k..last * k];
                    for (lane, vector) in vectors.chunks_exact(k).enumerate() {
                        for (a, &value) in vector.iter().enumerate() {
                            block[a * ITEM_QUANTUM + lane] = value;
                        }
                    }
                });
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

/// `scores[r][i - chunk.start] = mean + b_u + w * b_i + u . v_i` for the users of `users`
/// and the items of `chunk` (which starts at a multiple of [`ITEM_QUANTUM`]); row r of
/// `scores` holds `chunk.len()` floats.
fn score_block(
    factors: &Factors,
    items: &ItemPanel,
    users: Range<usize>,
    chunk: Range<usize>,
    scores: &mut [f32],
    user_panel: &mut Vec<f32>,
) {
    match items.kernel {
        Kernel::Plain => score_block_plain(factors, users, chunk, items.weight, scores),
        Kernel::Simd(arch) => {
            arch.dispatch(ScoreBlock { factors, items, users, chunk, scores, user_panel })
        }
    }
}

/// The reference scoring: one dot product per (user, item), tile by tile.
fn score_block_plain(
    factors: &Factors,
    users: Range<usize>,
    chunk: Range<usize>,
    weight: f32,
    scores: &mut [f32],
) {
    let width = chunk.len();
    for tile_start in chunk.clone().step_by(ITEM_TILE) {
        let tile = tile_start..(tile_start + ITEM_TILE).min(chunk.end);
        for (row, user) in users.clone().enumerate() {
            let vector = factors.user_vector(user);
            let offset = factors.global_mean + factors.user_bias[user];
            let row_scores = &mut scores[row * width..(row + 1) * width];
            for item in tile.clone() {
                row_scores[item - chunk.start] = offset
                    + weight * factors.item_bias[item]
                    + dot(vector, factors.item_vector(item));
            }
        }
    }
}

/// The SIMD scoring of one block of users against one chunk of items: the block's vectors
/// transposed into a k x USER_BLOCK panel (rounded up to the tile rows), then register tiles
/// of [`tile`] (MR users x NC vectors of items, k multiply-adds deep) over the chunk's part
/// of the item panel. Per item group the item sub-panel (k x NC W floats, contiguous)
/// stays in L1 while every user group of the block passes over it. Cost: users * items * k
/// multiply-adds, plus the stores of the scores.
struct ScoreBlock<'a> {
    factors: &'a Factors,
    items: &'a ItemPanel,
    users: Range<usize>,
    chunk: Range<usize>,
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
    let ScoreBlock { factors, items, users, chunk, scores, user_panel } = block;
    let (k, width, lanes) = (factors.k, chunk.len(), S::F32_LANES);
    debug_assert!(chunk.start.is_multiple_of(ITEM_QUANTUM));
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
    // Vector indices: `first_vector + v` in the panel, `v` in a row of `scores`.
    let first_vector = chunk.start / lanes;
    for v0 in (0..width.div_ceil(lanes)).step_by(NC) {
        let c0 = first_vector + v0;
        let block = &item_vectors[c0 / ldb * k * ldb..];
        for i0 in (0..n_users).step_by(MR) {
            let acc = tile::<S, MR, NC>(simd, user_panel, user_ld, i0, block, ldb, c0 % ldb, k);
            for (i, acc_row) in acc.iter().enumerate().take(n_users - i0) {
                let user = users.start + i0 + i;
                let offset = simd.splat_f32s(factors.global_mean + factors.user_bias[user]);
                let row_start = (i0 + i) * width;
                let (head, tail) = S::as_mut_simd_f32s(&mut scores[row_start..row_start + width]);
                for (c, &sum) in acc_row.iter().enumerate() {
                    let vector = v0 + c;
                    let score = simd.add_f32s(simd.add_f32s(offset, offsets[c0 + c]), sum);
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
        let cases = [(1, 5), (10, 37), (16, 64), (64, 131), (65, 100), (130, 17), (8, 2200)];
        for (k, n_items) in cases {
            let n_users = USER_BLOCK + 6;
            let factors = random_factors(&mut rng, n_users, n_items, k);
            for arch in test_arches() {
                let items = ItemPanel::new(&factors, Kernel::Simd(arch), 0.7);
                for users in [0..USER_BLOCK, USER_BLOCK..n_users] {
                    for first in (0..n_items).step_by(ITEM_CHUNK) {
                        let chunk = first..(first + ITEM_CHUNK).min(n_items);
                        let width = chunk.len();
                        let mut want = vec![f32::NAN; USER_BLOCK * width];
                        score_block_plain(&factors, users.clone(), chunk.clone(), 0.7, &mut want);
                        let mut got = vec![f32::NAN; USER_BLOCK * width];
                        let mut panel = Vec::new();
                        score_block(&factors, &items, users.clone(), chunk, &mut got, &mut panel);
                        for (row, user) in users.clone().enumerate() {
                            let u = factors.user_vector(user);
                            for offset in 0..width {
                                let v = factors.item_vector(first + offset);
                                let size: f32 = u.iter().zip(v).map(|(a, b)| (a * b).abs()).sum();
                                let (g, w) =
                                    (got[row * width + offset], want[row * width + offset]);
                                let tolerance = 1e-5 * (size + 10.0);
                                assert!((g - w).abs() <= tolerance, "{arch:?} k {k}: {g} vs {w}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn recommend_all_over_several_chunks_matches_one_user_at_a_time() {
        let mut rng = SeededRng::new(32);
        let (n_users, n_items, k) = (USER_BLOCK + 9, 2 * ITEM_CHUNK + 77, 12);
        let factors = random_factors(&mut rng, n_users, n_items, k);
        // Each user has seen items on both sides of every chunk boundary.
        let (mut rows, mut cols) = (Vec::new(), Vec::new());
        for user in 0..n_users as u32 {
            for item in 0..n_items as u32 {
                let near_boundary = (item as usize % ITEM_CHUNK).abs_diff(ITEM_CHUNK / 2) > 230;
                if rng.below(if near_boundary { 3 } else { 40 }) == 0 {
                    rows.push(user);
                    cols.push(item);
                }
            }
        }
        let values = vec![3.0; rows.len()];
        let seen = flash_matrix::Csr::from_triplets(n_users, n_items, &rows, &cols, &values)
            .expect("a valid matrix");
        let filter = ItemFilter::all().deny(n_items, (0..n_items as u32).step_by(7));
        let rule = RankingRule { k: 15, item_bias_weight: 0.5 };

        let all = recommend_all(&factors, &seen, &filter, rule);
        for (user, listed) in all.iter().enumerate() {
            let list = recommend(&factors, user, seen.row(user), &filter, rule);
            let items = |l: &[(u32, f32)]| l.iter().map(|e| e.0).collect::<Vec<_>>();
            assert_eq!(items(listed), items(&list), "user {user}");
        }
    }
}
