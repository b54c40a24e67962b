//! Items as this node shows them: resolving and sealing audiences for a
//! publish, and the one view of an item every reader gets (`item_view`),
//! which applies the audience rule.

use super::{error, Api};
use crate::audience;
use cairn_protocol::control::{AudienceRequest, ControlResponse, ItemView, RevokedView};
use cairn_protocol::{Certificate, Content, Contents, ItemBody, ItemId, SignedItem, Timestamp};
use std::time::Instant;

/// When a sealed item's audience was resolved and its envelope made, for
/// the node's stage clock (the item has no id yet at either moment).
#[derive(Debug, Clone, Copy)]
pub(super) struct Sealing {
    pub resolved: Instant,
    pub sealed: Instant,
}

impl Api {
    /// Seals `body`'s open contents to the members `request` resolves to
    /// (among those this node knows); leaves a community-wide item as it is.
    pub(super) fn seal_for(
        &self,
        request: &AudienceRequest,
        body: &mut ItemBody,
        publisher: &Certificate,
    ) -> Result<Option<Sealing>, String> {
        if request.is_community() {
            return Ok(None);
        }
        let Content::Open(contents) = &body.content else {
            return Err("the item is already sealed".into());
        };
        // From the store alone: admitted members' certificates are kept
        // there, so publishing does not wait on the network task.
        let known = audience::known_certificates(&self.ctx, &[]);
        let revocations = &self.ctx.revocations;
        let revoked = |c: &Certificate| revocations.status(&c.id(), c).is_some();
        let resolved = audience::resolve(request, publisher, &known, Timestamp::now(), &revoked)?;
        let resolved_at = Instant::now();
        let envelope = audience::seal(contents, resolved, body).map_err(|e| e.to_string())?;
        let sealed = Instant::now();
        body.content = Content::Sealed(envelope);
        Ok(Some(Sealing {
            resolved: resolved_at,
            sealed,
        }))
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
            publisher_entity_type: cert.as_ref().and_then(|c| c.body.subject.entity_type()),
            publisher_revoked,
            payload_media_type: shown.payload.as_ref().map(|p| p.media_type.clone()),
            payload_size: shown.payload.as_ref().map(|p| p.bytes.len()).unwrap_or(0),
            payload: shown.payload.clone().filter(|_| with_payload),
            verified,
            audience,
        }
    }

    pub(super) async fn list_items(&self, limit: usize) -> ControlResponse {
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

    pub(super) async fn show_item(&self, id: &ItemId) -> ControlResponse {
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
}
