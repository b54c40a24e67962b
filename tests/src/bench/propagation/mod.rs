//! Propagation: how long until every node holds a published item.
//!
//! N = 10 and 30 nodes; 100 items of 1 KiB, published one every 20 ms by
//! the nodes in turn through the control API (which signs, verifies and
//! stores the item durably before gossiping it). Each item's latency runs
//! from just before the publish call until the last node has stored it
//! (every node's `watch_stored()` is watched from before the first publish).
//! The baseline publishes payloads of the same size (the size of Cairn's
//! gossip message) through plain gossipsub on the same topology.
//!
//! Every node records when each item reached each stage
//! (`cairn_daemon::stages`, read in process, no logs parsed), and [`hops`]
//! splits each item's latency along the path it took to the last node:
//! where the time goes, printed as notes and kept in the JSON details.

pub(crate) mod records;

use super::fixture::{Cluster, Fixture};
use super::hops::Summary;
use super::plain::{payload, PlainCluster};
use super::progress;
use super::report::{ms, percentile, Report, Row};
use anyhow::bail;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::ItemId;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// Community sizes.
pub const SIZES: [usize; 2] = [10, 30];
/// Items published per size.
pub const ITEMS: usize = 100;
/// Gap between publishes.
pub const SPACING: Duration = Duration::from_millis(20);
/// Longest wait after the last publish for Cairn (catch-up repairs what
/// gossip missed, so late arrivals are possible and counted).
pub const CAIRN_DEADLINE: Duration = Duration::from_secs(20);
/// Longest wait for plain gossipsub, which never repairs.
pub const PLAIN_DEADLINE: Duration = Duration::from_secs(5);

/// Per-item latencies until every node held the item.
struct Latencies {
    /// Items that reached every node, in ms, sorted.
    sorted_ms: Vec<f64>,
    published: usize,
    /// Further figures (Cairn: the publish call itself, first remote store).
    extra: serde_json::Value,
    /// Where the time went, per item along its path.
    hops: Summary,
}

impl Latencies {
    fn new(per_item: Vec<Option<f64>>) -> Self {
        let published = per_item.len();
        let mut sorted_ms: Vec<f64> = per_item.into_iter().flatten().collect();
        sorted_ms.sort_by(f64::total_cmp);
        Latencies {
            sorted_ms,
            published,
            extra: serde_json::Value::Null,
            hops: Summary::default(),
        }
    }

    fn p(&self, p: f64) -> Option<f64> {
        percentile(&self.sorted_ms, p)
    }

    fn complete(&self) -> usize {
        self.sorted_ms.len()
    }

    fn json(&self) -> serde_json::Value {
        let mean = if self.sorted_ms.is_empty() {
            None
        } else {
            Some(self.sorted_ms.iter().sum::<f64>() / self.sorted_ms.len() as f64)
        };
        json!({
            "published": self.published,
            "reached_all_nodes": self.complete(),
            "p50_ms": self.p(50.0),
            "p90_ms": self.p(90.0),
            "p99_ms": self.p(99.0),
            "max_ms": self.sorted_ms.last(),
            "mean_ms": mean,
            "extra": self.extra,
            "hops": self.hops.json(),
        })
    }
}

/// Runs both sizes, baseline first.
pub async fn run() -> anyhow::Result<Report> {
    let mut report = Report::new(
        "propagation",
        "plain rust-libp2p gossipsub, same build_swarm, accept-all loop",
    );
    let mut details = serde_json::Map::new();
    let mut frame = 0;
    for n in SIZES {
        let mut fixture = Fixture::new();
        let sample = fixture.member();
        frame = fixture.gossip_frame_len(&sample);
        progress(format!("propagation N={n}: plain gossipsub baseline"));
        let plain = plain_round(n, frame).await?;
        progress(format!("propagation N={n}: Cairn"));
        let cluster = Cluster::start(&mut fixture, n).await?;
        let cairn = cairn_round(&cluster).await;
        cluster.stop().await;
        let cairn = cairn?;
        for p in [50.0, 99.0] {
            report.rows.push(Row::new(
                format!("p{p:.0} all-nodes latency, N={n}"),
                "ms",
                cairn.p(p),
                plain.p(p),
            ));
        }
        report.rows.push(Row::new(
            format!("items reaching all nodes, N={n}"),
            "items",
            Some(cairn.complete() as f64),
            Some(plain.complete() as f64),
        ));
        for p in [50.0, 99.0] {
            report.rows.push(Row::new(
                format!("p{p:.0} transit of one hop, N={n}"),
                "ms",
                cairn.hops.transit(p),
                plain.hops.transit(p),
            ));
        }
        report.rows.push(Row::new(
            format!("p50 hops to the last node, N={n}"),
            "hops",
            cairn.hops.hops(50.0),
            plain.hops.hops(50.0),
        ));
        report.notes.push(format!(
            "N={n} Cairn, where the time goes (along each item's path to the last node; \
             p50 / p99 over items, ms): {}",
            cairn.hops.line()
        ));
        report.notes.push(format!(
            "N={n} Cairn, slowest item: {}",
            cairn.hops.slowest_line()
        ));
        report.notes.push(format!(
            "N={n} plain gossipsub, slowest item: {}",
            plain.hops.slowest_line()
        ));
        details.insert(
            format!("n{n}"),
            json!({"cairn": cairn.json(), "plain": plain.json()}),
        );
    }
    report.notes.push(format!(
        "{ITEMS} items per size, one every {} ms, publishers in turn; Cairn items have a {}-byte body \
         ({frame}-byte gossip message with the certificate), plain payloads are {frame} bytes",
        SPACING.as_millis(),
        super::fixture::BODY_BYTES,
    ));
    report.notes.push(
        "parts: sign = publish call to signed; check = the checks every item passes; \
         to gossip = handed to gossipsub; transit = sender passed it on to the receiver's \
         gossipsub delivered it (network, both gossipsubs, the receiver's network task); \
         verify = ingest queue, decode, signature checks; relay = verdict back to gossipsub; \
         store = written; visible = announced to the watcher. Plain gossipsub has no checks \
         or store: its nodes pass a message on as it arrives"
            .into(),
    );
    report.notes.push(
        "Cairn's latency includes signing and checking before the item is gossiped, the \
         publisher's fsynced store (run beside gossip: when it is the last to finish, the \
         path has 0 hops), and verification before relaying + storage on every receiver"
            .into(),
    );
    report.notes.push(format!(
        "measured from {} s after the last node started (its first gossipsub heartbeat) + {} s: \
         Cairn graylists peers until admitted, so meshes only form at heartbeats",
        super::fixture::FIRST_HEARTBEAT.as_secs(),
        super::fixture::MESH_SETTLE.as_secs()
    ));
    details.insert("gossip_message_bytes".into(), json!(frame));
    report.details = serde_json::Value::Object(details);
    Ok(report)
}

async fn cairn_round(cluster: &Cluster) -> anyhow::Result<Latencies> {
    let n = cluster.nodes.len();
    let mut arrivals: Vec<Arc<Mutex<HashMap<ItemId, Instant>>>> = Vec::with_capacity(n);
    let mut watchers = Vec::with_capacity(n);
    for node in &cluster.nodes {
        let mut rx = node.watch_stored();
        let record = Arc::new(Mutex::new(HashMap::new()));
        arrivals.push(record.clone());
        watchers.push(tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(id) => {
                        let now = Instant::now();
                        record
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .entry(id)
                            .or_insert(now);
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        }));
    }
    for node in &cluster.nodes {
        node.stages().start();
    }
    let mut tick = tokio::time::interval(SPACING);
    let mut publishes = Vec::with_capacity(ITEMS);
    for k in 0..ITEMS {
        tick.tick().await;
        let api = cluster.nodes[k % n].api.clone();
        let request = Fixture::publish_request(k as u64, format!("propagation item {k}"));
        publishes.push(tokio::spawn(async move {
            let started = Instant::now();
            let response = api.handle(ControlRequest::Publish(request)).await;
            (started, started.elapsed(), response)
        }));
    }
    let mut started = Vec::with_capacity(ITEMS);
    let mut call_ms = Vec::with_capacity(ITEMS);
    for p in publishes {
        match p.await? {
            (t, took, ControlResponse::Published { id, .. }) => {
                started.push((id, t));
                call_ms.push(ms(took));
            }
            (_, _, other) => bail!("publish failed: {other:?}"),
        }
    }
    call_ms.sort_by(f64::total_cmp);
    let held_everywhere = |id: &ItemId| {
        arrivals
            .iter()
            .all(|a| a.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id))
    };
    let deadline = Instant::now() + CAIRN_DEADLINE;
    while !started.iter().all(|(id, _)| held_everywhere(id)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in watchers {
        w.abort();
    }
    let per_item = started
        .iter()
        .map(|(id, t)| {
            let mut worst = Duration::ZERO;
            for a in &arrivals {
                let at = *a.lock().unwrap_or_else(|p| p.into_inner()).get(id)?;
                worst = worst.max(at.saturating_duration_since(*t));
            }
            Some(ms(worst))
        })
        .collect();
    // The first node after the publisher to store each item.
    let mut first_remote: Vec<f64> = started
        .iter()
        .enumerate()
        .filter_map(|(k, (id, t))| {
            arrivals
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != k % n)
                .filter_map(|(_, a)| a.lock().unwrap_or_else(|p| p.into_inner()).get(id).copied())
                .min()
                .map(|at| ms(at.saturating_duration_since(*t)))
        })
        .collect();
    first_remote.sort_by(f64::total_cmp);
    let mut l = Latencies::new(per_item);
    l.hops = records::cairn(cluster, &started, &arrivals);
    l.extra = json!({
        "publish_call_ms": {"p50": percentile(&call_ms, 50.0), "p99": percentile(&call_ms, 99.0)},
        "first_remote_store_ms": {"p50": percentile(&first_remote, 50.0), "p99": percentile(&first_remote, 99.0)},
    });
    Ok(l)
}

async fn plain_round(n: usize, frame: usize) -> anyhow::Result<Latencies> {
    let cluster = PlainCluster::start(n).await?;
    let mut tick = tokio::time::interval(SPACING);
    let mut started = Vec::with_capacity(ITEMS);
    for k in 0..ITEMS {
        tick.tick().await;
        let key = k as u64;
        let data = payload(key, frame);
        started.push(Instant::now());
        cluster.nodes[k % n].publish(key, data).await?;
    }
    let firsts = |node: &super::plain::PlainNode| -> HashMap<u64, Instant> {
        node.record.keys(|k| k < ITEMS as u64).into_iter().collect()
    };
    let deadline = Instant::now() + PLAIN_DEADLINE;
    let mut seen: Vec<HashMap<u64, Instant>>;
    loop {
        seen = cluster.nodes.iter().map(firsts).collect();
        if seen.iter().all(|s| s.len() == ITEMS) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hops = records::plain(&cluster, &started);
    cluster.stop().await;
    let per_item = started
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let mut worst = Duration::ZERO;
            for s in &seen {
                worst = worst.max(s.get(&(k as u64))?.saturating_duration_since(*t));
            }
            Some(ms(worst))
        })
        .collect();
    let mut l = Latencies::new(per_item);
    l.hops = hops;
    Ok(l)
}
