//! A progress bar on stderr, only when stderr is a terminal and the user did not ask for quiet.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps, hidden when piped or with `quiet`.
pub fn bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template = format!("{what} {{bar:30}} {{pos}}/{{len}} {{msg}} [{{elapsed_precise}}]");
    bar.set_style(ProgressStyle::with_template(&template).expect("a valid template"));
    bar
}
