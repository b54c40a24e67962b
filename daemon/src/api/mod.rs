//! The node's local API: what `cairn` (through the control socket) and the
//! demo (in process) can ask of a running node.

use crate::audience;
use crate::context::Context;
use crate::network::client::{Client, PublishOutcome};
use crate::participation;
use cairn_protocol::codec;
use cairn_protocol::control::{
    AudienceRequest, ControlRequest, ControlResponse, ExportPage, ExportQuery, ItemView,
    NodeStatus, ParticipationView, PublishRequest, RegisterView, RevokedView,
};
use cairn_protocol::interop::{check_export, WithheldCounts};
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{
    Content, Contents, EncodedItem, Envelope, ItemBody, ItemId, ParticipationKind, RegisterEntry,
    Role, SignedItem, Timestamp,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Mutex};
use tracing::info;

/// How long `join`/`withdraw` wait for the receipt before answering; the
/// event stays queued and is retried after that either way.
const RECEIPT_WAIT: Duration = Duration::from_secs(5);

mod payload;
mod pseudonym;
/// Most items in one export page.
const EXPORT_PAGE_ITEMS: usize = 500;
/// Items looked at for one export page at most (filters may drop many).
const EXPORT_PAGE_SCAN: usize = 2_000;
/// A page ends once its payloads and bodies pass this many bytes.
const EXPORT_PAGE_BYTES: usize = 8 << 20;

/// Cheap to clone; one per control connection.
mod trust;

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
            taxii: self.ctx.taxii_url.get().cloned(),
        })
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
        if !p.audience.is_community() {
            let Content::Open(contents) = &body.content else {
                unreachable!("built open just above")
            };
            // Under a pseudonym, the pseudonym is the publisher among the
            // recipients: the named key there would name the publisher.
            let envelope = match self
                .seal_for(&p.audience, contents, &body, &certificate)
                .await
            {
                Ok(e) => e,
                Err(e) => return error(e),
            };
            body.content = Content::Sealed(envelope);
        }
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
        // Through the same checks as every received item (so a node never
        // publishes what its peers would reject, an expired certificate say),
        // flushed before we answer: success means the item is on disk.
        match ctx.ingest.submit(vec![(item, certificate)], true).await {
            Ok(results) => match results.into_iter().next() {
                Some(Ok(_)) => {}
                Some(Err(e)) => return error(format!("refusing to publish: {e}")),
                None => return error("item not stored: no result from the ingest worker"),
            },
            Err(_) => return error("the node is shutting down"),
        }
        let queued = match self.client.publish(data).await {
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

    /// Resolves `request` against the members this node knows and seals
    /// `contents` to them.
    async fn seal_for(
        &self,
        request: &AudienceRequest,
        contents: &Contents,
        body: &ItemBody,
        publisher: &cairn_protocol::Certificate,
    ) -> Result<Envelope, String> {
        // From the store alone: admitted members' certificates are kept
        // there, so publishing does not wait on the network task.
        let known = audience::known_certificates(&self.ctx, &[]);
        let revocations = &self.ctx.revocations;
        let revoked = |c: &cairn_protocol::Certificate| revocations.status(&c.id(), c).is_some();
        let resolved = audience::resolve(request, publisher, &known, Timestamp::now(), &revoked)?;
        audience::seal(contents, resolved, body).map_err(|e| e.to_string())
    }

    /// Names for showing recipients, from every certificate this node knows.
    pub(crate) async fn names(&self) -> audience::Names {
        let seen = match self.client.snapshot().await {
            Ok(snap) => snap.seen,
            Err(_) => Vec::new(),
        };
        audience::Names::new(&audience::known_certificates(&self.ctx, &seen))
    }

    /// What this node may show of `item`, after the audience rule: the
    /// contents of an open item, or of a sealed one this node is a recipient
    /// of; nothing readable otherwise. Every view of an item goes through
    /// here, exports included (`with_payload`: the payload's bytes too).
    pub(crate) fn item_view(
        &self,
        id: ItemId,
        item: &SignedItem,
        names: &audience::Names,
        with_payload: bool,
    ) -> ItemView {
        let cert = self
            .ctx
            .items
            .certificate(&item.body.publisher)
            .ok()
            .flatten();
        let verified = cert
            .as_ref()
            .map(|c| {
                item.verify(c, &self.ctx.community, Timestamp::now())
                    .is_ok()
            })
            .unwrap_or(false);
        let publisher_revoked = cert.as_ref().and_then(|c| {
            self.ctx
                .revocations
                .status(&item.body.publisher, c)
                .map(|e| RevokedView {
                    reason: e.reason,
                    effective: e.effective,
                })
        });
        let b = &item.body;
        let (audience, sealed) = match audience::view(&self.ctx, item, names) {
            Some((view, contents)) => (Some(view), contents),
            None => (None, None),
        };
        let empty = Contents {
            title: String::new(),
            body: String::new(),
            payload: None,
            tags: Vec::new(),
        };
        let shown = match (b.open_contents(), sealed.as_ref()) {
            (Some(open), _) => open,
            (None, Some(opened)) => opened,
            (None, None) => &empty,
        };
        ItemView {
            id,
            kind: b.kind,
            tlp: b.tlp,
            title: shown.title.clone(),
            body: shown.body.clone(),
            tags: shown.tags.clone(),
            created: b.created,
            publisher: b.publisher,
            publisher_name: cert
                .as_ref()
                .map(|c| c.body.subject.display_name())
                .unwrap_or_else(|| "(unknown certificate)".into()),
            publisher_sector: cert.as_ref().and_then(|c| c.body.subject.sector()),
            publisher_revoked,
            payload_media_type: shown.payload.as_ref().map(|p| p.media_type.clone()),
            payload_size: shown.payload.as_ref().map(|p| p.bytes.len()).unwrap_or(0),
            payload: shown.payload.clone().filter(|_| with_payload),
            verified,
            audience,
        }
    }

    async fn list_items(&self, limit: usize) -> ControlResponse {
        if limit == 0 {
            return error("a listing of 0 items was asked for: give a limit of 1 or more");
        }
        let names = self.names().await;
        let mut items = Vec::new();
        for id in self.ctx.index.newest(limit.min(10_000)) {
            match self.ctx.items.get(&id) {
                Ok(Some((item, _))) => items.push(self.item_view(id, &item, &names, false)),
                // Taken out just now because its bytes were damaged (the
                // store logged it; a member sends it again).
                Ok(None) => {}
                Err(e) => return error(format!("cannot read item {id}: {e}")),
            }
        }
        ControlResponse::Items { items }
    }

    async fn show_item(&self, id: &ItemId) -> ControlResponse {
        match self.ctx.items.get(id) {
            Ok(Some((item, _))) => {
                let names = self.names().await;
                ControlResponse::Item(self.item_view(*id, &item, &names, false))
            }
            Ok(None) => error(format!(
                "no item {id} on this node: `cairn items list` shows what is here"
            )),
            Err(e) => error(format!("cannot read item {id}: {e}")),
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

    /// One page of an export: the items after `q.after` in creation order
    /// that match the query, as views with payloads, each let out by the
    /// export policy ([`check_export`]) or counted as withheld. Scans a
    /// bounded number of items per page, so a page may come back short (or
    /// empty) with a `next` cursor.
    async fn export_page(&self, q: &ExportQuery) -> Result<ExportPage, String> {
        let limit = q.limit.clamp(1, EXPORT_PAGE_ITEMS);
        let names = self.names().await;
        let since = q.since.map(|t| t.millis()).unwrap_or(0);
        let after = q.after.map(|(t, id)| (t.millis(), id));
        let scan = self.ctx.index.after(after, since, EXPORT_PAGE_SCAN);
        let mut items = Vec::new();
        let mut withheld = WithheldCounts::default();
        let mut bytes = 0;
        let mut last = None;
        for (created, id) in &scan {
            if items.len() >= limit || bytes >= EXPORT_PAGE_BYTES {
                break;
            }
            last = Some((Timestamp(*created), *id));
            let item = match self.ctx.items.get(id) {
                Ok(Some((item, _))) => item,
                // Taken out just now because its bytes were damaged.
                Ok(None) => continue,
                Err(e) => return Err(format!("cannot read item {id}: {e}")),
            };
            if !q.kinds.is_empty() && !q.kinds.contains(&item.body.kind) {
                continue;
            }
            let view = self.item_view(*id, &item, &names, true);
            if let Err(why) = check_export(&view, &q.policy) {
                withheld.add(why);
                continue;
            }
            bytes += view.payload_size + view.body.len();
            items.push(view);
        }
        let more = match last {
            Some((t, id)) => {
                scan.last() != Some(&(t.millis(), id)) || scan.len() == EXPORT_PAGE_SCAN
            }
            None => false,
        };
        Ok(ExportPage {
            items,
            withheld,
            next: last.filter(|_| more),
        })
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
            })
            .collect();
        ControlResponse::Participation { events }
    }
}
