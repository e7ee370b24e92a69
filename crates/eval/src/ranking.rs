//! Top-K ranking metrics over held-out ratings.
//!
//! For each user with at least one *relevant* held-out item (rating >= the threshold), the
//! recommender ranks every item the user did not rate in train, and its top K are compared
//! with the relevant set R:
//!
//! - precision@K = hits / K, recall@K = hits / |R|, hit rate@K = [hits > 0];
//! - NDCG@K with binary gains: sum over hits at rank r of 1 / log2(r + 1), divided by the same
//!   sum over ranks 1..=min(K, |R|);
//! - MAP@K: the mean over hits of precision at the hit's rank, divided by min(K, |R|);
//!
//! each averaged over those users. Catalogue coverage@K is the share of all items that appear
//! in at least one user's top K; novelty@K the mean popularity rank (1 = the most rated item
//! in train) of all recommended items: higher is less obvious.

use flash_matrix::Csr;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// What to measure.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingOptions {
    /// Length of each list.
    pub k: usize,
    /// Held-out ratings at or above this count as relevant.
    pub relevance_threshold: f32,
}

impl Default for RankingOptions {
    fn default() -> Self {
        RankingOptions { k: 10, relevance_threshold: 4.0 }
    }
}

/// Averages of the ranking metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RankingMetrics {
    /// Mean precision@K.
    pub precision: f64,
    /// Mean recall@K.
    pub recall: f64,
    /// Mean NDCG@K.
    pub ndcg: f64,
    /// Mean average precision@K.
    pub map: f64,
    /// Share of users with at least one hit.
    pub hit_rate: f64,
    /// Share of the catalogue recommended to someone.
    pub coverage: f64,
    /// Mean popularity rank of recommended items.
    pub novelty: f64,
    /// Users evaluated (those with a relevant held-out item).
    pub users: usize,
}

/// Metrics of the lists `top_k(user)` returns (item indices, best first, at most K, never a
/// train item of that user) against `held_out`. `train` gives popularity and the users' seen
/// items; both are users x items.
pub fn ranking_metrics<F>(
    train: &Csr,
    held_out: &Csr,
    options: RankingOptions,
    top_k: F,
) -> RankingMetrics
where
    F: Fn(usize) -> Vec<u32> + Sync,
{
    let n_items = train.n_cols();
    let popularity_rank = popularity_ranks(train);
    let per_user: Vec<Option<(UserScores, Vec<u32>)>> = (0..held_out.n_rows())
        .into_par_iter()
        .map(|user| {
            let held = held_out.row(user);
            let relevant: Vec<u32> = held
                .indices
                .iter()
                .zip(held.values)
                .filter(|(_, &r)| r >= options.relevance_threshold)
                .map(|(&item, _)| item)
                .collect();
            if relevant.is_empty() {
                return None;
            }
            let list = top_k(user);
            Some((score_list(&list, &relevant, options.k), list))
        })
        .collect();

    let mut totals = UserScores::default();
    let mut users = 0usize;
    let mut recommended = vec![false; n_items];
    let (mut rank_sum, mut rank_count) = (0f64, 0usize);
    for (scores, list) in per_user.iter().flatten() {
        totals = totals.add(scores);
        users += 1;
        for &item in list {
            recommended[item as usize] = true;
            rank_sum += popularity_rank[item as usize] as f64;
            rank_count += 1;
        }
    }
    if users == 0 {
        return RankingMetrics::default();
    }
    let n = users as f64;
    RankingMetrics {
        precision: totals.precision / n,
        recall: totals.recall / n,
        ndcg: totals.ndcg / n,
        map: totals.map / n,
        hit_rate: totals.hit / n,
        coverage: recommended.iter().filter(|&&r| r).count() as f64 / n_items.max(1) as f64,
        novelty: if rank_count > 0 { rank_sum / rank_count as f64 } else { 0.0 },
        users,
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct UserScores {
    precision: f64,
    recall: f64,
    ndcg: f64,
    map: f64,
    hit: f64,
}

impl UserScores {
    fn add(self, other: &UserScores) -> UserScores {
        UserScores {
            precision: self.precision + other.precision,
            recall: self.recall + other.recall,
            ndcg: self.ndcg + other.ndcg,
            map: self.map + other.map,
            hit: self.hit + other.hit,
        }
    }
}

/// One user's metrics for `list` (best first) against the sorted-or-not `relevant` items.
fn score_list(list: &[u32], relevant: &[u32], k: usize) -> UserScores {
    let list = &list[..list.len().min(k)];
    let (mut hits, mut dcg, mut precision_sum) = (0usize, 0f64, 0f64);
    for (position, item) in list.iter().enumerate() {
        if relevant.contains(item) {
            hits += 1;
            dcg += 1.0 / ((position + 2) as f64).log2();
            precision_sum += hits as f64 / (position + 1) as f64;
        }
    }
    let ideal_hits = relevant.len().min(k);
    let ideal_dcg: f64 = (0..ideal_hits).map(|p| 1.0 / ((p + 2) as f64).log2()).sum();
    UserScores {
        precision: hits as f64 / k as f64,
        recall: hits as f64 / relevant.len() as f64,
        ndcg: dcg / ideal_dcg,
        map: precision_sum / ideal_hits as f64,
        hit: if hits > 0 { 1.0 } else { 0.0 },
    }
}

/// 1-based rank of each item by train rating count, most rated first (ties by index).
fn popularity_ranks(train: &Csr) -> Vec<usize> {
    let mut counts = vec![0usize; train.n_cols()];
    for &item in train.indices() {
        counts[item as usize] += 1;
    }
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then(a.cmp(&b)));
    let mut ranks = vec![0usize; counts.len()];
    for (rank, item) in order.into_iter().enumerate() {
        ranks[item] = rank + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn one_list_by_hand() {
        // K = 3, list [5, 7, 9], relevant {7, 9, 11}: hits at ranks 2 and 3.
        let scores = score_list(&[5, 7, 9], &[7, 9, 11], 3);
        assert!(close(scores.precision, 2.0 / 3.0));
        assert!(close(scores.recall, 2.0 / 3.0));
        let dcg = 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!(close(scores.ndcg, dcg / ideal));
        // Precision at the hits: 1/2 and 2/3; divided by min(K, |R|) = 3.
        assert!(close(scores.map, (0.5 + 2.0 / 3.0) / 3.0));
        assert!(close(scores.hit, 1.0));
        let miss = score_list(&[1, 2], &[3], 2);
        assert_eq!(miss, UserScores::default());
    }

    #[test]
    fn averages_coverage_and_novelty_by_hand() {
        // Train: item 0 rated twice, item 1 once, items 2 and 3 never -> ranks 1, 2, 3, 4.
        let train = Csr::from_triplets(3, 4, &[0, 1, 1], &[0, 0, 1], &[5.0; 3]).unwrap();
        // User 0 likes item 2; user 1 likes item 3 but only rated it 3.0 (not relevant);
        // user 2 likes item 1.
        let held = Csr::from_triplets(3, 4, &[0, 1, 2], &[2, 3, 1], &[4.5, 3.0, 4.0]).unwrap();
        let lists = [vec![2, 3], vec![2, 3], vec![3, 2]];
        let options = RankingOptions { k: 2, relevance_threshold: 4.0 };
        let metrics = ranking_metrics(&train, &held, options, |user| lists[user].clone());
        assert_eq!(metrics.users, 2);
        assert!(close(metrics.precision, (0.5 + 0.0) / 2.0));
        assert!(close(metrics.recall, (1.0 + 0.0) / 2.0));
        assert!(close(metrics.hit_rate, 0.5));
        assert!(close(metrics.coverage, 2.0 / 4.0));
        assert!(close(metrics.novelty, (3.0 + 4.0 + 4.0 + 3.0) / 4.0));
    }
}
