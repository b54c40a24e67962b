//! Messages exchanged between nodes. Each is sent as one codec frame.
//!
//! New variants go at the end of each enum: the codec encodes the variant
//! index, so reordering would change the meaning of existing bytes.

use crate::certificate::Certificate;
use crate::event::SignedEvent;
use crate::handshake::RevocationSummary;
use crate::item::{ItemId, SignedItem};
use crate::item_encoding::ItemBytes;
use crate::notice::Notice;
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
    /// A participation event or receipt passed on store-and-forward
    /// ([`crate::notice`]): answered with the receipt when the responder
    /// holds it (or is the authority), else `Accepted` (kept and passed on).
    Notice { notice: Notice },
    /// The sender just stored `stored` items by catch-up: the receiver
    /// reconciles with it soon (items fetched are never re-gossiped).
    SyncHint { stored: u64 },
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
        6 => SMALL,                                   // Notice
        7 => 32,                                      // SyncHint
        _ => return None,
    })
}

/// The largest frame each response may take, by variant index, like
/// [`request_limit`]: a node that asked for a receipt does not parse a
/// megabyte to learn it was refused.
pub fn response_limit(frame: &[u8]) -> Option<usize> {
    const SMALL: usize = 16 * 1024;
    Some(match frame.get(1)? {
        0 => 16,                                           // Accepted
        1 => SMALL,                                        // Receipt
        2 => SMALL,                                        // Refused (a reason)
        3 => crate::codec::MAX_FRAME,                      // Reconcile
        4 => crate::codec::MAX_FRAME,                      // Items
        5 => crate::revocation::MAX_REVOCATIONS * 33 + 16, // RevocationIds
        6 => crate::codec::MAX_FRAME,                      // Revocations
        7 => 16,                                           // RevocationsInSync
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode, MAX_FRAME};

    /// The limit functions read the variant index at byte 1: check that
    /// every variant's index is the one its limit assumes, so a reordered
    /// enum cannot silently give a message another kind's limit.
    #[test]
    fn limits_follow_the_variant_indexes() {
        let small = |r: &Request| request_limit(&encode(r).unwrap()).unwrap();
        assert_eq!(small(&Request::Reconcile { message: vec![] }), MAX_FRAME);
        assert_eq!(
            small(&Request::Fetch { ids: vec![] }),
            MAX_FETCH_IDS * 33 + 16
        );
        assert_eq!(
            small(&Request::FetchRevocations { ids: vec![] }),
            crate::revocation::MAX_REVOCATIONS * 33 + 16
        );
        let res = |r: &Response| response_limit(&encode(r).unwrap()).unwrap();
        assert_eq!(res(&Response::Accepted), 16);
        assert_eq!(res(&Response::RevocationsInSync), 16);
        assert_eq!(res(&Response::Refused { reason: "x".into() }), 16 * 1024);
        assert_eq!(res(&Response::Reconcile { message: vec![] }), MAX_FRAME);
        assert_eq!(
            res(&Response::Items {
                certificates: vec![],
                items: vec![]
            }),
            MAX_FRAME
        );
        assert_eq!(
            res(&Response::Revocations {
                revocations: vec![]
            }),
            MAX_FRAME
        );
        let hint = encode(&Request::SyncHint { stored: u64::MAX }).unwrap();
        assert_eq!(request_limit(&hint), Some(32));
        assert!(hint.len() <= 32);
        let notice = Request::Notice {
            notice: crate::notice::Notice::Event {
                event: crate::event::tests::joined(1),
            },
        };
        let frame = encode(&notice).unwrap();
        assert!(frame.len() <= small(&notice), "{}", frame.len());
        // Frames too short to say, or with an unknown variant, have none.
        assert_eq!(request_limit(&[crate::codec::VERSION]), None);
        assert_eq!(request_limit(&[crate::codec::VERSION, 8]), None);
        assert_eq!(response_limit(&[crate::codec::VERSION, 8]), None);
    }

    #[test]
    fn a_fetch_of_the_most_ids_fits_its_limit() {
        let ids = vec![crate::item::ItemId([7; 32]); MAX_FETCH_IDS];
        let frame = encode(&Request::Fetch { ids }).unwrap();
        assert!(
            frame.len() <= request_limit(&frame).unwrap(),
            "{}",
            frame.len()
        );
    }

    #[test]
    fn gossip_kinds_and_their_limits() {
        assert_eq!(
            gossip_kind(&[crate::codec::VERSION, 0, 1]),
            Some(GossipKind::Item)
        );
        let mut revocation = vec![crate::codec::VERSION, 1];
        assert_eq!(gossip_kind(&revocation), Some(GossipKind::Revocation));
        revocation.resize(MAX_GOSSIP_REVOCATION + 1, 0);
        assert_eq!(gossip_kind(&revocation), None, "too large for its kind");
        assert_eq!(gossip_kind(&[crate::codec::VERSION, 2]), None);
        assert_eq!(gossip_kind(&[crate::codec::VERSION]), None);
    }
}
