//! One catch-up session's requests to its peer: reconcile the item sets,
//! and fetch a chunk of ids, handing what comes back to the ingest worker,
//! which verifies it like gossip. Which chunks a session asks its peer for
//! is in `share`; the answering side is in `answer`.

use super::index::SyncIndex;
use super::reconcile::{Initiator, ReconcileError};
use super::refused::RefusedIds;
use crate::ingest::par_map;
use crate::ingest::worker::{Ingest, Refusal};
use crate::network::client::Client;
use cairn_protocol::wire::{Request, Response};
use cairn_protocol::{Certificate, CertificateId, EncodedItem, ItemBytes, ItemId, Timestamp};
use libp2p::PeerId;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// A request not answered within this ends its session. libp2p's own
/// request timeout (20 s) is reported by the connection's task, which a
/// connection stuck closing on a dead link never ran again: sessions with
/// a paused or cut-off peer hung 27-84 s. This deadline is the session's
/// own. An honest answer (at most 768 KiB read from the store) takes
/// milliseconds to a second.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// Why a session stopped early.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    #[error("request to the peer failed: {0}")]
    Request(String),
    #[error("the peer answered with {0}")]
    Unexpected(&'static str),
    #[error("the node is shutting down")]
    Stopped,
    #[error("the peer did not answer within {} s", REQUEST_DEADLINE.as_secs())]
    Deadline,
    #[error(
        "{} members already share this catch-up; this one waits for a later session",
        super::assign::MAX_HOLDERS
    )]
    PlanFull,
}

/// What one session did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SessionStats {
    pub rounds: usize,
    pub reconcile_bytes: usize,
    pub needed: usize,
    pub stored: u64,
    pub refused: u64,
    /// Ids this member had in flight when its session failed, handed to
    /// the other members that hold them.
    pub reassigned: usize,
}

/// Counters a session updates as it goes, for progress reports.
#[derive(Debug, Default)]
pub struct Counters {
    pub needed: AtomicU64,
    pub fetched: AtomicU64,
}

pub(super) async fn ask(
    client: &Client,
    peer: PeerId,
    request: Request,
) -> Result<Response, SyncError> {
    let answer = tokio::time::timeout(REQUEST_DEADLINE, client.request(peer, request))
        .await
        .map_err(|_| SyncError::Deadline)?;
    match answer {
        Err(_) => Err(SyncError::Stopped),
        Ok(Err(e)) => Err(SyncError::Request(e)),
        Ok(Ok(Response::Refused { reason })) => {
            Err(SyncError::Request(format!("refused: {reason}")))
        }
        Ok(Ok(r)) => Ok(r),
    }
}

/// Runs reconciliation with `peer` and returns the ids it has and we lack.
pub async fn reconcile_with(
    client: &Client,
    peer: PeerId,
    index: &SyncIndex,
    stats: &mut SessionStats,
    metrics: &crate::metrics::Metrics,
) -> Result<Vec<ItemId>, SyncError> {
    let set = index.snapshot();
    let (mut init, mut message) = Initiator::start(&set)?;
    loop {
        let answer = match ask(client, peer, Request::Reconcile { message }).await? {
            Response::Reconcile { message } => message,
            _ => {
                return Err(SyncError::Unexpected(
                    "something other than a reconciliation message",
                ))
            }
        };
        match init.step(&answer)? {
            Some(next) => message = next,
            None => break,
        }
    }
    stats.rounds = init.rounds;
    stats.reconcile_bytes = init.bytes_sent + init.bytes_received;
    metrics.catchup_bytes("sent", init.bytes_sent);
    metrics.catchup_bytes("received", init.bytes_received);
    Ok(init.need)
}

/// What one chunk's requests came to.
pub(super) struct ChunkDone {
    pub asked: Vec<ItemId>,
    /// Asked for and not received: the peer does not hold them, or its
    /// request failed.
    pub unanswered: Vec<ItemId>,
    pub stored: u64,
    pub refused: u64,
    /// Why the chunk stopped early.
    pub error: Option<SyncError>,
}

/// Fetches one chunk, asking again for whatever did not fit a response.
pub(super) async fn fetch_chunk(
    client: &Client,
    peer: PeerId,
    asked: Vec<ItemId>,
    ingest: &Ingest,
    counters: &Counters,
    refused_ids: &RefusedIds,
) -> ChunkDone {
    let mut done = ChunkDone {
        unanswered: asked.clone(),
        asked,
        stored: 0,
        refused: 0,
        error: None,
    };
    if let Err(e) = fetch_rounds(client, peer, ingest, counters, refused_ids, &mut done).await {
        done.error = Some(e);
    }
    done
}

/// Asks for `done.unanswered` until the peer sends none of them, taking
/// out what came back and counting the outcomes as it goes (so a failure
/// half-way leaves only what was not received).
async fn fetch_rounds(
    client: &Client,
    peer: PeerId,
    ingest: &Ingest,
    counters: &Counters,
    refused_ids: &RefusedIds,
    done: &mut ChunkDone,
) -> Result<(), SyncError> {
    while !done.unanswered.is_empty() {
        let ids = done.unanswered.clone();
        let (certificates, items) = match ask(client, peer, Request::Fetch { ids }).await? {
            Response::Items {
                certificates,
                items,
            } => (certificates, items),
            _ => return Err(SyncError::Unexpected("something other than items")),
        };
        if items.is_empty() {
            break;
        }
        let metrics = ingest.metrics();
        metrics.catchup_bytes("received", items.iter().map(|i| i.0.len()).sum());
        metrics.catchup_items("fetched", items.len());
        let mut wanted: HashSet<ItemId> = done.unanswered.iter().copied().collect();
        let (batch, rejected, wanted) = tokio::task::spawn_blocking(move || {
            let (batch, rejected) = sort_fetched(&mut wanted, certificates, items);
            (batch, rejected, wanted)
        })
        .await
        .map_err(|_| SyncError::Stopped)?;
        done.refused += rejected;
        let before = done.unanswered.len();
        done.unanswered.retain(|id| wanted.contains(id));
        if done.unanswered.len() == before {
            // Nothing asked for came back: this peer cannot help with these.
            break;
        }
        counters
            .fetched
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let submitted: Vec<(ItemId, Timestamp)> = batch
            .iter()
            .map(|(i, _)| (i.id(), i.item().body.created))
            .collect();
        let results = ingest
            .submit(batch, false)
            .await
            .map_err(|_| SyncError::Stopped)?;
        let horizon = Timestamp::now().plus_millis(cairn_protocol::item::MAX_CLOCK_SKEW_MS);
        for ((id, created), r) in submitted.into_iter().zip(results) {
            match r {
                Ok(_) => done.stored += 1,
                Err(e) => {
                    done.refused += 1;
                    // Only the future-dated may pass later; the rest never will.
                    if matches!(e, Refusal::Invalid(_)) && created <= horizon {
                        refused_ids.insert(id);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Of a fetch response, the items to hand to the ingest worker (which
/// verifies them): those that decode, were asked for (each once; taken out
/// of `asked`) and came with their publisher's certificate. Returns them
/// and how many others were refused. Decodes on all cores: call it off the
/// async runtime.
pub fn sort_fetched(
    asked: &mut HashSet<ItemId>,
    certificates: Vec<Certificate>,
    items: Vec<ItemBytes>,
) -> (Vec<(EncodedItem, Certificate)>, u64) {
    let certs: HashMap<CertificateId, Certificate> =
        certificates.into_iter().map(|c| (c.id(), c)).collect();
    let decoded = par_map(&items, |raw| EncodedItem::decode(raw.0.clone()));
    let mut batch = Vec::with_capacity(decoded.len());
    let mut refused = 0;
    for item in decoded {
        // A peer cannot push extra items here, nor one item twice.
        let Ok(item) = item else {
            refused += 1;
            continue;
        };
        if !asked.remove(&item.id()) {
            refused += 1;
            continue;
        }
        match certs.get(&item.item().body.publisher) {
            Some(c) => batch.push((item, c.clone())),
            None => refused += 1,
        }
    }
    (batch, refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;
    use cairn_protocol::codec;

    fn bytes(item: &cairn_protocol::SignedItem) -> ItemBytes {
        ItemBytes(codec::encode(item).unwrap())
    }

    #[test]
    fn only_decodable_asked_items_with_their_certificate_go_on() {
        let f = Fixture::new();
        let (a, cert) = f.item("hospital", "asked");
        let (b, _) = f.item("hospital", "asked, no certificate sent");
        let (extra, _) = f.item("hospital", "not asked");
        let (other, other_cert) = f.item("bank", "asked, other publisher");
        let mut asked: HashSet<ItemId> = [a.id(), b.id(), other.id()].into();
        let items = vec![
            bytes(&a),
            bytes(&a), // the same item twice
            ItemBytes(b"\x01not an item".to_vec()),
            bytes(&extra),
            bytes(&other),
        ];
        let (batch, refused) = sort_fetched(&mut asked, vec![cert.clone(), other_cert], items);
        let ids: Vec<ItemId> = batch.iter().map(|(i, _)| i.id()).collect();
        assert_eq!(ids, vec![a.id(), other.id()]);
        assert_eq!(batch[0].1, cert);
        assert_eq!(refused, 3, "duplicate, garbage, not asked");
        assert_eq!(asked, [b.id()].into(), "b was not sent: still wanted");

        let (batch, refused) = sort_fetched(&mut asked, Vec::new(), vec![bytes(&b)]);
        assert!(batch.is_empty());
        assert_eq!(refused, 1, "no certificate came with it");
        assert!(asked.is_empty());
    }
}
