//! Footprint: a `cairnd` process's memory and cold start with N (100,000)
//! items in its store, against the same node with an empty data directory.
//!
//! Each node gets its key, certificate, community file and `cairn.toml` on
//! disk; the store is filled directly (as in `catchup`). `cairnd run` is the
//! binary next to this one. Cold start is the time from spawning it until
//! its control socket answers a status request (the JSON line protocol,
//! spoken directly); RSS is `VmRSS` from `/proc/<pid>/status` after 2 s of
//! rest. Each node is measured [`RUNS`] times, alternating; medians count.
//! The page cache is warm (the files were just written, and runs repeat).

use super::fixture::{data_dir, fill_store, Fixture, Member};
use super::progress;
use super::report::{ms, Report, Row};
use anyhow::{bail, Context as _};
use cairn_store::files;
use serde::Serialize;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs per node.
pub const RUNS: usize = 3;
/// Rest between readiness and reading RSS.
pub const SETTLE: Duration = Duration::from_secs(2);
/// Longest wait for the control socket to answer.
pub const READY_DEADLINE: Duration = Duration::from_secs(60);
/// Goal: RSS with N items, MB.
pub const GOAL_RSS_MB: f64 = 50.0;
/// Goal: cold start with N items, ms.
pub const GOAL_START_MS: f64 = 1000.0;
/// Members whose items the full node holds.
pub const PUBLISHERS: usize = 4;

/// A spawned `cairnd`, stopped (SIGTERM, then SIGKILL) when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill only sends a signal to the child we spawned and
            // have not yet reaped, so the pid cannot have been reused.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One node's files.
struct NodeFiles {
    name: &'static str,
    dir: PathBuf,
    config: PathBuf,
    socket: PathBuf,
}

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
struct Measurement {
    cold_start_ms: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
    items: u64,
    /// The newest page of 100 (what `cairn items list` asks), median of
    /// [`LIST_RUNS`] round trips after the settle time.
    list_ms: f64,
}

/// Round trips of the newest-page query per run.
const LIST_RUNS: usize = 5;
/// Goal (issue 12, at 1,000,000 items): the newest 100 within this.
pub const GOAL_LIST_MS: f64 = 20.0;

/// `cairnd` in the directory of this executable.
fn cairnd() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe
        .parent()
        .context("the benchmark executable has no directory")?
        .join("cairnd");
    if !path.is_file() {
        bail!(
            "{} not found: build it first with `cargo build --release -p cairn-daemon`",
            path.display()
        );
    }
    Ok(path)
}

fn write_node(
    name: &'static str,
    dir: &Path,
    fixture: &Fixture,
    member: &Member,
) -> anyhow::Result<NodeFiles> {
    std::fs::create_dir_all(dir)?;
    let key = dir.join("node.key");
    let cert = dir.join("node.cert.json");
    let community = dir.join("community.json");
    files::write_secret_key(&key, &member.key)?;
    files::write_certificate(&cert, &member.certificate)?;
    files::write_community(&community, &fixture.community)?;
    let socket = dir.join("c.sock");
    let config = dir.join("cairn.toml");
    let text = format!(
        "data_dir = \"{}\"\nkey_file = \"{}\"\ncertificate_file = \"{}\"\ncommunity_file = \"{}\"\n\
         listen = [\"{}\"]\nbootstrap = []\nauthority = false\ncontrol_socket = \"{}\"\n",
        data_dir(dir).display(),
        key.display(),
        cert.display(),
        community.display(),
        super::fixture::LISTEN,
        socket.display(),
    );
    std::fs::write(&config, text)?;
    Ok(NodeFiles {
        name,
        dir: dir.into(),
        config,
        socket,
    })
}

/// One status round trip over the control socket; the response line.
fn status(socket: &Path) -> std::io::Result<String> {
    request(socket, "{\"op\":\"status\"}")
}

/// One control request (a JSON line) and its response line.
fn request(socket: &Path, line: &str) -> std::io::Result<String> {
    let mut conn = UnixStream::connect(socket)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.set_write_timeout(Some(Duration::from_secs(2)))?;
    conn.write_all(line.as_bytes())?;
    conn.write_all(b"\n")?;
    let mut answer = String::new();
    BufReader::new(conn).read_line(&mut answer)?;
    Ok(answer)
}

/// (VmRSS, VmHWM) of `pid`, in MB.
fn rss_mb(pid: u32) -> anyhow::Result<(f64, f64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<f64> {
        let kb: f64 = text
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .with_context(|| format!("no {name} in /proc/{pid}/status"))?
            .parse()?;
        Ok(kb / 1024.0)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn measure(cairnd: &Path, node: &NodeFiles, run: usize) -> anyhow::Result<Measurement> {
    let _ = std::fs::remove_file(&node.socket);
    let log_path = node.dir.join(format!("cairnd-{run}.log"));
    let log = std::fs::File::create(&log_path)?;
    let started = Instant::now();
    let child = Command::new(cairnd)
        .arg("run")
        .arg("--config")
        .arg(&node.config)
        .env("CAIRN_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", cairnd.display()))?;
    let mut daemon = Daemon { child };
    let line = loop {
        if let Some(exit) = daemon.child.try_wait()? {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!("cairnd exited ({exit}) before answering: {}", log.trim());
        }
        if let Ok(line) = status(&node.socket) {
            if line.contains("\"result\":\"status\"") {
                break line;
            }
        }
        if started.elapsed() > READY_DEADLINE {
            bail!(
                "cairnd did not answer a status request within {} s",
                READY_DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let cold_start = started.elapsed();
    std::thread::sleep(SETTLE);
    let (rss, peak) = rss_mb(daemon.pid())?;
    let status: serde_json::Value = serde_json::from_str(&line)?;
    let items = status["items"].as_u64().unwrap_or(0);
    let mut lists = Vec::with_capacity(LIST_RUNS);
    for _ in 0..LIST_RUNS {
        let t = Instant::now();
        let page = request(&node.socket, "{\"op\":\"query-items\",\"limit\":100}")?;
        lists.push(ms(t.elapsed()));
        let answer: serde_json::Value = serde_json::from_str(&page)?;
        let got = answer["items"].as_array().map_or(0, Vec::len) as u64;
        if got != items.min(100) {
            bail!(
                "the newest page holds {got} items, not {}: {page}",
                items.min(100)
            );
        }
    }
    drop(daemon);
    Ok(Measurement {
        cold_start_ms: ms(cold_start),
        rss_mb: rss,
        peak_rss_mb: peak,
        items,
        list_ms: median(lists),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Runs the scenario with `items` items in the full node's store.
pub async fn run(items: usize) -> anyhow::Result<Report> {
    tokio::task::block_in_place(|| run_blocking(items))
}

fn run_blocking(items: usize) -> anyhow::Result<Report> {
    let mut report = Report::new("footprint", "the same cairnd with an empty data directory");
    let cairnd = cairnd()?;
    let mut fixture = Fixture::new();
    let publishers: Vec<Member> = (0..PUBLISHERS).map(|_| fixture.member()).collect();
    let root = tempfile::Builder::new()
        .prefix("cairn-bench-footprint-")
        .tempdir()?;
    let full_member = fixture.member();
    let empty_member = fixture.member();
    let full = write_node("full", &root.path().join("full"), &fixture, &full_member)?;
    let empty = write_node("empty", &root.path().join("empty"), &fixture, &empty_member)?;
    progress(format!("footprint: signing and storing {items} items"));
    {
        let signed = fixture.sign_items(&publishers, 0, items);
        fill_store(&data_dir(&full.dir), &signed)?;
    }
    // A node that has run holds the query postings of its items too.
    progress(format!(
        "footprint: writing the query postings of {items} items"
    ));
    {
        let store = cairn_store::Store::open(&data_dir(&full.dir), false)?;
        while store.items.index_pending(4_096)? > 0 {}
    }
    let store_bytes = dir_size(&data_dir(&full.dir));

    let mut runs: Vec<(&'static str, Measurement)> = Vec::new();
    for run in 0..RUNS {
        for node in [&empty, &full] {
            progress(format!("footprint run {}: {} node", run + 1, node.name));
            let m = measure(&cairnd, node, run)?;
            let expected = if node.name == "full" { items as u64 } else { 0 };
            if m.items != expected {
                bail!(
                    "the {} node reports {} items, not {expected}",
                    node.name,
                    m.items
                );
            }
            runs.push((node.name, m));
        }
    }
    let pick = |name: &str, f: fn(&Measurement) -> f64| {
        median(
            runs.iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, m)| f(m))
                .collect(),
        )
    };
    let rss = (pick("full", |m| m.rss_mb), pick("empty", |m| m.rss_mb));
    let peak = (
        pick("full", |m| m.peak_rss_mb),
        pick("empty", |m| m.peak_rss_mb),
    );
    let start = (
        pick("full", |m| m.cold_start_ms),
        pick("empty", |m| m.cold_start_ms),
    );
    report.rows.push(
        Row::new(
            format!("RSS after start + {} s", SETTLE.as_secs()),
            "MB",
            Some(rss.0),
            Some(rss.1),
        )
        .goal(
            format!("<= {GOAL_RSS_MB:.0} MB with {items} items"),
            Some(rss.0 <= GOAL_RSS_MB),
        ),
    );
    report.rows.push(Row::new(
        "peak RSS (VmHWM)",
        "MB",
        Some(peak.0),
        Some(peak.1),
    ));
    report.rows.push(
        Row::new(
            "cold start to status answer",
            "ms",
            Some(start.0),
            Some(start.1),
        )
        .goal(
            format!("<= {GOAL_START_MS:.0} ms"),
            Some(start.0 <= GOAL_START_MS),
        ),
    );
    let list = (pick("full", |m| m.list_ms), pick("empty", |m| m.list_ms));
    report.rows.push(
        Row::new(
            "newest 100 items (`items list`)",
            "ms",
            Some(list.0),
            Some(list.1),
        )
        .goal(
            format!("<= {GOAL_LIST_MS:.0} ms"),
            Some(list.0 <= GOAL_LIST_MS),
        ),
    );
    progress("footprint: where the memory goes (store probe in a fresh process)");
    let probe = probe_in_child(&data_dir(&full.dir).join(cairn_store::ITEMS_DIR))?;
    if let Some(steps) = probe["steps"].as_array() {
        let shown: Vec<String> = steps
            .iter()
            .map(|s| {
                format!(
                    "{}: {:.1}",
                    s["step"].as_str().unwrap_or("?"),
                    s["rss_mb"].as_f64().unwrap_or(f64::NAN)
                )
            })
            .collect();
        report.notes.push(format!(
            "store probe, RSS MB after each step: {}",
            shown.join("; ")
        ));
    }
    report.notes.push(format!(
        "Cairn column: {items} items ({:.1} MB on disk); medians of {RUNS} runs each; warm page cache",
        store_bytes as f64 / 1e6
    ));
    report.details = json!({
        "items": items,
        "store_bytes": store_bytes,
        "store_probe": probe,
        "runs": runs.iter().map(|(n, m)| json!({"node": n, "measurement": m})).collect::<Vec<_>>(),
    });
    Ok(report)
}

/// Resident memory of this process, in MB.
fn own_rss() -> (f64, f64) {
    rss_mb(std::process::id()).unwrap_or((f64::NAN, f64::NAN))
}

/// Opens the item store at `items_sled` as a node's start-up does and
/// reports this process's RSS after each step, as one JSON line on stdout.
/// Run in a fresh process (`cairn-bench --probe-store PATH`).
pub fn probe_store(items_sled: &Path) -> anyhow::Result<serde_json::Value> {
    let mut steps = Vec::new();
    let mut step = |name: &str| {
        let (rss, peak) = own_rss();
        steps.push(json!({"step": name, "rss_mb": rss, "peak_rss_mb": peak}));
    };
    step("process started");
    let opened = Instant::now();
    let store = cairn_store::ItemStore::open(items_sled)?;
    step("ItemStore::open (after a clean stop: reads the count, walks nothing)");
    let index = store.index()?;
    let open_ms = ms(opened.elapsed());
    step("ItemStore::index (the sync index's input)");
    let mut read = 0usize;
    let mut cursor = None;
    loop {
        let page = store.after(cursor, 1000)?;
        let Some((id, last)) = page.last() else { break };
        cursor = Some((last.body.created, *id));
        read += page.len();
    }
    step("every item read and decoded once (not done at start-up; for comparison)");
    Ok(json!({
        "items": store.count(),
        "index": index.len(),
        "read": read,
        "open_and_index_ms": open_ms,
        "steps": steps,
    }))
}

/// Runs [`probe_store`] in a child process of this executable.
fn probe_in_child(items_sled: &Path) -> anyhow::Result<serde_json::Value> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--probe-store")
        .arg(items_sled)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        bail!(
            "the store probe failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Total size of the files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}
