//! A `cairnd` process under test. It is started from its `cairn.toml` with
//! its output in a log file next to it, found through its control socket
//! with the real `cairn` CLI, and killed with SIGKILL when the test is done
//! (or panics), so no test leaves a node behind.

use crate::bins::{cairn, cairnd, show_args};
use crate::wait;
use cairn_protocol::control::{ItemView, MemberView, NodeStatus, ParticipationView, RegisterView};
use serde::de::DeserializeOwned;
use std::ffi::{OsStr, OsString};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// How long a node may take to come up and listen.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running (or killed) `cairnd run`.
pub struct NodeProc {
    pub name: String,
    pub dir: PathBuf,
    pub config: PathBuf,
    pub socket: PathBuf,
    pub log: PathBuf,
    /// `/ip4/127.0.0.1/tcp/PORT/p2p/ID`, learnt from `cairn status`.
    pub addr: String,
    child: Option<Child>,
    starts: u32,
    /// Network namespace the process runs in (`ip netns exec`), if any.
    netns: Option<String>,
    /// Prefix of the listen address to report as [`NodeProc::addr`].
    addr_prefix: String,
}

impl NodeProc {
    /// Starts `cairnd run --config config` and waits until it listens.
    /// Its data directory is `dir/data`, as the harness configs say.
    pub fn start(name: &str, dir: &Path, config: &Path) -> NodeProc {
        Self::start_in(name, dir, config, None, "/ip4/127.0.0.1/tcp/")
    }

    /// Starts the node inside network namespace `netns` (if given) and
    /// reports the listen address starting with `addr_prefix`.
    pub fn start_in(
        name: &str,
        dir: &Path,
        config: &Path,
        netns: Option<&str>,
        addr_prefix: &str,
    ) -> NodeProc {
        let mut node = NodeProc {
            name: name.into(),
            dir: dir.into(),
            config: config.into(),
            socket: dir.join("data").join("cairnd.sock"),
            log: dir.join("cairnd.log"),
            addr: String::new(),
            child: None,
            starts: 0,
            netns: netns.map(str::to_string),
            addr_prefix: addr_prefix.to_string(),
        };
        node.spawn();
        node
    }

    fn spawn(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.name);
        self.starts += 1;
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file opens");
        writeln!(
            log,
            "=== cairn-tests: start #{} of {} ===",
            self.starts, self.name
        )
        .unwrap();
        let mut command = match &self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(cairnd());
                c
            }
            None => Command::new(cairnd()),
        };
        let child = command
            .arg("run")
            .arg("--config")
            .arg(&self.config)
            // A test that inspects logs can ask for more of them.
            .env(
                "CAIRN_LOG",
                std::env::var("CAIRN_TEST_NODE_LOG").unwrap_or_else(|_| "info".into()),
            )
            // Plain text logs: readable in failure messages and greppable.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file handle"))
            .stderr(log)
            .spawn()
            .expect("cairnd starts");
        self.child = Some(child);
        self.addr = self.wait_ready();
    }

    /// Polls `cairn status` until the node reports a loopback listen address.
    fn wait_ready(&mut self) -> String {
        let what = format!("{} answers `cairn status` with a listen address", self.name);
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                panic!(
                    "{} exited ({status}) before it was ready\n{}",
                    self.name,
                    wait::logs(&[self])
                );
            }
            let seen = match self.try_status() {
                Ok(s) => match s
                    .listen_addrs
                    .iter()
                    .find(|a| a.starts_with(&self.addr_prefix) && a.contains("/p2p/"))
                {
                    Some(a) => return a.clone(),
                    None => format!("listen addresses {:?}", s.listen_addrs),
                },
                Err(e) => e,
            };
            if start.elapsed() > START_TIMEOUT {
                panic!(
                    "timed out after {}s waiting until {what}\nlast seen: {seen}\n{}",
                    START_TIMEOUT.as_secs(),
                    wait::logs(&[self])
                );
            }
            std::thread::sleep(wait::POLL);
        }
    }

    /// The listen port from [`NodeProc::addr`].
    pub fn port(&self) -> u16 {
        let rest = self.addr.strip_prefix("/ip4/127.0.0.1/tcp/").unwrap();
        rest.split('/').next().unwrap().parse().unwrap()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Resident memory (`VmRSS` in `/proc/PID/status`), in KiB. The pid is
    /// cairnd's own, also in a namespace: `ip netns exec` execs it.
    pub fn rss_kib(&self) -> u64 {
        let pid = self.pid().expect("the node is running");
        rss_kib(pid).unwrap_or_else(|| panic!("no VmRSS for {} (pid {pid})", self.name))
    }

    /// Whether the process is still alive.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => c.try_wait().ok().flatten().is_none(),
            None => false,
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGSTOP: the process stays alive but does nothing (no accept, no
    /// reads), like a node stuck on a dead disk.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`NodeProc::freeze`].
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.pid().expect("the node is running") as libc::pid_t;
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
    }

    /// Starts the node again from the same config (after [`NodeProc::kill9`]).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Runs `cairn --socket <this node's socket> args...`.
    pub fn cli<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Command::new(cairn())
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("CAIRN_SOCKET")
            .env_remove("CAIRN_DATA_DIR")
            .env_remove("CAIRN_CONFIG")
            .output()
            .expect("cairn runs")
    }

    /// [`NodeProc::cli`], returning stdout or the failure as text.
    pub fn try_cli<I, S>(&self, args: I) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
        let out = self.cli(&args);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`cairn {}` on {} failed ({}): {}",
                show_args(&args),
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// [`NodeProc::cli`], panicking with the node's log if it fails.
    pub fn cli_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.try_cli(args)
            .unwrap_or_else(|e| panic!("{e}\n{}", wait::logs(&[self])))
    }

    /// Runs a `--json` command and parses its output.
    pub fn try_json<T: DeserializeOwned>(&self, args: &[&str]) -> Result<T, String> {
        let text = self.try_cli(args)?;
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "`cairn {}` printed unparsable JSON ({e}): {text}",
                args.join(" ")
            )
        })
    }

    /// [`NodeProc::try_json`], panicking with the node's log on failure.
    pub fn json<T: DeserializeOwned>(&self, args: &[&str]) -> T {
        self.try_json(args)
            .unwrap_or_else(|e| panic!("{e}\n{}", wait::logs(&[self])))
    }

    pub fn try_status(&self) -> Result<NodeStatus, String> {
        self.try_json(&["status", "--json"])
    }

    pub fn status(&self) -> NodeStatus {
        self.json(&["status", "--json"])
    }

    pub fn try_items(&self) -> Result<Vec<ItemView>, String> {
        self.try_json(&["items", "list", "--json", "--limit", "10000"])
    }

    /// The items the node holds, up to the 10,000 one listing returns.
    pub fn items(&self) -> Vec<ItemView> {
        self.json(&["items", "list", "--json", "--limit", "10000"])
    }

    pub fn try_members(&self) -> Result<Vec<MemberView>, String> {
        self.try_json(&["members", "--json"])
    }

    /// The members this node has admitted.
    pub fn members(&self) -> Vec<MemberView> {
        self.json(&["members", "--json"])
    }

    pub fn try_participation(&self) -> Result<Vec<ParticipationView>, String> {
        self.try_json(&["participation", "--json"])
    }

    /// This node's participation events and receipts.
    pub fn participation(&self) -> Vec<ParticipationView> {
        self.json(&["participation", "--json"])
    }

    pub fn try_register(&self) -> Result<Vec<RegisterView>, String> {
        self.try_json(&["register", "list", "--json"])
    }

    /// The register (authority only).
    pub fn register(&self) -> Vec<RegisterView> {
        self.json(&["register", "list", "--json"])
    }

    /// `cairn publish`, which may fail (a revoked or withdrawn node's own
    /// refusal, say); its output or why not.
    pub fn try_publish(
        &self,
        kind: &str,
        tlp: &str,
        title: &str,
        body: &str,
    ) -> Result<String, String> {
        self.try_cli([
            "publish", "--kind", kind, "--tlp", tlp, "--title", title, "--body", body,
        ])
    }

    /// `cairn publish`; returns the new item's id.
    pub fn publish(&self, kind: &str, tlp: &str, title: &str, body: &str) -> String {
        let v: serde_json::Value = self.json(&[
            "publish", "--kind", kind, "--tlp", tlp, "--title", title, "--body", body, "--json",
        ]);
        v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("publish on {} printed no id: {v}", self.name))
            .to_string()
    }

    /// Everything the node logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The last `n` lines of the log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// [`wait::until`] with this node's log in the failure message.
    pub fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl FnMut() -> Result<T, String>,
    ) -> T {
        wait::until(
            &format!("{what} (on {})", self.name),
            timeout,
            &[self],
            check,
        )
    }
}

/// Resident memory of process `pid` in KiB, if it is running.
pub fn rss_kib(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        self.kill9();
    }
}
