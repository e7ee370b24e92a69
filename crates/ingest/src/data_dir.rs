//! Finding MovieLens data sets on this machine.

use std::path::PathBuf;

/// The variable naming the folder that holds data sets (`FOLDER/ml-latest-small/...`).
pub const DATA_DIR_VARIABLE: &str = "FLASH_DATA_DIR";

/// The variable that turns a missing data set from a skip into a failure (set by CI).
pub const REQUIRE_DATA_VARIABLE: &str = "FLASH_REQUIRE_DATA";

/// `$FLASH_DATA_DIR/NAME` if it holds a `ratings.csv`.
pub fn locate_dataset(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(DATA_DIR_VARIABLE)?).join(name);
    dir.join("ratings.csv").is_file().then_some(dir)
}

/// For tests and benchmarks that need real data: the data set's folder, or `None` after
/// printing a loud SKIPPED line. With `FLASH_REQUIRE_DATA=1` a missing data set panics
/// instead, so that CI cannot pass without running the test.
pub fn dataset_for_test(name: &str, test: &str) -> Option<PathBuf> {
    if let Some(dir) = locate_dataset(name) {
        return Some(dir);
    }
    let where_ = std::env::var(DATA_DIR_VARIABLE).unwrap_or_else(|_| "<unset>".into());
    let message = format!(
        "{test}: SKIPPED: needs {name} under {DATA_DIR_VARIABLE} (now {where_}); \
         get it with `cargo xtask download --dataset {name}`"
    );
    if std::env::var_os(REQUIRE_DATA_VARIABLE).is_some_and(|v| v == "1") {
        panic!("{message}; {REQUIRE_DATA_VARIABLE}=1 makes this a failure");
    }
    eprintln!("\n!!!!!!!! {message}\n");
    None
}
