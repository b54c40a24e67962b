//! The libp2p behaviour of a Cairn node and the swarm built around it.
//!
//! Settings that must agree across the community (frame size, message ids,
//! validation) are fixed here rather than configurable, because a node with
//! different values silently fails to exchange messages with the others.

use super::admission::Admission;
use super::codec::{FrameCodec, PROTOCOL};
use super::directory_codec::DirectoryCodec;
use cairn_protocol::codec::MAX_FRAME;
use cairn_protocol::hash::sha256;
use libp2p::gossipsub::{self, MessageAuthenticity, ValidationMode};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{connection_limits, identify, identity::Keypair, ping, Swarm};
use std::sync::Arc;
use std::time::Duration;

/// Score given to a peer whose certificate no longer serves (expired or
/// revoked while connected) until it is disconnected: far below the
/// graylist threshold, so gossipsub ignores everything it sends, never
/// grafts it into the mesh and never publishes to it.
pub const UNADMITTED_SCORE: f64 = -1_000_000.0;

/// Connections in their handshake are bounded by the transport (`pending`:
/// 128 slots shared fairly between addresses); admitted ones here, overall
/// and per address (`address_limits`).
const MAX_ESTABLISHED_INCOMING: u32 = 512;
const MAX_PER_PEER: u32 = 2;
/// Concurrent inbound requests per connection; each may hold one frame.
const MAX_STREAMS: usize = 16;

/// Gossip messages from this size up are announced with IDONTWANT.
const IDONTWANT_FROM: usize = 16 * 1024;

/// The identify protocol's name for Cairn nodes.
const IDENTIFY_PROTOCOL: &str = "/cairn/identify/1";

/// Gossipsub, direct request/response, liveness probes, identify (which
/// node instance is behind each connection: `instances.rs`), the member
/// directory's exchange (`directory.rs`) and connection limits.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub limits: connection_limits::Behaviour,
    pub addresses: super::address_limits::Behaviour,
    pub gossipsub: gossipsub::Behaviour,
    pub direct: request_response::Behaviour<FrameCodec>,
    pub ping: ping::Behaviour,
    pub identify: identify::Behaviour,
    pub directory: request_response::Behaviour<DirectoryCodec>,
}

/// Errors building the swarm; all are programming or environment errors.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("gossipsub configuration rejected: {0}")]
    Gossipsub(String),
    #[error("transport setup failed: {0}")]
    Transport(String),
}

/// The gossipsub message id of `data`: its SHA-256 (content addressing).
pub fn message_id(data: &[u8]) -> gossipsub::MessageId {
    gossipsub::MessageId::from(sha256(&[data]).to_vec())
}

fn gossipsub_config() -> Result<gossipsub::Config, BuildError> {
    gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(700))
        // Peers are graylisted until admitted, so gossipsub cannot graft them
        // when they subscribe; meshes form at heartbeats. The first one
        // comes soon after start-up instead of libp2p's default 5 s.
        .heartbeat_initial_delay(Duration::from_millis(100))
        // Items are signed end to end; gossipsub signatures would sign twice.
        .validation_mode(ValidationMode::Anonymous)
        // Content addressing: the same item republished is a duplicate.
        .message_id_fn(|m| message_id(&m.data))
        // Nothing is relayed until the node has checked it.
        .validate_messages()
        .max_transmit_size(MAX_FRAME + 4096)
        .duplicate_cache_time(Duration::from_secs(120))
        // Unvalidated messages wait in the cache for `history_length`
        // heartbeats; a verdict that comes later is dropped. 10 x 700 ms
        // leaves the ingest worker 7 s even on a loaded machine.
        .history_length(10)
        // IDONTWANT (gossipsub 1.2) saves bandwidth on large messages, but
        // gossipsub 0.50 handles each one received by scanning the peer's
        // whole send queue: under a burst of typical 1-2 KiB items that scan
        // was the largest single cost measured (~7% of all CPU in the burst
        // bench). Large items (STIX bundles) still use it.
        .idontwant_message_size_threshold(IDONTWANT_FROM)
        .build()
        .map_err(|e| BuildError::Gossipsub(e.to_string()))
}

fn score_params(
    topic: &gossipsub::IdentTopic,
) -> (gossipsub::PeerScoreParams, gossipsub::PeerScoreThresholds) {
    let topic_params = gossipsub::TopicScoreParams {
        topic_weight: 1.0,
        // A quiet community is normal: never penalise mesh peers for
        // delivering few messages (P3, P3b).
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        // Rejected (invalid) items push the sender towards the graylist (P4).
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: 0.9,
        ..Default::default()
    };
    let mut params = gossipsub::PeerScoreParams {
        app_specific_weight: 1.0,
        // Membership, not IP addresses, decides who is legitimate; several
        // members may sit behind one address (and all tests use 127.0.0.1).
        ip_colocation_factor_weight: 0.0,
        // Strangers get fresh PeerIds for free; forget their scores soon.
        retain_score: Duration::from_secs(60),
        ..Default::default()
    };
    params.topics.insert(topic.hash(), topic_params);
    (params, gossipsub::PeerScoreThresholds::default())
}

/// Builds the swarm for `keypair`, subscribed to nothing yet; every
/// connection is admitted by `admission` before the swarm sees it (`None`
/// only for the benchmarks' plain-gossipsub baseline).
pub fn build_swarm(
    keypair: Keypair,
    items_topic: &gossipsub::IdentTopic,
    admission: Option<Arc<Admission>>,
) -> Result<Swarm<Behaviour>, BuildError> {
    let config = gossipsub_config()?;
    let (params, thresholds) = score_params(items_topic);
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|key| {
            super::transport::build(key, admission)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
        .map_err(|e| BuildError::Transport(e.to_string()))?
        .with_behaviour(|key| {
            // Only admitted members ever reach identify (admission is in the
            // transport). Its address cache stays off: it would feed
            // members' listen addresses to the other behaviours, and which
            // addresses a node dials is decided elsewhere.
            let identify = identify::Behaviour::new(
                identify::Config::new(IDENTIFY_PROTOCOL.into(), key.public())
                    .with_agent_version(super::instances::agent_version())
                    .with_cache_size(0),
            );
            let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config)?;
            gossipsub.with_peer_score(params, thresholds)?;
            let direct = request_response::Behaviour::with_codec(
                FrameCodec,
                [(PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(20))
                    .with_max_concurrent_streams(MAX_STREAMS),
            );
            let ping = ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(super::liveness::PING_INTERVAL)
                    .with_timeout(super::liveness::PING_TIMEOUT),
            );
            let limits = connection_limits::Behaviour::new(
                connection_limits::ConnectionLimits::default()
                    .with_max_established_incoming(Some(MAX_ESTABLISHED_INCOMING))
                    .with_max_established_per_peer(Some(MAX_PER_PEER)),
            );
            let directory = request_response::Behaviour::with_codec(
                DirectoryCodec,
                [(super::directory_codec::PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(Duration::from_secs(20))
                    .with_max_concurrent_streams(2),
            );
            Ok(Behaviour {
                limits,
                addresses: Default::default(),
                gossipsub,
                direct,
                ping,
                identify,
                directory,
            })
        })
        .map_err(|e| BuildError::Gossipsub(e.to_string()))?
        // Members stay connected to each other; an idle community is normal.
        // (Dial and handshake deadlines are the transport's.)
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    Ok(swarm)
}
