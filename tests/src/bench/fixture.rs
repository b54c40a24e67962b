//! Communities built in memory for the benchmarks: an issuer, certified
//! members, signed 1 KiB items, node settings, pre-filled stores, and
//! clusters of in-process nodes wired into a gossipsub mesh.

use anyhow::{bail, Context as _};
use cairn_daemon::config::{parse_peer_addr, Settings};
use cairn_daemon::node::{self, RunningNode};
use cairn_protocol::control::{ControlRequest, ControlResponse, PublishRequest};
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{
    codec, Certificate, CertificateBody, CertificateId, Community, CommunityId, Content, Contents,
    EncodedItem, EntityType, ItemBody, ItemKind, Role, SecretKey, Sector, SignedItem, Timestamp,
    Tlp,
};
use cairn_store::Store;
use libp2p::{Multiaddr, PeerId};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// Size of every item's body text: the "1 KiB item" of the scenarios.
pub const BODY_BYTES: usize = 1024;
/// Every node listens on loopback, on a port the kernel picks.
pub const LISTEN: &str = "/ip4/127.0.0.1/tcp/0";
/// Most earlier nodes a new node bootstraps to.
pub const FAN_IN: usize = 4;
/// Time given to gossipsub after admission: a few 700 ms heartbeats, so
/// meshes are grafted before anything is measured.
pub const MESH_SETTLE: Duration = Duration::from_secs(2);
/// gossipsub's first heartbeat comes this long after the swarm is built
/// (`heartbeat_initial_delay`, which `build_swarm` leaves at its default).
/// A Cairn node graylists a peer until its certificate is checked, so the
/// graft gossipsub would make when the peer subscribes is skipped and mesh
/// links only appear at heartbeats: nothing is measured before the last
/// node's first heartbeat plus [`MESH_SETTLE`].
pub const FIRST_HEARTBEAT: Duration = Duration::from_secs(5);
/// Longest wait for every node to admit its neighbours.
pub const ADMISSION_DEADLINE: Duration = Duration::from_secs(60);
/// Longest wait for one node to stop.
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// A member: its key and the certificate the issuer gave it.
pub struct Member {
    pub key: SecretKey,
    pub certificate: Certificate,
    /// `certificate.id()`, computed once.
    pub certificate_id: CertificateId,
}

/// An issuer and its community; hands out members.
pub struct Fixture {
    pub community: Community,
    issuer: SecretKey,
    serial: u64,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// A fresh community with a random issuer and authority key (no node
    /// runs the authority role: the benchmarks do not register anything).
    pub fn new() -> Self {
        let issuer = SecretKey::generate();
        let community = Community {
            id: CommunityId::generate(),
            name: "Benchmark ISAC".into(),
            issuers: vec![issuer.public()],
            authority: SecretKey::generate().public(),
            authority_encryption: cairn_protocol::EncryptionSecretKey::derive_from(
                &SecretKey::generate(),
            )
            .public(),
            max_validity_days: cairn_protocol::community::DEFAULT_MAX_VALIDITY_DAYS,
        };
        Fixture {
            community,
            issuer,
            serial: 0,
        }
    }

    /// A new member allowed to publish and receive.
    pub fn member(&mut self) -> Member {
        self.serial += 1;
        let key = SecretKey::generate();
        let now = Timestamp::now();
        let body = CertificateBody {
            community: self.community.id,
            serial: self.serial,
            issuer: self.issuer.public(),
            member_key: key.public(),
            encryption_key: cairn_protocol::EncryptionSecretKey::derive_from(&key).public(),
            subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
                name: format!("Benchmark member {}", self.serial),
                entity_type: EntityType::Essential,
                sector: Sector::Health,
                member_state: "DE".parse().expect("DE is a Member State"),
            }),
            roles: vec![Role::Publish, Role::Receive],
            not_before: now.minus_millis(60_000),
            not_after: now.plus_days(30),
        };
        let certificate =
            Certificate::issue(body, &self.issuer).expect("a well-formed certificate is issued");
        let certificate_id = certificate.id();
        Member {
            key,
            certificate,
            certificate_id,
        }
    }

    /// Settings for `member`'s node with its files under `dir`.
    pub fn settings(
        &self,
        member: &Member,
        dir: &Path,
        bootstrap: Vec<(PeerId, Multiaddr)>,
    ) -> Settings {
        Settings {
            data_dir: data_dir(dir),
            key: member.key.clone(),
            certificate: member.certificate.clone(),
            community: self.community.clone(),
            listen: vec![LISTEN.parse().expect("a valid multiaddr")],
            bootstrap,
            authority: false,
            control_socket: dir.join("c.sock"),
            certificate_path: None,
            limits: Default::default(),
            pseudonym: None,
            taxii: None,
            misp_feed: None,
            // The scenario chooses the topology, the same one its plain
            // gossipsub baseline runs on: no dials from the directory.
            directory: cairn_daemon::network::directory_config::DirectorySettings {
                connections: 0,
                announce: None,
            },
            web: None,
            metrics: None,
        }
    }

    /// The body of item `seq`: 1 KiB of text, unique per `seq`.
    pub fn item_body(&self, member: &Member, seq: u64) -> ItemBody {
        ItemBody {
            community: self.community.id,
            kind: ItemKind::CyberThreat,
            tlp: Tlp::Green,
            content: Content::Open(Contents {
                title: format!("benchmark item {seq}"),
                body: filler(seq, BODY_BYTES),
                payload: None,
                tags: vec![],
            }),
            created: Timestamp::now(),
            publisher: member.certificate_id,
        }
    }

    /// `n` items signed by `members` in turn, on every core; item `i` has
    /// sequence number `first + i`.
    pub fn sign_items(
        &self,
        members: &[Member],
        first: u64,
        n: usize,
    ) -> Vec<(SignedItem, Certificate)> {
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        let chunk = n.div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    let end = (start + chunk).min(n);
                    scope.spawn(move || {
                        (start..end)
                            .map(|i| {
                                let m = &members[i % members.len()];
                                let body = self.item_body(m, first + i as u64);
                                let item = SignedItem::sign(body, &m.key, &m.certificate)
                                    .expect("benchmark items are well-formed");
                                (item, m.certificate.clone())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("signing does not panic"))
                .collect()
        })
    }

    /// The publish request for item `seq` (what the control API signs).
    pub fn publish_request(seq: u64, title: String) -> PublishRequest {
        PublishRequest {
            kind: ItemKind::CyberThreat,
            tlp: Tlp::Green,
            title,
            body: filler(seq, BODY_BYTES),
            payload: None,
            tags: vec![],
            audience: Default::default(),
        }
    }

    /// Size of the gossip message carrying one 1 KiB item with its
    /// certificate: what a Cairn node puts on the wire per item, and the
    /// payload size given to the plain gossipsub baseline.
    pub fn gossip_frame_len(&self, member: &Member) -> usize {
        let item = SignedItem::sign(self.item_body(member, 0), &member.key, &member.certificate)
            .expect("benchmark items are well-formed");
        codec::encode(&GossipMessage::Item {
            item,
            certificate: member.certificate.clone(),
        })
        .expect("an item fits a frame")
        .len()
    }
}

/// Where [`Fixture::settings`] puts the data directory of the node in `dir`.
pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join("data")
}

/// `len` bytes of printable text, different for each `seq`.
pub fn filler(seq: u64, len: usize) -> String {
    let mut s = format!("{seq:016x} ");
    let mut x = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push((b'a' + (x % 26) as u8) as char);
    }
    s.truncate(len);
    s
}

/// Writes `items` into the store in `data_dir` (creating it) and flushes,
/// as if the node had received them; the store is closed on return.
pub fn fill_store(data_dir: &Path, items: &[(SignedItem, Certificate)]) -> anyhow::Result<()> {
    let store = Store::open(data_dir, false).context("opening the store to fill it")?;
    for chunk in items.chunks(1000) {
        let encoded: Vec<(EncodedItem, &Certificate)> = chunk
            .iter()
            .map(|(i, c)| Ok((EncodedItem::new(i.clone())?, c)))
            .collect::<anyhow::Result<_>>()?;
        let batch: Vec<(&EncodedItem, &Certificate)> =
            encoded.iter().map(|(i, c)| (i, *c)).collect();
        store.items.insert_batch(&batch)?;
    }
    store.items.flush()?;
    let held = store.items.count();
    if held != items.len() as u64 {
        bail!(
            "the store holds {held} items after inserting {}",
            items.len()
        );
    }
    Ok(())
}

/// Deterministic bootstrap lists: node `i` dials up to [`FAN_IN`] of the
/// nodes started before it, picked by a fixed pseudo-random sequence.
pub fn topology(n: usize) -> Vec<Vec<usize>> {
    (0..n)
        .map(|i| {
            if i <= FAN_IN {
                return (0..i).collect();
            }
            let mut x = (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D) | 1;
            let mut picked = BTreeSet::new();
            while picked.len() < FAN_IN {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                picked.insert((x % i as u64) as usize);
            }
            picked.into_iter().collect()
        })
        .collect()
}

/// Each node's neighbours (whom it dials and who dials it).
pub fn neighbours(topology: &[Vec<usize>]) -> Vec<BTreeSet<usize>> {
    let mut out = vec![BTreeSet::new(); topology.len()];
    for (i, boot) in topology.iter().enumerate() {
        for &j in boot {
            out[i].insert(j);
            out[j].insert(i);
        }
    }
    out
}

/// Waits until the last node, started at `last_start`, has had its first
/// gossipsub heartbeat, then [`MESH_SETTLE`] more.
pub async fn settle(last_start: Instant) {
    tokio::time::sleep_until((last_start + FIRST_HEARTBEAT).into()).await;
    tokio::time::sleep(MESH_SETTLE).await;
}

/// In-process Cairn nodes in one community, meshed.
pub struct Cluster {
    pub nodes: Vec<RunningNode>,
    pub topology: Vec<Vec<usize>>,
    _root: TempDir,
}

/// The peer ids a node has admitted.
pub async fn admitted(node: &RunningNode) -> HashSet<String> {
    match node.api.handle(ControlRequest::Members).await {
        ControlResponse::Members { members } => members.into_iter().map(|m| m.peer_id).collect(),
        _ => HashSet::new(),
    }
}

/// The first listen address of `node`, split into peer and address.
pub async fn dial_addr(node: &RunningNode) -> anyhow::Result<(PeerId, Multiaddr)> {
    let addr = node
        .listen_addrs()
        .await
        .into_iter()
        .next()
        .context("the node has no listen address")?;
    Ok(parse_peer_addr(&addr.to_string())?)
}

impl Cluster {
    /// Starts `n` nodes of `fixture`'s community on the [`topology`], waits
    /// until every node has admitted its neighbours, then [`settle`]s.
    pub async fn start(fixture: &mut Fixture, n: usize) -> anyhow::Result<Cluster> {
        let root = tempfile::Builder::new().prefix("cairn-bench-").tempdir()?;
        let topology = topology(n);
        let mut nodes = Vec::with_capacity(n);
        let mut addrs: Vec<(PeerId, Multiaddr)> = Vec::with_capacity(n);
        let mut last_start = Instant::now();
        for (i, boot) in topology.iter().enumerate() {
            last_start = Instant::now();
            let member = fixture.member();
            let dir = root.path().join(format!("n{i}"));
            std::fs::create_dir_all(&dir)?;
            let bootstrap = boot.iter().map(|&j| addrs[j].clone()).collect();
            let node = node::start(fixture.settings(&member, &dir, bootstrap))
                .await
                .with_context(|| format!("starting node {i}"))?;
            addrs.push(dial_addr(&node).await?);
            nodes.push(node);
        }
        let cluster = Cluster {
            nodes,
            topology,
            _root: root,
        };
        cluster.wait_admitted().await?;
        settle(last_start).await;
        Ok(cluster)
    }

    async fn wait_admitted(&self) -> anyhow::Result<()> {
        let neighbours = neighbours(&self.topology);
        let ids: Vec<String> = self.nodes.iter().map(|n| n.peer_id.to_string()).collect();
        let deadline = Instant::now() + ADMISSION_DEADLINE;
        for (i, node) in self.nodes.iter().enumerate() {
            loop {
                let members = admitted(node).await;
                let missing = neighbours[i]
                    .iter()
                    .filter(|&&j| !members.contains(&ids[j]))
                    .count();
                if missing == 0 {
                    break;
                }
                if Instant::now() > deadline {
                    bail!(
                        "node {i} has not admitted {missing} of its {} neighbours after {} s",
                        neighbours[i].len(),
                        ADMISSION_DEADLINE.as_secs()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(())
    }

    /// Stops every node (each within [`STOP_DEADLINE`]).
    pub async fn stop(self) {
        let stops = self
            .nodes
            .into_iter()
            .map(|n| tokio::time::timeout(STOP_DEADLINE, n.stop()));
        futures::future::join_all(stops).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topology_is_deterministic_and_connected() {
        let t = topology(30);
        assert_eq!(t, topology(30));
        assert_eq!(t[0], Vec::<usize>::new());
        assert_eq!(t[3], vec![0, 1, 2]);
        for (i, boot) in t.iter().enumerate() {
            assert!(boot.len() <= FAN_IN);
            assert!(boot.iter().all(|&j| j < i));
            assert_eq!(boot.len(), i.min(FAN_IN));
        }
    }

    #[test]
    fn filler_is_sized_and_unique() {
        assert_eq!(filler(1, BODY_BYTES).len(), BODY_BYTES);
        assert_ne!(filler(1, 64), filler(2, 64));
    }
}
