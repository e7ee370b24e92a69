//! Small helpers shared by the benchmark commands.

use std::process::Command;

/// The median of `values` (the upper one of an even count); NaN when there are none.
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The processor's model name as `lscpu` reports it.
pub fn cpu_model() -> String {
    let lscpu =
        Command::new("lscpu").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    lscpu
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Model name:").map(|m| m.trim().to_string()))
        .unwrap_or_else(|| "unknown".into())
}
