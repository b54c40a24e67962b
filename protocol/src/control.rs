//! The local control API between `cairn` and its node's `cairnd`.
//!
//! One JSON object per line over the node's Unix socket: the client writes a
//! [`ControlRequest`], the node answers with one [`ControlResponse`] (or, for
//! `RegisterWatch`, a stream of them until the client hangs up). JSON rather
//! than the wire codec so an operator can speak it with `socat` when needed.

use crate::audience::{check_marking, MarkingError, Reach, Selector};
use crate::certificate::{Certificate, CertificateId};
use crate::community::CommunityId;
use crate::entity::{EntityType, MemberState, Sector};
use crate::event::{EventId, ParticipationKind};
use crate::identity::PublicKey;
use crate::interop::{ExportPolicy, WithheldCounts};
use crate::item::{ItemId, ItemKind, Payload};
use crate::pseudonym::RevealId;
use crate::query::{ItemPage, ItemQuery};
use crate::register::RegisterRecord;
use crate::revocation::{Revocation, RevocationId, RevocationReason};
use crate::subject::PseudonymId;
use crate::time::Timestamp;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};

/// Largest request line the node reads: an item at its limits, hex-free.
pub const MAX_REQUEST_LINE: usize = 4 * 1024 * 1024;

/// A request from the CLI.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ControlRequest {
    Status,
    Publish(PublishRequest),
    /// Publish signed with the node's pseudonymous key and certificate
    /// (`[pseudonym]` in cairn.toml) instead of its named one.
    PublishAsPseudonym(PublishRequest),
    ListItems {
        limit: usize,
    },
    /// Items matching a query, newest first, one page at a time (see
    /// `query.rs`); answered with `ItemPage`.
    QueryItems(ItemQuery),
    ShowItem {
        id: ItemId,
    },
    /// The bytes of an item's payload, exactly as published.
    ItemPayload {
        id: ItemId,
    },
    Members,
    Join,
    Withdraw,
    Participation,
    RegisterList,
    RegisterWatch,
    /// Reconcile with every connected member now; the node streams
    /// `SyncProgress` lines and ends with `SyncDone`.
    Sync,
    /// Enforce a revocation and spread it to the community.
    PublishRevocation {
        revocation: Box<Revocation>,
    },
    /// Present a renewed certificate (same key) from now on.
    InstallCertificate {
        certificate: Box<Certificate>,
    },
    /// Read back every stored item now; take out the damaged ones.
    StoreCheck,
    /// Open the escrow behind a pseudonymous item and record the reveal in
    /// the register (the authority's node only).
    Reveal {
        item: ItemId,
        /// Why: the case or legal basis, kept in the register.
        reason: String,
    },
    /// A page of items for an export (STIX, feeds): views with their
    /// payloads, oldest first, only those the export policy lets out.
    ExportItems(ExportQuery),
}

/// Which items an export asks for, and from where in the node's item order
/// (creation time, then id) the page starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportQuery {
    /// Created at or after this time.
    #[serde(default)]
    pub since: Option<Timestamp>,
    /// Only these kinds; empty: every kind.
    #[serde(default)]
    pub kinds: Vec<ItemKind>,
    pub policy: ExportPolicy,
    /// The last item of the previous page (its creation time and id).
    #[serde(default)]
    pub after: Option<(Timestamp, ItemId)>,
    /// Most items in the page (the node may return fewer, and caps it).
    pub limit: usize,
    /// Only this item (a CSAF advisory is one item): the page holds it, or
    /// counts it as withheld with the reason; the other filters are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
}

/// A new item, before the node signs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishRequest {
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub title: String,
    pub body: String,
    pub payload: Option<Payload>,
    pub tags: Vec<String>,
    /// Empty: the whole community.
    #[serde(default, skip_serializing_if = "AudienceRequest::is_community")]
    pub audience: AudienceRequest,
}

/// Who a new item is for, as the publisher asks; the node resolves it to
/// members' certificates when it signs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceRequest {
    /// Members named by their legal name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<Sector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_states: Vec<MemberState>,
}

impl AudienceRequest {
    /// No audience: the item goes to the whole community.
    pub fn is_community(&self) -> bool {
        self.entities.is_empty() && self.sectors.is_empty() && self.member_states.is_empty()
    }

    /// The selectors the request stands for, in the order given.
    pub fn selectors(&self) -> Vec<Selector> {
        let entities = self.entities.iter().map(|e| Selector::Entity(e.clone()));
        let sectors = self.sectors.iter().map(|s| Selector::Sector(*s));
        let states = self.member_states.iter().map(|m| Selector::MemberState(*m));
        entities.chain(sectors).chain(states).collect()
    }

    /// What the marking rule says of this request, before any resolution:
    /// a publisher learns at once that TLP:RED needs named recipients.
    pub fn check_marking(&self, tlp: Tlp) -> Result<(), MarkingError> {
        let selectors = self.selectors();
        let reach = if self.is_community() {
            Reach::Community
        } else {
            Reach::Audience(&selectors)
        };
        check_marking(tlp, reach)
    }
}

/// The node's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum ControlResponse {
    Status(NodeStatus),
    Published {
        id: ItemId,
        stored: bool,
        /// Set when no member was reachable: stored, sent when one is.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queued: Option<String>,
    },
    Items {
        items: Vec<ItemView>,
    },
    /// A page of a query's answer and where the next one starts.
    ItemPage(ItemPage<ItemView>),
    Item(ItemView),
    ItemPayload(PayloadView),
    Members {
        members: Vec<MemberView>,
    },
    Participation {
        events: Vec<ParticipationView>,
    },
    Register {
        entries: Vec<RegisterView>,
    },
    RegisterEntry(RegisterView),
    SyncProgress(SyncStatus),
    SyncDone(SyncStatus),
    RevocationPublished {
        id: RevocationId,
        new: bool,
    },
    CertificateInstalled {
        certificate: CertificateId,
        not_after: Timestamp,
    },
    /// What `StoreCheck` found: items read back, and those taken out
    /// because their bytes were damaged (members send them again).
    StoreChecked {
        checked: u64,
        dropped: Vec<ItemId>,
    },
    /// The reveal, as the register now holds it.
    Revealed(RegisterView),
    /// One page of an export.
    ExportPage(ExportPage),
    Error {
        message: String,
    },
}

/// A page of items for an export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPage {
    /// Views the policy lets out, with their payloads.
    pub items: Vec<ItemView>,
    /// Items of this page's range held back, by reason.
    pub withheld: WithheldCounts,
    /// Where the next page starts; `None`: this was the last.
    pub next: Option<(Timestamp, ItemId)>,
}

/// Catch-up progress.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// A session is running now.
    pub running: bool,
    /// The peer of the running (or last) session.
    pub peer: Option<String>,
    /// That peer's entity name, from its certificate (how people know it).
    /// Absent from older nodes' answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_name: Option<String>,
    /// Items the running session found missing here.
    pub needed: u64,
    /// Of those, how many have been fetched so far.
    pub fetched: u64,
    /// Sessions completed since the node started.
    pub sessions: u64,
    pub last_completed: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// A node's view of itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub entity_name: String,
    pub peer_id: String,
    pub member_key: PublicKey,
    pub community_id: CommunityId,
    pub community_name: String,
    pub listen_addrs: Vec<String>,
    pub connected_members: usize,
    pub items: u64,
    pub outbox_pending: u64,
    pub is_authority: bool,
    pub register_entries: Option<u64>,
    pub certificate_not_after: Timestamp,
    pub sync: SyncStatus,
    /// What the operator should act on (a certificate about to expire).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What rate limits and bans dropped since the node started. Absent
    /// from older nodes' answers (JSON: defaults to zeroes).
    #[serde(default)]
    pub abuse: AbuseStatus,
    /// The TAXII server's discovery URL, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxii: Option<String>,
    /// The MISP feed's URL (the directory holding manifest.json), when it
    /// is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misp_feed: Option<String>,
    /// The web view's URL, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web: Option<String>,
    /// The Prometheus metrics URL, when it is served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    /// Each bootstrap address of the config, and how dialling it went.
    /// Absent from older nodes' answers.
    #[serde(default)]
    pub bootstrap: Vec<BootstrapView>,
    /// This node's participation events still without a receipt, oldest
    /// first. Absent from older nodes' answers.
    #[serde(default)]
    pub undelivered: Vec<UndeliveredView>,
    /// The member directory: every member whose signed addresses this node
    /// holds, and whether it is connected. Absent from older nodes' answers.
    #[serde(default)]
    pub directory: Vec<DirectoryView>,
}

/// One member of the directory (`protocol::directory`), as `cairn status`
/// shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryView {
    pub entity_name: String,
    pub peer_id: String,
    /// The addresses as the member itself signed them.
    pub addresses: Vec<String>,
    /// When the member signed them (the record's version).
    pub signed_at: Timestamp,
    /// Which member passed the record on ("itself" when the member did).
    pub learned_from: String,
    /// This node's own record.
    pub own: bool,
    pub connected: bool,
    /// The remote address of an open connection, and who dialled it.
    pub reached_at: Option<String>,
    /// The last failed dial from the directory, if the member is not
    /// reachable now.
    pub last_dial_error: Option<String>,
}

/// A bootstrap address and the outcome of the node's dials to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootstrapView {
    /// The address as configured, `/…/p2p/<peer id>`.
    pub address: String,
    /// A connection to that peer is open now (whoever dialled).
    pub connected: bool,
    /// When a dial to this address last got through the handshake.
    pub last_success: Option<Timestamp>,
    /// When a dial last failed, and why.
    pub last_error_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// Counts of abuse the node fended off since it started.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseStatus {
    /// Gossip dropped because its sender exceeded its per-peer rate.
    pub gossip_rate_limited: u64,
    /// Gossiped items dropped because their publisher exceeded its rate
    /// (catch-up fetches them later).
    pub publisher_rate_limited: u64,
    /// Direct requests refused as rate limited.
    pub requests_rate_limited: u64,
    /// Gossip rejected as invalid.
    pub gossip_rejected: u64,
    /// Peers banned for misbehaviour since start, and banned now.
    pub peers_banned: u64,
    pub banned_now: u64,
}

/// One item as shown to a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: ItemId,
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub created: Timestamp,
    pub publisher: CertificateId,
    /// The publisher's legal name, or "a certified member …" for a pseudonym.
    pub publisher_name: String,
    /// The publisher's sector (none for a pseudonym or an unknown
    /// certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_sector: Option<Sector>,
    /// The publisher's entity type (none for a pseudonym or an unknown
    /// certificate): what a CSAF publisher category is chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_entity_type: Option<EntityType>,
    /// Set when the publisher's certificate has been revoked since (items
    /// already held stay, marked).
    pub publisher_revoked: Option<RevokedView>,
    pub payload_media_type: Option<String>,
    pub payload_size: usize,
    /// The payload itself, in views made for an export (never for a
    /// listing); empty when the item is not readable here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// Signature and certificate re-verified while answering this request.
    pub verified: bool,
    /// Set for an item sealed to an audience. Unless this node is a
    /// recipient, title, body and tags are empty and no payload is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<AudienceView>,
}

/// The audience of a sealed item, as every node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceView {
    /// How the publisher chose it, e.g. `Hospital A`, `sector energy`.
    pub selectors: Vec<String>,
    /// The recipients, by name where this node knows their certificate.
    pub recipients: Vec<String>,
    /// Whether this node is a recipient and opened the item.
    pub readable: bool,
    /// Why not, when it is not readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable_reason: Option<String>,
    /// Size of the sealed contents, in bytes.
    pub sealed_size: usize,
}

/// An item's payload, for `cairn items payload`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadView {
    pub id: ItemId,
    pub media_type: String,
    /// The bytes as published; hex in JSON (half the size of a number array,
    /// and still readable with `socat`).
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
}

/// `Vec<u8>` as a hex string.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_bytes_travel_as_hex_and_come_back_exactly() {
        let view = PayloadView {
            id: ItemId([7; 32]),
            media_type: "application/octet-stream".into(),
            bytes: vec![0, 0xff, b'\n', 0x1b],
        };
        let line = serde_json::to_string(&ControlResponse::ItemPayload(view.clone())).unwrap();
        assert!(line.contains("\"bytes\":\"00ff0a1b\""), "{line}");
        let back: ControlResponse = serde_json::from_str(&line).unwrap();
        assert_eq!(back, ControlResponse::ItemPayload(view));
        let bad = line.replace("00ff0a1b", "zz");
        assert!(serde_json::from_str::<ControlResponse>(&bad).is_err());
        let request = serde_json::to_string(&ControlRequest::ItemPayload {
            id: ItemId([7; 32]),
        });
        assert!(request.unwrap().starts_with("{\"op\":\"item-payload\""));
    }
}
