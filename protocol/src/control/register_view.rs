//! The participation register as people see it: a node's own events and
//! their receipts, and the authority's register entries (participation
//! events and reveals).

use crate::certificate::CertificateId;
use crate::entity::{EntityType, MemberState, Sector};
use crate::event::{EventId, ParticipationKind};
use crate::identity::PublicKey;
use crate::item::ItemId;
use crate::pseudonym::RevealId;
use crate::register::RegisterRecord;
use crate::subject::PseudonymId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// One of this node's own participation events and its receipt, if any.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipationView {
    pub event_id: EventId,
    pub kind: ParticipationKind,
    pub sequence: u64,
    pub effective: Timestamp,
    pub register_index: Option<u64>,
    pub registered_at: Option<Timestamp>,
    /// For an event without a receipt yet: how its delivery is going, in
    /// words (queued and why, sent via members). Absent from older nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
}

/// One of this node's events still waiting for the authority's receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndeliveredView {
    pub event_id: EventId,
    pub kind: ParticipationKind,
    pub sequence: u64,
    /// Seconds since the event was recorded (its effective time).
    pub age_secs: u64,
    /// How its delivery is going, in words; absent before the first try.
    pub delivery: Option<String>,
}

crate::named_enum!(
    /// What a register entry records: a participation event, or a reveal.
    RegisterKind, "register entry kind", {
        Joined => "joined",
        WithdrawalEffective => "withdrawal-effective",
        /// The authority revealed the entity behind a pseudonymous item.
        Reveal => "reveal",
    }
);

impl From<ParticipationKind> for RegisterKind {
    fn from(kind: ParticipationKind) -> Self {
        match kind {
            ParticipationKind::Joined => RegisterKind::Joined,
            ParticipationKind::WithdrawalEffective => RegisterKind::WithdrawalEffective,
        }
    }
}

/// A participation entry is of its event's kind.
impl PartialEq<ParticipationKind> for RegisterKind {
    fn eq(&self, other: &ParticipationKind) -> bool {
        *self == RegisterKind::from(*other)
    }
}

/// One register entry as shown to the authority's operator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterView {
    pub index: u64,
    pub kind: RegisterKind,
    /// The member's entity; for a reveal, the entity revealed.
    pub entity_name: String,
    pub entity_type: Option<EntityType>,
    pub sector: Option<Sector>,
    pub member_state: Option<MemberState>,
    /// The member's key; for a reveal, the key of its named certificate.
    pub member_key: PublicKey,
    /// The member's event number (participation events only).
    pub sequence: Option<u64>,
    /// When the event took effect; for a reveal, when it was made.
    pub effective: Timestamp,
    pub registered_at: Timestamp,
    /// The participation event (none for a reveal).
    pub event_id: Option<EventId>,
    /// What was revealed, and why (reveals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal: Option<RevealView>,
}

/// A reveal as the register shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealView {
    pub id: RevealId,
    /// The item whose publisher was revealed.
    pub item: ItemId,
    pub pseudonym: PseudonymId,
    /// The pseudonymous certificate that signed the item.
    pub pseudonymous_certificate: CertificateId,
    /// The member's named certificate, as the escrow names it.
    pub named_certificate: CertificateId,
    /// The reason the authority's operator gave.
    pub reason: String,
}

impl RegisterView {
    /// The view of a register entry.
    pub fn of(entry: &crate::register::RegisterEntry) -> Self {
        match &entry.record {
            RegisterRecord::Participation { event, receipt } => {
                let e = &event.body;
                let c = &e.certificate.body;
                RegisterView {
                    index: entry.index,
                    kind: e.kind.into(),
                    entity_name: c.subject.display_name(),
                    entity_type: c.subject.entity_type(),
                    sector: c.subject.sector(),
                    member_state: c.subject.member_state(),
                    member_key: c.member_key,
                    sequence: Some(e.sequence),
                    effective: e.effective,
                    registered_at: receipt.body.registered_at,
                    event_id: Some(event.id()),
                    reveal: None,
                }
            }
            RegisterRecord::Reveal(reveal) => {
                let r = &reveal.body;
                let entity = &r.identity.entity;
                RegisterView {
                    index: entry.index,
                    kind: RegisterKind::Reveal,
                    entity_name: entity.name.clone(),
                    entity_type: Some(entity.entity_type),
                    sector: Some(entity.sector),
                    member_state: Some(entity.member_state),
                    member_key: r.identity.member_key,
                    sequence: None,
                    effective: r.revealed_at,
                    registered_at: r.revealed_at,
                    event_id: None,
                    reveal: Some(RevealView {
                        id: reveal.id(),
                        item: r.item,
                        pseudonym: r.pseudonym,
                        pseudonymous_certificate: r.certificate,
                        named_certificate: r.identity.certificate,
                        reason: r.reason.clone(),
                    }),
                }
            }
        }
    }
}
