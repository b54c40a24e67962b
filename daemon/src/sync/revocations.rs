//! Revocations in anti-entropy: each catch-up session first compares the
//! two nodes' revocation summaries and fetches what this node lacks, so a
//! revocation whose gossip was dropped still arrives within a round, not
//! only at the next reconnection.

use super::fetch::{ask, SyncError};
use crate::network::client::Client;
use crate::revocations::Revocations;
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::Timestamp;
use libp2p::PeerId;
use std::sync::Arc;

/// Brings this node's revocations level with `peer`'s; returns how many
/// were new here.
pub async fn sync_revocations(
    client: &Client,
    peer: PeerId,
    revocations: &Arc<Revocations>,
) -> Result<usize, SyncError> {
    let summary = revocations.summary();
    let ids = match ask(client, peer, Request::Revocations { summary }).await? {
        Response::RevocationsInSync => return Ok(0),
        Response::RevocationIds { ids } => ids,
        _ => return Err(SyncError::Unexpected("something other than revocation ids")),
    };
    let wanted = revocations.unknown(&ids);
    if wanted.is_empty() {
        return Ok(0);
    }
    let got = match ask(client, peer, Request::FetchRevocations { ids: wanted }).await? {
        Response::Revocations { revocations } => revocations,
        _ => return Err(SyncError::Unexpected("something other than revocations")),
    };
    let revocations = revocations.clone();
    tokio::task::spawn_blocking(move || revocations.add_all(got, Timestamp::now()))
        .await
        .map_err(|_| SyncError::Stopped)
}

/// The answering side of [`sync_revocations`]'s first request.
pub fn answer_summary(
    revocations: &Revocations,
    theirs: &cairn_protocol::handshake::RevocationSummary,
) -> Response {
    if revocations.summary() == *theirs {
        Response::RevocationsInSync
    } else {
        Response::RevocationIds {
            ids: revocations.ids(),
        }
    }
}
