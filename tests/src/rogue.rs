//! Running `cairn-rogue` (see `src/bin/cairn-rogue.rs`) from a test: its
//! stdout and stderr go to files in the community directory, so a test can
//! poll what it did while it runs and show it when an assertion fails.

use crate::bins::rogue;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How the rogue is run.
#[derive(Debug, Clone)]
pub struct RogueArgs<'a> {
    /// The community file whose topic it targets (the real one).
    pub community: &'a Path,
    pub key: &'a Path,
    pub cert: &'a Path,
    pub bootstrap: Vec<String>,
    /// `valid`, `forged` or `replay-event`.
    pub mode: &'a str,
    pub count: usize,
    pub linger_secs: f64,
    /// A creation time to claim for every item (ms since the epoch).
    pub created_ms: Option<u64>,
    /// Further arguments (`--redial`, `--event FILE`).
    pub extra: Vec<String>,
}

/// A running `cairn-rogue`, killed on drop.
pub struct RogueProc {
    pub name: String,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    child: Option<Child>,
}

impl RogueProc {
    /// Starts the rogue; its output goes to `dir/<name>.out` and `.err`.
    pub fn spawn(dir: &Path, name: &str, a: &RogueArgs<'_>) -> RogueProc {
        let stdout = dir.join(format!("{name}.out"));
        let stderr = dir.join(format!("{name}.err"));
        let mut cmd = Command::new(rogue());
        cmd.arg("--community")
            .arg(a.community)
            .arg("--key")
            .arg(a.key)
            .arg("--cert")
            .arg(a.cert)
            .args(["--mode", a.mode])
            .args(["--count", &a.count.to_string()])
            .args(["--linger", &a.linger_secs.to_string()]);
        for b in &a.bootstrap {
            cmd.args(["--bootstrap", b]);
        }
        if let Some(ms) = a.created_ms {
            cmd.args(["--created-ms", &ms.to_string()]);
        }
        cmd.args(&a.extra);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("cairn-rogue starts");
        RogueProc {
            name: name.into(),
            stdout,
            stderr,
            child: Some(child),
        }
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Output lines starting with `prefix`.
    pub fn lines(&self, prefix: &str) -> Vec<String> {
        self.output()
            .lines()
            .filter(|l| l.starts_with(prefix))
            .map(str::to_string)
            .collect()
    }

    /// Stdout and stderr, for failure messages.
    pub fn describe(&self) -> String {
        format!(
            "--- {} stdout ---\n{}--- {} stderr ---\n{}",
            self.name,
            self.output(),
            self.name,
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }

    /// Waits for the rogue to exit successfully; returns its stdout.
    pub fn finish(&mut self, timeout: Duration) -> String {
        let start = Instant::now();
        let child = self.child.as_mut().expect("the rogue was started");
        loop {
            if let Some(status) = child.try_wait().expect("rogue status") {
                self.child = None;
                assert!(
                    status.success(),
                    "{} failed ({status})\n{}",
                    self.name,
                    self.describe()
                );
                return self.output();
            }
            if start.elapsed() > timeout {
                panic!(
                    "{} still running after {}s\n{}",
                    self.name,
                    timeout.as_secs(),
                    self.describe()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RogueProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
