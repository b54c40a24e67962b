//! Messages exchanged between nodes. Each is sent as one codec frame.
//!
//! New variants go at the end of each enum: the codec encodes the variant
//! index, so reordering would change the meaning of existing bytes.

use crate::certificate::Certificate;
use crate::event::SignedEvent;
use crate::item::{ItemId, SignedItem};
use crate::item_encoding::ItemBytes;
use crate::receipt::Receipt;
use serde::{Deserialize, Serialize};

/// What travels on the community's gossipsub topic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GossipMessage {
    /// An item with its publisher's certificate, so any node can verify it
    /// without having met the publisher.
    Item {
        item: SignedItem,
        certificate: Certificate,
    },
}

/// A direct request from one node to another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Sent right after connecting: the sender's membership certificate.
    Hello { certificate: Certificate },
    /// An Art. 29(4) event for the authority's register.
    Participation { event: SignedEvent },
    /// One round of range-based set reconciliation over item ids (a
    /// negentropy message); the responder answers statelessly.
    Reconcile { message: Vec<u8> },
    /// Items the requester lacks, by id (at most [`MAX_FETCH_IDS`]).
    Fetch { ids: Vec<ItemId> },
}

/// Most ids one fetch request may name.
pub const MAX_FETCH_IDS: usize = 1024;

/// Target size of one fetch response; the responder stops adding items
/// before passing it, and always sends at least one if it has any.
pub const FETCH_RESPONSE_BUDGET: usize = 768 * 1024;

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The responder's own certificate, after it accepted the caller's.
    Welcome { certificate: Certificate },
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
}
