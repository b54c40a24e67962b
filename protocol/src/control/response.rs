//! What the node answers: [`ControlResponse`], one per request (or a stream
//! of them for `RegisterWatch` and `Sync`), and the page an export gets.
//! The views the answers carry live in their own files.

use super::{
    ItemView, MemberView, NodeStatus, ParticipationView, PayloadView, RegisterView, SyncStatus,
};
use crate::certificate::CertificateId;
use crate::interop::WithheldCounts;
use crate::item::ItemId;
use crate::query::ItemPage;
use crate::revocation::RevocationId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The node's answer.
// One answer is built per control request and written out at once, so the
// status's size costs nothing worth a box (and a box in every match).
#[allow(clippy::large_enum_variant)]
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
