//! The node's local API: what `cairn` (through the control socket) and the
//! demo (in process) can ask of a running node.

use crate::context::Context;
use crate::network::client::{Client, PublishOutcome};
use crate::participation;
use crate::stages::Stage;
use cairn_protocol::codec;
use cairn_protocol::control::{
    ControlRequest, ControlResponse, NodeStatus, ParticipationView, PublishRequest, RegisterView,
};
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{
    Content, Contents, EncodedItem, ItemBody, ParticipationKind, RegisterEntry, Role, SignedItem,
    Timestamp,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Mutex};
use tracing::info;

/// How long `join`/`withdraw` wait for the receipt before answering; the
/// event stays queued and is retried after that either way.
const RECEIPT_WAIT: Duration = Duration::from_secs(5);

mod export;
mod items;
mod payload;
mod pseudonym;
mod query;
mod trust;

pub use payload::{PayloadRefusal, Unreadable};

/// Cheap to clone; one per control connection.
#[derive(Clone)]
pub struct Api {
    ctx: Arc<Context>,
    client: Client,
    /// Serialises join/withdraw so two concurrent calls cannot both pass the
    /// transition check.
    participation_lock: Arc<Mutex<()>>,
}

fn error(message: impl Into<String>) -> ControlResponse {
    ControlResponse::Error {
        message: message.into(),
    }
}

impl Api {
    /// The API over a running node.
    pub fn new(ctx: Arc<Context>, client: Client) -> Self {
        Api {
            ctx,
            client,
            participation_lock: Arc::new(Mutex::new(())),
        }
    }

    /// Answers one request. `RegisterWatch` is answered by
    /// [`Api::watch_register`] instead, since it streams.
    pub async fn handle(&self, request: ControlRequest) -> ControlResponse {
        match request {
            ControlRequest::Status => self.status().await,
            ControlRequest::Publish(p) => self.publish(p, false).await,
            ControlRequest::PublishAsPseudonym(p) => self.publish(p, true).await,
            ControlRequest::ListItems { limit } => self.list_items(limit).await,
            ControlRequest::QueryItems(query) => self.query_items(query).await,
            ControlRequest::ShowItem { id } => self.show_item(&id).await,
            ControlRequest::StoreCheck => self.store_check().await,
            ControlRequest::ItemPayload { id } => self.item_payload(&id),
            ControlRequest::Members => self.members().await,
            ControlRequest::Join => self.participate(ParticipationKind::Joined).await,
            ControlRequest::Withdraw => {
                self.participate(ParticipationKind::WithdrawalEffective)
                    .await
            }
            ControlRequest::Participation => self.participation_view(),
            ControlRequest::RegisterList => match self.register_entries(0) {
                Ok(entries) => ControlResponse::Register {
                    entries: entries.iter().map(RegisterView::of).collect(),
                },
                Err(e) => error(e),
            },
            ControlRequest::RegisterWatch | ControlRequest::Sync => {
                error("this request streams: it is served by the control socket")
            }
            ControlRequest::PublishRevocation { revocation } => {
                self.publish_revocation(*revocation).await
            }
            ControlRequest::InstallCertificate { certificate } => {
                self.install_certificate(*certificate).await
            }
            ControlRequest::Reveal { item, reason } => self.reveal(item, reason).await,
            ControlRequest::ExportItems(query) => match self.export_page(&query).await {
                Ok(page) => ControlResponse::ExportPage(page),
                Err(e) => error(e),
            },
        }
    }

    /// The catch-up manager, for `Sync` requests.
    pub fn sync(&self) -> &crate::sync::manager::Sync {
        &self.ctx.sync
    }

    /// Register entries from `from` on, or an error on a non-authority node.
    pub fn register_entries(&self, from: u64) -> Result<Vec<RegisterEntry>, &'static str> {
        match &self.ctx.authority {
            Some(a) => Ok(a.register.entries(from)),
            None => Err("this node is not the community's authority: the register is kept there"),
        }
    }

    /// A feed of new register entries, subscribed before the caller reads
    /// the existing ones so nothing falls between the two.
    pub fn watch_register(&self) -> Result<broadcast::Receiver<RegisterEntry>, &'static str> {
        match &self.ctx.authority {
            Some(a) => Ok(a.subscribe()),
            None => Err("this node is not the community's authority: watch the register there"),
        }
    }

    async fn status(&self) -> ControlResponse {
        let Ok(snap) = self.client.snapshot().await else {
            return error("the node is shutting down");
        };
        let cert = self.ctx.certificate();
        let c = &cert.body;
        ControlResponse::Status(NodeStatus {
            entity_name: c.subject.display_name(),
            peer_id: snap.peer_id.to_string(),
            member_key: c.member_key,
            community_id: self.ctx.community.id,
            community_name: self.ctx.community.name.clone(),
            listen_addrs: snap
                .listen_addrs
                .iter()
                .map(|a| format!("{a}/p2p/{}", snap.peer_id))
                .collect(),
            connected_members: snap.members.len(),
            items: self.ctx.items.count(),
            outbox_pending: self.ctx.outbox.pending().len() as u64,
            query_index_behind: self.ctx.items.unindexed_chunks(),
            is_authority: self.ctx.authority.is_some(),
            register_entries: self.ctx.authority.as_ref().map(|a| a.register.len()),
            certificate_not_after: c.not_after,
            sync: self.ctx.sync.status().borrow().clone(),
            warnings: crate::expiry::warning(&cert, Timestamp::now())
                .into_iter()
                .chain(self.revoked_warning(&cert))
                .chain(self.pseudonym_warning())
                .collect(),
            abuse: self.abuse(),
            bootstrap: snap.bootstrap,
            directory: snap.directory,
            taxii: self.ctx.taxii_url.get().cloned(),
            misp_feed: self.ctx.misp_feed_url.get().cloned(),
            undelivered: self.undelivered(),
            web: self.ctx.web_url.get().cloned(),
            metrics: self.ctx.metrics_url.get().cloned(),
        })
    }

    /// This node's events still without a receipt, with their age and how
    /// their delivery is going.
    fn undelivered(&self) -> Vec<cairn_protocol::control::UndeliveredView> {
        let (now, at) = (Timestamp::now(), std::time::Instant::now());
        self.ctx
            .outbox
            .pending()
            .into_iter()
            .map(|e| {
                let id = e.id();
                cairn_protocol::control::UndeliveredView {
                    event_id: id,
                    kind: e.body.kind,
                    sequence: e.body.sequence,
                    age_secs: now.0.saturating_sub(e.body.effective.0) / 1000,
                    delivery: self.ctx.delivery.describe(&id, at),
                }
            })
            .collect()
    }

    /// Set once this node knows its own certificate is revoked (a
    /// registered withdrawal, or the issuer's revocation).
    fn revoked_warning(&self, cert: &cairn_protocol::Certificate) -> Option<String> {
        let e = self
            .ctx
            .revocations
            .check_peer(cert, Timestamp::now())
            .err()?;
        Some(format!(
            "this node's {e}: other members refuse its connections"
        ))
    }

    fn abuse(&self) -> cairn_protocol::control::AbuseStatus {
        use crate::rate_limit::Counters;
        let c = &self.ctx.counters;
        cairn_protocol::control::AbuseStatus {
            gossip_rate_limited: Counters::get(&c.gossip_rate_limited),
            publisher_rate_limited: Counters::get(&c.publisher_rate_limited),
            requests_rate_limited: Counters::get(&c.requests_rate_limited),
            gossip_rejected: Counters::get(&c.gossip_rejected),
            peers_banned: Counters::get(&c.peers_banned),
            banned_now: self.ctx.admission.bans_active() as u64,
        }
    }

    /// Publishes `p`, signed with the node's named key and certificate, or
    /// with its pseudonymous ones when `as_pseudonym`.
    async fn publish(&self, p: PublishRequest, as_pseudonym: bool) -> ControlResponse {
        let ctx = &self.ctx;
        let (key, certificate) = match self.signer(as_pseudonym) {
            Ok(signer) => signer,
            Err(e) => return error(e),
        };
        if !certificate.has_role(Role::Publish) {
            return error("this node's certificate does not grant the publish role");
        }
        if ctx.outbox.last_kind() == Some(ParticipationKind::WithdrawalEffective) {
            return error("this entity has withdrawn from the arrangement: `cairn join` first");
        }
        if let Err(e) = p.audience.check_marking(p.tlp) {
            return error(e.to_string());
        }
        // Every publish path (CLI, imports, TAXII POST) comes through here.
        if let Err(e) = cairn_protocol::taxonomy::check_tags(&p.tags, p.tlp) {
            return error(e.to_string());
        }
        let contents = Contents {
            title: p.title,
            body: p.body,
            payload: p.payload,
            tags: p.tags,
        };
        // Shape first, so a bad title is reported as such, not after sealing.
        if let Err(e) = contents.check_shape() {
            return error(e.to_string());
        }
        let mut body = ItemBody {
            community: ctx.community.id,
            kind: p.kind,
            tlp: p.tlp,
            content: Content::Open(contents),
            created: Timestamp::now(),
            publisher: certificate.id(),
        };
        // Under a pseudonym, the pseudonym is the publisher among the
        // recipients: the named key there would name the publisher.
        let sealing = match self.seal_for(&p.audience, &mut body, &certificate) {
            Ok(s) => s,
            Err(e) => return error(e),
        };
        let item = match SignedItem::sign(body, &key, &certificate) {
            Ok(i) => i,
            Err(e) => return error(e.to_string()),
        };
        let id = item.id();
        let message = GossipMessage::Item {
            item: item.clone(),
            certificate: certificate.clone(),
        };
        let data = match codec::encode(&message) {
            Ok(d) => d,
            Err(e) => return error(e.to_string()),
        };
        let item = match EncodedItem::new(item) {
            Ok(i) => i,
            Err(e) => return error(e.to_string()),
        };
        if ctx.stages.is_on() {
            ctx.stages
                .link(&crate::network::behaviour::message_id(&data), id);
            ctx.stages.item(id, Stage::Signed);
            if let Some(s) = sealing {
                ctx.stages.item_at(id, Stage::Resolved, s.resolved);
                ctx.stages.item_at(id, Stage::Sealed, s.sealed);
            }
        }
        // Through the same checks as every received item (so a node never
        // publishes what its peers would reject, an expired certificate say).
        // It goes to gossip as soon as it passes them, while it is written
        // and flushed here; the answer waits for both: success means the
        // item is on disk.
        let (checked, stored) = match ctx.ingest.submit_own((item, certificate)).await {
            Ok(pair) => pair,
            Err(_) => return error("the node is shutting down"),
        };
        match checked.await {
            Ok(Ok(())) => ctx.stages.item(id, Stage::Checked),
            Ok(Err(e)) => return error(format!("refusing to publish: {e}")),
            Err(_) => return error("the node is shutting down"),
        }
        let (sent, stored) = tokio::join!(self.client.publish(data), stored);
        match stored {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                // Already on its way to members (it verified): say so, as the
                // item will come back here by catch-up once the store works.
                return error(format!(
                    "the item {id} was sent to members but not stored on this node: {e}"
                ));
            }
            Err(_) => return error("the node is shutting down; the item may not be stored"),
        }
        let queued = match sent {
            Ok(PublishOutcome::Sent) => {
                info!(item = %id, "item published");
                None
            }
            Ok(PublishOutcome::Queued) => {
                info!(item = %id, "item stored; sent when a member is reachable");
                Some(
                    "no member is connected: the item is stored here and goes out when one connects (see `cairn status`)"
                        .to_string(),
                )
            }
            Err(_) => return error("the node is shutting down; the item is stored"),
        };
        ControlResponse::Published {
            id,
            stored: true,
            queued,
        }
    }

    async fn store_check(&self) -> ControlResponse {
        let ctx = self.ctx.clone();
        let check = move || crate::store_health::scrub(&ctx, Duration::ZERO);
        match tokio::task::spawn_blocking(check).await {
            Ok(Ok(r)) => ControlResponse::StoreChecked {
                checked: r.checked,
                dropped: r.dropped,
            },
            Ok(Err(e)) => error(format!("the store check failed: {e}")),
            Err(e) => error(format!("internal error: {e}")),
        }
    }

    async fn participate(&self, kind: ParticipationKind) -> ControlResponse {
        let event = {
            let _guard = self.participation_lock.lock().await;
            // Recording fsyncs the outbox: off the async threads.
            let ctx = self.ctx.clone();
            match tokio::task::spawn_blocking(move || participation::record(&ctx, kind)).await {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => return error(e),
                Err(e) => return error(format!("internal error: {e}")),
            }
        };
        self.ctx.participation_wake.notify_one();
        let id = event.id();
        let deadline = tokio::time::Instant::now() + RECEIPT_WAIT;
        while tokio::time::Instant::now() < deadline {
            if !self.ctx.outbox.pending().iter().any(|e| e.id() == id) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.participation_view()
    }

    fn participation_view(&self) -> ControlResponse {
        let events = self
            .ctx
            .outbox
            .all()
            .into_iter()
            .map(|(event, receipt)| ParticipationView {
                event_id: event.id(),
                kind: event.body.kind,
                sequence: event.body.sequence,
                effective: event.body.effective,
                register_index: receipt.as_ref().map(|r| r.body.register_index),
                registered_at: receipt.as_ref().map(|r| r.body.registered_at),
                delivery: match receipt {
                    Some(_) => None,
                    None => self
                        .ctx
                        .delivery
                        .describe(&event.id(), std::time::Instant::now()),
                },
            })
            .collect();
        ControlResponse::Participation { events }
    }
}
