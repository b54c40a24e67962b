//! Who a certificate speaks for: a named entity, or a pseudonym whose entity
//! only the competent authority can reveal (the escrow).
//!
//! A pseudonymous certificate lets a member share without being named (NIS2
//! Art. 12(1) lets a CSIRT keep a reporter anonymous) while staying
//! accountable: the issuer seals the entity's identity to the authority's
//! encryption key, so the authority alone can reveal who published an item.

use crate::certificate::CertificateId;
use crate::codec;
use crate::encryption::{self, EncryptionError, EncryptionPublicKey, EncryptionSecretKey, Sealed};
use crate::entity::{EntityType, MemberState, Sector};
use crate::identity::PublicKey;
use serde::{Deserialize, Serialize};

/// Longest entity legal name, in bytes.
pub const MAX_ENTITY_NAME: usize = 256;
/// Length of a pseudonym's random part, in bytes (shown as hex).
pub const PSEUDONYM_LEN: usize = 8;
/// Largest escrow ciphertext: the identity below at its limits.
pub const MAX_ESCROW: usize = 1024;

/// HPKE `info` of escrows.
const ESCROW_INFO: &[u8] = b"cairn/escrow/v1";

/// A named entity, as the certificate vouches for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    pub entity_type: EntityType,
    pub sector: Sector,
    pub member_state: MemberState,
}

crate::fixed_bytes!(
    /// A pseudonym's random identifier.
    PseudonymId,
    8
);

/// A pseudonym: what others see, and the sealed identity behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pseudonym {
    pub id: PseudonymId,
    /// Shown only if the member chose to disclose it.
    pub sector: Option<Sector>,
    pub member_state: Option<MemberState>,
    /// The entity behind the pseudonym, sealed to the community's authority.
    pub escrow: Sealed,
}

/// The subject of a certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Entity(Entity),
    Pseudonym(Pseudonym),
}

/// What an escrow holds: enough for the authority to name the entity and
/// find its named certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscrowedIdentity {
    /// The entity's named certificate.
    pub certificate: CertificateId,
    /// The entity's (transport and signing) key in that certificate.
    pub member_key: PublicKey,
    pub entity: Entity,
}

impl Subject {
    /// The legal name, or `None` for a pseudonym.
    pub fn entity_name(&self) -> Option<&str> {
        match self {
            Subject::Entity(e) => Some(&e.name),
            Subject::Pseudonym(_) => None,
        }
    }

    /// The entity type (never disclosed by a pseudonym).
    pub fn entity_type(&self) -> Option<EntityType> {
        match self {
            Subject::Entity(e) => Some(e.entity_type),
            Subject::Pseudonym(_) => None,
        }
    }

    /// The sector, if the certificate discloses one.
    pub fn sector(&self) -> Option<Sector> {
        match self {
            Subject::Entity(e) => Some(e.sector),
            Subject::Pseudonym(p) => p.sector,
        }
    }

    /// The Member State, if the certificate discloses one.
    pub fn member_state(&self) -> Option<MemberState> {
        match self {
            Subject::Entity(e) => Some(e.member_state),
            Subject::Pseudonym(p) => p.member_state,
        }
    }

    /// How people see this subject: the legal name, or "a certified member"
    /// with whatever the pseudonym discloses.
    pub fn display_name(&self) -> String {
        match self {
            Subject::Entity(e) => e.name.clone(),
            Subject::Pseudonym(p) => {
                let mut shown = format!("a certified member (pseudonym {}", p.id);
                if let Some(s) = p.sector {
                    shown.push_str(&format!(", {s}"));
                }
                if let Some(m) = p.member_state {
                    shown.push_str(&format!(", {m}"));
                }
                shown.push(')');
                shown
            }
        }
    }

    pub fn is_pseudonym(&self) -> bool {
        matches!(self, Subject::Pseudonym(_))
    }

    /// Structural checks, as a reason for the error message.
    pub(crate) fn check_shape(&self) -> Result<(), String> {
        match self {
            Subject::Entity(e) => {
                if e.name.trim().is_empty() {
                    return Err("the entity legal name is empty".into());
                }
                if e.name.len() > MAX_ENTITY_NAME {
                    return Err(format!(
                        "the entity legal name is longer than {MAX_ENTITY_NAME} bytes"
                    ));
                }
                if e.name.chars().any(char::is_control) {
                    return Err("the entity legal name contains control characters".into());
                }
            }
            Subject::Pseudonym(p) => {
                if p.escrow.ciphertext.is_empty() || p.escrow.ciphertext.len() > MAX_ESCROW {
                    return Err(format!("the escrow must be 1-{MAX_ESCROW} bytes"));
                }
            }
        }
        Ok(())
    }
}

/// The escrow's associated data: it is bound to the pseudonym and its key,
/// so it cannot be moved to another pseudonymous certificate.
fn escrow_aad(pseudonym: &PseudonymId, pseudonym_key: &PublicKey) -> Vec<u8> {
    [pseudonym.as_bytes().as_slice(), pseudonym_key.as_bytes()].concat()
}

/// Seals `identity` to the authority's key for the pseudonym `id` held by
/// `pseudonym_key`.
pub fn seal_escrow(
    authority: &EncryptionPublicKey,
    id: &PseudonymId,
    pseudonym_key: &PublicKey,
    identity: &EscrowedIdentity,
) -> Result<Sealed, EncryptionError> {
    let plain = zeroize::Zeroizing::new(
        codec::encode(identity).map_err(|e| EncryptionError::Seal(e.to_string()))?,
    );
    encryption::seal(
        authority,
        ESCROW_INFO,
        &escrow_aad(id, pseudonym_key),
        &plain,
    )
}

/// The authority's side: opens a pseudonym's escrow.
pub fn open_escrow(
    authority: &EncryptionSecretKey,
    pseudonym: &Pseudonym,
    pseudonym_key: &PublicKey,
) -> Result<EscrowedIdentity, EncryptionError> {
    let plain = zeroize::Zeroizing::new(authority.open(
        &pseudonym.escrow,
        ESCROW_INFO,
        &escrow_aad(&pseudonym.id, pseudonym_key),
    )?);
    codec::decode(&plain).map_err(|_| EncryptionError::NotOpened)
}

impl PseudonymId {
    /// A fresh random pseudonym.
    pub fn generate() -> Self {
        let mut b = [0u8; PSEUDONYM_LEN];
        getrandom::fill(&mut b).expect("the operating system random source is unavailable");
        PseudonymId(b)
    }
}
