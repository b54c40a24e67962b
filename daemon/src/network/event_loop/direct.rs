//! Direct requests between members (request_response): renewed
//! certificates, participation events for the authority, notices passed on
//! for others (`notices`), catch-up of items and revocations, with answers
//! that need the store computed off the network task. Only admitted members reach here: admission happens in the
//! connection handshake (`network::admission`).

use super::EventLoop;
use crate::network::peers::check_certificate;
use crate::notices::relay;
use crate::sync::answer::{answer_fetch, answer_reconcile};
use crate::sync::revocations::answer_summary;
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::{Certificate, Role, Timestamp};
use libp2p::request_response::{self, OutboundRequestId, ResponseChannel};
use libp2p::PeerId;
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
            _ if self.peers.certificate(&peer).is_none() => {
                let reason = "this connection is not admitted".to_string();
                self.respond(channel, Response::Refused { reason });
            }
            ref r if !self.request_allowed(&peer, r) => {
                // Dropped before any work (store reads, verification).
                let reason = "rate limited; retry later".to_string();
                self.respond(channel, Response::Refused { reason });
            }
            Request::Certificate { certificate } => {
                let response = match self.renewed(peer, certificate) {
                    Ok(()) => Response::Accepted,
                    Err(reason) => Response::Refused { reason },
                };
                self.respond(channel, response);
            }
            Request::Revocations { summary } => {
                let response = answer_summary(&self.ctx.revocations, &summary);
                self.respond(channel, response);
            }
            Request::FetchRevocations { ids } => {
                let revocations = self.ctx.revocations.get(&ids);
                self.respond(channel, Response::Revocations { revocations });
            }
            Request::Reconcile { .. } | Request::Fetch { .. } if !self.may_receive(&peer) => {
                let reason = "your certificate does not grant the receive role".to_string();
                self.respond(channel, Response::Refused { reason });
            }
            Request::Reconcile { message } => {
                let index = self.ctx.index.clone();
                let metrics = self.ctx.metrics.clone();
                metrics.catchup_bytes("received", message.len());
                self.answer_off_loop(channel, move || {
                    let answer = answer_reconcile(&index, &message);
                    if let Response::Reconcile { message } = &answer {
                        metrics.catchup_bytes("sent", message.len());
                    }
                    answer
                });
            }
            Request::Fetch { ids } => {
                let items = self.ctx.items.clone();
                let metrics = self.ctx.metrics.clone();
                self.answer_off_loop(channel, move || {
                    let answer = answer_fetch(&items, &ids);
                    if let Response::Items { items, .. } = &answer {
                        metrics.catchup_bytes("sent", items.iter().map(|i| i.0.len()).sum());
                        metrics.catchup_items("served", items.len());
                    }
                    answer
                });
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
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let (response, revocation) = relay::register(&authority, event).await;
                    let _ = client.respond(channel, response).await;
                    drop(permit);
                    if let Some(revocation) = revocation {
                        relay::spread_withdrawal(ctx, client, revocation).await;
                    }
                });
            }
            Request::SyncHint { stored } => {
                // Nothing is fetched on the hint's word: the session that
                // follows reconciles and verifies as always.
                debug!(stored, "reconcile hint: the member just stored items");
                self.ctx.sync.want_session(peer);
                self.respond(channel, Response::Accepted);
            }
            Request::Notice { notice } => {
                // Checking a signature, maybe registering (fsync): off this
                // task, within the same bound as other off-task answers.
                let Ok(permit) = self.responders.clone().try_acquire_owned() else {
                    let reason = "busy; retry later".to_string();
                    self.respond(channel, Response::Refused { reason });
                    return;
                };
                let client = self.client.clone();
                let ctx = self.ctx.clone();
                tokio::spawn(async move {
                    let response = relay::on_notice(ctx, client.clone(), peer, notice).await;
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
            Response::Accepted => debug!("peer took the renewed certificate"),
            Response::Refused { reason } => warn!("peer refused a request: {reason}"),
            _ => debug!("unexpected response"),
        }
    }

    /// A member presents a renewed certificate: same key, valid, unrevoked.
    fn renewed(&mut self, peer: PeerId, certificate: Certificate) -> Result<(), String> {
        let now = Timestamp::now();
        check_certificate(&certificate, &self.ctx.community, now, &peer)
            .map_err(|e| e.to_string())?;
        self.ctx
            .revocations
            .check_peer(&certificate, now)
            .map_err(|e| e.to_string())?;
        info!(not_after = %certificate.body.not_after, "member presented a renewed certificate");
        self.peers.admit(peer, certificate);
        self.set_score(&peer);
        Ok(())
    }

    /// Records `peer`, whose certificate the handshake verified, as a
    /// member, and starts what follows admission.
    pub(super) fn admit(&mut self, peer: PeerId, certificate: Certificate) {
        let entity = certificate.body.subject.display_name();
        let key = certificate.body.member_key;
        if let Some(other) = self
            .peers
            .admitted()
            .find(|(p, c)| **p != peer && c.body.member_key == key)
        {
            // Cannot happen through noise (one key, one PeerId), kept as
            // a guard for the invariant the members view relies on.
            warn!(%entity, other = %other.0, "a second connection with an admitted member's key");
        }
        // Remembered, so this node can seal audience items to the member
        // later, connected or not (an index write, not synced).
        if let Err(e) = self.ctx.items.remember_certificate(&certificate) {
            warn!(%entity, "cannot remember the member's certificate: {e}");
        }
        self.peers.admit(peer, certificate);
        info!(%entity, "member admitted");
        self.set_score(&peer);
        // Items published while nobody was reachable can go now.
        self.flush_queued_publishes();
        // Undelivered events of this node go now, to the authority or
        // through this member; notices held for others are passed to it.
        self.ctx.participation_wake.notify_one();
        tokio::spawn(relay::push_held(
            self.ctx.clone(),
            self.client.clone(),
            peer,
        ));
        self.ctx.sync.want_session(peer);
        // Where the other members listen, as they signed it.
        self.directory_pull(peer);
    }
}
