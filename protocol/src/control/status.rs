//! A node's view of itself, as `cairn status` shows it: [`NodeStatus`] and
//! the parts it is made of (catch-up progress, bootstrap dials, the member
//! directory, abuse counters).

use super::UndeliveredView;
use crate::community::CommunityId;
use crate::identity::PublicKey;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

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
    /// Store batches whose items the query index does not cover yet
    /// (queries read them directly meanwhile); 0 when it is up to date.
    #[serde(default)]
    pub query_index_behind: u64,
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
