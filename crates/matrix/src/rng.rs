//! A seeded random generator whose stream is fixed by this file alone.
//!
//! Splits and initial factors must be identical on every machine, thread count and version
//! of third-party crates, so the project carries its own small generator (xoshiro256++ seeded
//! through SplitMix64) instead of depending on a crate whose stream may change.

/// xoshiro256++: fast, with a period of 2^256 - 1, good enough for sampling and initialisation.
#[derive(Clone, Debug)]
pub struct SeededRng {
    state: [u64; 4],
}

impl SeededRng {
    /// A generator for `seed`; the same seed always gives the same stream.
    pub fn new(seed: u64) -> Self {
        let mut mixer = seed;
        let state = std::array::from_fn(|_| splitmix64(&mut mixer));
        SeededRng { state }
    }

    /// A generator for one of many independent streams of `seed` (one per user, say), so that
    /// each stream is the same whatever order or thread the streams are drawn in.
    pub fn for_stream(seed: u64, stream: u64) -> Self {
        let mut mixer = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        SeededRng::new(splitmix64(&mut mixer))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..bound` (`bound > 0`), without modulo bias (Lemire's method).
    pub fn below(&mut self, bound: u64) -> u64 {
        debug_assert!(bound > 0);
        loop {
            let product = (self.next_u64() as u128) * (bound as u128);
            let low = product as u64;
            if low >= bound.wrapping_neg() % bound {
                return (product >> 64) as u64;
            }
        }
    }

    /// `n` distinct values of `0..bound` (`n <= bound`), sorted: the first `n` places of a
    /// partial Fisher-Yates shuffle. Test rows' neighbours, for instance.
    pub fn distinct_sorted(&mut self, n: usize, bound: u32) -> Vec<u32> {
        assert!(n <= bound as usize, "{n} distinct values below {bound}");
        let mut values: Vec<u32> = (0..bound).collect();
        for i in 0..n {
            let pick = i + self.below((bound as usize - i) as u64) as usize;
            values.swap(i, pick);
        }
        values.truncate(n);
        values.sort_unstable();
        values
    }

    /// A standard normal draw (Box-Muller; one of the pair is discarded for simplicity).
    pub fn next_normal(&mut self) -> f64 {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.next_f64()).ln()).sqrt();
        let angle = std::f64::consts::TAU * self.next_f64();
        radius * angle.cos()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_pinned() {
        // A changed stream would silently change every split and model: pin its start.
        let mut rng = SeededRng::new(42);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = SeededRng::new(42);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(SeededRng::new(43).next_u64(), first[0]);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = SeededRng::new(7);
        let mut seen = [0u32; 5];
        for _ in 0..10_000 {
            seen[rng.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| (1700..2300).contains(&n)), "{seen:?}");
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut rng = SeededRng::new(1);
        let draws: Vec<f64> = (0..100_000).map(|_| rng.next_normal()).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "mean {mean} var {var}");
    }
}
