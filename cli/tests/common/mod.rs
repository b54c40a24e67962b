//! Running the real `cairn` binary from integration tests, isolated from the
//! caller's environment, and checking the one-line error contract.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `cairn args...` with no CAIRN_* variables inherited.
pub fn cairn(args: &[&str]) -> Output {
    cairn_env(args, &[])
}

/// Runs `cairn args...` with only the CAIRN_* variables in `env`.
pub fn cairn_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
    command
        .args(args)
        .env_remove("CAIRN_DATA_DIR")
        .env_remove("CAIRN_SOCKET")
        .env_remove("CAIRN_CONFIG");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("the cairn binary runs")
}

/// Asserts success and returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = cairn(args);
    assert!(
        out.status.success(),
        "cairn {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Asserts that `out` failed with exactly one `error: ` line on stderr that
/// contains `needle`, and returns that line.
pub fn one_line_error(out: &Output, needle: &str) -> String {
    assert!(!out.status.success(), "expected a failure, got success");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr:?}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// A path inside `dir` as a `&str` argument.
pub fn arg(dir: &Path, name: &str) -> String {
    dir.join(name)
        .to_str()
        .expect("temp paths are UTF-8")
        .to_string()
}
