//! What each node of a propagation round recorded, as [`hops::NodeTimes`]
//! per item: Cairn's stage clocks, plain gossipsub's arrivals.

use super::ITEMS;
use crate::bench::fixture::Cluster;
use crate::bench::hops::{self, NodeTimes, Publish, Summary};
use crate::bench::plain::PlainCluster;
use cairn_daemon::stages::{Stage, StageTimes};
use cairn_protocol::ItemId;
use libp2p::PeerId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What every node of a Cairn cluster recorded: its stage clock and when
/// the benchmark saw each item held there.
pub(crate) struct CairnRecords {
    index: HashMap<PeerId, usize>,
    snapshots: Vec<HashMap<ItemId, StageTimes>>,
    visible: Vec<HashMap<ItemId, Instant>>,
}

impl CairnRecords {
    /// Reads every node's stage clock now (after the round).
    pub(crate) fn read(
        cluster: &Cluster,
        visible: &[Arc<Mutex<HashMap<ItemId, Instant>>>],
    ) -> Self {
        CairnRecords {
            index: cluster
                .nodes
                .iter()
                .enumerate()
                .map(|(i, node)| (node.peer_id, i))
                .collect(),
            snapshots: cluster
                .nodes
                .iter()
                .map(|n| n.stages().snapshot())
                .collect(),
            visible: visible
                .iter()
                .map(|v| v.lock().unwrap_or_else(|p| p.into_inner()).clone())
                .collect(),
        }
    }

    /// Item `id`'s publish (by node `publisher`, called at `start`) and its
    /// times on every node, for [`hops::breakdown`].
    pub(crate) fn item(
        &self,
        id: &ItemId,
        publisher: usize,
        start: Instant,
    ) -> (Publish, Vec<NodeTimes>) {
        let nodes = (0..self.snapshots.len())
            .map(|i| {
                let times = self.snapshots[i].get(id);
                let at = |s: Stage| times.and_then(|t| t.at(s));
                let mut node = NodeTimes {
                    from: times.and_then(|t| self.index.get(&t.from?).copied()),
                    received: at(Stage::Received),
                    verified: at(Stage::Verified),
                    passed_on: at(Stage::Relayed),
                    stored: at(Stage::Stored),
                    visible: self.visible[i].get(id).copied(),
                };
                if i == publisher {
                    node.verified = at(Stage::Checked);
                    node.passed_on = at(Stage::Gossiped);
                }
                node
            })
            .collect();
        let mine = self.snapshots[publisher].get(id);
        let at = |s: Stage| mine.and_then(|t| t.at(s));
        let publish = Publish {
            node: publisher,
            start,
            sealing: at(Stage::Resolved).zip(at(Stage::Sealed)),
            signed: at(Stage::Signed),
        };
        (publish, nodes)
    }
}

/// Each item's stage times on every node, split along its path.
pub(super) fn cairn(
    cluster: &Cluster,
    started: &[(ItemId, Instant)],
    visible: &[Arc<Mutex<HashMap<ItemId, Instant>>>],
) -> Summary {
    let n = cluster.nodes.len();
    let records = CairnRecords::read(cluster, visible);
    let (mut items, mut transits) = (Vec::new(), Vec::new());
    for (k, (id, start)) in started.iter().enumerate() {
        let (publish, nodes) = records.item(id, k % n, *start);
        transits.extend(hops::transits(&nodes));
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
            sealing: None,
            signed: Some(*start),
        };
        items.extend(hops::breakdown(&publish, &nodes));
    }
    Summary::new(items, transits)
}
