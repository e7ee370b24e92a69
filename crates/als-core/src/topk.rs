//! Keeping the K best (score, item) pairs of a stream, in O(n log K).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A scored item; ordered so that the heap's top is the *worst* kept entry.
#[derive(Clone, Copy, Debug)]
struct Entry {
    score: f32,
    item: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// "Greater" means worse: a lower score, or on a tie a higher item index, so ties are
    /// broken the same way on every run.
    fn cmp(&self, other: &Self) -> Ordering {
        other.score.total_cmp(&self.score).then(self.item.cmp(&other.item))
    }
}

/// The K best items seen so far.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Entry>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        TopK { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    /// Offers one item.
    #[inline]
    pub fn push(&mut self, item: u32, score: f32) {
        if self.k == 0 || score.is_nan() {
            return;
        }
        let entry = Entry { score, item };
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if let Some(worst) = self.heap.peek() {
            if entry < *worst {
                self.heap.pop();
                self.heap.push(entry);
            }
        }
    }

    /// The worst kept score once K items are kept (a candidate must beat it to enter).
    #[inline]
    pub fn worst_when_full(&self) -> Option<f32> {
        if self.heap.len() < self.k {
            return None;
        }
        self.heap.peek().map(|worst| worst.score)
    }

    /// The kept items, best first; the selector is left empty for reuse.
    pub fn drain_sorted(&mut self) -> Vec<(u32, f32)> {
        let mut entries: Vec<Entry> = self.heap.drain().collect();
        entries.sort_unstable();
        entries.into_iter().map(|e| (e.item, e.score)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_with_deterministic_ties() {
        let mut top = TopK::new(3);
        for (item, score) in
            [(0, 1.0), (1, 5.0), (2, 3.0), (3, 5.0), (4, -1.0), (5, 3.0), (6, f32::NAN)]
        {
            top.push(item, score);
        }
        assert_eq!(top.drain_sorted(), vec![(1, 5.0), (3, 5.0), (2, 3.0)]);
        assert!(top.drain_sorted().is_empty());
    }
}
