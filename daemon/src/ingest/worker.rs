//! The ingest worker: one task that verifies and stores items in batches.
//!
//! Batching is what makes verification and durability cheap: a batch is
//! verified on all cores, written in one sled transaction, and flushed once
//! if anyone in it waits for durability (group commit). Gossip results go
//! back to the network task, which reports them to gossipsub; callers that
//! submitted items directly get one result per item.

use super::{decode_gossip, Verifier};
use crate::sync::index::SyncIndex;
use cairn_protocol::{Certificate, Community, ItemId, SignedItem, Timestamp};
use cairn_store::ItemStore;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::PeerId;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::{debug, error, warn};

/// Queue length in jobs. When gossip arrives faster than it can be verified
/// the excess is dropped (reported as Ignore, no penalty); catch-up fetches
/// it later, so the queue stays bounded without losing anything.
pub const QUEUE: usize = 8192;

/// Most items verified and stored as one batch.
const MAX_BATCH: usize = 2048;

/// Why an item was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// It failed verification: the sender is at fault.
    #[error("{0}")]
    Invalid(String),
    /// It verified but the local store failed: nobody else is at fault.
    #[error("verified but not stored: {0}")]
    NotStored(String),
}

/// The outcome for one item: whether it was new, or why it was refused.
pub type ItemResult = Result<bool, Refusal>;

/// A gossip verdict for the network task to report.
#[derive(Debug)]
pub struct Verdict {
    pub message_id: MessageId,
    pub source: PeerId,
    pub acceptance: MessageAcceptance,
}

enum Job {
    Gossip {
        data: Vec<u8>,
        message_id: MessageId,
        source: PeerId,
    },
    Items {
        items: Vec<(SignedItem, Certificate)>,
        durable: bool,
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
}

impl Ingest {
    /// Queues gossip without waiting. False if the queue is full.
    pub fn try_gossip(&self, data: Vec<u8>, message_id: MessageId, source: PeerId) -> bool {
        self.tx
            .try_send(Job::Gossip {
                data,
                message_id,
                source,
            })
            .is_ok()
    }

    /// Verifies and stores `items`; with `durable`, answers only after they
    /// are flushed to disk.
    pub async fn submit(
        &self,
        items: Vec<(SignedItem, Certificate)>,
        durable: bool,
    ) -> Result<Vec<ItemResult>, Stopped> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job::Items {
                items,
                durable,
                reply,
            })
            .await
            .map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }
}

/// Starts the worker; it stops when every [`Ingest`] handle is dropped.
/// Every newly stored item's id is announced on `stored` (for watchers and
/// benchmarks; a lagging receiver misses announcements, never items).
pub fn spawn(
    community: Community,
    store: ItemStore,
    index: Arc<SyncIndex>,
    verdicts: mpsc::Sender<Verdict>,
    stored: broadcast::Sender<ItemId>,
) -> (Ingest, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let sinks = Sinks {
        index,
        verdicts,
        stored,
    };
    let task = tokio::spawn(run(rx, Verifier::new(community), store, sinks));
    (Ingest { tx }, task)
}

/// Where the worker's results go besides the callers.
struct Sinks {
    index: Arc<SyncIndex>,
    verdicts: mpsc::Sender<Verdict>,
    stored: broadcast::Sender<ItemId>,
}

/// Where each item of a batch came from, to route its result.
enum Origin {
    Gossip {
        message_id: MessageId,
        source: PeerId,
    },
    Caller(usize),
}

struct Batch {
    items: Vec<(SignedItem, Certificate)>,
    origins: Vec<Origin>,
    undecodable: Vec<Verdict>,
    callers: Vec<(oneshot::Sender<Vec<ItemResult>>, usize)>,
    durable: bool,
}

fn collect(first: Job, rx: &mut mpsc::Receiver<Job>) -> Batch {
    let mut b = Batch {
        items: Vec::new(),
        origins: Vec::new(),
        undecodable: Vec::new(),
        callers: Vec::new(),
        durable: false,
    };
    let mut next = Some(first);
    while let Some(job) = next {
        match job {
            Job::Gossip {
                data,
                message_id,
                source,
            } => match decode_gossip(&data) {
                Ok(pair) => {
                    b.items.push(pair);
                    b.origins.push(Origin::Gossip { message_id, source });
                }
                Err(e) => {
                    warn!(peer = %source, "gossip rejected: {e}");
                    b.undecodable.push(Verdict {
                        message_id,
                        source,
                        acceptance: MessageAcceptance::Reject,
                    });
                }
            },
            Job::Items {
                items,
                durable,
                reply,
            } => {
                let caller = b.callers.len();
                b.callers.push((reply, items.len()));
                b.durable |= durable;
                for pair in items {
                    b.items.push(pair);
                    b.origins.push(Origin::Caller(caller));
                }
            }
        }
        next = if b.items.len() < MAX_BATCH {
            rx.try_recv().ok()
        } else {
            None
        };
    }
    b
}

async fn run(mut rx: mpsc::Receiver<Job>, verifier: Verifier, store: ItemStore, sinks: Sinks) {
    let mut verifier = Some(verifier);
    while let Some(first) = rx.recv().await {
        let batch = collect(first, &mut rx);
        let mut v = verifier
            .take()
            .expect("verifier is returned after each batch");
        let store2 = store.clone();
        let done = tokio::task::spawn_blocking(move || {
            let results = process(&mut v, &store2, &batch.items, batch.durable);
            (v, batch, results)
        })
        .await;
        let (v, batch, results) = match done {
            Ok(x) => x,
            Err(e) => {
                error!("ingest batch failed: {e}");
                return;
            }
        };
        verifier = Some(v);
        let new: Vec<(u64, ItemId)> = batch
            .items
            .iter()
            .zip(&results)
            .filter(|(_, r)| matches!(r, Ok(true)))
            .map(|((item, _), _)| (item.body.created.millis(), item.id()))
            .collect();
        for (_, id) in &new {
            let _ = sinks.stored.send(*id);
        }
        sinks.index.add(new);
        route(batch, results, &sinks.verdicts).await;
    }
}

/// Verifies, stores and (if asked) flushes one batch.
fn process(
    verifier: &mut Verifier,
    store: &ItemStore,
    items: &[(SignedItem, Certificate)],
    durable: bool,
) -> Vec<ItemResult> {
    let checks = verifier.verify_batch(items, Timestamp::now());
    let valid: Vec<(&SignedItem, &Certificate)> = items
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
    let mut new = match stored {
        Ok(new) => new.into_iter(),
        Err(e) => {
            error!("cannot store verified items: {e}");
            return checks
                .into_iter()
                .map(|c| match c {
                    Ok(()) => Err(Refusal::NotStored(e.to_string())),
                    Err(why) => Err(Refusal::Invalid(why)),
                })
                .collect();
        }
    };
    checks
        .into_iter()
        .map(|c| match c {
            Ok(()) => Ok(new.next().unwrap_or(false)),
            Err(why) => Err(Refusal::Invalid(why)),
        })
        .collect()
}

async fn route(batch: Batch, results: Vec<ItemResult>, verdicts: &mpsc::Sender<Verdict>) {
    let mut per_caller: Vec<Vec<ItemResult>> = batch
        .callers
        .iter()
        .map(|(_, n)| Vec::with_capacity(*n))
        .collect();
    let mut out = batch.undecodable;
    for (origin, result) in batch.origins.into_iter().zip(results) {
        match origin {
            Origin::Gossip { message_id, source } => {
                let acceptance = match &result {
                    Ok(_) => MessageAcceptance::Accept,
                    Err(Refusal::NotStored(_)) => MessageAcceptance::Ignore,
                    Err(e) => {
                        warn!(peer = %source, "gossip rejected: {e}");
                        MessageAcceptance::Reject
                    }
                };
                out.push(Verdict {
                    message_id,
                    source,
                    acceptance,
                });
            }
            Origin::Caller(i) => per_caller[i].push(result),
        }
    }
    for v in out {
        if verdicts.send(v).await.is_err() {
            debug!("network task gone; verdict dropped");
        }
    }
    for ((reply, _), results) in batch.callers.into_iter().zip(per_caller) {
        let _ = reply.send(results);
    }
}
