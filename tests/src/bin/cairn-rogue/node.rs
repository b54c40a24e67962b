//! The rogue node: its swarm, what it has seen of its peers (admissions,
//! refusals, subscriptions, answers to events), and how it hands items to
//! gossipsub. It answers no request and relays no gossip.

use crate::say;
use cairn_daemon::network::behaviour::{Behaviour, BehaviourEvent};
use cairn_protocol::codec;
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{Certificate, SignedItem};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::request_response::{self, Message};
use libp2p::swarm::SwarmEvent;
use libp2p::{PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// How long to wait for a subscribed peer that answered the Hello.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the rogue has seen of its peers.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) bootstrap: HashSet<PeerId>,
    /// When each bootstrap peer was dialled.
    pub(crate) dialled: HashMap<PeerId, Instant>,
    pub(crate) connected: HashSet<PeerId>,
    pub(crate) subscribed: HashSet<PeerId>,
    pub(crate) answered: HashSet<PeerId>,
    pub(crate) refused: HashSet<PeerId>,
    /// Answers to participation events (receipts and refusals).
    pub(crate) event_answers: usize,
}

impl Seen {
    /// Every bootstrap peer admitted or refused the rogue, and one admitted
    /// peer is subscribed (or every one refused it).
    pub(crate) fn ready(&self) -> bool {
        let all_answered = self.bootstrap.iter().all(|p| self.answered.contains(p));
        all_answered
            && (!self.subscribed.is_empty()
                || self.bootstrap.iter().all(|p| self.refused.contains(p)))
    }
}

pub(crate) struct Rogue {
    pub(crate) swarm: Swarm<Behaviour>,
    pub(crate) topic: IdentTopic,
    pub(crate) certificate: Certificate,
    /// The certificate items travel with.
    pub(crate) item_certificate: Certificate,
    pub(crate) seen: Seen,
}

impl Rogue {
    /// Handles swarm events until `deadline` or until `stop` says so.
    pub(crate) async fn drive(&mut self, deadline: Instant, stop: impl Fn(&Seen) -> bool) {
        while !stop(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, self.swarm.select_next_some()).await {
                Ok(event) => self.on_event(event),
                Err(_) => return,
            }
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. }
                if self.seen.connected.insert(peer_id) =>
            {
                // The handshake admitted it.
                self.seen.answered.insert(peer_id);
                say(format!("connected {peer_id}"));
                say(format!("welcomed-by {peer_id}"));
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.seen.connected.remove(&peer_id);
                self.seen.subscribed.remove(&peer_id);
                say(format!("disconnected {peer_id}"));
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } if format!("{error:?}").contains("RefusedByPeer") => {
                self.seen.answered.insert(peer);
                let detail = format!("{error:?}");
                let after = self
                    .seen
                    .dialled
                    .get(&peer)
                    .map_or(u128::MAX, |t| t.elapsed().as_millis());
                if self.seen.refused.insert(peer) {
                    say(format!("refused-by {peer} after-ms={after}: {detail}"));
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                if let Some(peer) = peer_id {
                    self.seen.answered.insert(peer);
                }
                say(format!("dial-failed {peer_id:?}: {error}"));
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Direct(e)) => self.on_direct(e),
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.seen.subscribed.insert(peer_id);
                say(format!("subscribed {peer_id}"));
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            } => {
                // Seen, never relayed: the rogue is not here to help.
                say(format!("received-gossip from {propagation_source}"));
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Ignore,
                    );
            }
            _ => {}
        }
    }

    fn on_direct(&mut self, event: request_response::Event<Request, Response>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let response = Response::Refused {
                    reason: format!("a rogue answers nothing ({request:?})"),
                };
                say(format!("request-from {peer}"));
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .direct
                    .send_response(channel, response);
            }
            request_response::Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
                self.seen.answered.insert(peer);
                match response {
                    Response::Refused { reason } => {
                        self.seen.event_answers += 1;
                        say(format!("request-refused-by {peer}: {reason}"))
                    }
                    Response::Receipt { receipt } => {
                        self.seen.event_answers += 1;
                        let bytes = codec::encode(&receipt).expect("a receipt encodes");
                        let digest = cairn_protocol::hash::sha256(&[&bytes]);
                        say(format!(
                            "receipt-from {peer} index={} digest={}",
                            receipt.body.register_index,
                            hex(&digest)
                        ))
                    }
                    _ => say(format!("other-response-from {peer}")),
                }
            }
            request_response::Event::OutboundFailure { peer, error, .. } => {
                self.seen.answered.insert(peer);
                self.seen.event_answers += 1;
                say(format!("request-failed {peer}: {error}"));
            }
            _ => {}
        }
    }

    /// Publishes one encoded gossip message and reports it.
    pub(crate) fn publish(&mut self, title: &str, item: SignedItem) {
        let id = item.id();
        match self.send(item) {
            Ok(()) => say(format!("published {title} id={id}")),
            Err(e) => say(format!("publish-failed {title}: {e}")),
        }
    }

    /// Hands one item to gossipsub.
    fn send(&mut self, item: SignedItem) -> Result<(), gossipsub::PublishError> {
        let data = self.encode(item);
        self.send_encoded(data)
    }

    pub(crate) fn encode(&self, item: SignedItem) -> Vec<u8> {
        let message = GossipMessage::Item {
            item,
            certificate: self.item_certificate.clone(),
        };
        codec::encode(&message).expect("a rogue item still encodes")
    }

    pub(crate) fn send_encoded(&mut self, data: Vec<u8>) -> Result<(), gossipsub::PublishError> {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data)
            .map(|_| ())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
