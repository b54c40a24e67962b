//! Messages exchanged between nodes. Each is sent as one codec frame.
//!
//! New variants go at the end of each enum: the codec encodes the variant
//! index, so reordering would change the meaning of existing bytes.

use crate::certificate::Certificate;
use crate::event::SignedEvent;
use crate::item::SignedItem;
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
}

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// The responder's own certificate, after it accepted the caller's.
    Welcome { certificate: Certificate },
    /// The authority registered the event.
    Receipt { receipt: Receipt },
    /// The request was refused; the reason is for the operator's log.
    Refused { reason: String },
}
