//! Revocations: how a certificate stops serving its holder before it
//! expires, and the rules every node applies once it knows of one.
//!
//! Two things revoke:
//! - the issuer's signed revocation (key compromise, withdrawal, superseded,
//!   misbehaviour), made offline with `cairn cert revoke`;
//! - a registered withdrawal: the member's own signed `WithdrawalEffective`
//!   event with the authority's receipt for it. The authority does not issue
//!   certificates, so it cannot revoke; but the member's signature says it
//!   left and the receipt says the register holds it, and neither can be
//!   forged by a relay or by the authority alone.
//!
//! Revocations are content-addressed and reconciled between nodes like
//! items, so a node that was offline learns them when it reconnects.

use crate::certificate::{Certificate, CertificateError, CertificateId};
use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::event::{EventError, ParticipationKind, SignedEvent};
use crate::hash::sha256;
use crate::identity::{PublicKey, SecretKey};
use crate::receipt::{Receipt, ReceiptError};
use crate::signing::{signing_input, Signature, DOMAIN_REVOCATION};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

crate::named_enum!(
    /// Why a certificate was revoked (the RFC 5280 reasons that apply here).
    RevocationReason, "revocation reason", {
        /// The member's key leaked: nothing it signs can be trusted, whatever
        /// creation time it claims.
        KeyCompromise => "key-compromise",
        /// The entity left the arrangement.
        Withdrawn => "withdrawn",
        /// A newer certificate replaces this one.
        Superseded => "superseded",
        /// The member abused the community (flooding, poisoning).
        Misbehaviour => "misbehaviour",
    }
);

crate::fixed_bytes!(
    /// SHA-256 of a revocation's encoding.
    RevocationId,
    32
);

/// Most certificates one issuer revocation names (a member's named
/// certificate and its pseudonyms).
pub const MAX_REVOKED_PER_REVOCATION: usize = 64;

/// Most revocations a community may hold: their ids fit one frame, so two
/// nodes can always compare their sets in one exchange.
pub const MAX_REVOCATIONS: usize = 16_384;

/// One certificate an issuer revocation names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedCertificate {
    pub id: CertificateId,
    pub serial: u64,
    /// The certificate's member key, so a key compromise reaches every
    /// certificate of that key, renewed ones included.
    pub member_key: PublicKey,
}

/// What the issuer signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationBody {
    pub community: CommunityId,
    pub issuer: PublicKey,
    pub certificates: Vec<RevokedCertificate>,
    pub reason: RevocationReason,
    /// From when the certificates no longer serve.
    pub effective: Timestamp,
    /// When the issuer made this revocation.
    pub issued: Timestamp,
}

/// A revocation as nodes exchange and store it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revocation {
    /// The issuer's signed revocation.
    Issued {
        body: RevocationBody,
        signature: Signature,
    },
    /// A withdrawal registered by the authority: it revokes the member's key
    /// from the event's effective time.
    Withdrawal {
        event: Box<SignedEvent>,
        receipt: Receipt,
    },
}

/// What one revocation does to the certificates it reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub target: Target,
    pub reason: RevocationReason,
    pub effective: Timestamp,
}

/// Which certificates an effect reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// This certificate only.
    Certificate(CertificateId),
    /// Every certificate of this key valid before `effective` (a key
    /// compromise reaches every certificate of the key, whenever issued).
    Key(PublicKey),
}

/// Why a revocation is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevocationError {
    #[error("revocation belongs to community {found}, not {expected}")]
    OtherCommunity {
        expected: CommunityId,
        found: CommunityId,
    },
    #[error("revocation is signed by {0}, which is not an issuer of this community")]
    UnknownIssuer(PublicKey),
    #[error("revocation signature does not verify under the issuer's key")]
    BadSignature,
    #[error("revocation is malformed: {0}")]
    Malformed(String),
    #[error("revocation was issued at {issued}, after {now}: check the issuer's clock")]
    FromTheFuture { issued: Timestamp, now: Timestamp },
    #[error("withdrawal event does not verify: {0}")]
    Event(#[from] EventError),
    #[error("withdrawal receipt does not verify: {0}")]
    Receipt(#[from] ReceiptError),
    #[error("revocation cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl RevocationBody {
    fn check_shape(&self) -> Result<(), RevocationError> {
        let n = self.certificates.len();
        if n == 0 || n > MAX_REVOKED_PER_REVOCATION {
            return Err(RevocationError::Malformed(format!(
                "a revocation names 1-{MAX_REVOKED_PER_REVOCATION} certificates, this one {n}"
            )));
        }
        Ok(())
    }
}

impl Revocation {
    /// Signs `body` with the issuer's key it names.
    pub fn issue(body: RevocationBody, issuer: &SecretKey) -> Result<Self, RevocationError> {
        body.check_shape()?;
        if body.issuer != issuer.public() {
            return Err(RevocationError::Malformed(
                "the body names a different issuer key than the one signing".into(),
            ));
        }
        let signature = issuer.sign(&signing_input(DOMAIN_REVOCATION, &body)?);
        Ok(Revocation::Issued { body, signature })
    }

    /// The revocation a registered withdrawal amounts to.
    pub fn from_withdrawal(event: SignedEvent, receipt: Receipt) -> Self {
        Revocation::Withdrawal {
            event: Box::new(event),
            receipt,
        }
    }

    /// The content address.
    pub fn id(&self) -> RevocationId {
        let bytes = codec::encode(self).expect("a revocation always fits in a frame");
        RevocationId(sha256(&[&bytes]))
    }

    /// Checks the revocation for `community` at `now` and returns what it
    /// revokes. Nothing it says is trusted before this passes.
    pub fn verify(
        &self,
        community: &Community,
        now: Timestamp,
    ) -> Result<Vec<Effect>, RevocationError> {
        match self {
            Revocation::Issued { body, signature } => {
                if body.community != community.id {
                    return Err(RevocationError::OtherCommunity {
                        expected: community.id,
                        found: body.community,
                    });
                }
                if !community.is_issuer(&body.issuer) {
                    return Err(RevocationError::UnknownIssuer(body.issuer));
                }
                body.check_shape()?;
                if body.issued > now.plus_millis(crate::item::MAX_CLOCK_SKEW_MS) {
                    return Err(RevocationError::FromTheFuture {
                        issued: body.issued,
                        now,
                    });
                }
                body.issuer
                    .verify(&signing_input(DOMAIN_REVOCATION, body)?, signature)
                    .map_err(|_| RevocationError::BadSignature)?;
            }
            Revocation::Withdrawal { event, receipt } => {
                if event.body.kind != ParticipationKind::WithdrawalEffective {
                    return Err(RevocationError::Malformed(
                        "only a WithdrawalEffective event revokes".into(),
                    ));
                }
                event.verify(community, now)?;
                receipt.verify(community, &event.id())?;
            }
        }
        Ok(self.claimed_effects())
    }

    /// What the revocation says it revokes, unchecked: trust it only for a
    /// revocation that [`Revocation::verify`] accepted before.
    pub fn claimed_effects(&self) -> Vec<Effect> {
        match self {
            Revocation::Issued { body, .. } => body
                .certificates
                .iter()
                .map(|c| Effect {
                    target: match body.reason {
                        RevocationReason::KeyCompromise => Target::Key(c.member_key),
                        _ => Target::Certificate(c.id),
                    },
                    reason: body.reason,
                    effective: body.effective,
                })
                .collect(),
            Revocation::Withdrawal { event, .. } => vec![Effect {
                target: Target::Key(event.body.certificate.body.member_key),
                reason: RevocationReason::Withdrawn,
                effective: event.body.effective,
            }],
        }
    }

    /// The registered withdrawal event and its receipt, for a withdrawal.
    pub fn withdrawal(&self) -> Option<(&SignedEvent, &Receipt)> {
        match self {
            Revocation::Withdrawal { event, receipt } => Some((event, receipt)),
            Revocation::Issued { .. } => None,
        }
    }

    /// The reason, for people.
    pub fn reason(&self) -> RevocationReason {
        match self {
            Revocation::Issued { body, .. } => body.reason,
            Revocation::Withdrawal { .. } => RevocationReason::Withdrawn,
        }
    }
}

impl Effect {
    /// Whether a certificate it reaches can no longer connect at `now` (a
    /// key compromise: at once).
    pub fn in_force(&self, now: Timestamp) -> bool {
        self.effective <= now || self.reason == RevocationReason::KeyCompromise
    }

    /// Whether this effect reaches `certificate`.
    pub fn reaches(&self, id: &CertificateId, certificate: &Certificate) -> bool {
        match &self.target {
            Target::Certificate(c) => c == id,
            Target::Key(k) => {
                &certificate.body.member_key == k
                    && (self.reason == RevocationReason::KeyCompromise
                        || certificate.body.not_before <= self.effective)
            }
        }
    }
}

/// Every verified revocation effect a node knows, indexed for the checks
/// on each connection and each item.
#[derive(Clone, Debug, Default)]
pub struct RevocationSet {
    by_certificate: HashMap<CertificateId, Effect>,
    by_key: HashMap<PublicKey, Vec<Effect>>,
}

impl RevocationSet {
    /// Adds verified effects.
    pub fn add(&mut self, effects: impl IntoIterator<Item = Effect>) {
        for e in effects {
            match &e.target {
                Target::Certificate(id) => {
                    let slot = self.by_certificate.entry(*id).or_insert_with(|| e.clone());
                    if e.effective < slot.effective {
                        *slot = e;
                    }
                }
                Target::Key(k) => {
                    let list = self.by_key.entry(*k).or_default();
                    if !list.contains(&e) {
                        list.push(e);
                    }
                }
            }
        }
    }

    /// The earliest effect reaching `certificate` (whose id is `id`), if any,
    /// whether or not it is in force yet.
    pub fn status(&self, id: &CertificateId, certificate: &Certificate) -> Option<&Effect> {
        let by_id = self.by_certificate.get(id);
        let by_key = self
            .by_key
            .get(&certificate.body.member_key)
            .into_iter()
            .flatten()
            .filter(|e| e.reaches(id, certificate));
        by_id.into_iter().chain(by_key).min_by(|a, b| {
            // Key compromise outranks every other reason: it alone reaches
            // back before its effective time.
            let rank = |e: &Effect| (e.reason != RevocationReason::KeyCompromise, e.effective);
            rank(a).cmp(&rank(b))
        })
    }

    /// Whether `certificate` may serve a connection at `now`.
    pub fn check_peer(
        &self,
        id: &CertificateId,
        certificate: &Certificate,
        now: Timestamp,
    ) -> Result<(), CertificateError> {
        match self.status(id, certificate) {
            Some(e) if e.in_force(now) => Err(CertificateError::Revoked {
                id: *id,
                reason: e.reason,
                effective: e.effective,
            }),
            _ => Ok(()),
        }
    }

    /// Whether an item by `certificate` created at `created` may be stored.
    /// `already_held` says the node stored it before (items already held
    /// stay). Key compromise refuses every item not held, whatever creation
    /// time it claims: a leaked key can back-date.
    pub fn check_item(
        &self,
        id: &CertificateId,
        certificate: &Certificate,
        created: Timestamp,
        already_held: bool,
    ) -> Result<(), CertificateError> {
        if already_held {
            return Ok(());
        }
        match self.status(id, certificate) {
            Some(e) if e.reason == RevocationReason::KeyCompromise || created >= e.effective => {
                Err(CertificateError::Revoked {
                    id: *id,
                    reason: e.reason,
                    effective: e.effective,
                })
            }
            _ => Ok(()),
        }
    }

    /// How many certificates and keys are revoked.
    pub fn len(&self) -> usize {
        self.by_certificate.len() + self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "revocation_tests.rs"]
mod tests;
