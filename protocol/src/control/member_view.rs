//! A member this node knows of ([`MemberView`]), and a revocation as it
//! concerns one certificate (shown on members and on their items).

use crate::certificate::CertificateId;
use crate::entity::{EntityType, MemberState, Sector};
use crate::identity::PublicKey;
use crate::revocation::RevocationReason;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A member this node knows of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// The legal name, or how a pseudonym is shown.
    pub entity_name: String,
    pub entity_type: Option<EntityType>,
    pub sector: Option<Sector>,
    pub member_state: Option<MemberState>,
    pub member_key: PublicKey,
    pub certificate: CertificateId,
    pub serial: u64,
    pub peer_id: String,
    pub connected: bool,
    pub not_after: Timestamp,
    /// Set when a revocation this node knows reaches the certificate.
    pub revoked: Option<RevokedView>,
    /// Set when more than one node holding this member's key is connected
    /// at once: the remote address of each. Absent from older nodes'
    /// answers and when the key is in use once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_in_use_from: Vec<String>,
    /// Where this node reached the member: the connection's remote address
    /// and who dialled. Absent when not connected, and from older nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reached_at: Option<String>,
}

/// A revocation as it concerns one certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedView {
    pub reason: RevocationReason,
    pub effective: Timestamp,
}
