//! Running `cairn-stranger` (see `src/bin/cairn-stranger.rs`) from a test:
//! it runs to completion, and its lines, each stamped with the milliseconds
//! since its dial, are what the test asserts on.

use crate::bins::stranger;
use std::path::Path;
use std::process::Command;

/// What a finished stranger printed.
pub struct StrangerRun {
    pub mode: String,
    pub stdout: String,
    pub stderr: String,
}

impl StrangerRun {
    /// Runs `cairn-stranger --mode mode` against `addr` (`…/p2p/<id>`),
    /// subscribing to `topic` in swarm mode; its output is also kept in
    /// `dir/stranger-<mode>.out` for a post-mortem.
    pub fn run(dir: &Path, addr: &str, topic: &str, mode: &str) -> StrangerRun {
        let out = Command::new(stranger())
            .args(["--addr", addr, "--topic", topic, "--mode", mode])
            .output()
            .expect("cairn-stranger runs");
        let run = StrangerRun {
            mode: mode.into(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let _ = std::fs::write(dir.join(format!("stranger-{mode}.out")), &run.stdout);
        assert!(out.status.success(), "{}", run.describe());
        run
    }

    /// Lines starting with `prefix`.
    pub fn lines(&self, prefix: &str) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }

    /// The one line starting with `prefix` and its `after-ms=` figure.
    pub fn event(&self, prefix: &str) -> (&str, u128) {
        let lines = self.lines(prefix);
        assert_eq!(lines.len(), 1, "one '{prefix}' line\n{}", self.describe());
        (lines[0], after_ms(lines[0]))
    }

    /// Stdout and stderr, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- stranger ({}) stdout ---\n{}--- stderr ---\n{}",
            self.mode, self.stdout, self.stderr
        )
    }
}

/// The `after-ms=` figure of a line.
pub fn after_ms(line: &str) -> u128 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("after-ms="))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("the line says when: {line}"))
}
