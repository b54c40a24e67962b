//! Notices: participation events and the authority's receipts as they
//! travel store-and-forward between members, so an entity that reaches the
//! authority only through other members can still notify it (Art. 29(4)).
//!
//! Both are signed by their authors (the member, the authority), so a relay
//! can only pass a notice on or drop it, never alter it; every node checks
//! a notice before keeping or forwarding it ([`Notice::check`]).

use crate::community::Community;
use crate::event::{EventError, EventId, SignedEvent};
use crate::receipt::{Receipt, ReceiptError};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A notice on its way to the authority (an event) or back to its member
/// (a receipt). New variants go at the end: the codec encodes the index.
// Notices are rare and short-lived; boxing the event would only add an
// allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Notice {
    Event { event: SignedEvent },
    Receipt { receipt: Receipt },
}

/// Why a relayed notice is not passed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    #[error("relayed event refused: {0}")]
    Event(#[from] EventError),
    #[error("relayed receipt refused: {0}")]
    Receipt(#[from] ReceiptError),
}

impl Notice {
    /// The event the notice is about (a receipt names its event).
    pub fn event_id(&self) -> EventId {
        match self {
            Notice::Event { event } => event.id(),
            Notice::Receipt { receipt } => receipt.body.event,
        }
    }

    /// Checks the author's signature and what a relay can check without
    /// the register: an event as the authority would verify it, a receipt
    /// as signed by the community's authority for the event it names.
    pub fn check(&self, community: &Community, now: Timestamp) -> Result<(), NoticeError> {
        match self {
            Notice::Event { event } => Ok(event.verify(community, now)?),
            Notice::Receipt { receipt } => Ok(receipt.verify(community, &receipt.body.event)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::{community, T0};
    use crate::event::tests::joined;
    use crate::identity::SecretKey;
    use crate::receipt::ReceiptBody;

    fn receipt(event: EventId, key: &SecretKey) -> Receipt {
        let body = ReceiptBody {
            community: community().id,
            event,
            register_index: 0,
            registered_at: T0,
            authority: key.public(),
        };
        Receipt::sign(body, key).unwrap()
    }

    #[test]
    fn signed_notices_pass_and_altered_ones_do_not() {
        let now = T0.plus_days(2);
        let event = joined(1);
        let id = event.id();
        let n = Notice::Event { event };
        assert_eq!(n.check(&community(), now), Ok(()));
        assert_eq!(n.event_id(), id);
        let Notice::Event { mut event } = n else {
            unreachable!()
        };
        event.body.sequence = 2;
        assert!(matches!(
            Notice::Event { event }.check(&community(), now),
            Err(NoticeError::Event(EventError::BadSignature))
        ));

        let authority = SecretKey::from_seed(&[3; 32]);
        let r = Notice::Receipt {
            receipt: receipt(id, &authority),
        };
        assert_eq!(r.check(&community(), now), Ok(()));
        assert_eq!(r.event_id(), id);
        let Notice::Receipt { mut receipt } = r else {
            unreachable!()
        };
        receipt.body.register_index = 9;
        assert!(Notice::Receipt { receipt }
            .check(&community(), now)
            .is_err());
        let forged = Notice::Receipt {
            receipt: receipt_for_other(id),
        };
        assert!(matches!(
            forged.check(&community(), now),
            Err(NoticeError::Receipt(ReceiptError::NotTheAuthority(_)))
        ));
    }

    fn receipt_for_other(id: EventId) -> Receipt {
        receipt(id, &SecretKey::from_seed(&[42; 32]))
    }
}
