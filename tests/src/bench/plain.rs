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

enum Command {
    Dial(Multiaddr),
    Publish {
        key: u64,
        data: Vec<u8>,
    },
    /// Connected peers, each with whether it is subscribed to the topic.
    Peers(oneshot::Sender<Vec<(PeerId, bool)>>),
    Stop,
}

/// What one node saw: (key, arrival time) of every message it received or
/// published itself, and its publish failures.
#[derive(Default)]
pub struct Record {
    pub arrivals: Mutex<Vec<(u64, Instant)>>,
    pub publish_errors: AtomicU64,
}

impl Record {
    fn arrived(&self, key: u64) {
        self.arrivals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((key, Instant::now()));
    }

    /// The distinct keys for which `select` holds, with their first arrival.
    pub fn keys(&self, select: impl Fn(u64) -> bool) -> Vec<(u64, Instant)> {
        let arrivals = self.arrivals.lock().unwrap_or_else(|p| p.into_inner());
        let mut seen = HashSet::new();
        arrivals
            .iter()
            .filter(|(k, _)| select(*k) && seen.insert(*k))
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
        self.send(Command::Dial(addr.with(Protocol::P2p(peer))))
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
    loop {
        tokio::select! {
            event = swarm.select_next_some() => {
                if let SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                    propagation_source,
                    message_id,
                    message,
                })) = event
                {
                    swarm.behaviour_mut().gossipsub.report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Accept,
                    );
                    if let Some(key) = key_of(&message.data) {
                        record.arrived(key);
                    }
                }
            }
            command = rx.recv() => match command {
                None | Some(Command::Stop) => break,
                Some(Command::Dial(addr)) => {
                    let _ = swarm.dial(addr);
                }
                Some(Command::Publish { key, data }) => {
                    match swarm.behaviour_mut().gossipsub.publish(topic.clone(), data) {
                        Ok(_) => record.arrived(key),
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
                        "plain node {i} is not connected to {missing} of its {} neighbours",
                        neighbours[i].len()
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
