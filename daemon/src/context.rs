//! What every task of a running node shares: who it is, its community, and
//! its durable state.

use crate::authority::Authority;
use crate::ingest::check_gossip;
use cairn_protocol::{Certificate, Community, SecretKey, Timestamp};
use cairn_store::items::ItemStore;
use cairn_store::outbox::Outbox;
use libp2p::gossipsub::MessageAcceptance;
use libp2p::PeerId;
use std::sync::Arc;
use tokio::sync::Notify;
use tracing::{debug, error, warn};

/// Shared, read-mostly node state.
pub struct Context {
    pub community: Community,
    pub key: SecretKey,
    pub certificate: Certificate,
    pub items: ItemStore,
    pub outbox: Arc<Outbox>,
    /// Present on the community's authority node only.
    pub authority: Option<Arc<Authority>>,
    /// Wakes the participation delivery task (new event, authority admitted).
    pub participation_wake: Arc<Notify>,
}

impl Context {
    /// Verifies gossiped data and stores it if it holds. Invalid data is
    /// rejected so gossipsub penalises the relaying peer; a local storage
    /// failure is ignored (not the peer's fault) and logged loudly.
    pub fn accept_gossip(&self, data: &[u8], source: &PeerId) -> MessageAcceptance {
        match check_gossip(data, &self.community, Timestamp::now()) {
            Ok((item, certificate)) => {
                let id = item.id();
                match self.items.insert(&item, &certificate) {
                    Ok(new) => {
                        debug!(item = %id, peer = %source, new, "item accepted");
                        MessageAcceptance::Accept
                    }
                    Err(e) => {
                        error!(item = %id, "cannot store a verified item: {e}");
                        MessageAcceptance::Ignore
                    }
                }
            }
            Err(e) => {
                warn!(peer = %source, "gossip rejected: {e}");
                MessageAcceptance::Reject
            }
        }
    }
}
