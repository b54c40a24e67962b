//! Accountable pseudonyms: the rules for issuing a pseudonymous certificate
//! beside a member's named one, the authority's attestation that an escrow
//! opens to that member, and opening the escrow behind one item (a reveal).
//!
//! Issuing: the pseudonymous certificate must be for the same community as
//! the named one, under another key (so the two cannot be linked by key),
//! grant the publish role only, lie within the named certificate's validity,
//! and carry an escrow that opens under the authority's encryption key to
//! exactly the named certificate's id, key and entity. The issuer cannot
//! open an escrow; it checks it either with the authority's key in hand
//! ([`check_escrow`]) or through the authority's signed
//! [`EscrowAttestation`], which the authority makes only after opening the
//! escrow it sealed.
//!
//! Revealing: the authority node opens the escrow of the certificate an
//! item names ([`open_publisher`]) and records a signed [`Reveal`] in its
//! register (`register.rs`).

use crate::certificate::{Certificate, CertificateBody, CertificateId};
use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::encryption::{EncryptionError, EncryptionSecretKey, Sealed};
use crate::entity::Role;
use crate::hash::sha256;
use crate::identity::{PublicKey, SecretKey};
use crate::item::{ItemId, SignedItem};
use crate::signing::{signing_input, Signature, DOMAIN_ESCROW_ATTESTATION, DOMAIN_REVEAL};
use crate::subject::{open_escrow, seal_escrow, EscrowedIdentity, Pseudonym, PseudonymId, Subject};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Longest reason a reveal records, in bytes.
pub const MAX_REVEAL_REASON: usize = 1024;

/// Why a pseudonym cannot be issued, attested or revealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PseudonymError {
    #[error("the named certificate is itself pseudonymous: a pseudonym is issued beside a member's named certificate")]
    NamedIsPseudonym,
    #[error("the certificate is not pseudonymous")]
    NotPseudonymous,
    #[error(
        "the named certificate does not grant the publish role, and a pseudonym only publishes"
    )]
    NamedCannotPublish,
    #[error("the pseudonymous certificate is for another community than the named one")]
    OtherCommunity,
    #[error("the pseudonym uses the named certificate's key: make a separate key for it (`cairn key gen`), or anyone could link the two")]
    SameKey,
    #[error("the pseudonym's validity ({not_before} to {not_after}) is not within the named certificate's ({named_not_before} to {named_not_after})")]
    OutlivesNamed {
        not_before: Timestamp,
        not_after: Timestamp,
        named_not_before: Timestamp,
        named_not_after: Timestamp,
    },
    #[error("a pseudonymous certificate grants the publish role only")]
    Roles,
    #[error("the escrow does not open under the authority's key ({0}): the community file's authority encryption key is not the authority's, or the escrow was altered")]
    EscrowNotOpened(EncryptionError),
    #[error("the escrow opens to another member than the one the pseudonym is issued for")]
    EscrowNamesAnother,
    #[error("the escrow cannot be sealed: {0}")]
    Seal(EncryptionError),
    #[error("the key given as the authority's is not the community's authority key {0}")]
    NotTheAuthority(PublicKey),
    #[error("the community file's authority encryption key is not the one the authority's key derives: fix the community file before issuing pseudonyms")]
    AuthorityEncryptionMismatch,
    #[error("the escrow attestation is for {what} {found}, not {expected}")]
    AttestationMismatch {
        what: &'static str,
        expected: String,
        found: String,
    },
    #[error(
        "the escrow attestation's signature does not verify under the community's authority key"
    )]
    BadAttestationSignature,
    #[error("the item names publisher certificate {named}, not {given}")]
    PublisherMismatch {
        named: CertificateId,
        given: CertificateId,
    },
    #[error("a reveal needs a reason (a case or legal basis, at most {MAX_REVEAL_REASON} bytes, one line)")]
    Reason,
    #[error("the reveal's signature does not verify under the community's authority key")]
    BadRevealSignature,
    #[error("cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

/// What the escrow of a pseudonym issued beside `named` must hold.
pub fn escrowed_identity(named: &Certificate) -> Result<EscrowedIdentity, PseudonymError> {
    match &named.body.subject {
        Subject::Entity(entity) => Ok(EscrowedIdentity {
            certificate: named.id(),
            member_key: named.body.member_key,
            entity: entity.clone(),
        }),
        Subject::Pseudonym(_) => Err(PseudonymError::NamedIsPseudonym),
    }
}

/// The issuing rules of a pseudonymous certificate `body` beside `named`
/// (everything but the escrow's content, which only the authority's key can
/// check).
pub fn check_issue(named: &Certificate, body: &CertificateBody) -> Result<(), PseudonymError> {
    escrowed_identity(named)?;
    let n = &named.body;
    if !body.subject.is_pseudonym() {
        return Err(PseudonymError::NotPseudonymous);
    }
    if !named.has_role(Role::Publish) {
        return Err(PseudonymError::NamedCannotPublish);
    }
    if body.roles != [Role::Publish] {
        return Err(PseudonymError::Roles);
    }
    if body.community != n.community {
        return Err(PseudonymError::OtherCommunity);
    }
    if body.member_key == n.member_key || body.encryption_key == n.encryption_key {
        return Err(PseudonymError::SameKey);
    }
    if body.not_before < n.not_before || body.not_after > n.not_after {
        return Err(PseudonymError::OutlivesNamed {
            not_before: body.not_before,
            not_after: body.not_after,
            named_not_before: n.not_before,
            named_not_after: n.not_after,
        });
    }
    Ok(())
}

/// The pseudonym of a certificate body, if it has one.
fn pseudonym_of(body: &CertificateBody) -> Result<&Pseudonym, PseudonymError> {
    match &body.subject {
        Subject::Pseudonym(p) => Ok(p),
        Subject::Entity(_) => Err(PseudonymError::NotPseudonymous),
    }
}

/// The check the issuer's tool makes with the authority's key in hand: the
/// escrow of `body` opens under `authority` to exactly `expected`.
pub fn check_escrow(
    authority: &EncryptionSecretKey,
    body: &CertificateBody,
    expected: &EscrowedIdentity,
) -> Result<(), PseudonymError> {
    let opened = open_escrow(authority, pseudonym_of(body)?, &body.member_key)
        .map_err(PseudonymError::EscrowNotOpened)?;
    if &opened != expected {
        return Err(PseudonymError::EscrowNamesAnother);
    }
    Ok(())
}

/// The authority's encryption key, refused unless `authority` is the
/// community's authority key and the community file names its encryption
/// key (the key escrows are sealed to).
pub fn authority_encryption(
    community: &Community,
    authority: &SecretKey,
) -> Result<EncryptionSecretKey, PseudonymError> {
    if authority.public() != community.authority {
        return Err(PseudonymError::NotTheAuthority(community.authority));
    }
    let key = EncryptionSecretKey::derive_from(authority);
    if key.public() != community.authority_encryption {
        return Err(PseudonymError::AuthorityEncryptionMismatch);
    }
    Ok(key)
}

/// What the authority signs when it has sealed an escrow and opened it
/// again: this escrow, for this pseudonym and key, opens to the member of
/// this named certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationBody {
    pub community: CommunityId,
    pub authority: PublicKey,
    pub pseudonym: PseudonymId,
    pub pseudonym_key: PublicKey,
    pub named_certificate: CertificateId,
    pub escrow: Sealed,
}

/// The authority's escrow for a pseudonym, signed: what the issuer checks
/// when it does not hold the authority's key (`cairn cert escrow`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowAttestation {
    pub body: AttestationBody,
    pub signature: Signature,
}

impl EscrowAttestation {
    /// The authority's side: seals the identity of `named` for a fresh
    /// pseudonym held by `pseudonym_key`, opens it again with its own key,
    /// and signs the result.
    pub fn make(
        community: &Community,
        authority: &SecretKey,
        named: &Certificate,
        pseudonym_key: &PublicKey,
    ) -> Result<Self, PseudonymError> {
        let opener = authority_encryption(community, authority)?;
        let identity = escrowed_identity(named)?;
        if pseudonym_key == &named.body.member_key {
            return Err(PseudonymError::SameKey);
        }
        let pseudonym = PseudonymId::generate();
        let escrow = seal_escrow(&opener.public(), &pseudonym, pseudonym_key, &identity)
            .map_err(PseudonymError::Seal)?;
        let opened = open_escrow(
            &opener,
            &Pseudonym {
                id: pseudonym,
                sector: None,
                member_state: None,
                escrow: escrow.clone(),
            },
            pseudonym_key,
        )
        .map_err(PseudonymError::EscrowNotOpened)?;
        if opened != identity {
            return Err(PseudonymError::EscrowNamesAnother);
        }
        let body = AttestationBody {
            community: community.id,
            authority: authority.public(),
            pseudonym,
            pseudonym_key: *pseudonym_key,
            named_certificate: identity.certificate,
            escrow,
        };
        let signature = authority.sign(&signing_input(DOMAIN_ESCROW_ATTESTATION, &body)?);
        Ok(EscrowAttestation { body, signature })
    }

    /// The issuer's side: the attestation is the community authority's, for
    /// this named certificate and this pseudonym key.
    pub fn verify(
        &self,
        community: &Community,
        named: &CertificateId,
        pseudonym_key: &PublicKey,
    ) -> Result<(), PseudonymError> {
        let b = &self.body;
        let mismatch = |what, expected: String, found: String| {
            Err(PseudonymError::AttestationMismatch {
                what,
                expected,
                found,
            })
        };
        if b.community != community.id {
            return mismatch(
                "community",
                community.id.to_string(),
                b.community.to_string(),
            );
        }
        if b.authority != community.authority {
            return mismatch(
                "authority",
                community.authority.to_string(),
                b.authority.to_string(),
            );
        }
        if &b.named_certificate != named {
            return mismatch(
                "named certificate",
                named.to_string(),
                b.named_certificate.to_string(),
            );
        }
        if &b.pseudonym_key != pseudonym_key {
            return mismatch(
                "pseudonym key",
                pseudonym_key.to_string(),
                b.pseudonym_key.to_string(),
            );
        }
        b.authority
            .verify(
                &signing_input(DOMAIN_ESCROW_ATTESTATION, b)?,
                &self.signature,
            )
            .map_err(|_| PseudonymError::BadAttestationSignature)
    }
}

/// The authority's side of a reveal: the identity escrowed in the
/// pseudonymous certificate `publisher` of `item`.
pub fn open_publisher(
    authority: &EncryptionSecretKey,
    item: &SignedItem,
    publisher: &Certificate,
) -> Result<EscrowedIdentity, PseudonymError> {
    let id = publisher.id();
    if item.body.publisher != id {
        return Err(PseudonymError::PublisherMismatch {
            named: item.body.publisher,
            given: id,
        });
    }
    let pseudonym = pseudonym_of(&publisher.body)?;
    open_escrow(authority, pseudonym, &publisher.body.member_key)
        .map_err(PseudonymError::EscrowNotOpened)
}

/// Checks the reason an operator gives for a reveal.
pub fn check_reason(reason: &str) -> Result<(), PseudonymError> {
    if reason.trim().is_empty()
        || reason.len() > MAX_REVEAL_REASON
        || reason.chars().any(char::is_control)
    {
        return Err(PseudonymError::Reason);
    }
    Ok(())
}

crate::fixed_bytes!(
    /// SHA-256 of a reveal's encoding.
    RevealId,
    32
);

/// What the authority signs when it reveals the entity behind an item: who
/// revealed (the authority's key, and the reason its operator gave), what
/// (the item, its pseudonymous certificate and the identity found) and
/// when, at which place in the register.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealBody {
    pub community: CommunityId,
    pub authority: PublicKey,
    pub register_index: u64,
    pub revealed_at: Timestamp,
    pub item: ItemId,
    /// The pseudonymous certificate that signed the item.
    pub certificate: CertificateId,
    pub pseudonym: PseudonymId,
    /// What its escrow held.
    pub identity: EscrowedIdentity,
    /// Why: the case or legal basis, as the operator gave it.
    pub reason: String,
}

/// A reveal with the authority's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reveal {
    pub body: RevealBody,
    pub signature: Signature,
}

impl Reveal {
    /// Signs `body` with the authority's key.
    pub fn sign(body: RevealBody, authority: &SecretKey) -> Result<Self, PseudonymError> {
        check_reason(&body.reason)?;
        if body.authority != authority.public() {
            return Err(PseudonymError::NotTheAuthority(body.authority));
        }
        let signature = authority.sign(&signing_input(DOMAIN_REVEAL, &body)?);
        Ok(Reveal { body, signature })
    }

    /// The content address.
    pub fn id(&self) -> RevealId {
        let bytes = codec::encode(self).expect("a reveal always fits in a frame");
        RevealId(sha256(&[&bytes]))
    }

    /// Checks that the community's authority signed this reveal.
    pub fn verify(&self, community: &Community) -> Result<(), PseudonymError> {
        let b = &self.body;
        if b.authority != community.authority {
            return Err(PseudonymError::NotTheAuthority(community.authority));
        }
        if b.community != community.id {
            return Err(PseudonymError::OtherCommunity);
        }
        b.authority
            .verify(&signing_input(DOMAIN_REVEAL, b)?, &self.signature)
            .map_err(|_| PseudonymError::BadRevealSignature)
    }
}

#[cfg(test)]
#[path = "pseudonym_tests.rs"]
mod tests;
