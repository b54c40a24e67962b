//! The community: the trust anchor every member is configured with.

use crate::encryption::EncryptionPublicKey;
use crate::identity::PublicKey;
use serde::{Deserialize, Serialize};

crate::fixed_bytes!(
    /// A community's identifier, chosen at random when it is created.
    CommunityId,
    16
);

impl CommunityId {
    /// A fresh random identifier.
    pub fn generate() -> Self {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the operating system random source is unavailable");
        CommunityId(b)
    }
}

/// A community as distributed to its members out of band (a file the
/// issuer hands over with each certificate).
///
/// Several issuer keys may be listed so an issuer can rotate keys without a
/// new community. The authority key is the competent authority's node, the
/// only key whose receipts acknowledge participation events; its
/// encryption key is the one pseudonyms' identities are escrowed to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    pub id: CommunityId,
    pub name: String,
    pub issuers: Vec<PublicKey>,
    pub authority: PublicKey,
    pub authority_encryption: EncryptionPublicKey,
    /// Longest validity any certificate of this community may have, in
    /// days: a leaked key ages out even if its revocation never arrives.
    pub max_validity_days: u32,
}

/// The default of [`Community::max_validity_days`]: a year and a day, so a
/// yearly renewal fits.
pub const DEFAULT_MAX_VALIDITY_DAYS: u32 = 366;

/// Most issuer keys one community lists.
pub const MAX_ISSUERS: usize = 16;

impl Community {
    /// Whether `key` may issue certificates here.
    pub fn is_issuer(&self, key: &PublicKey) -> bool {
        self.issuers.contains(key)
    }

    /// Structural checks on a community file.
    pub fn check_shape(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.chars().any(char::is_control) {
            return Err("the community name is empty or contains control characters".into());
        }
        if self.issuers.is_empty() || self.issuers.len() > MAX_ISSUERS {
            return Err(format!("a community lists 1-{MAX_ISSUERS} issuer keys"));
        }
        if self.max_validity_days == 0 {
            return Err("max_validity_days must be at least 1".into());
        }
        if self.authority_encryption.check().is_err() {
            return Err("the authority's encryption key is not a valid X25519 key".into());
        }
        Ok(())
    }

    /// The gossipsub topic carrying this community's items. Derived from the
    /// id so two communities on one network never mix.
    pub fn items_topic(&self) -> String {
        format!("cairn/{}/items/v1", self.id)
    }
}
