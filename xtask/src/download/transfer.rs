//! HTTP transfers: a small text file, and an archive that resumes where a broken transfer
//! stopped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ureq::http::{header, StatusCode, Uri};
use ureq::{Agent, Body};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection silent for this long is taken as dead; there is no limit on the whole
/// transfer, which may take long on a slow line.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

const COPY_BLOCK_BYTES: usize = 64 * 1024;

/// An HTTP client set up for downloads.
pub(super) struct Client {
    agent: Agent,
}

impl Client {
    /// A client for requests to the host of `url`.
    pub(super) fn new(url: &str) -> Self {
        let mut config = Agent::config_builder()
            // Statuses are answered case by case: 206 and 416 matter for resuming.
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT));
        if is_loopback(url) {
            // A server on this machine (the tests') is reached directly even when a proxy is
            // configured: the request must not leave the machine.
            config = config.proxy(None);
        }
        Client { agent: config.build().into() }
    }

    /// The body of `url` as text, refusing bodies longer than `max_bytes`.
    pub(super) fn fetch_text(&self, url: &str, max_bytes: u64) -> Result<String> {
        let mut response =
            self.agent.get(url).call().with_context(|| format!("cannot fetch {url}"))?;
        if response.status() != StatusCode::OK {
            bail!("{url}: the server answered {}", response.status());
        }
        response
            .body_mut()
            .with_config()
            .limit(max_bytes)
            .read_to_string()
            .with_context(|| format!("cannot read {url} (at most {max_bytes} bytes expected)"))
    }

    /// Downloads `url` into `part`, continuing from the bytes already there.
    ///
    /// On success `part` holds exactly the announced number of bytes. A transfer that breaks
    /// off leaves `part` for the next run to resume; one that sends more than it announced
    /// removes it, as those bytes cannot be trusted.
    pub(super) fn download_resumable(&self, url: &str, part: &Path, max_bytes: u64) -> Result<()> {
        let mut offset = existing_length(part)?;
        let mut response = self.get_from(url, offset)?;
        if offset > 0 && response.status() == StatusCode::RANGE_NOT_SATISFIABLE {
            // The part is as long as the file or longer: it is stale, or complete but was
            // never verified. Either way the safe course is a fresh transfer.
            remove_part(part)?;
            offset = 0;
            response = self.get_from(url, offset)?;
        }
        let start = resume_point(url, &response, offset)?;
        let total = announced_total(url, &response, start)?;
        if let Some(total) = total {
            refuse_oversize(url, total, max_bytes)?;
        }
        let mut file = open_part(part, start)?;
        let bar = progress_bar(total, start, url);
        let copied =
            copy_body(response.into_body(), &mut file, &bar, start, total.unwrap_or(max_bytes));
        bar.finish_and_clear();
        file.sync_all().with_context(|| format!("cannot flush {}", part.display()))?;
        finish_transfer(url, part, copied, total)
    }

    fn get_from(&self, url: &str, offset: u64) -> Result<ureq::http::Response<Body>> {
        let mut request = self.agent.get(url);
        if offset > 0 {
            request = request.header(header::RANGE, format!("bytes={offset}-"));
        }
        request.call().with_context(|| format!("cannot fetch {url}"))
    }
}

/// Why copying a body stopped before its end.
enum CopyStop {
    /// The server sent more than it announced, or more than the cap.
    Oversize { limit: u64 },
    /// The connection broke, or the file could not be written.
    Failed(anyhow::Error),
}

/// Appends the body to `file`, which already holds `length` bytes, never going past `limit`.
fn copy_body(
    body: Body,
    file: &mut File,
    bar: &ProgressBar,
    mut length: u64,
    limit: u64,
) -> Result<(), CopyStop> {
    let mut reader = body.into_reader();
    let mut block = vec![0_u8; COPY_BLOCK_BYTES];
    loop {
        let read = match reader.read(&mut block) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(CopyStop::Failed(error.into())),
        };
        if length + read as u64 > limit {
            return Err(CopyStop::Oversize { limit });
        }
        file.write_all(&block[..read]).map_err(|error| CopyStop::Failed(error.into()))?;
        length += read as u64;
        bar.inc(read as u64);
    }
}

/// Turns the end of a copy into the transfer's outcome, judged by the bytes on disk.
fn finish_transfer(
    url: &str,
    part: &Path,
    copied: Result<(), CopyStop>,
    total: Option<u64>,
) -> Result<()> {
    let received = existing_length(part)?;
    let expected = total.map_or_else(|| "an unknown number of".to_owned(), |t| t.to_string());
    match copied {
        Err(CopyStop::Oversize { limit }) => {
            remove_part(part)?;
            bail!("{url} sent more than {limit} bytes; refused, and the download was removed")
        }
        Err(CopyStop::Failed(error)) => Err(error.context(format!(
            "the transfer of {url} broke off after {received} of {expected} bytes; {} is kept \
             and the next run resumes from it",
            part.display()
        ))),
        Ok(()) if total.is_some_and(|total| received < total) => bail!(
            "the transfer of {url} ended after {received} of {expected} bytes; {} is kept and \
             the next run resumes from it",
            part.display()
        ),
        Ok(()) => Ok(()),
    }
}

/// Where the body of `response` starts in the file: 0 for a whole file, `offset` when the
/// server honoured the range.
fn resume_point(url: &str, response: &ureq::http::Response<Body>, offset: u64) -> Result<u64> {
    match response.status() {
        StatusCode::OK => Ok(0),
        StatusCode::PARTIAL_CONTENT => {
            let range = header_text(response, header::CONTENT_RANGE)
                .with_context(|| format!("{url}: a 206 answer without Content-Range"))?;
            let (start, _) = parse_content_range(range)
                .with_context(|| format!("{url}: unreadable Content-Range {range:?}"))?;
            if start != offset {
                bail!("{url}: asked for bytes from {offset}, the server sent from {start}");
            }
            Ok(start)
        }
        status => bail!("{url}: the server answered {status}"),
    }
}

/// The size of the whole file, when the server tells it.
fn announced_total(
    url: &str,
    response: &ureq::http::Response<Body>,
    start: u64,
) -> Result<Option<u64>> {
    let body_length = response.body().content_length();
    if response.status() != StatusCode::PARTIAL_CONTENT {
        return Ok(body_length);
    }
    let range = header_text(response, header::CONTENT_RANGE).unwrap_or_default();
    let from_range = parse_content_range(range).and_then(|(_, total)| total);
    match (from_range, body_length) {
        (Some(total), Some(length)) if total != start + length => bail!(
            "{url}: Content-Range says {total} bytes in all, but {start} + Content-Length \
             {length} is {}",
            start + length
        ),
        (Some(total), _) => Ok(Some(total)),
        (None, length) => Ok(length.map(|length| start + length)),
    }
}

fn refuse_oversize(url: &str, total: u64, max_bytes: u64) -> Result<()> {
    if total > max_bytes {
        bail!("{url} announces {total} bytes, more than the {max_bytes} accepted; refused");
    }
    Ok(())
}

/// `bytes START-END/TOTAL` into `(START, Some(TOTAL))`; TOTAL may be `*`, unknown.
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (range, total) = value.trim().strip_prefix("bytes ")?.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = match total {
        "*" => None,
        digits => Some(digits.parse().ok()?),
    };
    Some((start.parse().ok()?, total))
}

fn header_text(response: &ureq::http::Response<Body>, name: header::HeaderName) -> Option<&str> {
    response.headers().get(name)?.to_str().ok()
}

/// The number of bytes in `part`, 0 when it does not exist.
fn existing_length(part: &Path) -> Result<u64> {
    match fs::metadata(part) {
        Ok(metadata) => Ok(metadata.len()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(error) => Err(error).with_context(|| format!("cannot inspect {}", part.display())),
    }
}

/// Opens `part` to append at `start`, or truncated when the transfer starts from zero.
fn open_part(part: &Path, start: u64) -> Result<File> {
    let opened =
        if start > 0 { OpenOptions::new().append(true).open(part) } else { File::create(part) };
    opened.with_context(|| format!("cannot open {} for writing", part.display()))
}

fn remove_part(part: &Path) -> Result<()> {
    fs::remove_file(part).with_context(|| format!("cannot remove {}", part.display()))
}

/// A progress bar on stderr, drawn only on a terminal so logs stay free of escape codes.
fn progress_bar(total: Option<u64>, position: u64, url: &str) -> ProgressBar {
    let target = if io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(total, target);
    let template = match total {
        Some(_) => "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        None => "{spinner} {msg} {bytes} {bytes_per_sec}",
    };
    // The templates are constants: a bad one would show on the first run of this code.
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_owned());
    bar.set_position(position);
    bar
}

fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<Uri>() else {
        return false;
    };
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_content_range_with_its_total() {
        assert_eq!(parse_content_range("bytes 500-999/1000"), Some((500, Some(1000))));
    }

    #[test]
    fn reads_a_content_range_of_unknown_total() {
        assert_eq!(parse_content_range("bytes 7-9/*"), Some((7, None)));
    }

    #[test]
    fn rejects_a_malformed_content_range() {
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn knows_which_hosts_are_this_machine() {
        assert!(is_loopback("http://127.0.0.1:8080/x.zip"));
        assert!(is_loopback("http://[::1]:8080/x.zip"));
        assert!(is_loopback("http://localhost/x.zip"));
        assert!(!is_loopback("https://files.grouplens.org/datasets/movielens/x.zip"));
    }
}
