//! Messages exchanged between nodes. Each is sent as one codec frame.
//!
//! New variants go at the end of each enum: the codec encodes the variant
//! index, so reordering would change the meaning of existing bytes.

use crate::certificate::Certificate;
use crate::event::SignedEvent;
use crate::handshake::RevocationSummary;
use crate::item::{ItemId, SignedItem};
use crate::item_encoding::ItemBytes;
use crate::receipt::Receipt;
use crate::revocation::{Revocation, RevocationId};
use serde::{Deserialize, Serialize};

/// What travels on the community's gossipsub topic.
// Items are nearly all of the traffic: boxing them to shrink the rare
// revocation variant would cost an allocation per item.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMessage {
    /// An item with its publisher's certificate, so any node can verify it
    /// without having met the publisher.
    Item {
        item: SignedItem,
        certificate: Certificate,
    },
    /// A revocation, spread at once to every member.
    Revocation { revocation: Revocation },
}

/// Which kind of gossip a frame carries, read from its variant byte so the
/// receiver can route it (and apply that kind's size limit) before
/// decoding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipKind {
    Item,
    Revocation,
}

/// Largest gossiped revocation: a withdrawal (event, certificate, receipt)
/// is under 2 KiB; an issuer revocation naming 64 certificates under 8 KiB.
pub const MAX_GOSSIP_REVOCATION: usize = 16 * 1024;

/// The kind of a gossip frame, `None` if it is neither (it is then
/// rejected as undecodable) or larger than its kind allows.
pub fn gossip_kind(frame: &[u8]) -> Option<GossipKind> {
    match frame.get(1)? {
        0 if frame.len() <= crate::codec::MAX_FRAME => Some(GossipKind::Item),
        1 if frame.len() <= MAX_GOSSIP_REVOCATION => Some(GossipKind::Revocation),
        _ => None,
    }
}

/// A direct request from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The sender's renewed certificate, for the same key (admission itself
    /// happens in the connection handshake, [`crate::handshake`]).
    Certificate { certificate: Certificate },
    /// An Art. 29(4) event for the authority's register.
    Participation { event: SignedEvent },
    /// One round of range-based set reconciliation over item ids (a
    /// negentropy message); the responder answers statelessly.
    Reconcile { message: Vec<u8> },
    /// Items the requester lacks, by id (at most [`MAX_FETCH_IDS`]).
    Fetch { ids: Vec<ItemId> },
    /// The requester's revocation summary: answered with the responder's
    /// ids when the sets differ.
    Revocations { summary: RevocationSummary },
    /// Revocations the requester lacks, by id.
    FetchRevocations { ids: Vec<RevocationId> },
}

/// Most ids one fetch request may name.
pub const MAX_FETCH_IDS: usize = 1024;

/// Target size of one fetch response; the responder stops adding items
/// before passing it, and always sends at least one if it has any.
pub const FETCH_RESPONSE_BUDGET: usize = 768 * 1024;

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The request was carried out.
    Accepted,
    /// The authority registered the event.
    Receipt { receipt: Receipt },
    /// The request was refused; the reason is for the operator's log.
    Refused { reason: String },
    /// The responder's reconciliation message.
    Reconcile { message: Vec<u8> },
    /// Requested items the responder holds, in request order, each as its
    /// stored encoding (the requester decodes and verifies every one), with
    /// each publisher certificate once. Ids it lacks or that did not fit the
    /// budget are simply absent; the requester asks again for the rest.
    Items {
        certificates: Vec<Certificate>,
        items: Vec<ItemBytes>,
    },
    /// Every revocation id the responder holds (the summaries differed).
    RevocationIds { ids: Vec<RevocationId> },
    /// Requested revocations the responder holds.
    Revocations { revocations: Vec<Revocation> },
    /// The revocation sets are the same.
    RevocationsInSync,
}

/// The largest frame each message may take, by the variant index the
/// frame carries right after its version byte: checked before decoding, so
/// a peer cannot make a node parse a megabyte where a hundred bytes belong.
/// `None` for a frame too short to say or an unknown variant.
pub fn request_limit(frame: &[u8]) -> Option<usize> {
    const SMALL: usize = 16 * 1024;
    let ids = |n: usize| n * 33 + 16;
    Some(match frame.get(1)? {
        0 => SMALL,                                   // Certificate
        1 => SMALL,                                   // Participation
        2 => crate::codec::MAX_FRAME,                 // Reconcile (negentropy)
        3 => ids(MAX_FETCH_IDS),                      // Fetch
        4 => 128,                                     // Revocations (summary)
        5 => ids(crate::revocation::MAX_REVOCATIONS), // FetchRevocations
        _ => return None,
    })
}
