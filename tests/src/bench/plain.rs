//! The baseline: plain rust-libp2p gossipsub. Each node is the swarm Cairn
//! builds (`build_swarm`: same transport, same gossipsub configuration and
//! scoring) in a minimal event loop that subscribes to one topic and
//! accepts every message at once: no decoding, no signature checks, no
//! storage, no membership.
//!
//! Payloads start with an 8-byte key (little endian) that names the message
//! for the benchmark; each node records when each key reached it.

use super::fixture::{neighbours, settle, topology, ADMISSION_DEADLINE, LISTEN};
use anyhow::{bail, Context as _};
use cairn_daemon::network::behaviour::{build_swarm, Behaviour, BehaviourEvent};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::SwarmEvent;
use libp2p::{identity::Keypair, Multiaddr, PeerId, Swarm};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The baseline's topic.
pub const TOPIC: &str = "cairn-bench/plain/v1";

/// Commands queued to one node; enough for a few seconds of burst.
const COMMANDS: usize = 8192;

/// How often a node redials the peers it dialled that it is not connected
/// to, as `cairnd` does with its bootstrap peers. Without it one refused
/// dial leaves a link missing for good: every node sits on 127.0.0.1, so
/// when many nodes dial one node at once, handshakes past the per-address
/// share (`pending::PER_SOURCE`) are refused, by design against floods.
const REDIAL: Duration = Duration::from_secs(1);

enum Command {
    /// Dial this peer now and whenever it is not connected (see [`REDIAL`]).
    Dial(PeerId, Multiaddr),
    Publish {
        key: u64,
        data: Vec<u8>,
    },
    /// Connected peers, each with whether it is subscribed to the topic.
    Peers(oneshot::Sender<Vec<(PeerId, bool)>>),
    Stop,
}

/// What one node saw: (key, arrival time, the peer it came from) of every
/// message it received or published itself (no peer), and its publish
/// failures.
#[derive(Default)]
pub struct Record {
    pub arrivals: Mutex<Vec<(u64, Instant, Option<PeerId>)>>,
    pub publish_errors: AtomicU64,
    /// Failed dials and handshakes and closed connections, oldest first
    /// (at most [`MAX_TROUBLE`]): said when the cluster does not form.
    pub trouble: Mutex<Vec<String>>,
}

/// Connection troubles kept per node.
const MAX_TROUBLE: usize = 32;

impl Record {
    fn arrived(&self, key: u64, from: Option<PeerId>) {
        self.arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, Instant::now(), from));
    }

    fn troubled(&self, what: String) {
        let mut t = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
        if t.len() < MAX_TROUBLE {
            t.push(what);
        }
    }

    /// The connection troubles seen so far, one per line.
    pub fn trouble_text(&self) -> String {
        let t = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
        if t.is_empty() {
            return "no dial, handshake or connection failed".into();
        }
        t.join("\n    ")
    }

    /// The distinct keys for which `select` holds, with their first arrival.
    pub fn keys(&self, select: impl Fn(u64) -> bool) -> Vec<(u64, Instant)> {
        self.firsts(select)
            .into_iter()
            .map(|(k, at, _)| (k, at))
            .collect()
    }

    /// Like [`Self::keys`], with the peer each first copy came from.
    pub fn firsts(&self, select: impl Fn(u64) -> bool) -> Vec<(u64, Instant, Option<PeerId>)> {
        let arrivals = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = HashSet::new();
        arrivals
            .iter()
            .filter(|(k, _, _)| select(*k) && seen.insert(*k))
            .copied()
            .collect()
    }
}

/// One plain gossipsub node running on its own task.
pub struct PlainNode {
    pub peer_id: PeerId,
    pub addr: Multiaddr,
    pub record: Arc<Record>,
    tx: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

/// A cloneable sender of publishes to one plain node.
#[derive(Clone)]
pub struct Publisher {
    tx: mpsc::Sender<Command>,
}

impl Publisher {
    /// Queues `data` (which must start with `key`) for publishing.
    pub async fn publish(&self, key: u64, data: Vec<u8>) -> anyhow::Result<()> {
        self.tx
            .send(Command::Publish { key, data })
            .await
            .map_err(|_| anyhow::anyhow!("the plain node stopped"))
    }
}

/// A payload of `len` bytes (at least 8) that starts with `key`.
pub fn payload(key: u64, len: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(len.max(8));
    data.extend_from_slice(&key.to_le_bytes());
    let mut x = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while data.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.push(b'a' + (x % 26) as u8);
    }
    data
}

fn key_of(data: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(data.get(..8)?.try_into().ok()?))
}

impl PlainNode {
    /// Builds the swarm, subscribes, listens on loopback and starts the loop.
    pub async fn start() -> anyhow::Result<PlainNode> {
        let topic = IdentTopic::new(TOPIC);
        let mut swarm = build_swarm(Keypair::generate_ed25519(), &topic, None)?;
        swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
        swarm.listen_on(LISTEN.parse()?)?;
        let addr = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                    break address;
                }
            }
        })
        .await
        .context("the plain node did not start listening")?;
        let peer_id = *swarm.local_peer_id();
        let record = Arc::new(Record::default());
        let (tx, rx) = mpsc::channel(COMMANDS);
        let task = tokio::spawn(run(swarm, topic, rx, record.clone()));
        Ok(PlainNode {
            peer_id,
            addr,
            record,
            tx,
            task,
        })
    }

    /// Dials another plain node.
    pub async fn dial(&self, peer: PeerId, addr: Multiaddr) -> anyhow::Result<()> {
        self.send(Command::Dial(peer, addr.with(Protocol::P2p(peer))))
            .await
    }

    /// Publishes `data` (which must start with `key`); the node records its
    /// own copy as arrived when gossipsub accepted it.
    pub async fn publish(&self, key: u64, data: Vec<u8>) -> anyhow::Result<()> {
        self.send(Command::Publish { key, data }).await
    }

    /// A handle for publishing from other tasks.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            tx: self.tx.clone(),
        }
    }

    /// Connected peers and whether each is subscribed to the topic.
    pub async fn peers(&self) -> anyhow::Result<Vec<(PeerId, bool)>> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Peers(reply)).await?;
        Ok(rx.await?)
    }

    async fn send(&self, c: Command) -> anyhow::Result<()> {
        self.tx
            .send(c)
            .await
            .map_err(|_| anyhow::anyhow!("the plain node stopped"))
    }

    /// Stops the loop and closes the swarm.
    pub async fn stop(self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.tx.send(Command::Stop)).await;
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

async fn run(
    mut swarm: Swarm<Behaviour>,
    topic: IdentTopic,
    mut rx: mpsc::Receiver<Command>,
    record: Arc<Record>,
) {
    let mut dialled: Vec<(PeerId, Multiaddr)> = Vec::new();
    let mut redial = tokio::time::interval(REDIAL);
    redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = redial.tick() => {
                for (peer, addr) in &dialled {
                    if !swarm.is_connected(peer) {
                        let _ = swarm.dial(dial_opts(*peer, addr.clone()));
                    }
                }
            }
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                })) => {
                    swarm.behaviour_mut().gossipsub.report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Accept,
                    );
                    if let Some(key) = key_of(&message.data) {
                        record.arrived(key, Some(propagation_source));
                    }
                }
                SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                    record.troubled(format!("dial to {peer_id:?} failed: {}", error_chain(&error)));
                }
                SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                    record.troubled(format!(
                        "inbound from {send_back_addr} failed: {}",
                        error_chain(&error)
                    ));
                }
                SwarmEvent::ConnectionClosed { peer_id, cause, .. } => {
                    let cause = cause.map_or("closed by this node".into(), |e| error_chain(&e));
                    record.troubled(format!("connection with {peer_id} closed: {cause}"));
                }
                _ => {}
            },
            command = rx.recv() => match command {
                None | Some(Command::Stop) => break,
                Some(Command::Dial(peer, addr)) => {
                    let _ = swarm.dial(dial_opts(peer, addr.clone()));
                    dialled.push((peer, addr));
                }
                Some(Command::Publish { key, data }) => {
                    match swarm.behaviour_mut().gossipsub.publish(topic.clone(), data) {
                        Ok(_) => record.arrived(key, None),
                        Err(_) => {
                            record.publish_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Some(Command::Peers(reply)) => {
                    let hash = topic.hash();
                    let subscribed: HashSet<PeerId> = swarm
                        .behaviour()
                        .gossipsub
                        .all_peers()
                        .filter(|(_, topics)| topics.contains(&&hash))
                        .map(|(p, _)| *p)
                        .collect();
                    let peers = swarm
                        .connected_peers()
                        .map(|p| (*p, subscribed.contains(p)))
                        .collect();
                    let _ = reply.send(peers);
                }
            },
        }
    }
}

/// A dial of `peer` unless it is connected or being dialled already.
fn dial_opts(peer: PeerId, addr: Multiaddr) -> DialOpts {
    DialOpts::peer_id(peer)
        .addresses(vec![addr])
        .condition(PeerCondition::DisconnectedAndNotDialing)
        .build()
}

/// `e` and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

/// Plain gossipsub nodes on the same topology as a Cairn [`super::fixture::Cluster`].
pub struct PlainCluster {
    pub nodes: Vec<PlainNode>,
}

impl PlainCluster {
    /// Starts `n` nodes, dials the [`topology`], waits until every node is
    /// connected to its neighbours and sees them subscribed, then settles
    /// exactly like a Cairn cluster ([`settle`]).
    pub async fn start(n: usize) -> anyhow::Result<PlainCluster> {
        let topology = topology(n);
        let mut nodes: Vec<PlainNode> = Vec::with_capacity(n);
        let mut last_start = Instant::now();
        for boot in &topology {
            last_start = Instant::now();
            let node = PlainNode::start().await?;
            for &j in boot {
                node.dial(nodes[j].peer_id, nodes[j].addr.clone()).await?;
            }
            nodes.push(node);
        }
        let neighbours = neighbours(&topology);
        let deadline = Instant::now() + ADMISSION_DEADLINE;
        for (i, node) in nodes.iter().enumerate() {
            loop {
                let peers = node.peers().await?;
                let missing = neighbours[i]
                    .iter()
                    .filter(|&&j| !peers.contains(&(nodes[j].peer_id, true)))
                    .count();
                if missing == 0 {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "plain node {i} is not connected to {missing} of its {} neighbours; \
                         its connection troubles:\n    {}",
                        neighbours[i].len(),
                        node.record.trouble_text()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        settle(last_start).await;
        Ok(PlainCluster { nodes })
    }

    /// Stops every node.
    pub async fn stop(self) {
        futures::future::join_all(self.nodes.into_iter().map(PlainNode::stop)).await;
    }
}
