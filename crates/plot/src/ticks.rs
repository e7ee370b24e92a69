//! Round tick values for an axis.

/// About `target` round values (1, 2 or 5 times a power of ten apart) covering `[low, high]`.
pub(crate) fn nice_ticks(low: f64, high: f64, target: usize) -> Vec<f64> {
    if !(low.is_finite() && high.is_finite()) || high <= low {
        return vec![low];
    }
    let raw_step = (high - low) / target.max(1) as f64;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw_step)
        .unwrap_or(10.0 * magnitude);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick label with as many decimals as the step needs.
pub(crate) fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    if value.abs() >= 1e5 {
        format!("{value:.1e}")
    } else {
        format!("{value:.decimals$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(nice_ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let ticks = nice_ticks(0.83, 0.97, 5);
        assert!(ticks.iter().all(|&t| (0.83..=0.97).contains(&t)), "{ticks:?}");
        assert_eq!(tick_label(0.85, 0.05), "0.85");
        assert_eq!(tick_label(20.0, 5.0), "20");
    }
}
