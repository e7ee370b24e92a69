//! One user's top K while its scores arrive chunk by chunk, in item order.
//!
//! `recommend_all` scores a block of users against a chunk of items at a time and selects
//! from each chunk before scoring the next, so that the block's scores are read back from
//! the cache they were just written to; this keeps what each user has kept in between.

use crate::recommend::ItemFilter;
use crate::topk::TopK;

/// Scores compared at once by the skip test of [`RunningTopK::scan`].
const SCAN_CHUNK: usize = 64;

/// The K best items of one user so far, and the seen items not yet reached.
pub(crate) struct RunningTopK<'a> {
    top: TopK,
    worst_kept: Option<f32>,
    /// The user's seen items (sorted) from the next chunk on.
    seen: &'a [u32],
}

impl<'a> RunningTopK<'a> {
    /// Keeps `k` items, never one of `seen` (sorted, as in a CSR row).
    pub fn new(k: usize, seen: &'a [u32]) -> Self {
        RunningTopK { top: TopK::new(k), worst_kept: None, seen }
    }

    /// Offers the scores of items `first..first + scores.len()`, which follow every item
    /// offered before. Seen items and those `filter` refuses are first overwritten with NaN,
    /// which fails every comparison.
    ///
    /// Once K items are kept, a candidate must beat the worst of them; after the first few
    /// hundred items that is rare, so the scan first asks of each chunk of 64 scores
    /// whether any beats it (a comparison per score, vectorised) and looks at single scores
    /// only when one does. A heap operation per item made selection slower than scoring on
    /// the ml-latest shape.
    pub fn scan(&mut self, scores: &mut [f32], first: usize, filter: &ItemFilter) {
        let end = first + scores.len();
        let reached = self.seen.partition_point(|&item| (item as usize) < end);
        for &item in &self.seen[..reached] {
            if let Some(score) = (item as usize).checked_sub(first).and_then(|i| scores.get_mut(i))
            {
                *score = f32::NAN;
            }
        }
        self.seen = &self.seen[reached..];
        filter.mask(scores, first);

        for (chunk_index, chunk) in scores.chunks(SCAN_CHUNK).enumerate() {
            if let Some(worst) = self.worst_kept {
                let better =
                    chunk.iter().fold(0u32, |count, &score| count + u32::from(score > worst));
                if better == 0 {
                    continue;
                }
            }
            let chunk_first = first + chunk_index * SCAN_CHUNK;
            for (offset, &score) in chunk.iter().enumerate() {
                // Items come in increasing order, so a score equal to the worst kept one
                // loses its tie (the lower index wins): strictly greater is the right test.
                let enters = match self.worst_kept {
                    Some(worst) => score > worst,
                    None => !score.is_nan(),
                };
                if enters {
                    self.top.push((chunk_first + offset) as u32, score);
                    self.worst_kept = self.top.worst_when_full();
                }
            }
        }
    }

    /// The kept items, best first, as `(item, score)`.
    pub fn finish(mut self) -> Vec<(u32, f32)> {
        self.top.drain_sorted()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_give_the_answer_of_one_scan() {
        let n_items = 1000;
        let scores: Vec<f32> = (0..n_items).map(|i| ((i * 7919) % 1009) as f32 * 0.01).collect();
        let seen: Vec<u32> = (0..n_items as u32).filter(|i| i % 5 == 0).collect();
        let filter = ItemFilter::all().deny(n_items, [998, 3, 501]);

        let mut whole = RunningTopK::new(12, &seen);
        whole.scan(&mut scores.clone(), 0, &filter);
        let want = whole.finish();

        // Brute force: sort every admitted, unseen item.
        let mut sorted: Vec<(u32, f32)> = (0..n_items as u32)
            .filter(|i| i % 5 != 0 && filter.admits(*i as usize))
            .map(|i| (i, scores[i as usize]))
            .collect();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        sorted.truncate(12);
        assert_eq!(want, sorted);

        for chunk in [1, 64, 100, 333, 999] {
            let mut running = RunningTopK::new(12, &seen);
            let mut copy = scores.clone();
            for (index, part) in copy.chunks_mut(chunk).enumerate() {
                running.scan(part, index * chunk, &filter);
            }
            assert_eq!(running.finish(), want, "chunks of {chunk}");
        }
    }
}
