//! The libp2p behaviour of a Cairn node and the swarm built around it.
//!
//! Settings that must agree across the community (frame size, message ids,
//! validation) are fixed here rather than configurable, because a node with
//! different values silently fails to exchange messages with the others.

use super::codec::{FrameCodec, PROTOCOL};
use cairn_protocol::codec::MAX_FRAME;
use cairn_protocol::hash::sha256;
use libp2p::gossipsub::{self, MessageAuthenticity, ValidationMode};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identity::Keypair, noise, ping, tcp, yamux, Swarm};
use std::time::Duration;

/// Score given to a connected peer until its certificate verifies: far below
/// the graylist threshold, so gossipsub ignores everything it sends, never
/// grafts it into the mesh and never publishes to it.
pub const UNADMITTED_SCORE: f64 = -1_000_000.0;

/// How often each connection is probed, and how long a probe may take
/// before the connection is presumed dead and closed. TCP alone can take
/// minutes to notice a partition; closing early lets the redial loop and
/// catch-up take over as soon as the network heals.
pub const PING_INTERVAL: Duration = Duration::from_secs(2);
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// Gossipsub, direct request/response, and liveness probes.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    pub gossipsub: gossipsub::Behaviour,
    pub direct: request_response::Behaviour<FrameCodec>,
    pub ping: ping::Behaviour,
}

/// Errors building the swarm; all are programming or environment errors.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("gossipsub configuration rejected: {0}")]
    Gossipsub(String),
    #[error("transport setup failed: {0}")]
    Transport(String),
}

fn gossipsub_config() -> Result<gossipsub::Config, BuildError> {
    gossipsub::ConfigBuilder::default()
        .heartbeat_interval(Duration::from_millis(700))
        // Items are signed end to end; gossipsub signatures would sign twice.
        .validation_mode(ValidationMode::Anonymous)
        // Content addressing: the same item republished is a duplicate.
        .message_id_fn(|m| gossipsub::MessageId::from(sha256(&[&m.data]).to_vec()))
        // Nothing is relayed until the node has checked it.
        .validate_messages()
        .max_transmit_size(MAX_FRAME + 4096)
        .duplicate_cache_time(Duration::from_secs(120))
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
        ..Default::default()
    };
    params.topics.insert(topic.hash(), topic_params);
    (params, gossipsub::PeerScoreThresholds::default())
}

/// Builds the swarm for `keypair`, subscribed to nothing yet.
pub fn build_swarm(
    keypair: Keypair,
    items_topic: &gossipsub::IdentTopic,
) -> Result<Swarm<Behaviour>, BuildError> {
    let config = gossipsub_config()?;
    let (params, thresholds) = score_params(items_topic);
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| BuildError::Transport(e.to_string()))?
        .with_behaviour(|_| {
            let mut gossipsub = gossipsub::Behaviour::new(MessageAuthenticity::Anonymous, config)?;
            gossipsub.with_peer_score(params, thresholds)?;
            let direct = request_response::Behaviour::with_codec(
                FrameCodec,
                [(PROTOCOL, ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(Duration::from_secs(20)),
            );
            let ping = ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(PING_INTERVAL)
                    .with_timeout(PING_TIMEOUT),
            );
            Ok(Behaviour {
                gossipsub,
                direct,
                ping,
            })
        })
        .map_err(|e| BuildError::Gossipsub(e.to_string()))?
        // Members stay connected to each other; an idle community is normal.
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(300)))
        .build();
    Ok(swarm)
}
