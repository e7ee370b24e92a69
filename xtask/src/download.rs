//! `cargo xtask download`: fetches a MovieLens archive from GroupLens, verifies it and unpacks
//! it into the data directory.
//!
//! The steps, each in its own module:
//! 1. [`transfer`]: the archive is downloaded to `<dir>/.<name>.zip.part`, resuming a broken
//!    transfer with an HTTP `Range` request;
//! 2. [`checksum`]: the complete file is checked against the MD5 that GroupLens publishes
//!    beside it;
//! 3. [`archive`]: it is unpacked into a hidden sibling directory that is renamed into place
//!    only once every entry has been written, so `<dir>/<name>/` is either absent or whole.
//!
//! No MD5 is pinned in the code: no trustworthy published value for the `ml-latest*` archives
//! could be found, and GroupLens refreshes `ml-latest.zip` from time to time. The `.md5` file
//! published beside each archive is therefore fetched first and the archive is verified
//! against it. That catches corrupt and truncated transfers; HTTPS covers tampering.

mod archive;
mod checksum;
mod transfer;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Where GroupLens publishes the MovieLens archives.
const DEFAULT_BASE_URL: &str = "https://files.grouplens.org/datasets/movielens";

/// Overrides [`DEFAULT_BASE_URL`], for a mirror or a test server.
pub const BASE_URL_VARIABLE: &str = "FLASH_DOWNLOAD_BASE";

/// Chooses the data directory when `--dir` is not given.
pub const DATA_DIR_VARIABLE: &str = "FLASH_DATA_DIR";

/// The files whose presence means the dataset needs no download.
const REQUIRED_FILES: [&str; 2] = ["ratings.csv", "movies.csv"];

/// Refuse archives larger than this: `ml-latest.zip`, the larger one, is a few hundred MB,
/// so anything past 2 GiB is a wrong URL or a misbehaving server.
const MAX_ARCHIVE_BYTES: u64 = 2 << 30;

/// A published `.md5` file is one short line.
const MAX_CHECKSUM_FILE_BYTES: u64 = 4096;

/// Arguments of `cargo xtask download`.
#[derive(Debug, Clone, clap::Args)]
pub struct DownloadArgs {
    /// Which MovieLens dataset to fetch.
    #[arg(long, value_enum, default_value_t = Dataset::MlLatestSmall)]
    pub dataset: Dataset,

    /// Directory that receives `<dataset>/` [default: $FLASH_DATA_DIR, else `data/` at the
    /// workspace root].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The MovieLens datasets that can be downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dataset {
    /// 100k ratings of 9k movies by 600 users: small enough for tests and quick runs.
    #[value(name = "ml-latest-small")]
    MlLatestSmall,
    /// The full current dataset: tens of millions of ratings.
    #[value(name = "ml-latest")]
    MlLatest,
}

impl Dataset {
    /// The archive's stem, which is also the name of its top folder.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::MlLatestSmall => "ml-latest-small",
            Dataset::MlLatest => "ml-latest",
        }
    }
}

/// Downloads, verifies and unpacks `args.dataset` unless it is already present.
pub fn run(args: DownloadArgs) -> Result<()> {
    let data_dir = choose_data_dir(args.dir, env::var_os(DATA_DIR_VARIABLE));
    let name = args.dataset.name();
    let dataset_dir = data_dir.join(name);
    if is_present(&dataset_dir) {
        println!("{name} is already present in {}", dataset_dir.display());
        return Ok(());
    }
    // Checked before the download so that a long transfer does not end in this error.
    refuse_incomplete_folder(&dataset_dir)?;
    fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;

    let archive_url = format!("{}/{name}.zip", base_url());
    let client = transfer::Client::new(&archive_url);
    let expected_md5 = fetch_published_md5(&client, &archive_url)?;
    let part = data_dir.join(format!(".{name}.zip.part"));
    client.download_resumable(&archive_url, &part, MAX_ARCHIVE_BYTES)?;
    checksum::verify_md5_or_remove(&part, &expected_md5, &archive_url)?;

    let extracted = archive::extract_atomically(&part, name, &dataset_dir);
    // Verified or not, the archive has served its purpose: keeping it would only double the
    // disk footprint, and a `.part` left behind would be taken for a transfer to resume.
    remove_if_exists(&part)?;
    extracted?;
    println!("{name} is ready in {}", dataset_dir.display());
    Ok(())
}

/// `--dir` wins, then a non-empty `$FLASH_DATA_DIR`, then `data/` at the workspace root.
pub(crate) fn choose_data_dir(
    explicit: Option<PathBuf>,
    from_environment: Option<OsString>,
) -> PathBuf {
    explicit
        .or_else(|| from_environment.filter(|value| !value.is_empty()).map(PathBuf::from))
        .unwrap_or_else(default_data_dir)
}

/// The folder data sets are downloaded to: `explicit`, else `$FLASH_DATA_DIR`, else `data/`.
pub fn data_dir(explicit: Option<PathBuf>) -> PathBuf {
    choose_data_dir(explicit, env::var_os(DATA_DIR_VARIABLE))
}

/// `data/` beside the xtask crate, i.e. at the workspace root whatever the working directory.
fn default_data_dir() -> PathBuf {
    let xtask_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask_dir.parent().unwrap_or(xtask_dir).join("data")
}

fn base_url() -> String {
    let configured = env::var(BASE_URL_VARIABLE).ok().filter(|value| !value.is_empty());
    let base = configured.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
    base.trim_end_matches('/').to_owned()
}

fn is_present(dataset_dir: &Path) -> bool {
    REQUIRED_FILES.iter().all(|file| dataset_dir.join(file).is_file())
}

/// A folder without the required files was not made by this command, whose extraction is
/// atomic: it may hold someone's work, so it is left for a person to deal with.
fn refuse_incomplete_folder(dataset_dir: &Path) -> Result<()> {
    if dataset_dir.exists() {
        bail!(
            "{} exists but lacks {}; move it away and run the download again",
            dataset_dir.display(),
            REQUIRED_FILES.join(" or ")
        );
    }
    Ok(())
}

fn fetch_published_md5(client: &transfer::Client, archive_url: &str) -> Result<String> {
    let md5_url = format!("{archive_url}.md5");
    let listing = client.fetch_text(&md5_url, MAX_CHECKSUM_FILE_BYTES)?;
    checksum::parse_published_md5(&listing)
        .with_context(|| format!("{md5_url} holds no MD5 digest: {:?}", listing.trim()))
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dir_flag_wins_over_the_environment() {
        let chosen = choose_data_dir(Some("flag".into()), Some("env".into()));
        assert_eq!(chosen, PathBuf::from("flag"));
    }

    #[test]
    fn the_environment_wins_over_the_default() {
        assert_eq!(choose_data_dir(None, Some("env".into())), PathBuf::from("env"));
    }

    #[test]
    fn an_empty_variable_falls_back_to_data_at_the_workspace_root() {
        let chosen = choose_data_dir(None, Some(OsString::new()));
        assert_eq!(chosen, default_data_dir());
        assert!(chosen.ends_with("data"));
        assert!(chosen.parent().is_some_and(|root| root.join("Cargo.toml").is_file()));
    }

    #[test]
    fn dataset_names_match_the_archive_names() {
        use clap::ValueEnum;
        for dataset in Dataset::value_variants() {
            let value = dataset.to_possible_value().map(|v| v.get_name().to_owned());
            assert_eq!(value.as_deref(), Some(dataset.name()));
        }
    }
}
