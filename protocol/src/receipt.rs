//! Receipts: the authority's signed acknowledgement that an event is in the
//! register.

use crate::codec::CodecError;
use crate::community::{Community, CommunityId};
use crate::event::EventId;
use crate::identity::{PublicKey, SecretKey};
use crate::signing::{signing_input, Signature, DOMAIN_RECEIPT};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the authority signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptBody {
    pub community: CommunityId,
    pub event: EventId,
    /// Position in the authority's append-only register, from 0.
    pub register_index: u64,
    pub registered_at: Timestamp,
    pub authority: PublicKey,
}

/// A receipt with the authority's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub body: ReceiptBody,
    pub signature: Signature,
}

/// Why a receipt does not acknowledge the event it was meant for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt is signed by {0}, which is not this community's authority")]
    NotTheAuthority(PublicKey),
    #[error("receipt is for another community")]
    OtherCommunity,
    #[error("receipt acknowledges event {found}, not {expected}")]
    OtherEvent { expected: EventId, found: EventId },
    #[error("receipt signature does not verify")]
    BadSignature,
    #[error("receipt cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl Receipt {
    /// Signs `body` with the authority's key.
    pub fn sign(body: ReceiptBody, authority: &SecretKey) -> Result<Self, ReceiptError> {
        if body.authority != authority.public() {
            return Err(ReceiptError::NotTheAuthority(authority.public()));
        }
        let signature = authority.sign(&signing_input(DOMAIN_RECEIPT, &body)?);
        Ok(Receipt { body, signature })
    }

    /// Checks that this receipt is the community authority's acknowledgement
    /// of event `expected`.
    pub fn verify(&self, community: &Community, expected: &EventId) -> Result<(), ReceiptError> {
        let b = &self.body;
        if b.authority != community.authority {
            return Err(ReceiptError::NotTheAuthority(b.authority));
        }
        if b.community != community.id {
            return Err(ReceiptError::OtherCommunity);
        }
        if &b.event != expected {
            return Err(ReceiptError::OtherEvent {
                expected: *expected,
                found: b.event,
            });
        }
        b.authority
            .verify(&signing_input(DOMAIN_RECEIPT, b)?, &self.signature)
            .map_err(|_| ReceiptError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::{community, T0};
    use crate::event::tests::joined;

    fn authority() -> SecretKey {
        SecretKey::from_seed(&[3; 32])
    }

    fn receipt_for(event: EventId, key: &SecretKey) -> Receipt {
        let body = ReceiptBody {
            community: community().id,
            event,
            register_index: 4,
            registered_at: T0,
            authority: key.public(),
        };
        Receipt::sign(body, key).unwrap()
    }

    #[test]
    fn the_authority_receipt_verifies_for_its_event_only() {
        let e = joined(1).id();
        let r = receipt_for(e, &authority());
        assert_eq!(r.verify(&community(), &e), Ok(()));
        assert!(matches!(
            r.verify(&community(), &joined(2).id()),
            Err(ReceiptError::OtherEvent { .. })
        ));
    }

    #[test]
    fn receipts_from_anyone_else_are_refused() {
        let e = joined(1).id();
        let r = receipt_for(e, &SecretKey::from_seed(&[99; 32]));
        assert!(matches!(
            r.verify(&community(), &e),
            Err(ReceiptError::NotTheAuthority(_))
        ));
    }

    #[test]
    fn altered_receipts_are_refused() {
        let e = joined(1).id();
        let mut r = receipt_for(e, &authority());
        r.body.register_index = 5;
        assert_eq!(r.verify(&community(), &e), Err(ReceiptError::BadSignature));
    }
}
