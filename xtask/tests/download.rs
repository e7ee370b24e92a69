//! `xtask download` against a small HTTP server on 127.0.0.1 that serves an archive built here.
//!
//! The base URL reaches the code through an environment variable, which is process-wide, so
//! the tests take turns through [`ENVIRONMENT`].

use std::collections::HashMap;
use std::fs;
use std::io::{Cursor, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use xtask::download::{self, Dataset, DownloadArgs, BASE_URL_VARIABLE};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

const ARCHIVE_PATH: &str = "/ml-latest-small.zip";
const CHECKSUM_PATH: &str = "/ml-latest-small.zip.md5";

/// A server stops by itself after this long, whatever the test does.
const SERVER_LIFETIME: Duration = Duration::from_secs(60);

const RATINGS: &[u8] = b"userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.0,964981247\n";
const MOVIES: &[u8] = b"movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n";

static ENVIRONMENT: Mutex<()> = Mutex::new(());

#[test]
fn download_verifies_and_extracts_the_archive() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let server = TestServer::start(&archive, &md5_listing(&archive));
    let scratch = Scratch::new("success");

    download::run(args_for(&scratch.data_dir())).unwrap();

    let dataset = scratch.data_dir().join("ml-latest-small");
    assert_eq!(fs::read(dataset.join("ratings.csv")).unwrap(), RATINGS);
    assert_eq!(fs::read(dataset.join("movies.csv")).unwrap(), MOVIES);
    assert!(dataset.join("tags.csv").is_file() && dataset.join("links.csv").is_file());
    assert!(dataset.join("README.txt").is_file());
    assert_eq!(names_in(&scratch.data_dir()), ["ml-latest-small"], "leftovers beside it");
    assert_eq!(server.paths_requested(), [CHECKSUM_PATH, ARCHIVE_PATH]);
}

#[test]
fn a_checksum_mismatch_extracts_nothing_and_removes_the_download() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let wrong = "MD5 (ml-latest-small.zip) = 00000000000000000000000000000000\n";
    let _server = TestServer::start(&archive, wrong);
    let scratch = Scratch::new("mismatch");

    let error = download::run(args_for(&scratch.data_dir())).unwrap_err();

    let message = format!("{error:#}");
    let actual = hex_md5(&archive);
    assert!(message.contains("checksum mismatch"), "{message}");
    assert!(message.contains(".ml-latest-small.zip.part"), "{message}");
    assert!(message.contains("00000000000000000000000000000000"), "{message}");
    assert!(message.contains(&actual), "{message}");
    assert!(names_in(&scratch.data_dir()).is_empty(), "something was left or extracted");
}

#[test]
fn download_refuses_an_entry_climbing_out_with_dot_dot() {
    let _turn = take_turn();
    let archive = dataset_archive(&[("../evil", b"gotcha".as_slice())]);
    let _server = TestServer::start(&archive, &md5_listing(&archive));
    let scratch = Scratch::new("dotdot");

    let error = download::run(args_for(&scratch.data_dir())).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("\"../evil\""), "{message}");
    assert!(!scratch.root().join("evil").exists(), "written outside the data directory");
    assert_eq!(names_in(scratch.root()), ["data"]);
    assert!(names_in(&scratch.data_dir()).is_empty(), "something was left or extracted");
}

#[test]
fn download_refuses_a_symbolic_link_entry() {
    let _turn = take_turn();
    let archive = dataset_archive_with_symlink("ml-latest-small/passwd", "/etc/passwd");
    let _server = TestServer::start(&archive, &md5_listing(&archive));
    let scratch = Scratch::new("symlink");

    let error = download::run(args_for(&scratch.data_dir())).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("\"ml-latest-small/passwd\""), "{message}");
    assert!(message.contains("symbolic link"), "{message}");
    assert!(names_in(&scratch.data_dir()).is_empty(), "something was left or extracted");
}

#[test]
fn download_fails_when_cut_short_then_resumes_with_a_range_request() {
    let _turn = take_turn();
    let archive = dataset_archive(&[("ml-latest-small/padding.bin", &[7_u8; 4096])]);
    let cut_after = archive.len() / 2;
    let quirks = Quirks { cut_next_archive_after: Some(cut_after), ..Quirks::default() };
    let server = TestServer::start_with(&archive, &md5_listing(&archive), quirks);
    let scratch = Scratch::new("resume");
    let part = scratch.data_dir().join(".ml-latest-small.zip.part");

    let error = download::run(args_for(&scratch.data_dir())).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains("broke off") || message.contains("ended after"), "{message}");
    let kept = fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    assert!(kept > 0 && kept <= cut_after as u64, "kept {kept} of {cut_after} bytes");
    assert!(!scratch.data_dir().join("ml-latest-small").exists());

    download::run(args_for(&scratch.data_dir())).unwrap();

    let ranges = server.ranges_requested(ARCHIVE_PATH);
    assert_eq!(ranges, [None, Some(format!("bytes={kept}-"))]);
    let dataset = scratch.data_dir().join("ml-latest-small");
    assert_eq!(fs::read(dataset.join("ratings.csv")).unwrap(), RATINGS);
    assert_eq!(fs::read(dataset.join("padding.bin")).unwrap(), [7_u8; 4096]);
    assert_eq!(names_in(&scratch.data_dir()), ["ml-latest-small"], "leftovers beside it");
}

#[test]
fn download_restarts_from_zero_when_the_server_ignores_the_range() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let quirks = Quirks { ignore_ranges: true, ..Quirks::default() };
    let server = TestServer::start_with(&archive, &md5_listing(&archive), quirks);
    let scratch = Scratch::new("norange");
    fs::create_dir_all(scratch.data_dir()).unwrap();
    // Bytes that would corrupt the archive if the 200 answer were appended to them.
    fs::write(scratch.data_dir().join(".ml-latest-small.zip.part"), b"stale").unwrap();

    download::run(args_for(&scratch.data_dir())).unwrap();

    assert_eq!(server.ranges_requested(ARCHIVE_PATH), [Some("bytes=5-".to_owned())]);
    let ratings = scratch.data_dir().join("ml-latest-small").join("ratings.csv");
    assert_eq!(fs::read(ratings).unwrap(), RATINGS);
    assert_eq!(names_in(&scratch.data_dir()), ["ml-latest-small"], "leftovers beside it");
}

#[test]
fn download_discards_a_part_as_long_as_the_whole_file() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let server = TestServer::start(&archive, &md5_listing(&archive));
    let scratch = Scratch::new("complete-part");
    fs::create_dir_all(scratch.data_dir()).unwrap();
    let stale = vec![0_u8; archive.len()];
    fs::write(scratch.data_dir().join(".ml-latest-small.zip.part"), stale).unwrap();

    download::run(args_for(&scratch.data_dir())).unwrap();

    let expected = [Some(format!("bytes={}-", archive.len())), None];
    assert_eq!(server.ranges_requested(ARCHIVE_PATH), expected);
    let ratings = scratch.data_dir().join("ml-latest-small").join("ratings.csv");
    assert_eq!(fs::read(ratings).unwrap(), RATINGS);
}

#[test]
fn download_refuses_an_archive_announced_beyond_the_cap() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let announced = 3 << 30;
    let quirks = Quirks { announced_archive_length: Some(announced), ..Quirks::default() };
    let _server = TestServer::start_with(&archive, &md5_listing(&archive), quirks);
    let scratch = Scratch::new("oversize");

    let error = download::run(args_for(&scratch.data_dir())).unwrap_err();

    let message = format!("{error:#}");
    assert!(message.contains(&announced.to_string()) && message.contains("refused"), "{message}");
    assert!(names_in(&scratch.data_dir()).is_empty(), "something was written");
}

#[test]
fn a_present_dataset_is_not_downloaded_again() {
    let _turn = take_turn();
    let archive = dataset_archive(&[]);
    let server = TestServer::start(&archive, &md5_listing(&archive));
    let scratch = Scratch::new("present");
    let dataset = scratch.data_dir().join("ml-latest-small");
    fs::create_dir_all(&dataset).unwrap();
    fs::write(dataset.join("ratings.csv"), b"mine").unwrap();
    fs::write(dataset.join("movies.csv"), b"mine").unwrap();

    download::run(args_for(&scratch.data_dir())).unwrap();

    assert!(server.paths_requested().is_empty(), "the server was contacted");
    assert_eq!(fs::read(dataset.join("ratings.csv")).unwrap(), b"mine");
}

/// Serialises the tests, which share the process's environment, and points the download at
/// the test servers, never at GroupLens.
fn take_turn() -> MutexGuard<'static, ()> {
    // A test that failed while holding the lock leaves nothing inconsistent behind.
    let turn = ENVIRONMENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    std::env::set_var(BASE_URL_VARIABLE, "http://127.0.0.1:9/unset");
    turn
}

fn args_for(data_dir: &Path) -> DownloadArgs {
    DownloadArgs { dataset: Dataset::MlLatestSmall, dir: Some(data_dir.to_path_buf()) }
}

/// A fake ml-latest-small archive, with `extra` entries after the genuine ones.
fn dataset_archive(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    write_dataset_entries(&mut writer);
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, contents) in extra {
        writer.start_file(*name, options).unwrap();
        writer.write_all(contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn dataset_archive_with_symlink(name: &str, target: &str) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    write_dataset_entries(&mut writer);
    writer.add_symlink(name, target, SimpleFileOptions::default()).unwrap();
    writer.finish().unwrap().into_inner()
}

fn write_dataset_entries(writer: &mut ZipWriter<Cursor<Vec<u8>>>) {
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    writer.add_directory("ml-latest-small/", options).unwrap();
    let files: [(&str, &[u8]); 5] = [
        ("ratings.csv", RATINGS),
        ("movies.csv", MOVIES),
        ("tags.csv", b"userId,movieId,tag,timestamp\n"),
        ("links.csv", b"movieId,imdbId,tmdbId\n"),
        ("README.txt", b"A fake MovieLens archive for tests.\n"),
    ];
    for (name, contents) in files {
        writer.start_file(format!("ml-latest-small/{name}"), options).unwrap();
        writer.write_all(contents).unwrap();
    }
}

fn hex_md5(bytes: &[u8]) -> String {
    format!("{:x}", Md5::digest(bytes))
}

/// The published `.md5` file, in GroupLens' BSD style.
fn md5_listing(archive: &[u8]) -> String {
    format!("MD5 (ml-latest-small.zip) = {}\n", hex_md5(archive))
}

fn names_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> =
        entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A directory of its own for one test, removed at the end; the data directory is `data/`
/// inside it, so that writes beside the data directory can be seen.
struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("flash-xtask-download-{label}-{}-{unique}", std::process::id());
        let root = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Scratch(root)
    }

    fn root(&self) -> &Path {
        &self.0
    }

    fn data_dir(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    range: Option<String>,
}

/// Ways the server misbehaves with the archive, as real servers and networks do.
#[derive(Debug, Default)]
struct Quirks {
    /// The next archive response announces its full length but stops after this many bytes.
    cut_next_archive_after: Option<usize>,
    /// Range requests get the whole file, as from a server without range support.
    ignore_ranges: bool,
    /// The archive's Content-Length, instead of its true length; no body is sent.
    announced_archive_length: Option<u64>,
}

/// What the server serves and what it has seen, shared with its thread.
struct ServerState {
    files: HashMap<String, Vec<u8>>,
    quirks: Mutex<Quirks>,
    seen: Mutex<Vec<Seen>>,
}

/// An HTTP/1.1 server on 127.0.0.1 serving the archive and its `.md5`, one connection at a
/// time, each closed after its response. It honours `Range: bytes=N-`, and can misbehave as
/// [`Quirks`] describes.
struct TestServer {
    state: Arc<ServerState>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts the server and points the download at it.
    fn start(archive: &[u8], md5_listing: &str) -> Self {
        Self::start_with(archive, md5_listing, Quirks::default())
    }

    fn start_with(archive: &[u8], md5_listing: &str, quirks: Quirks) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = listener.local_addr().unwrap();
        std::env::set_var(BASE_URL_VARIABLE, format!("http://{address}"));

        let files = HashMap::from([
            (ARCHIVE_PATH.to_owned(), archive.to_vec()),
            (CHECKSUM_PATH.to_owned(), md5_listing.as_bytes().to_vec()),
        ]);
        let state = Arc::new(ServerState {
            files,
            quirks: Mutex::new(quirks),
            seen: Mutex::new(Vec::new()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (state, stop) = (Arc::clone(&state), Arc::clone(&stop));
            thread::spawn(move || serve(&listener, &state, &stop))
        };
        TestServer { state, stop, thread: Some(thread) }
    }

    fn paths_requested(&self) -> Vec<String> {
        self.state.seen.lock().unwrap().iter().map(|seen| seen.path.clone()).collect()
    }

    fn ranges_requested(&self, path: &str) -> Vec<Option<String>> {
        let seen = self.state.seen.lock().unwrap();
        seen.iter().filter(|seen| seen.path == path).map(|seen| seen.range.clone()).collect()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(listener: &TcpListener, state: &ServerState, stop: &AtomicBool) {
    let deadline = Instant::now() + SERVER_LIFETIME;
    while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                // A failed exchange is the client's to report; the server carries on.
                let _ = answer(stream, state);
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return,
        }
    }
}

/// A response: its body is announced whole, though `sent` may stop short of it.
struct Reply<'a> {
    status: &'a str,
    content_range: Option<String>,
    body: &'a [u8],
    announced_length: u64,
    sent: usize,
}

impl<'a> Reply<'a> {
    fn new(status: &'a str, content_range: Option<String>, body: &'a [u8]) -> Self {
        let length = body.len();
        Reply { status, content_range, body, announced_length: length as u64, sent: length }
    }
}

fn answer(mut stream: TcpStream, state: &ServerState) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let head = read_head(&mut stream)?;
    let seen = parse_head(&head);
    state.seen.lock().unwrap().push(seen.clone());

    let Some(body) = state.files.get(&seen.path) else {
        return send(&mut stream, &Reply::new("404 Not Found", None, b""));
    };
    if seen.path != ARCHIVE_PATH {
        return send(&mut stream, &Reply::new("200 OK", None, body));
    }
    let mut quirks = state.quirks.lock().unwrap();
    let start = seen.range.as_deref().and_then(range_start).filter(|_| !quirks.ignore_ranges);
    let mut reply = archive_reply(body, start);
    if let Some(length) = quirks.announced_archive_length {
        reply.announced_length = length;
        reply.sent = 0;
    }
    if let Some(cut) = quirks.cut_next_archive_after.take() {
        reply.sent = reply.sent.min(cut);
    }
    drop(quirks);
    send(&mut stream, &reply)
}

/// The archive whole, or from `start` on, as HTTP range requests expect.
fn archive_reply(archive: &[u8], start: Option<usize>) -> Reply<'_> {
    let length = archive.len();
    match start {
        None => Reply::new("200 OK", None, archive),
        Some(start) if start >= length => {
            Reply::new("416 Range Not Satisfiable", Some(format!("bytes */{length}")), b"")
        }
        Some(start) => {
            let range = format!("bytes {start}-{}/{length}", length - 1);
            Reply::new("206 Partial Content", Some(range), &archive[start..])
        }
    }
}

/// Reads the request line and headers, up to the blank line.
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn parse_head(head: &str) -> Seen {
    let mut lines = head.lines();
    let path = lines.next().and_then(|line| line.split(' ').nth(1)).unwrap_or("").to_owned();
    let range = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("range"))
        .map(|(_, value)| value.trim().to_owned());
    Seen { path, range }
}

/// `bytes=N-` into N.
fn range_start(range: &str) -> Option<usize> {
    range.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok()
}

fn send(stream: &mut TcpStream, reply: &Reply<'_>) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n",
        reply.status, reply.announced_length
    );
    if let Some(range) = &reply.content_range {
        head.push_str(&format!("Content-Range: {range}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&reply.body[..reply.sent])?;
    stream.flush()?;
    // Closing at once is how a broken transfer looks when `sent` is short of the length.
    stream.shutdown(Shutdown::Both)
}
