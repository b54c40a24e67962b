//! When to reconcile with whom: with each member as it is admitted, with the
//! next member in turn every few seconds (anti-entropy, which also repairs
//! what a burst made gossipsub drop), and with everyone when the operator
//! asks. A session that found missing items starts a chase: sessions with
//! the next members in turn follow at once, until a whole round of members
//! has passed without finding more. After a loss a node so goes round the
//! community in seconds instead of one member per interval (what one member
//! lacked, others may lack too), and in quiet times anti-entropy costs one
//! small reconciliation per interval.
//!
//! Up to [`MAX_SESSIONS`] sessions run at once, each with a different
//! member (`schedule`), so a member that stopped answering holds back only
//! its own session, which ends on its request deadline (`fetch`). A session
//! that stored items tells the other members at once (`hint`), so items
//! cross several hops within round trips instead of waiting for each
//! hop's next anti-entropy turn.

use super::fetch::{reconcile_with, Counters, SessionStats};
use super::index::SyncIndex;
use super::schedule::{Schedule, MAX_SESSIONS};
use super::share::{fetch_share, SharedPlan, CHUNK};
use crate::ingest::worker::Ingest;
use crate::network::client::Client;
use cairn_protocol::control::SyncStatus;
use cairn_protocol::Timestamp;
use libp2p::PeerId;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, info_span, warn, Instrument};

/// Interval of anti-entropy rounds with the next member in turn.
pub const ANTI_ENTROPY: Duration = Duration::from_secs(5);
/// Interval of progress lines in the log during a long catch-up.
const PROGRESS_LOG: Duration = Duration::from_secs(2);
/// A session that takes longer is abandoned, so one slow or misbehaving
/// member cannot stall catch-up with the others; what it fetched is kept.
const SESSION_LIMIT: Duration = Duration::from_secs(120);

/// What to reconcile with.
#[derive(Debug)]
pub enum Trigger {
    /// A member was just admitted.
    Peer(PeerId),
    /// Every admitted member, then tell the caller.
    All(Option<oneshot::Sender<()>>),
    /// A session with this member found more missing than one request
    /// asks for: sessions with the other members, so that all that hold
    /// the missing items fetch them together.
    OtherHolders(PeerId),
}

/// Handle for triggering sessions and reading progress.
#[derive(Clone)]
pub struct Sync {
    tx: mpsc::Sender<Trigger>,
    status: watch::Receiver<SyncStatus>,
}

impl Sync {
    /// Asks for a session with `peer`: it was just admitted, or it sent
    /// gossip this node had to drop (dropped if many are already queued:
    /// anti-entropy covers it).
    pub fn want_session(&self, peer: PeerId) {
        let _ = self.tx.try_send(Trigger::Peer(peer));
    }

    /// Reconciles with every member; resolves when done.
    pub async fn all(&self) -> Result<(), crate::network::client::Stopped> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Trigger::All(Some(reply)))
            .await
            .map_err(|_| crate::network::client::Stopped)?;
        rx.await.map_err(|_| crate::network::client::Stopped)
    }

    /// Progress, updated as sessions run.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }
}

/// A random starting point for the member turns, from the standard
/// library's randomly seeded hasher (no random-number crate needed for this).
fn random_start() -> usize {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish() as usize
}

struct Manager {
    client: Client,
    index: Arc<SyncIndex>,
    ingest: Ingest,
    revocations: Arc<crate::revocations::Revocations>,
    refused: super::refused::RefusedIds,
    status: watch::Sender<SyncStatus>,
    /// Sessions running now (the status shows the latest one's peer).
    running: std::sync::atomic::AtomicUsize,
    /// Which member each missing id is fetched from, across the sessions.
    plan: SharedPlan,
    /// The manager's own trigger channel, weak so that it still closes when
    /// every [`Sync`] handle is gone.
    triggers: mpsc::WeakSender<Trigger>,
}

/// Starts the manager task.
pub fn spawn(
    client: Client,
    index: Arc<SyncIndex>,
    ingest: Ingest,
    revocations: Arc<crate::revocations::Revocations>,
    shutdown: watch::Receiver<bool>,
) -> (Sync, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(256);
    let (status_tx, status) = watch::channel(SyncStatus::default());
    let m = Manager {
        client,
        index,
        ingest,
        revocations,
        refused: Default::default(),
        status: status_tx,
        running: Default::default(),
        plan: SharedPlan::default(),
        triggers: tx.downgrade(),
    };
    (
        Sync { tx, status },
        tokio::spawn(Arc::new(m).run(rx, shutdown)),
    )
}

impl Manager {
    async fn run(
        self: Arc<Self>,
        mut rx: mpsc::Receiver<Trigger>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tick = tokio::time::interval(ANTI_ENTROPY);
        // After a long session, one round, not a burst of catch-up ticks.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        // Each node starts its turns at a random member: if all started at the
        // first, after a burst they would all reconcile with the same member
        // at once, and it answers only a few sessions at a time.
        let mut turn = random_start();
        // Sessions still to run at once, in turn, before waiting for a tick.
        let mut chase = 0usize;
        let mut schedule: Schedule<oneshot::Sender<()>> = Schedule::new(MAX_SESSIONS);
        let mut sessions: JoinSet<u64> = JoinSet::new();
        // Which peer each session task is with, so even a session that
        // panicked frees its peer's slot.
        let mut session_peers: HashMap<tokio::task::Id, PeerId> = HashMap::new();
        loop {
            tokio::select! {
                t = rx.recv() => match t {
                    Some(t) => self.absorb(t, &mut schedule).await,
                    None => break,
                },
                _ = tick.tick() => {
                    if let Some(p) = self.next_member(&mut turn).await {
                        schedule.want(p);
                    }
                }
                Some(done) = sessions.join_next_with_id(), if !sessions.is_empty() => {
                    let (id, stored) = match done {
                        Ok((id, stored)) => (id, stored),
                        Err(e) => {
                            warn!("a catch-up session failed: {e}");
                            (e.id(), 0)
                        }
                    };
                    let Some(peer) = session_peers.remove(&id) else { continue };
                    for w in schedule.finished(peer) {
                        let _ = w.send(());
                    }
                    if stored > 0 {
                        chase = self.members().await.len();
                        tokio::spawn(super::hint::tell_members(self.client.clone(), peer, stored));
                    }
                }
                () = std::future::ready(()), if chase > 0 && schedule.has_room() => {
                    chase -= 1;
                    if let Some(p) = self.next_member(&mut turn).await {
                        schedule.want(p);
                    }
                }
                _ = shutdown.changed() => break,
            }
            // Collapse whatever else is queued into this round.
            while let Ok(t) = rx.try_recv() {
                self.absorb(t, &mut schedule).await;
            }
            for peer in schedule.start() {
                let m = self.clone();
                let task = sessions.spawn(async move { m.session(peer).await });
                session_peers.insert(task.id(), peer);
            }
        }
        sessions.abort_all();
    }

    async fn absorb(&self, t: Trigger, schedule: &mut Schedule<oneshot::Sender<()>>) {
        match t {
            Trigger::Peer(p) => schedule.want(p),
            Trigger::OtherHolders(found) => {
                for p in self.members().await {
                    if p != found {
                        schedule.want_idle(p);
                    }
                }
            }
            Trigger::All(w) => {
                let members = self.members().await;
                if let Some(w) = w {
                    if let Some(w) = schedule.want_all(&members, w) {
                        let _ = w.send(());
                    }
                } else {
                    for p in members {
                        schedule.want(p);
                    }
                }
            }
        }
    }

    async fn members(&self) -> Vec<PeerId> {
        match self.client.snapshot().await {
            Ok(s) => s.members.into_iter().map(|(p, _)| p).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Members in turn (sorted, so every pair is eventually visited).
    async fn next_member(&self, turn: &mut usize) -> Option<PeerId> {
        let mut members = self.members().await;
        if members.is_empty() {
            return None;
        }
        members.sort();
        *turn = turn.wrapping_add(1);
        Some(members[*turn % members.len()])
    }

    /// The entity name in `peer`'s certificate, if it is a member now.
    async fn name_of(&self, peer: PeerId) -> Option<String> {
        let snap = self.client.snapshot().await.ok()?;
        snap.members
            .iter()
            .find(|(p, _)| *p == peer)
            .map(|(_, c)| c.body.subject.display_name())
    }

    /// One session with `peer`; returns how many items it stored.
    async fn session(&self, peer: PeerId) -> u64 {
        debug!(%peer, "catch-up session starts");
        // People know members by name, not by PeerId: the log and
        // `cairn status` name the peer by its certificate.
        let name = self.name_of(peer).await;
        let member = name.clone().unwrap_or_else(|| peer.to_string());
        let span = info_span!("sync", %member, %peer);
        async {
            self.running.fetch_add(1, Ordering::Relaxed);
            self.status.send_modify(|s| {
                s.running = true;
                s.peer = Some(peer.to_string());
                s.peer_name = name.clone();
                s.needed = 0;
                s.fetched = 0;
            });
            let started = Instant::now();
            let counters = Arc::new(Counters::default());
            // Outside the work, so what a failed session stored is still
            // reported (and hinted to the other members).
            let mut stats = SessionStats::default();
            let stats_ref = &mut stats;
            let work = async {
                let stats = stats_ref;
                let member = self.plan.join(peer)?;
                super::revocations::sync_revocations(&self.client, peer, &self.revocations)
                    .await?;
                let need = reconcile_with(
                    &self.client,
                    peer,
                    &self.index,
                    stats,
                    self.ingest.metrics(),
                )
                .await?;
                let need = self.refused.filter(need);
                if !need.is_empty() {
                    info!(missing = need.len(), "catching up");
                }
                if need.len() > CHUNK {
                    // Others may hold the same items (a node back from
                    // being offline misses what all of them received).
                    if let Some(tx) = self.triggers.upgrade() {
                        let _ = tx.try_send(Trigger::OtherHolders(peer));
                    }
                }
                fetch_share(
                    &self.client,
                    member,
                    need,
                    &self.ingest,
                    &counters,
                    &self.refused,
                    stats,
                )
                .await
            };
            let mut work = Box::pin(work);
            let mut report = tokio::time::interval(PROGRESS_LOG);
            report.tick().await;
            let deadline = tokio::time::sleep(SESSION_LIMIT);
            tokio::pin!(deadline);
            let result = loop {
                tokio::select! {
                    r = &mut work => break r,
                    _ = &mut deadline => break Err(super::fetch::SyncError::Request(
                        format!("session took longer than {} s", SESSION_LIMIT.as_secs()),
                    )),
                    _ = report.tick() => {
                        let (n, f) = (counters.needed.load(Ordering::Relaxed), counters.fetched.load(Ordering::Relaxed));
                        info!("catch-up progress: {f}/{n} items");
                        self.status.send_modify(|s| { s.needed = n; s.fetched = f; });
                    }
                }
            };
            // Ends the work's borrow of `stats` (a session stopped on its
            // time limit is dropped here, giving up its place in the plan).
            drop(work);
            let (n, f) = (
                counters.needed.load(Ordering::Relaxed),
                counters.fetched.load(Ordering::Relaxed),
            );
            let others = self.running.fetch_sub(1, Ordering::Relaxed) - 1;
            self.status.send_modify(|s| {
                s.running = others > 0;
                s.needed = n;
                s.fetched = f;
                s.sessions += 1;
                match &result {
                    Ok(_) => {
                        s.last_completed = Some(Timestamp::now());
                        s.last_error = None;
                    }
                    Err(e) => s.last_error = Some(e.to_string()),
                }
            });
            let stored = stats.stored;
            match result {
                Ok(()) if stats.needed > 0 => info!(
                    stored = stats.stored,
                    refused = stats.refused,
                    offered = stats.needed,
                    rounds = stats.rounds,
                    reconcile_bytes = stats.reconcile_bytes,
                    "catch-up done in {:.2}s",
                    started.elapsed().as_secs_f64()
                ),
                Ok(_) => {}
                Err(e) => warn!(
                    stored = stats.stored,
                    reassigned = stats.reassigned,
                    "catch-up with this peer stopped: {e}"
                ),
            }
            stored
        }
        .instrument(span)
        .await
    }
}
