//! Logs go to stderr through `tracing`; stdout is kept for results (tables or JSON).

use tracing_subscriber::EnvFilter;

/// Warnings by default, `-v` info with phase timings, `-vv` debug; `RUST_LOG` wins.
pub fn init(verbosity: u8) {
    let default = match verbosity {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_target(false)
        .init();
}
