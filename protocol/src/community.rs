//! The community: the trust anchor every member is configured with.

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
/// only key whose receipts acknowledge participation events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    pub id: CommunityId,
    pub name: String,
    pub issuers: Vec<PublicKey>,
    pub authority: PublicKey,
}

impl Community {
    /// Whether `key` may issue certificates here.
    pub fn is_issuer(&self, key: &PublicKey) -> bool {
        self.issuers.contains(key)
    }

    /// The gossipsub topic carrying this community's items. Derived from the
    /// id so two communities on one network never mix.
    pub fn items_topic(&self) -> String {
        format!("cairn/{}/items/v1", self.id)
    }
}
