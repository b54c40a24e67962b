//! Where an item's propagation time goes: the per-hop breakdown of the
//! `propagation` scenario, as plain functions over the stage times each
//! node recorded (`cairn_daemon::stages` for Cairn, arrivals for plain
//! gossipsub).
//!
//! An item's latency is the time until the last node holds it. Following
//! the "sent by" links back from that node to the publisher gives the path
//! the item took to it (its critical path), and the latency splits exactly
//! along it:
//!
//! ```text
//! publisher: resolve | seal (sealed items only) | sign | check | to gossip
//! each hop:  transit (sender passed it on -> receiver's gossipsub delivered it)
//!            | verify (queue, decode, signature and certificate checks)
//!            | relay (verdict back to gossipsub; not on the last node)
//! last node: store (written) | visible (its watcher saw it announced)
//! ```

use super::report::percentile;
use serde_json::json;
use std::time::{Duration, Instant};

/// What one node recorded for one item. For the publisher, `verified` is
/// when its own item passed the checks and `passed_on` when it was handed
/// to gossipsub; for a receiver, `passed_on` is when its Accept verdict
/// reached gossipsub (which forwards it then).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeTimes {
    /// The node it came from (None on the publisher).
    pub from: Option<usize>,
    pub received: Option<Instant>,
    pub verified: Option<Instant>,
    pub passed_on: Option<Instant>,
    pub stored: Option<Instant>,
    /// When the benchmark saw it held (what the latency counts).
    pub visible: Option<Instant>,
}

/// The publisher's own stages before gossip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    pub node: usize,
    /// Just before the publish call.
    pub start: Instant,
    /// A sealed item's audience resolved and its envelope made (None for
    /// a community-wide item: those parts are then zero).
    pub sealing: Option<(Instant, Instant)>,
    /// Signed and encoded.
    pub signed: Option<Instant>,
}

/// One item's latency split along its critical path.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Breakdown {
    pub hops: usize,
    pub resolve: Duration,
    pub seal: Duration,
    pub sign: Duration,
    pub check: Duration,
    pub to_gossip: Duration,
    pub transit: Duration,
    pub verify: Duration,
    pub relay: Duration,
    pub store: Duration,
    pub visible: Duration,
}

impl Breakdown {
    /// The parts' names, in path order.
    pub const PARTS: [&'static str; 10] = [
        "resolve",
        "seal",
        "sign",
        "check",
        "to gossip",
        "transit",
        "verify",
        "relay",
        "store",
        "visible",
    ];

    /// The parts in the order of [`Self::PARTS`].
    pub fn parts(&self) -> [Duration; 10] {
        [
            self.resolve,
            self.seal,
            self.sign,
            self.check,
            self.to_gossip,
            self.transit,
            self.verify,
            self.relay,
            self.store,
            self.visible,
        ]
    }

    /// The sum of the parts: the item's latency.
    pub fn total(&self) -> Duration {
        self.parts().iter().sum()
    }
}

fn since(later: Option<Instant>, earlier: Option<Instant>) -> Option<Duration> {
    Some(later?.saturating_duration_since(earlier?))
}

/// The path from the publisher to the node, among `counted`, where the
/// item became visible last, or None if one of them does not hold it or a
/// link is missing. Nodes not counted (relays outside an audience) may be
/// on the path.
pub fn critical_path(
    publisher: usize,
    nodes: &[NodeTimes],
    counted: &[usize],
) -> Option<Vec<usize>> {
    let mut last = *counted.first()?;
    for &i in counted {
        if nodes.get(i)?.visible? > nodes[last].visible? {
            last = i;
        }
    }
    let mut path = vec![last];
    let mut at = last;
    while at != publisher {
        at = nodes[at].from?;
        // A cycle would mean the records are inconsistent.
        if path.contains(&at) {
            return None;
        }
        path.push(at);
    }
    path.reverse();
    Some(path)
}

/// The item's latency to the last of all nodes, split along its critical
/// path (see the module doc).
pub fn breakdown(publish: &Publish, nodes: &[NodeTimes]) -> Option<Breakdown> {
    let all: Vec<usize> = (0..nodes.len()).collect();
    breakdown_among(publish, nodes, &all)
}

/// The item's latency to the last of the `counted` nodes (an audience),
/// split along its critical path.
pub fn breakdown_among(
    publish: &Publish,
    nodes: &[NodeTimes],
    counted: &[usize],
) -> Option<Breakdown> {
    let path = critical_path(publish.node, nodes, counted)?;
    let p = &nodes[publish.node];
    let (resolve, seal, before_sign) = match publish.sealing {
        Some((resolved, sealed)) => (
            resolved.saturating_duration_since(publish.start),
            sealed.saturating_duration_since(resolved),
            sealed,
        ),
        None => (Duration::ZERO, Duration::ZERO, publish.start),
    };
    let mut b = Breakdown {
        hops: path.len() - 1,
        resolve,
        seal,
        sign: since(publish.signed, Some(before_sign))?,
        check: since(p.verified, publish.signed)?,
        ..Default::default()
    };
    let last = *path.last()?;
    if path.len() > 1 {
        b.to_gossip = since(p.passed_on, p.verified)?;
    }
    for pair in path.windows(2) {
        let (s, r) = (&nodes[pair[0]], &nodes[pair[1]]);
        b.transit += since(r.received, s.passed_on)?;
        b.verify += since(r.verified, r.received)?;
        if pair[1] != last {
            b.relay += since(r.passed_on, r.verified)?;
        }
    }
    b.store = since(nodes[last].stored, nodes[last].verified)?;
    b.visible = since(nodes[last].visible, nodes[last].stored)?;
    Some(b)
}

/// Every hop's transit (sender passed it on -> receiver got it), over all
/// receivers, not only the critical path.
pub fn transits(nodes: &[NodeTimes]) -> Vec<Duration> {
    nodes
        .iter()
        .filter_map(|r| since(r.received, nodes.get(r.from?)?.passed_on))
        .collect()
}

/// The breakdowns of one round's items, summarised.
#[derive(Debug, Default)]
pub struct Summary {
    pub items: Vec<Breakdown>,
    /// Every hop's transit, ms, sorted.
    pub transits_ms: Vec<f64>,
}

impl Summary {
    pub fn new(items: Vec<Breakdown>, transits: Vec<Duration>) -> Self {
        let mut transits_ms: Vec<f64> = transits.into_iter().map(ms).collect();
        transits_ms.sort_by(f64::total_cmp);
        Summary { items, transits_ms }
    }

    /// Percentile `p` of one part over the items, ms.
    fn part(&self, i: usize, p: f64) -> Option<f64> {
        let mut v: Vec<f64> = self.items.iter().map(|b| ms(b.parts()[i])).collect();
        v.sort_by(f64::total_cmp);
        percentile(&v, p)
    }

    /// Percentile `p` of the hops to the last node.
    pub fn hops(&self, p: f64) -> Option<f64> {
        let mut v: Vec<f64> = self.items.iter().map(|b| b.hops as f64).collect();
        v.sort_by(f64::total_cmp);
        percentile(&v, p)
    }

    /// Percentile `p` of every hop's transit, ms.
    pub fn transit(&self, p: f64) -> Option<f64> {
        percentile(&self.transits_ms, p)
    }

    /// The item that took longest.
    fn slowest(&self) -> Option<&Breakdown> {
        self.items.iter().max_by_key(|b| b.total())
    }

    /// One line: each part's p50 / p99 over the items, and the hops.
    pub fn line(&self) -> String {
        let parts: Vec<String> = Breakdown::PARTS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                format!(
                    "{name} {} / {}",
                    fmt_ms(self.part(i, 50.0)),
                    fmt_ms(self.part(i, 99.0))
                )
            })
            .collect();
        format!(
            "{}; hops to the last node p50 {} (max {}); {} items",
            parts.join(", "),
            fmt_n(self.hops(50.0)),
            fmt_n(self.hops(100.0)),
            self.items.len()
        )
    }

    /// One line: the slowest item's parts.
    pub fn slowest_line(&self) -> String {
        let Some(b) = self.slowest() else {
            return "no item reached every node with every stage recorded".into();
        };
        let parts: Vec<String> = Breakdown::PARTS
            .iter()
            .zip(b.parts())
            .map(|(name, d)| format!("{name} {:.2}", ms(d)))
            .collect();
        format!(
            "{:.2} ms over {} hops = {}",
            ms(b.total()),
            b.hops,
            parts.join(" + ")
        )
    }

    /// The figures as JSON (ms).
    pub fn json(&self) -> serde_json::Value {
        let parts: serde_json::Map<String, serde_json::Value> = Breakdown::PARTS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    name.replace(' ', "_"),
                    json!({"p50": self.part(i, 50.0), "p99": self.part(i, 99.0)}),
                )
            })
            .collect();
        json!({
            "items": self.items.len(),
            "critical_path_ms": parts,
            "hops": {"p50": self.hops(50.0), "max": self.hops(100.0)},
            "transit_per_hop_ms": {"p50": self.transit(50.0), "p99": self.transit(99.0)},
            "slowest": self.slowest_line(),
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

fn fmt_n(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

#[cfg(test)]
#[path = "hops_tests.rs"]
mod tests;
