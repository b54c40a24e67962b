//! TAXII: Cairn's TAXII 2.1 server against medallion 3.0.0, the OASIS
//! reference server (memory backend), in the same run.
//!
//! Two Cairn nodes hold the same history of 5,000 items (10,000 STIX
//! objects: each item's report and publisher identity); node B serves
//! TAXII. medallion starts holding exactly the objects B served. Then, for
//! each server:
//!
//! 1. **full pull**: a fresh client reads the whole collection, 1,000
//!    objects a page (both servers' page limit), following `next`;
//! 2. **time to visible**: 50 probes, one every 200 ms; a poller asks for
//!    objects `added_after` the last `date_added` it saw, every 20 ms, and
//!    notes when each probe's name first shows. For Cairn a probe is an
//!    item published on node A (signed, stored, gossiped to B, which
//!    serves it); for medallion it is a report POSTed to it. Latency runs
//!    from just before the publish (or POST) to the poll that shows it;
//! 3. **POST ingest**: 2,000 indicators in envelopes of 100; objects/s over
//!    the whole run (Cairn signs and stores each as an item of node B and
//!    gossips it; medallion keeps it in memory).
//!
//! Every request opens its own connection (medallion's server closes each
//! one), so both pay the same connection cost. Without medallion the Cairn
//! figures are still measured and the baseline column says how to get it.

pub mod http;
pub mod medallion;
pub mod visible;

use super::fixture::{self, admitted, dial_addr, Fixture};
use super::progress;
use super::report::{ms, percentile, Report, Row};
use anyhow::{bail, Context as _};
use cairn_daemon::config::{TaxiiConfig, TaxiiUser};
use cairn_daemon::node::{self, RunningNode};
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::interop::stix::marking_id;
use cairn_protocol::Tlp;
use http::Server;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use visible::{visible, Probe};

/// Items of history (two STIX objects each).
pub const HISTORY_ITEMS: usize = 5_000;
/// Objects a page in the full pull.
pub const PAGE: usize = 1000;
/// Probes for time-to-visible, and their spacing.
pub const PROBES: usize = 50;
pub const PROBE_SPACING: Duration = Duration::from_millis(200);
/// The poller's pause between polls.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Longest wait for the last probe after it was published.
pub const VISIBLE_DEADLINE: Duration = Duration::from_secs(30);
/// Objects POSTed, and per envelope.
pub const INGEST_OBJECTS: usize = 2_000;
pub const INGEST_BATCH: usize = 100;
/// Longest medallion may take for the full pull, and for the ingest: past
/// it the figure is reported as a bound (`>`), and a pull cut short
/// restarts medallion so the abandoned request does not slow what follows.
pub const MEDALLION_PULL_LIMIT: Duration = Duration::from_secs(240);
pub const MEDALLION_INGEST_LIMIT: Duration = Duration::from_secs(180);
/// Goals of issue 11: medallion's p99 time-to-visible over Cairn's, and
/// medallion's full-pull time over Cairn's.
pub const GOAL_VISIBLE: f64 = 20.0;
pub const GOAL_PULL: f64 = 100.0;

const USER: &str = "bench";
const PASSWORD: &str = "cairn-bench-password";
/// `date_added` of medallion's prefilled history.
const HISTORY_ADDED: &str = "2026-01-01T00:00:00.000000Z";

/// What one server measured.
#[derive(Debug, Default)]
struct Figures {
    pull_secs: f64,
    pulled: usize,
    /// The pull did not finish: `pull_secs` is a lower bound.
    pull_cut: bool,
    /// Probe latencies in ms, sorted; a probe never seen counts with the
    /// time it was waited for (a lower bound).
    visible_ms: Vec<f64>,
    /// Probes never seen.
    unseen: usize,
    /// None: the ingest did not finish in time.
    ingest_per_sec: Option<f64>,
}

pub async fn run() -> anyhow::Result<Report> {
    let root = tempfile::Builder::new()
        .prefix("cairn-bench-taxii-")
        .tempdir()?;
    let (cairn, objects) = measure_cairn(root.path()).await?;
    let mut report = Report::new(
        "taxii",
        "medallion 3.0.0 (OASIS reference TAXII 2.1 server, memory backend), same objects",
    );
    let baseline = match medallion::find() {
        Ok(program) => {
            progress("medallion: starting with the same objects");
            let start = || medallion::start(&program, root.path(), &objects, HISTORY_ADDED);
            let mut m = start().await?;
            progress("medallion: full pull");
            let started = Instant::now();
            let pull = tokio::time::timeout(MEDALLION_PULL_LIMIT, m.server.pull_all(PAGE)).await;
            let pull_secs = started.elapsed().as_secs_f64();
            let (pulled, after, pull_cut) = match pull {
                Ok(p) => {
                    let (o, last) = p?;
                    (o.len(), last.unwrap_or(HISTORY_ADDED.into()), false)
                }
                Err(_) => {
                    report.notes.push(format!(
                        "medallion did not finish the full pull within {} s: its figure is a \
                         lower bound",
                        MEDALLION_PULL_LIMIT.as_secs()
                    ));
                    drop(m);
                    m = start().await?;
                    (0, HISTORY_ADDED.into(), true)
                }
            };
            progress(format!("medallion: pull {pull_secs:.1} s; probes"));
            let (visible_ms, unseen) =
                visible(&m.server, after, &Probe::Medallion(&m.server)).await?;
            progress("medallion: POST ingest");
            let ingest_per_sec =
                match tokio::time::timeout(MEDALLION_INGEST_LIMIT, ingest(&m.server)).await {
                    Ok(r) => Some(r?),
                    Err(_) => {
                        report.notes.push(format!(
                            "medallion did not take {INGEST_OBJECTS} objects within {} s",
                            MEDALLION_INGEST_LIMIT.as_secs()
                        ));
                        None
                    }
                };
            Some(Figures {
                pull_secs,
                pulled,
                pull_cut,
                visible_ms,
                unseen,
                ingest_per_sec,
            })
        }
        Err(why) => {
            eprintln!("  !! {why}");
            report.notes.push(why);
            None
        }
    };
    let b = baseline.as_ref();
    report.rows.push(Row::new(
        format!("full pull of {} objects, {PAGE} a page", cairn.pulled),
        "s",
        Some(cairn.pull_secs),
        b.map(|f| f.pull_secs),
    ));
    let pull_speedup = b.map(|f| f.pull_secs / cairn.pull_secs);
    let last = report.rows.len() - 1;
    // A cut pull is a lower bound for medallion: met if even the bound is.
    let met = pull_speedup.and_then(|s| match (s >= GOAL_PULL, b.is_some_and(|f| f.pull_cut)) {
        (true, _) => Some(true),
        (false, true) => None,
        (false, false) => Some(false),
    });
    report.rows[last] = report.rows[last]
        .clone()
        .goal(format!("{GOAL_PULL}x faster than medallion"), met);
    for p in [50.0, 99.0] {
        let c = percentile(&cairn.visible_ms, p);
        let base = b.and_then(|f| percentile(&f.visible_ms, p));
        let mut row = Row::new(
            format!("time to visible to a poller, p{p:.0}"),
            "ms",
            c,
            base,
        );
        if p == 99.0 {
            let met = match (c, base) {
                (Some(c), Some(base)) if base / c >= GOAL_VISIBLE => Some(true),
                // medallion's figure is a lower bound when probes went unseen.
                (Some(_), Some(_)) if b.is_some_and(|f| f.unseen > 0) => None,
                (Some(_), Some(_)) => Some(false),
                _ => None,
            };
            row = row.goal(format!("{GOAL_VISIBLE}x lower than medallion"), met);
        }
        report.rows.push(row);
    }
    report.rows.push(Row::new(
        "POST ingest",
        "obj/s",
        cairn.ingest_per_sec,
        b.and_then(|f| f.ingest_per_sec),
    ));
    for (name, f) in std::iter::once(("cairn", Some(&cairn))).chain([("medallion", b)]) {
        if let Some(f) = f {
            if f.unseen > 0 {
                report.notes.push(format!(
                    "{name}: {} of {PROBES} probes were not visible {} s after the last was \
                     published; they count with the time waited (a lower bound)",
                    f.unseen,
                    VISIBLE_DEADLINE.as_secs()
                ));
            }
        }
    }
    report.details = json!({
        "history_items": HISTORY_ITEMS,
        "pulled_objects": cairn.pulled,
        "probes": PROBES,
        "poll_interval_ms": ms(POLL_INTERVAL),
        "ingest_objects": INGEST_OBJECTS,
        "ingest_batch": INGEST_BATCH,
        "cairn_visible_ms": cairn.visible_ms,
        "medallion_visible_ms": b.map(|f| f.visible_ms.clone()),
    });
    Ok(report)
}

/// Two nodes with the same history, B serving TAXII; the figures and the
/// objects B served.
async fn measure_cairn(root: &std::path::Path) -> anyhow::Result<(Figures, Vec<Value>)> {
    let mut fixture = Fixture::new();
    let author = fixture.member();
    progress(format!("signing {HISTORY_ITEMS} items of history"));
    let history = fixture.sign_items(std::slice::from_ref(&author), 0, HISTORY_ITEMS);
    let (a, b) = (fixture.member(), fixture.member());
    let (dir_a, dir_b) = (root.join("a"), root.join("b"));
    for dir in [&dir_a, &dir_b] {
        std::fs::create_dir_all(dir)?;
        fixture::fill_store(&fixture::data_dir(dir), &history)?;
    }
    let mut settings_b = fixture.settings(&b, &dir_b, vec![]);
    settings_b.taxii = taxii_config().settings()?;
    let node_b = node::start(settings_b).await.context("starting node B")?;
    let started = Instant::now();
    let node_a = node::start(fixture.settings(&a, &dir_a, vec![dial_addr(&node_b).await?]))
        .await
        .context("starting node A")?;
    let deadline = Instant::now() + fixture::ADMISSION_DEADLINE;
    while !admitted(&node_b)
        .await
        .contains(&node_a.peer_id.to_string())
    {
        if Instant::now() > deadline {
            bail!("node B has not admitted node A");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fixture::settle(started).await;
    let mut server = Server::new(taxii_addr(&node_b).await?, "/cairn/", USER, PASSWORD);
    server.find_collection().await?;
    let measured = measure(&server, Probe::Cairn(&node_a)).await;
    node_a.stop().await;
    node_b.stop().await;
    measured
}

/// The three measurements against `server`, probes published by `probe`;
/// with the objects of the full pull.
async fn measure(server: &Server, probe: Probe<'_>) -> anyhow::Result<(Figures, Vec<Value>)> {
    let name = match probe {
        Probe::Cairn(_) => "cairn",
        Probe::Medallion(_) => "medallion",
    };
    progress(format!("{name}: full pull"));
    let started = Instant::now();
    let (objects, last_added) = server.pull_all(PAGE).await?;
    let pull_secs = started.elapsed().as_secs_f64();
    let ids: std::collections::HashSet<&str> =
        objects.iter().filter_map(|o| o["id"].as_str()).collect();
    if ids.len() != objects.len() {
        bail!(
            "{name}: the pull returned {} objects but {} distinct ids",
            objects.len(),
            ids.len()
        );
    }
    progress(format!(
        "{name}: {} objects in {pull_secs:.2} s; probes",
        objects.len()
    ));
    let (visible_ms, unseen) =
        visible(server, last_added.unwrap_or(HISTORY_ADDED.into()), &probe).await?;
    progress(format!("{name}: POST ingest"));
    let ingest_per_sec = Some(ingest(server).await?);
    let figures = Figures {
        pull_secs,
        pulled: objects.len(),
        pull_cut: false,
        visible_ms,
        unseen,
        ingest_per_sec,
    };
    Ok((figures, objects))
}

/// POSTs [`INGEST_OBJECTS`] indicators; objects/s.
async fn ingest(server: &Server) -> anyhow::Result<f64> {
    let now = cairn_protocol::Timestamp::now().to_rfc3339_millis();
    let objects: Vec<Value> = (0..INGEST_OBJECTS)
        .map(|n| {
            json!({
                "type": "indicator",
                "spec_version": "2.1",
                "id": format!("indicator--00000001-0000-4000-8000-{n:012}"),
                "created": now,
                "modified": now,
                "name": format!("cairn-bench indicator {n}"),
                "pattern": format!("[domain-name:value = 'host-{n}.example']"),
                "pattern_type": "stix",
                "valid_from": now,
                "object_marking_refs": [marking_id(Tlp::Green)],
            })
        })
        .collect();
    let started = Instant::now();
    for batch in objects.chunks(INGEST_BATCH) {
        server.post(batch).await?;
    }
    Ok(INGEST_OBJECTS as f64 / started.elapsed().as_secs_f64())
}

/// A TAXII server on loopback with one user who may read GREEN and write.
fn taxii_config() -> TaxiiConfig {
    TaxiiConfig {
        enabled: true,
        listen: "127.0.0.1:0".parse().expect("a socket address"),
        tls_certificate: None,
        tls_key: None,
        title: "cairn-bench".into(),
        max_content_length: 100 << 20,
        users: vec![TaxiiUser {
            name: USER.into(),
            password_sha256: cairn_daemon::http::auth::digest(PASSWORD),
            max_tlp: Tlp::Green,
            write: true,
        }],
    }
}

/// Where `node`'s TAXII server listens.
async fn taxii_addr(node: &RunningNode) -> anyhow::Result<std::net::SocketAddr> {
    let url = match node.api.handle(ControlRequest::Status).await {
        ControlResponse::Status(s) => s.taxii.context("node B runs no TAXII server")?,
        other => bail!("status failed: {other:?}"),
    };
    let authority = url
        .strip_prefix("http://")
        .and_then(|r| r.split('/').next())
        .with_context(|| format!("unexpected TAXII URL {url}"))?;
    Ok(authority.parse()?)
}
