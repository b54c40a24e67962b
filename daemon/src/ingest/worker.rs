//! The ingest worker: one task that verifies and stores items in batches.
//!
//! Batching is what makes verification and durability cheap: a batch is
//! verified on all cores, stored as one atomic batch, and flushed once
//! if anyone in it waits for durability (group commit). Gossip verdicts go
//! back to the network task as soon as a batch is verified, before it is
//! stored (`route.rs`), so relaying never waits on the disk; callers that
//! submitted items directly get one result per item once stored.
//!
//! Gossiped items that verified and are new here also take a token from
//! their publisher's bucket (`[limits] items_per_publisher`): a member that
//! floods has the excess dropped (Ignore: whoever relayed it is not at
//! fault), unstored. Catch-up fetches those items later and is not limited
//! per publisher, so the limit delays a flood without losing it, and never
//! makes anti-entropy fetch the same items again and again.

use super::route::{early, reply, Batch, Caller, Origin};
use super::{decode_gossip, par_map, Verifier};
use crate::metrics::{reason, Metrics};
use crate::rate_limit::{Counters, KeyedLimiter, Rate};
use crate::stages::{Stage, StageClock};
use crate::sync::index::SyncIndex;
use cairn_protocol::{Certificate, Community, EncodedItem, ItemId, PublicKey, Timestamp};
use cairn_store::ItemStore;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::PeerId;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tracing::{error, warn};

/// Queue length in jobs. When gossip arrives faster than it can be verified
/// the excess is dropped (reported as Ignore, no penalty); catch-up fetches
/// it later, so the queue stays bounded without losing anything.
pub const QUEUE: usize = 8192;

/// Publishes of this node's own waiting at once (each is one caller).
const URGENT_QUEUE: usize = 256;

/// Most items verified and stored as one batch.
const MAX_BATCH: usize = 2048;

/// Most bytes of gossip waiting for verification. A member can send frames
/// of up to 1 MiB; counting jobs alone would let a few thousand of them hold
/// gigabytes. Over budget, gossip is ignored (no penalty) and left to catch-up.
pub const GOSSIP_BYTES: usize = 64 << 20;

/// Why an item was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It failed verification: the sender is at fault.
    #[error("{0}")]
    Invalid(super::Invalid),
    /// It verified but the local store failed: nobody else is at fault.
    #[error("verified but not stored: {0}")]
    NotStored(String),
    /// It verified, but its publisher sent more than its rate allows; it is
    /// left to catch-up.
    #[error("its publisher exceeded its rate limit")]
    RateLimited,
}

/// The outcome for one item: whether it was new, or why it was refused.
pub type ItemResult = Result<bool, Refusal>;

/// A gossip verdict for the network task to report.
#[derive(Debug)]
pub struct Verdict {
    pub message_id: MessageId,
    pub source: PeerId,
    pub acceptance: MessageAcceptance,
    /// A rejection the sender itself is to blame for (it could not have
    /// been relayed by an honest node: undecodable, or forged by the
    /// publisher that sent it), which counts towards a ban. Rejections that
    /// depend on what this node knows (a revocation, the clock) only lower
    /// the sender's gossipsub score.
    pub strike: bool,
    /// It went through the ingest queue ([`Ingest::try_gossip`]), where it
    /// counted towards its sender's share.
    pub queued: bool,
}

enum Job {
    Gossip {
        data: Vec<u8>,
        message_id: MessageId,
        source: PeerId,
        /// Returned to the byte budget when the batch is done.
        _bytes: OwnedSemaphorePermit,
    },
    Items {
        items: Vec<(EncodedItem, Certificate)>,
        durable: bool,
        /// Each item's check, as soon as it is verified (before storing).
        checked: Option<oneshot::Sender<Vec<Result<(), Refusal>>>>,
        reply: oneshot::Sender<Vec<ItemResult>>,
    },
}

/// The ingest worker stopped (the node is shutting down).
#[derive(Debug, thiserror::Error)]
#[error("the ingest worker has stopped (the node is shutting down)")]
pub struct Stopped;

/// Cloneable handle for submitting work.
#[derive(Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Job>,
    /// Items a caller waits on to be durable (this node's own publishes):
    /// taken before any queued gossip, so a flood of gossip cannot hold up
    /// the node's own publishing.
    urgent: mpsc::Sender<Job>,
    gossip_bytes: Arc<Semaphore>,
    verdicts: mpsc::Sender<Verdict>,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// Where gossip verdicts reach the network task (for gossip checked
    /// elsewhere, revocations).
    pub fn verdicts(&self) -> mpsc::Sender<Verdict> {
        self.verdicts.clone()
    }

    /// The node's metrics (catch-up counts its traffic there).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Queues gossip without waiting. False if the queue or the byte budget
    /// is full.
    pub fn try_gossip(&self, data: Vec<u8>, message_id: MessageId, source: PeerId) -> bool {
        let Ok(bytes) = u32::try_from(data.len().max(1)) else {
            return false;
        };
        let Ok(permit) = self.gossip_bytes.clone().try_acquire_many_owned(bytes) else {
            return false;
        };
        self.tx
            .try_send(Job::Gossip {
                data,
                message_id,
                source,
                _bytes: permit,
            })
            .is_ok()
    }

    /// Verifies and stores `items`; with `durable`, answers only after they
    /// are flushed to disk.
    pub async fn submit(
        &self,
        items: Vec<(EncodedItem, Certificate)>,
        durable: bool,
    ) -> Result<Vec<ItemResult>, Stopped> {
        let (reply, rx) = oneshot::channel();
        let queue = if durable { &self.urgent } else { &self.tx };
        queue
            .send(Job::Items {
                items,
                durable,
                checked: None,
                reply,
            })
            .await
            .map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }

    /// This node's own item, ahead of any gossip: answers first whether it
    /// verified (so the caller can hand it to gossip at once), then whether
    /// it is stored and flushed.
    pub async fn submit_own(
        &self,
        item: (EncodedItem, Certificate),
    ) -> Result<(Checked, Stored), Stopped> {
        let (checked, checked_rx) = oneshot::channel();
        let (reply, rx) = oneshot::channel();
        self.urgent
            .send(Job::Items {
                items: vec![item],
                durable: true,
                checked: Some(checked),
                reply,
            })
            .await
            .map_err(|_| Stopped)?;
        let checked = async move { first(checked_rx.await) };
        let stored = async move { first(rx.await) };
        Ok((Box::pin(checked), Box::pin(stored)))
    }
}

/// The one result a single-item submission gets.
fn first<T>(answer: Result<Vec<T>, oneshot::error::RecvError>) -> Result<T, Stopped> {
    answer
        .ok()
        .and_then(|v| v.into_iter().next())
        .ok_or(Stopped)
}

/// Whether an own item verified; resolves before it is stored.
pub type Checked = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Result<(), Refusal>, Stopped>> + Send>,
>;

/// Whether an own item is stored and flushed.
pub type Stored =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<ItemResult, Stopped>> + Send>>;

/// Starts the worker; it stops when every [`Ingest`] handle is dropped.
/// Every newly stored item's id is announced on `stored` (for watchers and
/// benchmarks; a lagging receiver misses announcements, never items).
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    community: Community,
    revocations: Arc<crate::revocations::Revocations>,
    store: ItemStore,
    index: Arc<SyncIndex>,
    verdicts: mpsc::Sender<Verdict>,
    stored: broadcast::Sender<ItemId>,
    publisher_rate: Rate,
    counters: Arc<Counters>,
    metrics: Arc<Metrics>,
    stages: Arc<StageClock>,
) -> (Ingest, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (urgent, urgent_rx) = mpsc::channel(URGENT_QUEUE);
    let sinks = Sinks {
        index,
        verdicts: verdicts.clone(),
        stored,
        metrics: metrics.clone(),
        stages,
    };
    let verifier = Verifier::with_revocations(community, revocations);
    let limit = PublisherLimit {
        buckets: KeyedLimiter::new(publisher_rate),
        counters,
    };
    let queues = Queues {
        urgent: urgent_rx,
        rest: rx,
    };
    let task = tokio::spawn(run(queues, (verifier, limit), store, sinks));
    let gossip_bytes = Arc::new(Semaphore::new(GOSSIP_BYTES));
    (
        Ingest {
            tx,
            urgent,
            gossip_bytes,
            verdicts,
            metrics,
        },
        task,
    )
}

/// Where the worker's results go besides the callers.
struct Sinks {
    index: Arc<SyncIndex>,
    verdicts: mpsc::Sender<Verdict>,
    stored: broadcast::Sender<ItemId>,
    metrics: Arc<Metrics>,
    stages: Arc<StageClock>,
}

/// Tokens per publisher for gossiped items.
struct PublisherLimit {
    buckets: KeyedLimiter<PublicKey>,
    counters: Arc<Counters>,
}

impl PublisherLimit {
    /// Which items of the batch are worth verifying: gossip over what its
    /// claimed publisher's bucket holds now is refused unverified (counted
    /// as rate limited), so a flood past its budget costs a decode, not a
    /// signature check. The claim is unverified, but only verified items
    /// take tokens (`apply`), so a forger naming an honest publisher cannot
    /// spend that publisher's budget; it can at most be skipped while the
    /// publisher itself is over its rate.
    fn affordable(&mut self, batch: &Batch, held: &[bool]) -> Vec<bool> {
        let now = std::time::Instant::now();
        let mut budget: std::collections::HashMap<PublicKey, f64> = Default::default();
        batch
            .origins
            .iter()
            .enumerate()
            .map(|(i, origin)| {
                if !matches!(origin, Origin::Gossip { .. }) || held[i] {
                    return true;
                }
                let publisher = batch.items[i].1.body.member_key;
                let left = budget
                    .entry(publisher)
                    .or_insert_with(|| self.buckets.available(&publisher, now));
                if *left >= 1.0 {
                    *left -= 1.0;
                    true
                } else {
                    Counters::add(&self.counters.publisher_rate_limited);
                    false
                }
            })
            .collect()
    }

    /// Turns verified, new gossip over its publisher's rate into
    /// [`Refusal::RateLimited`]. Items already held take no token: they are
    /// not stored again, and counting them would let a replay of a
    /// publisher's old items eat its budget.
    fn apply(&mut self, batch: &Batch, held: &[bool], checks: &mut [Result<(), Refusal>]) {
        let now = std::time::Instant::now();
        for (i, origin) in batch.origins.iter().enumerate() {
            if matches!(origin, Origin::Gossip { .. }) && checks[i].is_ok() && !held[i] {
                let publisher = batch.items[i].1.body.member_key;
                if !self.buckets.allow(&publisher, now) {
                    Counters::add(&self.counters.publisher_rate_limited);
                    checks[i] = Err(Refusal::RateLimited);
                }
            }
        }
    }
}

/// Most bytes of gossip decoded and verified as one batch.
const MAX_BATCH_BYTES: usize = 16 << 20;

/// Jobs waiting: the node's own publishes, and everything else (gossip,
/// catch-up) in arrival order.
struct Queues {
    urgent: mpsc::Receiver<Job>,
    rest: mpsc::Receiver<Job>,
}

impl Queues {
    /// The next job, urgent ones first, and whether it was urgent; None
    /// once every handle is gone.
    async fn next(&mut self) -> Option<(Job, bool)> {
        tokio::select! {
            biased;
            Some(job) = self.urgent.recv() => Some((job, true)),
            job = self.rest.recv() => job.map(|j| (j, false)),
        }
    }

    /// Another queued job for a batch: only urgent ones for an urgent batch,
    /// which then waits for nothing else.
    fn try_next(&mut self, urgent_only: bool) -> Option<Job> {
        match self.urgent.try_recv() {
            Ok(job) => Some(job),
            Err(_) if urgent_only => None,
            Err(_) => self.rest.try_recv().ok(),
        }
    }
}

/// Takes the first job and whatever else is queued, up to the batch limits.
fn gather((first, urgent): (Job, bool), queues: &mut Queues) -> Vec<Job> {
    let (mut items, mut bytes) = (0, 0);
    let mut jobs = Vec::new();
    let mut next = Some(first);
    while let Some(job) = next {
        match &job {
            Job::Gossip { data, .. } => {
                items += 1;
                bytes += data.len();
            }
            Job::Items { items: list, .. } => items += list.len(),
        }
        jobs.push(job);
        next = if items < MAX_BATCH && bytes < MAX_BATCH_BYTES {
            queues.try_next(urgent)
        } else {
            None
        };
    }
    jobs
}

/// Decodes gossip (on all cores) and lays out a batch; runs on a blocking
/// thread.
fn collect(jobs: Vec<Job>, stages: &StageClock) -> Batch {
    let mut b = Batch {
        items: Vec::new(),
        origins: Vec::new(),
        undecodable: Vec::new(),
        callers: Vec::new(),
        durable: false,
    };
    let mut gossip = Vec::new();
    for job in jobs {
        match job {
            Job::Gossip {
                data,
                message_id,
                source,
                _bytes,
            } => gossip.push((data, message_id, source)),
            Job::Items {
                items,
                durable,
                checked,
                reply,
            } => {
                let caller = b.callers.len();
                b.callers.push(Caller {
                    reply,
                    checked,
                    count: items.len(),
                });
                b.durable |= durable;
                for pair in items {
                    b.items.push(pair);
                    b.origins.push(Origin::Caller(caller));
                }
            }
        }
    }
    let decoded = par_map(&gossip, |(data, _, _)| decode_gossip(data));
    for ((_, message_id, source), pair) in gossip.into_iter().zip(decoded) {
        match pair {
            Ok(pair) => {
                stages.link(&message_id, pair.0.id());
                b.items.push(pair);
                b.origins.push(Origin::Gossip { message_id, source });
            }
            Err(e) => {
                warn!(peer = %source, "gossip rejected: {e}");
                b.undecodable.push(Verdict {
                    message_id,
                    source,
                    acceptance: MessageAcceptance::Reject,
                    strike: true,
                    queued: true,
                });
            }
        }
    }
    b
}

/// Two stages, so one batch is verified (on all cores) while the previous
/// one is written and flushed.
async fn run(
    mut queues: Queues,
    verifier: (Verifier, PublisherLimit),
    store: ItemStore,
    sinks: Sinks,
) {
    let index = sinks.index.clone();
    let verdicts = sinks.verdicts.clone();
    let metrics = sinks.metrics.clone();
    let sinks_metrics = metrics.clone();
    let stages = sinks.stages.clone();
    let (to_store, verified) = mpsc::channel(1);
    let storer = tokio::spawn(store_stage(verified, store, sinks));
    let mut verifier = Some(verifier);
    while let Some(first) = queues.next().await {
        let jobs = gather(first, &mut queues);
        let (mut v, mut limit) = verifier
            .take()
            .expect("verifier is returned after each batch");
        let index = index.clone();
        let metrics = metrics.clone();
        let clock = stages.clone();
        let done = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let batch = collect(jobs, &clock);
            let held = index.holds(
                batch
                    .items
                    .iter()
                    .map(|(i, _)| (i.item().body.created.millis(), i.id())),
            );
            let affordable = limit.affordable(&batch, &held);
            let mut checks: Vec<Result<(), Refusal>> = v
                .verify_selected(&batch.items, &held, &affordable, Timestamp::now())
                .into_iter()
                .map(|c| match c {
                    Some(c) => c.map_err(Refusal::Invalid),
                    None => Err(Refusal::RateLimited),
                })
                .collect();
            limit.apply(&batch, &held, &mut checks);
            metrics
                .verify_seconds
                .observe(started.elapsed().as_secs_f64());
            ((v, limit), batch, checks)
        })
        .await;
        let (v, mut batch, checks) = match done {
            Ok(x) => x,
            Err(e) => {
                error!("ingest verification failed: {e}");
                break;
            }
        };
        verifier = Some(v);
        if stages.is_on() {
            stages.items(batch.items.iter().map(|(i, _)| i.id()), Stage::Verified);
        }
        // Relaying and publishing need only the checks: storing and
        // flushing are not on an item's way to the next node.
        for _ in &batch.undecodable {
            sinks_metrics.rejected(reason::UNDECODABLE);
        }
        early(&mut batch, &checks, &verdicts).await;
        if to_store.send((batch, checks)).await.is_err() {
            break;
        }
    }
    drop(to_store);
    let _ = storer.await;
}

async fn store_stage(
    mut verified: mpsc::Receiver<(Batch, Vec<Result<(), Refusal>>)>,
    store: ItemStore,
    sinks: Sinks,
) {
    while let Some((batch, checks)) = verified.recv().await {
        let store2 = store.clone();
        let metrics = sinks.metrics.clone();
        let done = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let (results, new) = store_checked(&store2, &batch.items, checks, batch.durable);
            metrics
                .store_seconds
                .observe(started.elapsed().as_secs_f64());
            (batch, results, new)
        })
        .await;
        let (batch, results, new) = match done {
            Ok(x) => x,
            Err(e) => {
                error!("ingest storage failed: {e}");
                return;
            }
        };
        sinks
            .stages
            .items(new.iter().map(|(_, id)| *id), Stage::Stored);
        for (_, id) in &new {
            let _ = sinks.stored.send(*id);
        }
        count(&sinks.metrics, &results, new.len());
        sinks.index.add(new);
        reply(batch, results);
    }
}

/// Stores the items that verified and (if asked) flushes. Returns each
/// item's result and the (creation millis, id) of the new ones.
fn store_checked(
    store: &ItemStore,
    items: &[(EncodedItem, Certificate)],
    checks: Vec<Result<(), Refusal>>,
    durable: bool,
) -> (Vec<ItemResult>, Vec<(u64, ItemId)>) {
    let valid: Vec<(&EncodedItem, &Certificate)> = items
        .iter()
        .zip(&checks)
        .filter(|(_, c)| c.is_ok())
        .map(|((i, c), _)| (i, c))
        .collect();
    let stored = store.insert_batch(&valid).and_then(|new| {
        if durable {
            store.flush()?;
        }
        Ok(new)
    });
    let outcomes = match stored {
        Ok(outcomes) => outcomes,
        Err(e) => {
            error!("cannot store verified items: {e}");
            let results = checks
                .into_iter()
                .map(|c| match c {
                    Ok(()) => Err(Refusal::NotStored(e.to_string())),
                    Err(why) => Err(why),
                })
                .collect();
            return (results, Vec::new());
        }
    };
    let new: Vec<(u64, ItemId)> = valid
        .iter()
        .zip(&outcomes)
        .filter(|(_, (_, is_new))| *is_new)
        .map(|((item, _), (id, _))| (item.item().body.created.millis(), *id))
        .collect();
    let mut outcomes = outcomes.into_iter();
    let results = checks
        .into_iter()
        .map(|c| match c {
            Ok(()) => Ok(outcomes.next().is_some_and(|(_, is_new)| is_new)),
            Err(why) => Err(why),
        })
        .collect();
    (results, new)
}
/// What a batch did, for the metrics.
fn count(metrics: &Metrics, results: &[ItemResult], new: usize) {
    metrics.items_stored.inc_by(new as u64);
    for r in results {
        match r {
            Ok(_) => {}
            Err(Refusal::Invalid(i)) => metrics.rejected(i.reason),
            Err(Refusal::RateLimited) => metrics.rejected(reason::RATE_LIMITED),
            Err(Refusal::NotStored(_)) => metrics.rejected(reason::NOT_STORED),
        }
    }
}
