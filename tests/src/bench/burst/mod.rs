//! Burst: what fraction of items every node ends up holding when members
//! publish faster than gossip can carry.
//!
//! 10 nodes. For each total rate (spread evenly over the nodes) members
//! publish for 3 s, then the community is left quiet, then every node's
//! holdings are counted: delivered = (sum over nodes of the round's items
//! held) / (items attempted x nodes). For Cairn the quiet period is 10 s,
//! so anti-entropy (a reconciliation with the next member every 5 s, and at
//! once round the community after one that found missing items) is part
//! of the figure, which is the point; plain gossipsub has no repair,
//! so its quiet period only has to outlast in-flight messages and gossip
//! (IHAVE/IWANT over a 3-heartbeat gossip window: ~2.1 s).
//!
//! Cairn publishes through the control API, which stores each item durably
//! before gossiping it, so its achieved rate can fall short of the target;
//! many publishes run concurrently per node (spawned tasks, at most
//! [`IN_FLIGHT`] per node) and the achieved rate is reported.

mod cairn;
mod plain;

use super::fixture::{Cluster, Fixture};
use super::plain::PlainCluster;
use super::progress;
use super::report::{Report, Row};
use cairn::cairn_round;
use plain::plain_round;
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// Nodes in the community.
pub const NODES: usize = 10;
/// Total publish rates swept, msg/s.
pub const RATES: [u32; 6] = [250, 500, 1000, 2000, 4000, 8000];
/// Publishing time per rate.
pub const PUBLISH_FOR: Duration = Duration::from_secs(3);
/// Quiet time before counting, Cairn (two anti-entropy intervals).
pub const CAIRN_QUIET: Duration = Duration::from_secs(10);
/// When Cairn's holdings are also counted, to show gossip alone.
pub const CAIRN_EARLY: Duration = Duration::from_secs(2);
/// After the quiet period, how much longer Cairn is watched for every node
/// to hold everything (reported as the convergence time, not counted).
pub const CONVERGE_EXTRA: Duration = Duration::from_secs(10);
/// Quiet time before counting, plain gossipsub.
pub const PLAIN_QUIET: Duration = Duration::from_secs(3);
/// Concurrent publishes per Cairn node.
pub const IN_FLIGHT: usize = 256;
/// Longest wait for outstanding Cairn publishes after the publishing time.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(30);

/// One rate's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub target_rate: u32,
    /// Publishes started.
    pub attempted: u64,
    /// Publishes that failed (counted as not delivered anywhere).
    pub failed: u64,
    /// Started publishes per second of publishing (until the last one
    /// completed, for Cairn).
    pub achieved_rate: f64,
    /// Delivered fraction after the quiet period.
    pub delivered: f64,
    /// Cairn only: delivered fraction [`CAIRN_EARLY`] after publishing,
    /// from the nodes' item counts (it would include late items of an
    /// earlier round that had not converged).
    pub delivered_early: Option<f64>,
    /// Cairn only: seconds after publishing until every node held every
    /// item published so far (None: not within quiet + [`CONVERGE_EXTRA`]).
    pub converged_secs: Option<f64>,
}

/// When each node publishes in a round, the same for Cairn and plain
/// gossipsub: `rate` msg/s in all, spread evenly over the nodes, for
/// [`PUBLISH_FOR`], each node's schedule offset so that their publishes
/// interleave.
#[derive(Clone, Copy)]
struct Schedule {
    t0: Instant,
    end: Instant,
    per_node: f64,
    rate: f64,
}

impl Schedule {
    /// A round starting in a moment, for `rate` msg/s over `nodes` nodes.
    fn new(rate: u32, nodes: usize) -> Self {
        let t0 = Instant::now() + Duration::from_millis(20);
        Schedule {
            t0,
            end: t0 + PUBLISH_FOR,
            per_node: f64::from(rate) / nodes as f64,
            rate: f64::from(rate),
        }
    }

    /// When `node` publishes its `k`-th item; None once the round is over.
    fn at(&self, node: usize, k: u64) -> Option<Instant> {
        let at = self.t0
            + Duration::from_secs_f64(node as f64 / self.rate)
            + Duration::from_secs_f64(k as f64 / self.per_node);
        (at < self.end).then_some(at)
    }

    /// Publishing seconds, from the start until `last` (at least a sliver).
    fn secs_until(&self, last: Instant) -> f64 {
        last.duration_since(self.t0).as_secs_f64().max(1e-9)
    }
}

/// The sequence number of item `k` of `node` in `round`: unique per run.
fn seq(round: usize, node: usize, k: u64) -> u64 {
    ((round as u64) << 40) | ((node as u64) << 24) | k
}

/// Runs the sweep: plain gossipsub first, then Cairn.
pub async fn run(rates: &[u32]) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "burst",
        format!(
            "plain rust-libp2p gossipsub, same build_swarm, accept-all loop ({} s quiet)",
            PLAIN_QUIET.as_secs()
        ),
    );
    let mut fixture = Fixture::new();
    let sample = fixture.member();
    let frame = fixture.gossip_frame_len(&sample);

    progress(format!("burst: plain gossipsub, {NODES} nodes"));
    let plain = PlainCluster::start(NODES).await?;
    let mut plain_rounds = Vec::new();
    for (round, &rate) in rates.iter().enumerate() {
        let r = plain_round(&plain, rate, round, frame).await;
        if let Ok(r) = &r {
            progress(format!(
                "plain {rate} msg/s: achieved {:.0}, delivered {:.3}%",
                r.achieved_rate,
                r.delivered * 100.0
            ));
        }
        match r {
            Ok(r) => plain_rounds.push(r),
            Err(e) => {
                plain.stop().await;
                return Err(e);
            }
        }
    }
    plain.stop().await;

    progress(format!("burst: Cairn, {NODES} nodes"));
    let cluster = Cluster::start(&mut fixture, NODES).await?;
    let mut cairn_rounds = Vec::new();
    let mut published = 0u64;
    let mut all_converged = true;
    for (round, &rate) in rates.iter().enumerate() {
        match cairn_round(&cluster, rate, round, &mut published, all_converged).await {
            Ok(r) => {
                all_converged &= r.converged_secs.is_some();
                progress(format!(
                    "Cairn {rate} msg/s: achieved {:.0}, delivered {:.3}% ({:.3}% after {} s), all held after {}",
                    r.achieved_rate,
                    r.delivered * 100.0,
                    r.delivered_early.unwrap_or(0.0) * 100.0,
                    CAIRN_EARLY.as_secs(),
                    r.converged_secs
                        .map_or(format!("> {} s", (CAIRN_QUIET + CONVERGE_EXTRA).as_secs()), |s| format!("{s:.1} s"))
                ));
                cairn_rounds.push(r);
            }
            Err(e) => {
                cluster.stop().await;
                return Err(e);
            }
        }
    }
    cluster.stop().await;

    let onset = plain_rounds
        .iter()
        .find(|r| r.delivered < 1.0)
        .map(|r| r.target_rate);
    let target = onset.map(|o| 2 * o);
    for (c, p) in cairn_rounds.iter().zip(&plain_rounds) {
        let mut row = Row::new(
            format!("delivered @ {} msg/s", c.target_rate),
            "%",
            Some(c.delivered * 100.0),
            Some(p.delivered * 100.0),
        );
        if let Some(t) = target {
            if c.target_rate <= t {
                row = row.goal("100%", Some(c.delivered >= 1.0));
            }
        }
        report.rows.push(row);
        report.rows.push(Row::new(
            format!("achieved rate @ {} msg/s", c.target_rate),
            "msg/s",
            Some(c.achieved_rate),
            Some(p.achieved_rate),
        ));
        report.rows.push(Row::new(
            format!("Cairn: all nodes hold all @ {} msg/s after", c.target_rate),
            "s",
            c.converged_secs,
            None,
        ));
    }
    match (onset, target) {
        (Some(o), Some(t)) => {
            let at = cairn_rounds.iter().find(|r| r.target_rate >= t);
            let met = at.map(|r| r.delivered >= 1.0);
            report.rows.push(
                Row::new(
                    format!("Cairn delivered at 2x plain loss onset ({t} msg/s)"),
                    "%",
                    at.map(|r| r.delivered * 100.0),
                    None,
                )
                .goal(format!("100% at {t} msg/s"), met),
            );
            report.notes.push(format!(
                "plain gossipsub first lost messages at a target rate of {o} msg/s"
            ));
            if let Some(r) = at {
                if r.achieved_rate < 0.9 * f64::from(r.target_rate) {
                    report.notes.push(format!(
                        "Cairn achieved only {:.0} of the {} msg/s target (durable publish through the API)",
                        r.achieved_rate, r.target_rate
                    ));
                }
            }
        }
        _ => report.notes.push(format!(
            "plain gossipsub lost nothing up to {} msg/s: the goal cannot be evaluated",
            rates.iter().max().copied().unwrap_or(0)
        )),
    }
    report.notes.push(format!(
        "every node verifies every item: at R msg/s the {NODES} in-process nodes need {NODES}R \
         ed25519 verifications/s from this machine's {} cores; '-' in the 'all nodes hold all' row \
         means not within {} s",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        (CAIRN_QUIET + CONVERGE_EXTRA).as_secs()
    ));
    report.notes.push(format!(
        "{} s of publishing per rate; Cairn counted after {} s quiet (anti-entropy every 5 s, chasing losses at once), \
         plain after {} s; 1 KiB items ({frame}-byte gossip messages, same size for plain)",
        PUBLISH_FOR.as_secs(),
        CAIRN_QUIET.as_secs(),
        PLAIN_QUIET.as_secs()
    ));
    report.details = json!({
        "nodes": NODES,
        "gossip_message_bytes": frame,
        "onset_rate": onset,
        "cairn": cairn_rounds,
        "plain": plain_rounds,
    });
    Ok(report)
}
