//! Helpers shared by the CLI tests: running the binary, reading its output, tiny data sets.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `flash-rec` with `args`.
pub fn flash_rec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flash-rec")).args(args).output().expect("flash-rec runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `output` succeeded and returns its stdout as JSON.
#[track_caller]
pub fn json_of(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

#[track_caller]
pub fn assert_fails_with(output: &Output, code: i32, parts: &[&str]) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {message}");
    for part in parts {
        assert!(message.contains(part), "'{part}' missing from stderr: {message}");
    }
}

pub fn text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A tiny MovieLens folder: three users, three movies, features of movie 1.
pub fn tiny_movielens(root: &Path) -> PathBuf {
    let dir = root.join("ml-tiny");
    std::fs::create_dir(&dir).unwrap();
    let files = [
        (
            "ratings.csv",
            "userId,movieId,rating,timestamp\n1,1,4.0,10\n1,2,3.5,11\n1,3,5.0,12\n\
             2,1,5.0,13\n2,3,2.0,14\n3,2,1.0,15\n3,1,4.5,16\n",
        ),
        (
            "movies.csv",
            "movieId,title,genres\n\
             1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n\
             2,\"American President, The (1995)\",Comedy|Drama|Romance\n\
             3,\"Misérables, Les (1995)\",Drama|War\n",
        ),
        ("tags.csv", "userId,movieId,tag,timestamp\n1,1,pixar,20\n2,1,fun,21\n3,1,Pixar,22\n"),
        ("links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n2,0112346,9087\n3,0113828,\n"),
    ];
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents).unwrap();
    }
    dir
}

/// A prepared cache of the tiny MovieLens folder.
pub fn prepared(root: &Path) -> PathBuf {
    let source = tiny_movielens(root);
    let cache = root.join("cache");
    let output = flash_rec(&["prepare", "--movielens", text(&source), "--out", text(&cache)]);
    assert_eq!(output.status.code(), Some(0), "stderr: {}", stderr(&output));
    cache
}
