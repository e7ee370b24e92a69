//! MD5 digests: reading the one GroupLens publishes and comparing it with the download's.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use md5::{Digest, Md5};

/// Finds the digest in a published `.md5` file.
///
/// GroupLens writes BSD style, `MD5 (ml-latest-small.zip) = <hex>`, while `md5sum` writes
/// `<hex>  <file>`; taking the one word of 32 hex digits accepts both.
pub(super) fn parse_published_md5(listing: &str) -> Option<String> {
    listing
        .split_whitespace()
        .find(|word| word.len() == 32 && word.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// Checks `path` against `expected`; a file that does not match is removed, so that the next
/// run downloads it afresh instead of resuming from bad bytes.
pub(super) fn verify_md5_or_remove(path: &Path, expected: &str, source_url: &str) -> Result<()> {
    let actual = md5_of_file(path)?;
    if actual == expected {
        return Ok(());
    }
    fs::remove_file(path).with_context(|| {
        format!("cannot remove {}, whose MD5 {actual} is not {expected}", path.display())
    })?;
    bail!(
        "checksum mismatch for {} (downloaded from {source_url}): expected md5 {expected}, \
         actual md5 {actual}; the file was removed and nothing was extracted",
        path.display()
    )
}

/// The lowercase hex MD5 of a file, read in blocks so that large archives need little memory.
fn md5_of_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Md5::new();
    let mut block = vec![0_u8; 1 << 20];
    loop {
        let read =
            file.read(&mut block).with_context(|| format!("cannot read {}", path.display()))?;
        if read == 0 {
            return Ok(format!("{:x}", hasher.finalize()));
        }
        hasher.update(&block[..read]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_the_bsd_style_grouplens_writes() {
        let listing = format!("MD5 (ml-latest-small.zip) = {}\n", DIGEST.to_uppercase());
        assert_eq!(parse_published_md5(&listing).as_deref(), Some(DIGEST));
    }

    #[test]
    fn reads_the_md5sum_style() {
        let listing = format!("{DIGEST}  ml-latest-small.zip\n");
        assert_eq!(parse_published_md5(&listing).as_deref(), Some(DIGEST));
    }

    #[test]
    fn finds_nothing_in_an_error_page() {
        assert_eq!(parse_published_md5("<html>404 Not Found</html>"), None);
    }

    #[test]
    fn hashes_a_file_like_md5sum() {
        let path = std::env::temp_dir().join(format!("flash-md5-{}", std::process::id()));
        fs::write(&path, b"abc").unwrap();
        let digest = md5_of_file(&path).unwrap();
        fs::remove_file(&path).unwrap();
        // RFC 1321, appendix A.5.
        assert_eq!(digest, "900150983cd24fb0d6963f7d28e17f72");
    }
}
