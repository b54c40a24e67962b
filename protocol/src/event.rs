//! Participation events: the Art. 29(4) notifications an entity sends the
//! competent authority when it joins an arrangement and when its withdrawal
//! takes effect.

use crate::certificate::{Certificate, CertificateError};
use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::hash::sha256;
use crate::identity::SecretKey;
use crate::item::MAX_CLOCK_SKEW_MS;
use crate::signing::{signing_input, Signature, DOMAIN_EVENT};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

crate::named_enum!(
    /// Which Art. 29(4) notification this is.
    ParticipationKind, "participation event", {
        /// The entity entered the arrangement.
        Joined => "joined",
        /// The entity's withdrawal from the arrangement took effect.
        WithdrawalEffective => "withdrawal-effective",
    }
);

crate::fixed_bytes!(
    /// SHA-256 of a signed event's encoding.
    EventId,
    32
);

/// What the member signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventBody {
    pub community: CommunityId,
    pub kind: ParticipationKind,
    /// When the participation or the withdrawal took effect.
    pub effective: Timestamp,
    /// The entity's certificate, so the register is self-contained.
    pub certificate: Certificate,
    /// Per-member counter, starting at 1, so the authority can tell a retry
    /// of the same event from a new one and spot gaps.
    pub sequence: u64,
}

/// An event with the member's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedEvent {
    pub body: EventBody,
    pub signature: Signature,
}

/// Why an event is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("event belongs to community {found}, not {expected}")]
    OtherCommunity {
        expected: CommunityId,
        found: CommunityId,
    },
    #[error("event sequence numbers start at 1")]
    ZeroSequence,
    #[error("event takes effect at {effective}, after {now}: notify once it has taken effect")]
    FromTheFuture {
        effective: Timestamp,
        now: Timestamp,
    },
    #[error("entity certificate is not valid when the event took effect: {0}")]
    Certificate(#[from] CertificateError),
    #[error("event signature does not verify under the entity's certified key")]
    BadSignature,
    #[error("event cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl SignedEvent {
    /// Signs `body` with the key its certificate names.
    pub fn sign(body: EventBody, key: &SecretKey) -> Result<Self, EventError> {
        if body.certificate.body.member_key != key.public() {
            return Err(EventError::BadSignature);
        }
        if body.sequence == 0 {
            return Err(EventError::ZeroSequence);
        }
        let signature = key.sign(&signing_input(DOMAIN_EVENT, &body)?);
        Ok(SignedEvent { body, signature })
    }

    /// The content address of this event.
    pub fn id(&self) -> EventId {
        let bytes = codec::encode(self).expect("an event always fits in a frame");
        EventId(sha256(&[&bytes]))
    }

    /// Checks community, sequence, time, the certificate at the effective
    /// time, and the member's signature.
    pub fn verify(&self, community: &Community, now: Timestamp) -> Result<(), EventError> {
        let b = &self.body;
        if b.community != community.id {
            return Err(EventError::OtherCommunity {
                expected: community.id,
                found: b.community,
            });
        }
        if b.sequence == 0 {
            return Err(EventError::ZeroSequence);
        }
        if b.effective > now.plus_millis(MAX_CLOCK_SKEW_MS) {
            return Err(EventError::FromTheFuture {
                effective: b.effective,
                now,
            });
        }
        if b.certificate.body.subject.is_pseudonym() {
            return Err(CertificateError::Pseudonymous.into());
        }
        b.certificate.verify(community, b.effective)?;
        b.certificate
            .body
            .member_key
            .verify(&signing_input(DOMAIN_EVENT, b)?, &self.signature)
            .map_err(|_| EventError::BadSignature)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::certificate::tests::{cert_for, community, member, T0};

    pub fn joined(seq: u64) -> SignedEvent {
        let body = EventBody {
            community: community().id,
            kind: ParticipationKind::Joined,
            effective: T0.plus_days(2),
            certificate: cert_for(&member()),
            sequence: seq,
        };
        SignedEvent::sign(body, &member()).unwrap()
    }

    #[test]
    fn a_signed_event_verifies() {
        assert_eq!(joined(1).verify(&community(), T0.plus_days(2)), Ok(()));
    }

    #[test]
    fn tampering_is_detected() {
        let mut e = joined(1);
        e.body.kind = ParticipationKind::WithdrawalEffective;
        assert_eq!(
            e.verify(&community(), T0.plus_days(2)),
            Err(EventError::BadSignature)
        );
    }

    #[test]
    fn only_the_certified_key_can_sign() {
        let mut body = joined(1).body;
        body.sequence = 2;
        let other = SecretKey::from_seed(&[77; 32]);
        assert_eq!(
            SignedEvent::sign(body, &other),
            Err(EventError::BadSignature)
        );
    }

    #[test]
    fn events_outside_the_certificate_validity_are_refused() {
        let mut body = joined(1).body;
        body.effective = T0.plus_days(500);
        let e = SignedEvent::sign(body, &member()).unwrap();
        assert!(matches!(
            e.verify(&community(), T0.plus_days(500)),
            Err(EventError::Certificate(CertificateError::Expired { .. }))
        ));
    }

    #[test]
    fn future_events_and_zero_sequences_are_refused() {
        assert!(matches!(
            joined(1).verify(&community(), T0),
            Err(EventError::FromTheFuture { .. })
        ));
        let mut body = joined(1).body;
        body.sequence = 0;
        assert_eq!(
            SignedEvent::sign(body, &member()),
            Err(EventError::ZeroSequence)
        );
    }

    #[test]
    fn other_community_events_are_refused() {
        let mut c = community();
        c.id = CommunityId([0; 16]);
        assert!(matches!(
            joined(1).verify(&c, T0.plus_days(2)),
            Err(EventError::OtherCommunity { .. })
        ));
    }

    #[test]
    fn retries_have_the_same_id_new_events_do_not() {
        assert_eq!(joined(1).id(), joined(1).id());
        assert_ne!(joined(1).id(), joined(2).id());
    }
}
