//! Reconcile hints: a node whose catch-up session just stored items tells
//! its other members at once, and each starts a session with it. Items a
//! node fetched are never re-gossiped, so without this a member two hops
//! from an island learned them only when its own anti-entropy turn happened
//! to pick the right peer (measured: 2-12 s after a heal, three islands in a
//! line). A hint carries no item data: the session that follows reconciles
//! and verifies as always, so a false hint costs one small reconciliation.

use crate::network::client::Client;
use cairn_protocol::wire::{Request, Response};
use futures::future::join_all;
use libp2p::PeerId;
use tracing::debug;

/// Tells every connected member but `source` (which the items came from)
/// that this node just stored `stored` items.
pub async fn tell_members(client: Client, source: PeerId, stored: u64) {
    let Ok(snapshot) = client.snapshot().await else {
        return;
    };
    let peers: Vec<PeerId> = snapshot
        .members
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| *p != source)
        .collect();
    let answers = join_all(peers.iter().map(|&peer| {
        let client = client.clone();
        async move {
            let answer = client.request(peer, Request::SyncHint { stored }).await;
            (peer, answer)
        }
    }))
    .await;
    for (peer, answer) in answers {
        match answer {
            Ok(Ok(Response::Accepted)) => {}
            other => debug!(%peer, "reconcile hint not taken: {other:?}"),
        }
    }
}
