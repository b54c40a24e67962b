//! Handing an item's payload to the operator (`cairn items payload`).
//!
//! Every path that gives payload bytes out of the node goes through
//! [`readable_payload`], so a rule about who may read an item's content
//! (items encrypted to an audience are to be readable by its recipients
//! only) is written once, there, and holds for every view.

use super::{error, Api};
use crate::context::Context;
use cairn_protocol::control::{ControlResponse, PayloadView};
use cairn_protocol::{ItemId, Payload, SignedItem};

/// Why an item's payload is not handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("item {0} has no payload: its content is its body (`cairn items show`)")]
    NoPayload(ItemId),
    #[error("item {0} is sealed to an audience and {1}: its payload is for its recipients only")]
    NotInAudience(ItemId, String),
}

/// The payload of `item` (whose id is `id`) as this node may hand it to
/// its operator: the one gate for payload bytes. An item sealed to an
/// audience is opened here, for a recipient only.
pub fn readable_payload(
    ctx: &Context,
    id: &ItemId,
    item: &SignedItem,
) -> Result<Payload, Unreadable> {
    let contents = match item.body.open_contents() {
        Some(open) => open.clone(),
        None => match crate::audience::open(ctx, item) {
            Ok(Some(opened)) => opened,
            Ok(None) => return Err(Unreadable::NoPayload(*id)),
            Err(e) => return Err(Unreadable::NotInAudience(*id, e.to_string())),
        },
    };
    contents.payload.ok_or(Unreadable::NoPayload(*id))
}

/// Why [`Api::payload`] gives no bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadRefusal {
    #[error("no item {0} on this node: `cairn items list` shows what is here")]
    NoItem(ItemId),
    #[error("cannot read item {0}: {1}")]
    Read(ItemId, String),
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
}

impl Api {
    /// The payload of item `id` as this node may hand it out (CLI and web
    /// view alike).
    pub fn payload(&self, id: &ItemId) -> Result<Payload, PayloadRefusal> {
        let item = match self.ctx.items.get(id) {
            Ok(Some((item, _))) => item,
            Ok(None) => return Err(PayloadRefusal::NoItem(*id)),
            Err(e) => return Err(PayloadRefusal::Read(*id, e.to_string())),
        };
        Ok(readable_payload(&self.ctx, id, &item)?)
    }

    /// The bytes of item `id`'s payload, exactly as published.
    pub(super) fn item_payload(&self, id: &ItemId) -> ControlResponse {
        match self.payload(id) {
            Ok(p) => ControlResponse::ItemPayload(PayloadView {
                id: *id,
                media_type: p.media_type,
                bytes: p.bytes,
            }),
            Err(e) => error(e.to_string()),
        }
    }
}
