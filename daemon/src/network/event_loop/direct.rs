//! Direct requests between members (request_response): admission by
//! certificate, participation events for the authority, and catch-up
//! requests, with answers that need the store computed off the network task.

use super::EventLoop;
use crate::network::peers::{check_certificate, peer_id_of};
use crate::sync::fetch::{answer_fetch, answer_reconcile};
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::{Role, Timestamp};
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::PeerId;
use std::time::Instant;
use tracing::{debug, info, info_span, warn};

impl EventLoop {
    pub(super) fn on_direct(&mut self, event: request_response::Event<Request, Response>) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, request, channel),
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => self.on_response(peer, request_id, response),
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(reply) = self.pending.remove(&request_id) {
                    let _ = reply.send(Err(format!("request to {peer} failed: {error}")));
                } else {
                    debug!(%peer, "request failed: {error}");
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "inbound request failed: {error}");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn on_request(&mut self, peer: PeerId, request: Request, channel: ResponseChannel<Response>) {
        let span = info_span!("request", %peer);
        let _g = span.enter();
        match request {
            Request::Hello { certificate } => match self.admit(peer, certificate) {
                Ok(()) => {
                    let certificate = self.ctx.certificate.clone();
                    self.respond(channel, Response::Welcome { certificate });
                }
                Err(reason) => self.respond(channel, Response::Refused { reason }),
            },
            _ if self.peers.certificate(&peer).is_none() => {
                let reason = "present a valid certificate before other requests".to_string();
                self.respond(channel, Response::Refused { reason });
            }
            Request::Reconcile { .. } | Request::Fetch { .. } if !self.may_receive(&peer) => {
                let reason = "your certificate does not grant the receive role".to_string();
                self.respond(channel, Response::Refused { reason });
            }
            Request::Reconcile { message } => {
                let index = self.ctx.index.clone();
                self.answer_off_loop(channel, move || answer_reconcile(&index, &message));
            }
            Request::Fetch { ids } => {
                let items = self.ctx.items.clone();
                self.answer_off_loop(channel, move || answer_fetch(&items, &ids));
            }
            Request::Participation { event } => {
                let Some(authority) = self.ctx.authority.clone() else {
                    let reason = "this node is not the community's authority".to_string();
                    self.respond(channel, Response::Refused { reason });
                    return;
                };
                // Registering fsyncs; do it off this task and answer later,
                // within the same bound as other off-task answers.
                let Ok(permit) = self.responders.clone().try_acquire_owned() else {
                    let reason = "busy; retry later".to_string();
                    self.respond(channel, Response::Refused { reason });
                    return;
                };
                let client = self.client.clone();
                tokio::spawn(async move {
                    let response = authority.handle(event).await;
                    let _ = client.respond(channel, response).await;
                    drop(permit);
                });
            }
        }
    }

    /// Whether an admitted peer's certificate lets it receive items.
    fn may_receive(&self, peer: &PeerId) -> bool {
        self.peers
            .certificate(peer)
            .is_some_and(|c| c.has_role(Role::Receive) || c.has_role(Role::Authority))
    }

    /// Computes an answer on a blocking thread and sends it back through the
    /// command channel, so reading the store never stalls the swarm.
    fn answer_off_loop(
        &mut self,
        channel: ResponseChannel<Response>,
        answer: impl FnOnce() -> Response + Send + 'static,
    ) {
        let Ok(permit) = self.responders.clone().try_acquire_owned() else {
            let reason = "busy answering other members; retry later".to_string();
            self.respond(channel, Response::Refused { reason });
            return;
        };
        let client = self.client.clone();
        tokio::spawn(async move {
            let response = tokio::task::spawn_blocking(answer)
                .await
                .unwrap_or_else(|e| Response::Refused {
                    reason: format!("internal error: {e}"),
                });
            let _ = client.respond(channel, response).await;
            drop(permit);
        });
    }

    fn on_response(&mut self, peer: PeerId, request_id: OutboundRequestId, response: Response) {
        let span = info_span!("response", %peer);
        let _g = span.enter();
        if let Some(reply) = self.pending.remove(&request_id) {
            let _ = reply.send(Ok(response));
            return;
        }
        match response {
            Response::Welcome { certificate } => {
                if let Err(reason) = self.admit(peer, certificate) {
                    warn!("peer welcomed us with an invalid certificate: {reason}");
                }
            }
            Response::Refused { reason } => {
                warn!("peer refused our certificate: {reason}");
            }
            _ => debug!("unexpected response to a hello"),
        }
    }

    /// Verifies a presented certificate and, if it holds, admits the peer.
    fn admit(
        &mut self,
        peer: PeerId,
        certificate: cairn_protocol::Certificate,
    ) -> Result<(), String> {
        if self.peers.certificate(&peer).is_some() {
            return Ok(());
        }
        match check_certificate(&certificate, &self.ctx.community, Timestamp::now(), &peer) {
            Ok(()) => {
                let entity = certificate.body.entity_name.clone();
                if !self.peers.admit(peer, certificate) {
                    // Its connection closed while we were checking.
                    return Ok(());
                }
                info!(%entity, "member admitted");
                self.refused.remove(&peer);
                self.set_score(&peer);
                // Items published while nobody was reachable can go now.
                self.flush_queued_publishes();
                if peer == peer_id_of(&self.ctx.community.authority) {
                    self.ctx.participation_wake.notify_one();
                }
                self.ctx.sync.want_session(peer);
                Ok(())
            }
            Err(e) => {
                warn!("certificate refused: {e}");
                self.refused.insert(peer, Instant::now());
                Err(e.to_string())
            }
        }
    }
}
