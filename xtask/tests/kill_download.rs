//! SIGKILL of a real `cargo xtask download` (the xtask binary) in the middle of a transfer
//! from a slow server on 127.0.0.1: the dataset folder is never left half there, and the
//! next run resumes the transfer from the partial file with a Range request and finishes.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The server stops by itself after this long, whatever the test does.
const SERVER_LIFETIME: Duration = Duration::from_secs(90);
/// A run of the xtask binary is killed if it lasts longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// The archive is sent in blocks of this size with a pause after each: about 1.6 MB/s.
const BLOCK: usize = 16 * 1024;
const PAUSE: Duration = Duration::from_millis(10);

/// A stored (uncompressed) archive of about 1.5 MB, so that the slow transfer takes ~1 s.
fn archive() -> (Vec<u8>, Vec<u8>) {
    let mut ratings = b"userId,movieId,rating,timestamp\n".to_vec();
    let mut line = 0u64;
    while ratings.len() < 1_500_000 {
        let (user, item, time) = (line % 600, line % 9000, 964_982_703 + line);
        ratings.extend(format!("{user},{item},4.0,{time}\n").bytes());
        line += 1;
    }
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    writer.start_file("ml-latest-small/ratings.csv", options).unwrap();
    writer.write_all(&ratings).unwrap();
    writer.start_file("ml-latest-small/movies.csv", options).unwrap();
    writer.write_all(b"movieId,title,genres\n1,Toy Story (1995),Adventure\n").unwrap();
    (writer.finish().unwrap().into_inner(), ratings)
}

struct SlowServer {
    address: String,
    ranges: Arc<Mutex<Vec<Option<String>>>>,
    stop: Arc<AtomicBool>,
}

impl SlowServer {
    fn start(archive: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let digest: String =
            Md5::digest(&archive).iter().map(|byte| format!("{byte:02x}")).collect();
        let md5 = format!("MD5 (ml-latest-small.zip) = {digest}\n").into_bytes();
        let (ranges, stop) = (Arc::new(Mutex::new(Vec::new())), Arc::new(AtomicBool::new(false)));
        let archive = Arc::new(archive);
        let (seen, halt) = (Arc::clone(&ranges), Arc::clone(&stop));
        thread::spawn(move || {
            let deadline = Instant::now() + SERVER_LIFETIME;
            while !halt.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (archive, md5, seen) = (archive.clone(), md5.clone(), seen.clone());
                        // Each connection on its own thread: a killed client's transfer must
                        // not hold up the next run's requests.
                        thread::spawn(move || answer(stream, &archive, &md5, &seen));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        SlowServer { address, ranges, stop }
    }
}

impl Drop for SlowServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn answer(mut stream: TcpStream, archive: &[u8], md5: &[u8], seen: &Mutex<Vec<Option<String>>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
    if path.ends_with(".md5") {
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            md5.len()
        );
        let _ = stream.write_all(reply.as_bytes()).and_then(|()| stream.write_all(md5));
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let range = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("range"))
        .map(|(_, value)| value.trim().to_owned());
    seen.lock().unwrap().push(range.clone());
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes=")?.strip_suffix('-')?.parse::<usize>().ok());
    let (status, extra, body) = match start {
        Some(start) if start < archive.len() => (
            "206 Partial Content",
            format!("Content-Range: bytes {start}-{}/{}\r\n", archive.len() - 1, archive.len()),
            &archive[start..],
        ),
        Some(_) => ("416 Range Not Satisfiable", String::new(), &archive[..0]),
        None => ("200 OK", String::new(), archive),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n{extra}\
         Connection: close\r\n\r\n",
        body.len()
    );
    if stream.write_all(reply.as_bytes()).is_err() {
        return;
    }
    for block in body.chunks(BLOCK) {
        if stream.write_all(block).is_err() {
            return;
        }
        thread::sleep(PAUSE);
    }
    let _ = stream.shutdown(Shutdown::Both);
}

fn download(server: &SlowServer, data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(["download", "--dir"])
        .arg(data)
        .env("FLASH_DOWNLOAD_BASE", &server.address)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_download_killed_mid_transfer_leaves_no_dataset_and_the_next_run_resumes() {
    let (archive, ratings) = archive();
    let total = archive.len() as u64;
    let server = SlowServer::start(archive);
    let root = Scratch::new();
    let data = root.0.join("data");
    let part = data.join(".ml-latest-small.zip.part");

    // Kill once the transfer is under way (part of the archive on disk), however long
    // starting takes on this machine.
    let mut child = download(&server, &data).spawn().unwrap();
    let deadline = Instant::now() + RUN_LIMIT;
    while fs::metadata(&part).map_or(0, |m| m.len()) < total / 10 {
        assert!(child.try_wait().unwrap().is_none(), "the download ended before the kill");
        assert!(Instant::now() < deadline, "the transfer never started");
        thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let kept = fs::metadata(&part).unwrap().len();
    assert!(kept > 0 && kept < total, "part holds {kept} of {total} bytes");
    assert!(!data.join("ml-latest-small").exists(), "a dataset folder appeared");

    let mut child = download(&server, &data).spawn().unwrap();
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline + RUN_LIMIT {
            let _ = child.kill();
            panic!("the resumed download did not finish");
        }
        thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "resumed download failed: {stderr}");

    assert_eq!(fs::read(data.join("ml-latest-small/ratings.csv")).unwrap(), ratings);
    assert_eq!(names_in(&data), ["ml-latest-small"], "leftovers beside the dataset");
    let ranges = server.ranges.lock().unwrap().clone();
    assert_eq!(ranges.len(), 2, "archive requests: {ranges:?}");
    let resumed_from = ranges[1].as_deref().and_then(|r| r.strip_prefix("bytes="));
    let resumed_from: u64 = resumed_from.unwrap().trim_end_matches('-').parse().unwrap();
    assert_eq!(resumed_from, kept, "the resumed transfer did not start after the kept bytes");
}

/// A directory of the test's own, removed at the end.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Self {
        let name = format!("flash-xtask-kill-download-{}", std::process::id());
        let root = std::env::temp_dir().join(name);
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Scratch(root)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
