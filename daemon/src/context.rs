//! What every task of a running node shares: who it is, its community, and
//! its durable state.

use crate::authority::Authority;
use crate::ingest::worker::Ingest;
use crate::network::admission::Admission;
use crate::revocations::Revocations;
use crate::sync::index::SyncIndex;
use crate::sync::manager::Sync;
use cairn_protocol::{Certificate, Community, SecretKey};
use cairn_store::items::ItemStore;
use cairn_store::outbox::Outbox;
use std::sync::Arc;
use tokio::sync::Notify;

/// Shared, read-mostly node state.
pub struct Context {
    pub community: Community,
    pub key: SecretKey,
    /// Presents this node's certificate (renewals swap it there).
    pub admission: Arc<Admission>,
    pub revocations: Arc<Revocations>,
    /// Where the certificate file is, so a renewal replaces it (none in the
    /// demo, whose certificates live in memory).
    pub certificate_path: Option<std::path::PathBuf>,
    pub items: ItemStore,
    pub outbox: Arc<Outbox>,
    /// Present on the community's authority node only.
    pub authority: Option<Arc<Authority>>,
    /// Wakes the participation delivery task (new event, member admitted,
    /// receipt relayed back).
    pub participation_wake: Arc<Notify>,
    /// Notices held for other members (`notices::pool`).
    pub notices: Arc<crate::notices::pool::NoticePool>,
    /// How this node's own undelivered events are going.
    pub delivery: Arc<crate::notices::delivery::Delivery>,
    /// Verifies and stores every item, whatever its origin.
    pub ingest: Ingest,
    /// The item set as catch-up reconciles it.
    pub index: Arc<SyncIndex>,
    /// Catch-up sessions and their progress.
    pub sync: Sync,
    /// Rate limits and ban policy (`[limits]` in cairn.toml).
    pub limits: crate::config::Limits,
    /// What rate limits and bans dropped, for `cairn status`.
    pub counters: Arc<crate::rate_limit::Counters>,
    /// The pseudonym this node may publish under (`[pseudonym]`).
    pub pseudonym: Option<crate::pseudonym::Pseudonym>,
    /// The TAXII server's discovery URL, once it listens.
    pub taxii_url: std::sync::OnceLock<String>,
    /// The MISP feed's URL (its directory), once it listens.
    pub misp_feed_url: std::sync::OnceLock<String>,
    /// The web view's URL, once it listens.
    pub web_url: std::sync::OnceLock<String>,
    /// The metrics URL, once it listens.
    pub metrics_url: std::sync::OnceLock<String>,
    /// What the node counts for Prometheus (served only with `[metrics]`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Per-item stage times, off unless a benchmark starts it.
    pub stages: Arc<crate::stages::StageClock>,
}

impl Context {
    /// This node's certificate as it presents it now.
    pub fn certificate(&self) -> Certificate {
        self.admission.certificate()
    }
}
