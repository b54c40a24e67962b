//! Membership certificates: the community issuer's signature over a member's
//! key, identity, roles and validity. Only holders of a valid certificate may
//! connect, publish or receive.

use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::encryption::EncryptionPublicKey;
use crate::entity::Role;
use crate::hash::sha256;
use crate::identity::{PreparedKey, PublicKey, SecretKey};
use crate::signing::{signing_input, Signature, DOMAIN_CERTIFICATE};
use crate::subject::Subject;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

crate::fixed_bytes!(
    /// SHA-256 of a certificate's encoding: how items refer to their
    /// publisher's certificate.
    CertificateId,
    32
);

/// What the issuer vouches for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBody {
    pub community: CommunityId,
    pub serial: u64,
    pub issuer: PublicKey,
    /// The member's signing key; for a named entity also its libp2p
    /// identity (a pseudonym's key only signs items).
    pub member_key: PublicKey,
    /// Where content sealed to this member goes.
    pub encryption_key: EncryptionPublicKey,
    pub subject: Subject,
    pub roles: Vec<Role>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// A certificate body with the issuer's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub body: CertificateBody,
    pub signature: Signature,
}

/// Why a certificate is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    #[error("certificate is for community {found}, this node is in community {expected}")]
    OtherCommunity {
        expected: CommunityId,
        found: CommunityId,
    },
    #[error("certificate was issued by {0}, which is not an issuer of this community")]
    UnknownIssuer(PublicKey),
    #[error("certificate signature does not verify under the issuer's key")]
    BadSignature,
    #[error("certificate is not valid before {not_before} (checked at {at})")]
    NotYetValid {
        not_before: Timestamp,
        at: Timestamp,
    },
    #[error("certificate expired at {not_after} (checked at {at}): ask the issuer for a new one")]
    Expired { not_after: Timestamp, at: Timestamp },
    #[error("certificate is for key {certified}, but the peer holds key {presented}")]
    KeyMismatch {
        certified: PublicKey,
        presented: PublicKey,
    },
    #[error("certificate is valid for {days} days, over this community's maximum of {max} days")]
    TooLong { days: u64, max: u32 },
    #[error("certificate is pseudonymous: a pseudonym signs items, a node connects with its named certificate")]
    Pseudonymous,
    #[error("certificate {id} was revoked ({reason}, effective {effective})")]
    Revoked {
        id: CertificateId,
        reason: crate::revocation::RevocationReason,
        effective: Timestamp,
    },
    #[error("certificate is malformed: {0}")]
    Malformed(String),
    #[error("certificate cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl CertificateBody {
    /// Structural checks that need no keys.
    pub fn check_shape(&self) -> Result<(), CertificateError> {
        let bad = |m: &str| Err(CertificateError::Malformed(m.to_string()));
        self.subject
            .check_shape()
            .map_err(CertificateError::Malformed)?;
        if self.encryption_key.check().is_err() {
            return bad("the encryption key is not a valid X25519 key");
        }
        if self.not_after <= self.not_before {
            return bad("not_after must be later than not_before");
        }
        if self.roles.is_empty() {
            return bad("no roles are granted");
        }
        let mut roles = self.roles.clone();
        roles.sort();
        roles.dedup();
        if roles.len() != self.roles.len() {
            return bad("a role is listed twice");
        }
        if self.subject.is_pseudonym() && self.roles != [Role::Publish] {
            return bad("a pseudonymous certificate grants the publish role only");
        }
        Ok(())
    }
}

impl Certificate {
    /// Signs `body` with the issuer's key. The body must name that key.
    pub fn issue(body: CertificateBody, issuer: &SecretKey) -> Result<Self, CertificateError> {
        body.check_shape()?;
        if body.issuer != issuer.public() {
            return Err(CertificateError::Malformed(
                "the body names a different issuer key than the one signing".into(),
            ));
        }
        let signature = issuer.sign(&signing_input(DOMAIN_CERTIFICATE, &body)?);
        Ok(Certificate { body, signature })
    }

    /// The content address of this certificate.
    pub fn id(&self) -> CertificateId {
        let bytes = codec::encode(self).expect("a certificate always fits in a frame");
        CertificateId(sha256(&[&bytes]))
    }

    /// Whether the certificate grants `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.body.roles.contains(&role)
    }

    /// Checks that the certificate belongs to `community`, was signed by one of
    /// its issuers, and is valid at instant `at`.
    pub fn verify(&self, community: &Community, at: Timestamp) -> Result<(), CertificateError> {
        self.verify_authenticity(community)?;
        self.check_validity(at)
    }

    /// The time-independent half of [`Certificate::verify`]: community,
    /// issuer, shape and signature. Its result can be cached per certificate
    /// id; [`Certificate::check_validity`] must still be applied per use.
    pub fn verify_authenticity(&self, community: &Community) -> Result<(), CertificateError> {
        let b = &self.body;
        if b.community != community.id {
            return Err(CertificateError::OtherCommunity {
                expected: community.id,
                found: b.community,
            });
        }
        if !community.is_issuer(&b.issuer) {
            return Err(CertificateError::UnknownIssuer(b.issuer));
        }
        b.check_shape()?;
        b.issuer
            .verify(&signing_input(DOMAIN_CERTIFICATE, b)?, &self.signature)
            .map_err(|_| CertificateError::BadSignature)?;
        // Community rules, after the signature: they judge what the issuer
        // actually signed.
        let span = b.not_after.0.saturating_sub(b.not_before.0);
        if span > u64::from(community.max_validity_days) * crate::time::DAY_MS {
            return Err(CertificateError::TooLong {
                days: span.div_ceil(crate::time::DAY_MS),
                max: community.max_validity_days,
            });
        }
        if b.roles.contains(&Role::Authority) && b.member_key != community.authority {
            return Err(CertificateError::Malformed(
                "the authority role belongs to the community's authority key only".into(),
            ));
        }
        Ok(())
    }

    /// [`Certificate::verify_authenticity`], keeping what verifying many items
    /// of this publisher needs: the certificate id and the decoded member key.
    pub fn authenticate(&self, community: &Community) -> Result<Authentic, CertificateError> {
        self.verify_authenticity(community)?;
        let member_key = self.body.member_key.prepare().map_err(|_| {
            CertificateError::Malformed("the member key is not a valid ed25519 point".into())
        })?;
        Ok(Authentic {
            certificate: self.clone(),
            id: self.id(),
            member_key,
        })
    }

    /// The time-dependent half of [`Certificate::verify`]: `at` lies within
    /// the validity window.
    pub fn check_validity(&self, at: Timestamp) -> Result<(), CertificateError> {
        let b = &self.body;
        if at < b.not_before {
            return Err(CertificateError::NotYetValid {
                not_before: b.not_before,
                at,
            });
        }
        if at > b.not_after {
            return Err(CertificateError::Expired {
                not_after: b.not_after,
                at,
            });
        }
        Ok(())
    }

    /// [`Certificate::verify`] at `now`, plus: the connecting peer's
    /// transport key is the certified key.
    pub fn verify_for_peer(
        &self,
        community: &Community,
        now: Timestamp,
        peer_key: &PublicKey,
    ) -> Result<(), CertificateError> {
        if self.body.subject.is_pseudonym() {
            return Err(CertificateError::Pseudonymous);
        }
        if &self.body.member_key != peer_key {
            return Err(CertificateError::KeyMismatch {
                certified: self.body.member_key,
                presented: *peer_key,
            });
        }
        self.verify(community, now)
    }
}

/// A certificate known to be signed by one of a community's issuers; only
/// [`Certificate::authenticate`] makes one. Its validity window must still be
/// checked at each use.
#[derive(Clone, Debug)]
pub struct Authentic {
    certificate: Certificate,
    id: CertificateId,
    member_key: PreparedKey,
}

impl Authentic {
    /// The certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Its content address.
    pub fn id(&self) -> CertificateId {
        self.id
    }

    /// The certified member key, ready for verifying.
    pub fn member_key(&self) -> &PreparedKey {
        &self.member_key
    }
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
pub(crate) mod tests;
