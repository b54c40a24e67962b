//! Audience: what sealing an item to a 10-member audience costs, against a
//! community-wide item of the same contents in the same run.
//!
//! 12 nodes; nodes 0-9 are the audience, 10 and 11 only relay. Each of the
//! ten publishes in turn, one item every 20 ms, alternating a community-wide
//! item and one sealed to the other nine by name (the publisher is always a
//! recipient: ten in all). An item's latency runs from just before the
//! publish call until the last of the ten has stored it, for both kinds, so
//! the ratio shows what sealing (on the publisher), the larger message and
//! nothing else adds. Sealed items are stored sealed; opening happens when a
//! person reads one and is timed separately. The envelope's size overhead
//! per recipient is measured on the encoded item.
//!
//! Where the time goes: every node's stage clock runs during the round, and
//! each item's latency is split along its path to the last recipient
//! (resolve the audience, seal, sign, check, to gossip, transit, verify,
//! relay, store, visible; [`hops`]), for sealed and community-wide items
//! apart, so the difference shows in the part that makes it.

use super::fixture::{Cluster, Fixture, BODY_BYTES};
use super::hops::{self, Summary};
use super::progress;
use super::propagation::records::CairnRecords;
use super::report::{ms, percentile, Report, Row};
use super::sealing;
use anyhow::{bail, Context as _};
use cairn_protocol::control::{AudienceRequest, ControlRequest, ControlResponse};
use cairn_protocol::{codec, Content, EncryptionSecretKey, ItemId, SecretKey, SignedItem};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// Nodes in the community.
pub const NODES: usize = 12;
/// Members in each audience (publisher included).
pub const AUDIENCE: usize = 10;
/// Items of each kind.
pub const ITEMS: usize = 60;
/// Gap between publishes.
pub const SPACING: Duration = Duration::from_millis(20);
/// Longest wait after the last publish.
pub const DEADLINE: Duration = Duration::from_secs(20);

type Arrivals = Arc<Mutex<HashMap<ItemId, Instant>>>;

/// Runs the scenario.
pub async fn run() -> anyhow::Result<Report> {
    let mut report = Report::new(
        "audience",
        "community-wide items of the same contents, same nodes, same run",
    );
    let mut fixture = Fixture::new();
    progress(format!("audience: {NODES} nodes"));
    let cluster = Cluster::start(&mut fixture, NODES).await?;
    let outcome = measure(&cluster).await;
    cluster.stop().await;
    let Measured {
        sealed,
        open,
        open_ms,
        sealed_parts,
        open_parts,
    } = outcome?;
    for p in [50.0, 99.0] {
        let row = Row::new(
            format!("p{p:.0} publish→all {AUDIENCE} recipients"),
            "ms",
            percentile(&sealed, p),
            percentile(&open, p),
        );
        let met = row.ratio.map(|r| r <= 1.2);
        report.rows.push(row.goal("<= 1.2x", met));
    }
    report.rows.push(Row::new(
        "items reaching all recipients",
        "items",
        Some(sealed.len() as f64),
        Some(open.len() as f64),
    ));
    let sizes = envelope_sizes(&mut fixture)?;
    let member = fixture.member();
    let alone = sealing::measure(&fixture, &member, AUDIENCE)?;
    report.notes.push(format!(
        "sealing to {AUDIENCE} alone (nodes stopped), p50 / p99: one thread {:.2} / {:.2} ms, spread over the cores as the node seals {:.2} / {:.2} ms",
        alone.one_thread.0, alone.one_thread.1, alone.spread.0, alone.spread.1
    ));
    report.rows.push(Row::new(
        "envelope overhead per recipient",
        "bytes",
        Some(sizes.per_recipient as f64),
        None,
    ));
    report.rows.push(Row::new(
        format!("encoded item, {AUDIENCE} recipients vs open"),
        "bytes",
        Some(sizes.sealed as f64),
        Some(sizes.open as f64),
    ));
    report.notes.push(format!(
        "{ITEMS} items of each kind with a {BODY_BYTES}-byte body, one every {} ms, kinds alternating; \
         latency until the last of the {AUDIENCE} audience members stored the item (the 2 other nodes relay)",
        SPACING.as_millis()
    ));
    report.notes.push(format!(
        "opening a sealed item (one HPKE open + the content AEAD) for `items show`: p50 {:.3} ms on this node",
        percentile(&open_ms, 50.0).unwrap_or(f64::NAN)
    ));
    report.notes.push(format!(
        "sealed, each part's p50 / p99 ms on the path to the last recipient: {}",
        sealed_parts.line()
    ));
    report.notes.push(format!(
        "community-wide, the same parts: {}",
        open_parts.line()
    ));
    report.notes.push(format!(
        "transit per hop p50 / p99: sealed {:.2} / {:.2} ms, community-wide {:.2} / {:.2} ms",
        sealed_parts.transit(50.0).unwrap_or(f64::NAN),
        sealed_parts.transit(99.0).unwrap_or(f64::NAN),
        open_parts.transit(50.0).unwrap_or(f64::NAN),
        open_parts.transit(99.0).unwrap_or(f64::NAN),
    ));
    report.notes.push(format!(
        "slowest sealed item: {}; slowest community-wide: {}",
        sealed_parts.slowest_line(),
        open_parts.slowest_line()
    ));
    report.details = json!({
        "sealed_ms": sealed,
        "open_ms": open,
        "breakdown": {"sealed": sealed_parts.json(), "community_wide": open_parts.json()},
        "sealing_alone_ms": {"one_thread": [alone.one_thread.0, alone.one_thread.1], "spread": [alone.spread.0, alone.spread.1]},
        "envelope": {"per_recipient": sizes.per_recipient, "sealed": sizes.sealed, "open": sizes.open},
    });
    Ok(report)
}

/// What one round measured.
struct Measured {
    /// Latencies of sealed and community-wide items, ms, sorted.
    sealed: Vec<f64>,
    open: Vec<f64>,
    /// Times to open one sealed item for `items show`, ms, sorted.
    open_ms: Vec<f64>,
    /// Where the latency went, for each kind.
    sealed_parts: Summary,
    open_parts: Summary,
}

async fn measure(cluster: &Cluster) -> anyhow::Result<Measured> {
    let names = names(cluster).await?;
    warm_up(cluster).await?;
    let (arrivals, watchers) = watch(cluster);
    for node in &cluster.nodes {
        node.stages().start();
    }
    let mut tick = tokio::time::interval(SPACING);
    let mut calls = Vec::with_capacity(2 * ITEMS);
    for k in 0..2 * ITEMS {
        tick.tick().await;
        let publisher = (k / 2) % AUDIENCE;
        let sealed = k % 2 == 0;
        let mut request = Fixture::publish_request(k as u64, format!("audience item {k}"));
        request.tlp = cairn_protocol::Tlp::AmberStrict;
        if sealed {
            request.audience = AudienceRequest {
                entities: (0..AUDIENCE)
                    .filter(|&j| j != publisher)
                    .map(|j| names[j].clone())
                    .collect(),
                ..Default::default()
            };
        }
        let api = cluster.nodes[publisher].api.clone();
        calls.push(tokio::spawn(async move {
            let started = Instant::now();
            (
                started,
                sealed,
                api.handle(ControlRequest::Publish(request)).await,
            )
        }));
    }
    let mut published = Vec::with_capacity(calls.len());
    for c in calls {
        match c.await? {
            (t, sealed, ControlResponse::Published { id, .. }) => published.push((id, t, sealed)),
            (_, _, other) => bail!("publish failed: {other:?}"),
        }
    }
    let audience = &arrivals[..AUDIENCE];
    let held = |id: &ItemId| audience.iter().all(|a| lock(a).contains_key(id));
    let deadline = Instant::now() + DEADLINE;
    while !published.iter().all(|(id, _, _)| held(id)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in watchers {
        w.abort();
    }
    let (sealed_parts, open_parts) = split(cluster, &published, &arrivals);
    let (mut sealed, mut open) = (Vec::new(), Vec::new());
    for (id, t, is_sealed) in &published {
        let last = audience
            .iter()
            .map(|a| lock(a).get(id).copied())
            .collect::<Option<Vec<_>>>()
            .and_then(|at| at.into_iter().max());
        if let Some(at) = last {
            let latency = ms(at.saturating_duration_since(*t));
            if *is_sealed {
                sealed.push(latency);
            } else {
                open.push(latency);
            }
        }
    }
    sealed.sort_by(f64::total_cmp);
    open.sort_by(f64::total_cmp);
    let open_ms = time_opening(cluster, &published).await?;
    Ok(Measured {
        sealed,
        open,
        open_ms,
        sealed_parts,
        open_parts,
    })
}

/// Each item's latency split along its path to the last of the audience,
/// sealed items and community-wide ones apart. Item `k` was published by
/// node `(k / 2) % AUDIENCE`, as [`measure`] sends them.
fn split(
    cluster: &Cluster,
    published: &[(ItemId, Instant, bool)],
    arrivals: &[Arrivals],
) -> (Summary, Summary) {
    let records = CairnRecords::read(cluster, arrivals);
    let audience: Vec<usize> = (0..AUDIENCE).collect();
    let mut parts = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for (k, (id, start, is_sealed)) in published.iter().enumerate() {
        let (publish, nodes) = records.item(id, (k / 2) % AUDIENCE, *start);
        let (items, transits) = &mut parts[usize::from(*is_sealed)];
        transits.extend(hops::transits(&nodes));
        items.extend(hops::breakdown_among(&publish, &nodes, &audience));
    }
    let [(open, open_transits), (sealed, sealed_transits)] = parts;
    (
        Summary::new(sealed, sealed_transits),
        Summary::new(open, open_transits),
    )
}

fn lock(a: &Arrivals) -> std::sync::MutexGuard<'_, HashMap<ItemId, Instant>> {
    a.lock().unwrap_or_else(|p| p.into_inner())
}

/// Each node's entity name.
async fn names(cluster: &Cluster) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for node in &cluster.nodes {
        match node.api.handle(ControlRequest::Status).await {
            ControlResponse::Status(s) => names.push(s.entity_name),
            other => bail!("status failed: {other:?}"),
        }
    }
    Ok(names)
}

/// One community item from every node, so every node knows every member's
/// certificate (an audience is resolved against the certificates a node
/// knows; in this topology not every pair of nodes is connected).
async fn warm_up(cluster: &Cluster) -> anyhow::Result<()> {
    let (arrivals, watchers) = watch(cluster);
    let mut ids = Vec::new();
    for (i, node) in cluster.nodes.iter().enumerate() {
        let request = Fixture::publish_request(1_000_000 + i as u64, format!("warm-up {i}"));
        match node.api.handle(ControlRequest::Publish(request)).await {
            ControlResponse::Published { id, .. } => ids.push(id),
            other => bail!("warm-up publish failed: {other:?}"),
        }
    }
    let deadline = Instant::now() + DEADLINE;
    while !ids
        .iter()
        .all(|id| arrivals.iter().all(|a| lock(a).contains_key(id)))
    {
        if Instant::now() > deadline {
            bail!("the warm-up items did not reach every node");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in watchers {
        w.abort();
    }
    Ok(())
}

fn watch(cluster: &Cluster) -> (Vec<Arrivals>, Vec<tokio::task::JoinHandle<()>>) {
    let mut arrivals = Vec::new();
    let mut watchers = Vec::new();
    for node in &cluster.nodes {
        let mut rx = node.watch_stored();
        let record: Arrivals = Arc::new(Mutex::new(HashMap::new()));
        arrivals.push(record.clone());
        watchers.push(tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(id) => {
                        lock(&record).entry(id).or_insert_with(Instant::now);
                    }
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        }));
    }
    (arrivals, watchers)
}

/// How long `items show` takes for a sealed item on a recipient (opening
/// included): timed on the API of recipient 1.
async fn time_opening(
    cluster: &Cluster,
    published: &[(ItemId, Instant, bool)],
) -> anyhow::Result<Vec<f64>> {
    let mut out = Vec::new();
    for (id, _, _) in published.iter().filter(|p| p.2).take(20) {
        let started = Instant::now();
        match cluster.nodes[1]
            .api
            .handle(ControlRequest::ShowItem { id: *id })
            .await
        {
            ControlResponse::Item(view) => {
                let readable = view.audience.map(|a| a.readable).unwrap_or(false);
                if !readable {
                    bail!("recipient 1 could not open item {id}");
                }
            }
            other => bail!("show failed: {other:?}"),
        }
        out.push(ms(started.elapsed()));
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

struct Sizes {
    per_recipient: usize,
    sealed: usize,
    open: usize,
}

/// Encoded sizes of the same 1 KiB item open and sealed to 1 and to
/// [`AUDIENCE`] recipients.
fn envelope_sizes(fixture: &mut Fixture) -> anyhow::Result<Sizes> {
    let member = fixture.member();
    let open = fixture.item_body(&member, 7);
    let Content::Open(contents) = &open.content else {
        bail!("the fixture's items are open");
    };
    let recipients: Vec<_> = (0..AUDIENCE)
        .map(|_| {
            let k = SecretKey::generate();
            (k.public(), EncryptionSecretKey::derive_from(&k).public())
        })
        .collect();
    let size = |n: usize| -> anyhow::Result<usize> {
        let mut body = open.clone();
        body.tlp = cairn_protocol::Tlp::AmberStrict;
        let envelope = cairn_protocol::envelope::seal(
            contents,
            &recipients[..n],
            vec![],
            body.seal_context(),
        )?;
        body.content = Content::Sealed(envelope);
        let item = SignedItem::sign(body, &member.key, &member.certificate)?;
        Ok(codec::encode(&item)?.len())
    };
    let one = size(1)?;
    let all = size(AUDIENCE)?;
    let open_item = SignedItem::sign(open.clone(), &member.key, &member.certificate)
        .context("signing the open item")?;
    Ok(Sizes {
        per_recipient: (all - one) / (AUDIENCE - 1),
        sealed: all,
        open: codec::encode(&open_item)?.len(),
    })
}
