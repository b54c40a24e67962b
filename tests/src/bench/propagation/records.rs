//! What each node of a propagation round recorded, as [`hops::NodeTimes`]
//! per item: Cairn's stage clocks, plain gossipsub's arrivals.

use super::ITEMS;
use crate::bench::fixture::Cluster;
use crate::bench::hops::{self, NodeTimes, Publish, Summary};
use crate::bench::plain::PlainCluster;
use cairn_daemon::stages::Stage;
use cairn_protocol::ItemId;
use libp2p::PeerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Each item's stage times on every node, split along its path.
pub(super) fn cairn(
    cluster: &Cluster,
    started: &[(ItemId, Instant)],
    visible: &[Arc<Mutex<HashMap<ItemId, Instant>>>],
) -> Summary {
    let n = cluster.nodes.len();
    let index: HashMap<PeerId, usize> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (node.peer_id, i))
        .collect();
    let snapshots: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| n.stages().snapshot())
        .collect();
    let visible: Vec<HashMap<ItemId, Instant>> = visible
        .iter()
        .map(|v| v.lock().unwrap_or_else(|p| p.into_inner()).clone())
        .collect();
    let (mut items, mut transits) = (Vec::new(), Vec::new());
    for (k, (id, start)) in started.iter().enumerate() {
        let publisher = k % n;
        let nodes: Vec<NodeTimes> = (0..n)
            .map(|i| {
                let times = snapshots[i].get(id);
                let at = |s: Stage| times.and_then(|t| t.at(s));
                let mut node = NodeTimes {
                    from: times.and_then(|t| index.get(&t.from?).copied()),
                    received: at(Stage::Received),
                    verified: at(Stage::Verified),
                    passed_on: at(Stage::Relayed),
                    stored: at(Stage::Stored),
                    visible: visible[i].get(id).copied(),
                };
                if i == publisher {
                    node.verified = at(Stage::Checked);
                    node.passed_on = at(Stage::Gossiped);
                }
                node
            })
            .collect();
        transits.extend(hops::transits(&nodes));
        let publish = Publish {
            node: publisher,
            start: *start,
            signed: snapshots[publisher]
                .get(id)
                .and_then(|t| t.at(Stage::Signed)),
        };
        items.extend(hops::breakdown(&publish, &nodes));
    }
    Summary::new(items, transits)
}

/// The same split for plain gossipsub, where a node passes a message on as
/// it arrives (no checks, no store).
pub(super) fn plain(cluster: &PlainCluster, started: &[Instant]) -> Summary {
    let n = cluster.nodes.len();
    let index: HashMap<PeerId, usize> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| (node.peer_id, i))
        .collect();
    let firsts: Vec<HashMap<u64, (Instant, Option<PeerId>)>> = cluster
        .nodes
        .iter()
        .map(|node| {
            node.record
                .firsts(|k| k < ITEMS as u64)
                .into_iter()
                .map(|(k, at, from)| (k, (at, from)))
                .collect()
        })
        .collect();
    let (mut items, mut transits) = (Vec::new(), Vec::new());
    for (k, start) in started.iter().enumerate() {
        let key = k as u64;
        let nodes: Vec<NodeTimes> = firsts
            .iter()
            .map(|f| {
                let (at, from) = match f.get(&key) {
                    Some((at, from)) => (Some(*at), *from),
                    None => (None, None),
                };
                NodeTimes {
                    from: from.and_then(|p| index.get(&p).copied()),
                    received: at,
                    verified: at,
                    passed_on: at,
                    stored: at,
                    visible: at,
                }
            })
            .collect();
        transits.extend(hops::transits(&nodes));
        let publish = Publish {
            node: k % n,
            start: *start,
            signed: Some(*start),
        };
        items.extend(hops::breakdown(&publish, &nodes));
    }
    Summary::new(items, transits)
}
