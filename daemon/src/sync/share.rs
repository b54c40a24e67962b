//! A session's share of the catch-up: the sessions running at once share
//! one plan of what is missing (`assign`), so members that hold the same
//! ids split them; each session fetches the chunks its member is given, a
//! few requests in flight, verification of one chunk overlapping the
//! requests for the next.

use super::assign::{Assignments, Left};
use super::fetch::{fetch_chunk, Counters, SessionStats, SyncError};
use super::refused::RefusedIds;
use crate::ingest::worker::Ingest;
use crate::network::client::Client;
use cairn_protocol::ItemId;
use futures::stream::FuturesUnordered;
use futures::StreamExt;
use libp2p::PeerId;
use std::sync::atomic::Ordering;
use tokio::sync::Notify;
use tracing::info;

/// Ids per fetch request: members holding the same missing set split it in
/// chunks of this size, and requests stay few (200 for 100k items, each
/// answer about 600 KB of 1 KiB items). Measured on a quiet machine
/// (`cairn-bench catchup`, 100k items from one member): 256 ids with 4 in
/// flight took 6.1-6.2 s, 512 with 4 4.9 s, 1,024 with 6 4.7-4.8 s; the
/// last leaves a set under 6,144 ids to one member, so 512.
pub const CHUNK: usize = 512;
/// Fetch requests in flight per member: enough to keep the ingest worker
/// fed from one member alone; a stuck member holds back at most
/// `CHUNK * IN_FLIGHT` ids (2,048) until its deadline or its connection's
/// close.
const IN_FLIGHT: usize = 4;
/// The catch-up plan shared by the sessions running at once: which member
/// each missing id is fetched from (`assign`), and a wake-up for sessions
/// waiting on ids in flight with another member.
#[derive(Default)]
pub struct SharedPlan {
    plan: std::sync::Mutex<Assignments<PeerId>>,
    changed: Notify,
}

impl SharedPlan {
    fn with<R>(&self, f: impl FnOnce(&mut Assignments<PeerId>) -> R) -> R {
        f(&mut self.plan.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Changes the plan and wakes the sessions waiting on it.
    fn update<R>(&self, f: impl FnOnce(&mut Assignments<PeerId>) -> R) -> R {
        let r = self.with(f);
        self.changed.notify_waiters();
        r
    }
}

impl SharedPlan {
    /// A session with `peer` takes its place in the plan before it
    /// reconciles (see [`Assignments::join`]); it leaves when the returned
    /// guard is done or dropped.
    pub fn join(&self, peer: PeerId) -> Result<InPlan<'_>, SyncError> {
        if !self.update(|p| p.join(peer)) {
            return Err(SyncError::PlanFull);
        }
        Ok(InPlan {
            shared: self,
            peer,
            left: false,
        })
    }
}

/// Offers `ids` (which the member holds) to the shared plan, then fetches
/// and ingests the share of them this member is given, until nothing it
/// holds is left waiting or in flight with another member. Ids no member
/// supplies are left for a later session. On failure (deadline, closed
/// connection) the ids not received go to the other holders.
pub async fn fetch_share(
    client: &Client,
    mut member: InPlan<'_>,
    ids: Vec<ItemId>,
    ingest: &Ingest,
    counters: &Counters,
    refused_ids: &RefusedIds,
    stats: &mut SessionStats,
) -> Result<(), SyncError> {
    let (shared, peer) = (member.shared, member.peer);
    let offered = shared
        .update(|p| p.offer(peer, ids))
        .ok_or(SyncError::PlanFull)?;
    stats.needed = offered;
    counters.needed.store(offered as u64, Ordering::Relaxed);
    let result = fetch_loop(client, peer, shared, ingest, counters, refused_ids, stats).await;
    stats.reassigned += member.leave().reassigned;
    if stats.reassigned > 0 {
        info!(
            reassigned = stats.reassigned,
            "ids this member was fetching go to the other members that hold them"
        );
    }
    result
}

/// A session's place in the shared plan, given up however the session
/// ends: a session dropped on its time limit must not leave ids in flight
/// with it that the other sessions would wait for.
pub struct InPlan<'a> {
    shared: &'a SharedPlan,
    peer: PeerId,
    left: bool,
}

impl InPlan<'_> {
    fn leave(&mut self) -> Left {
        self.left = true;
        self.shared.update(|p| p.leave(self.peer))
    }
}

impl Drop for InPlan<'_> {
    fn drop(&mut self) {
        if !self.left {
            self.leave();
        }
    }
}

async fn fetch_loop(
    client: &Client,
    peer: PeerId,
    shared: &SharedPlan,
    ingest: &Ingest,
    counters: &Counters,
    refused_ids: &RefusedIds,
    stats: &mut SessionStats,
) -> Result<(), SyncError> {
    let mut running = FuturesUnordered::new();
    // After a failure no new chunk is asked for, but the chunks still
    // running finish: their items may already be with the ingest worker,
    // and handing those ids on would fetch them twice.
    let mut failed: Option<SyncError> = None;
    loop {
        // Registered before looking at the plan, so a change made between
        // the look and the wait is not missed.
        let changed = shared.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        while running.len() < IN_FLIGHT && failed.is_none() {
            let chunk = shared.with(|p| p.take(peer, CHUNK));
            if chunk.is_empty() {
                break;
            }
            running.push(fetch_chunk(
                client,
                peer,
                chunk,
                ingest,
                counters,
                refused_ids,
            ));
        }
        if running.is_empty() {
            if let Some(e) = failed {
                return Err(e);
            }
            if !shared.with(|p| p.has_open(peer)) {
                return Ok(());
            }
        }
        tokio::select! {
            Some(done) = running.next(), if !running.is_empty() => {
                stats.stored += done.stored;
                stats.refused += done.refused;
                let left = shared.update(|p| {
                    let left = p.not_held(peer, &done.unanswered);
                    p.done(peer, &done.asked);
                    left
                });
                stats.reassigned += left.reassigned;
                if let Some(e) = done.error {
                    failed.get_or_insert(e);
                }
            }
            _ = &mut changed, if running.is_empty() => {}
        }
    }
}
