//! What the CLI asks its node: [`ControlRequest`] and the bodies some
//! requests carry (a new item to publish, its audience, an export query).

use crate::audience::{check_marking, MarkingError, Reach, Selector};
use crate::certificate::Certificate;
use crate::entity::{MemberState, Sector};
use crate::interop::ExportPolicy;
use crate::item::{ItemId, ItemKind, Payload};
use crate::query::ItemQuery;
use crate::revocation::Revocation;
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
