//! Where the binaries under test are. Tests run the real `cairnd` and
//! `cairn` from the same target directory as the test executable, so a test
//! always exercises what `cargo test --workspace` just built.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/debug` (or the profile directory the test executable is in).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let mut dir = exe
        .parent()
        .expect("the test executable is in a directory")
        .to_path_buf();
    // Test executables live in target/debug/deps; binaries one level up.
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// The binary `name` in the target directory.
pub fn bin(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    if !path.is_file() {
        panic!(
            "{} not found: run `cargo test --workspace` (it builds cairnd and cairn first)",
            path.display()
        );
    }
    path
}

/// The node daemon.
pub fn cairnd() -> PathBuf {
    bin("cairnd")
}

/// The operator CLI.
pub fn cairn() -> PathBuf {
    bin("cairn")
}

/// The rogue node built from this crate (`src/bin/cairn-rogue.rs`).
pub fn rogue() -> PathBuf {
    bin("cairn-rogue")
}

/// The certificate-less libp2p peer (`src/bin/cairn-stranger.rs`).
pub fn stranger() -> PathBuf {
    bin("cairn-stranger")
}

/// The connection flood (`src/bin/cairn-flood.rs`).
pub fn flood() -> PathBuf {
    bin("cairn-flood")
}

/// Runs `cairn` with `args` (offline commands: keys, communities, certificates).
pub fn cairn_cmd<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(cairn())
        .args(args)
        .env_remove("CAIRN_SOCKET")
        .env_remove("CAIRN_DATA_DIR")
        .env_remove("CAIRN_CONFIG")
        .output()
        .expect("cairn runs")
}

/// Runs `cairn` and returns its trimmed stdout; panics with its stderr if it failed.
pub fn cairn_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let out = cairn_cmd(&args);
    if !out.status.success() {
        panic!(
            "`cairn {}` failed ({}): {}",
            show_args(&args),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Arguments joined for a message.
pub fn show_args(args: &[std::ffi::OsString]) -> String {
    args.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `path` as a `&str` (every path the harness makes is UTF-8).
pub fn s(path: &Path) -> &str {
    path.to_str().expect("harness paths are UTF-8")
}
