//! Where an item's time goes on this node: the moment it reached each stage
//! of its way (audience resolved, sealed, signed, checked, handed to
//! gossip, received, verified, relayed, stored), for the propagation and
//! audience benchmarks' per-hop breakdowns.
//!
//! Off unless a caller turns it on ([`StageClock::start`]): a real node
//! pays one relaxed atomic load per stage and keeps nothing. When on, it
//! keeps at most [`MAX_ITEMS`] items and ignores the rest, so a benchmark
//! left running cannot grow it without bound. The clock is `Instant`, so
//! times from nodes in one process (the benchmark's) compare directly.
//!
//! Gossip stages are seen by message id (the network task never decodes
//! items), the others by item id; the ingest worker links the two when it
//! decodes a gossiped item, and the publish path when it encodes one.

use cairn_protocol::ItemId;
use libp2p::gossipsub::MessageId;
use libp2p::PeerId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Items (and not yet linked gossip messages) kept at most while on.
pub const MAX_ITEMS: usize = 50_000;

/// A stage of an item's way through a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Publisher: the audience of a sealed item resolved to recipients
    /// (never reached by a community-wide item).
    Resolved,
    /// Publisher: the sealed item's envelope made (content encrypted, its
    /// key wrapped for each recipient).
    Sealed,
    /// Publisher: signed and encoded (the API's work before any check).
    Signed,
    /// Publisher: passed the checks every received item passes.
    Checked,
    /// Publisher: handed to gossipsub, which queued it to the mesh.
    Gossiped,
    /// Receiver: gossipsub delivered it to the network task.
    Received,
    /// Receiver (and publisher): its batch verified in the ingest worker.
    Verified,
    /// Receiver: the Accept verdict reached gossipsub, which forwards it.
    Relayed,
    /// Written to the store (flushed too when a caller waits for that);
    /// the moment it is announced to watchers and listed.
    Stored,
}

const STAGES: usize = 9;

impl Stage {
    fn index(self) -> usize {
        self as usize
    }
}

/// When one item reached each stage on this node (the first time), and the
/// peer that sent it, if it came by gossip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageTimes {
    at: [Option<Instant>; STAGES],
    pub from: Option<PeerId>,
}

impl StageTimes {
    /// When the item reached `stage`, if it did while the clock was on.
    pub fn at(&self, stage: Stage) -> Option<Instant> {
        self.at[stage.index()]
    }

    fn set(&mut self, stage: Stage, now: Instant) {
        self.at[stage.index()].get_or_insert(now);
    }

    fn merge(&mut self, other: StageTimes) {
        for (mine, theirs) in self.at.iter_mut().zip(other.at) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        if self.from.is_none() {
            self.from = other.from;
        }
    }
}

#[derive(Default)]
struct Inner {
    items: HashMap<ItemId, StageTimes>,
    /// Gossip message ids linked to their item.
    linked: HashMap<MessageId, ItemId>,
    /// Stages seen by message id before the item was decoded.
    unlinked: HashMap<MessageId, StageTimes>,
}

impl Inner {
    fn full(&self) -> bool {
        self.items.len() + self.unlinked.len() >= MAX_ITEMS
    }
}

/// Per-item stage times of one node; shared by the API, the network task
/// and the ingest worker.
#[derive(Default)]
pub struct StageClock {
    on: AtomicBool,
    inner: Mutex<Inner>,
}

impl StageClock {
    /// Starts recording (from now on; nothing earlier was kept).
    pub fn start(&self) {
        self.on.store(true, Ordering::Relaxed);
    }

    /// Whether it records; callers skip work done only for the clock.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    fn with(&self, f: impl FnOnce(&mut Inner)) {
        if self.is_on() {
            f(&mut self.inner.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// Item `id` reached `stage` now.
    pub fn item(&self, id: ItemId, stage: Stage) {
        self.item_at(id, stage, Instant::now());
    }

    /// Item `id` reached `stage` at `now`: for stages passed before the
    /// item had its id (resolving and sealing come before signing).
    pub fn item_at(&self, id: ItemId, stage: Stage, now: Instant) {
        self.with(|i| {
            if let Some(t) = i.items.get_mut(&id) {
                t.set(stage, now);
            } else if !i.full() {
                i.items.entry(id).or_default().set(stage, now);
            }
        });
    }

    /// Items of a batch reached `stage` now (one lock for the batch).
    pub fn items(&self, ids: impl IntoIterator<Item = ItemId>, stage: Stage) {
        let now = Instant::now();
        self.with(|i| {
            for id in ids {
                if let Some(t) = i.items.get_mut(&id) {
                    t.set(stage, now);
                } else if !i.full() {
                    i.items.entry(id).or_default().set(stage, now);
                }
            }
        });
    }

    /// Gossip message `message` reached `stage` now, sent by `from` if it
    /// was received.
    pub fn message(&self, message: &MessageId, stage: Stage, from: Option<PeerId>) {
        let now = Instant::now();
        self.with(|i| {
            let times = match i.linked.get(message) {
                Some(id) => i.items.get_mut(id),
                None if i.unlinked.contains_key(message) || !i.full() => {
                    Some(i.unlinked.entry(message.clone()).or_default())
                }
                None => None,
            };
            if let Some(t) = times {
                t.set(stage, now);
                if t.from.is_none() {
                    t.from = from;
                }
            }
        });
    }

    /// Gossip message `message` carries item `id`.
    pub fn link(&self, message: &MessageId, id: ItemId) {
        self.with(|i| {
            let earlier = i.unlinked.remove(message);
            if earlier.is_none() && i.full() && !i.items.contains_key(&id) {
                return;
            }
            let times = i.items.entry(id).or_default();
            if let Some(e) = earlier {
                times.merge(e);
            }
            i.linked.insert(message.clone(), id);
        });
    }

    /// Every item recorded so far, with its stage times.
    pub fn snapshot(&self) -> HashMap<ItemId, StageTimes> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .items
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ItemId {
        ItemId([n; 32])
    }

    #[test]
    fn nothing_is_kept_while_off() {
        let c = StageClock::default();
        c.item(id(1), Stage::Signed);
        c.message(&MessageId::from(vec![1]), Stage::Received, None);
        c.link(&MessageId::from(vec![1]), id(1));
        assert!(c.snapshot().is_empty());
    }

    #[test]
    fn gossip_stages_seen_before_decoding_join_their_item() {
        let c = StageClock::default();
        c.start();
        let m = MessageId::from(vec![7]);
        let peer = PeerId::random();
        c.message(&m, Stage::Received, Some(peer));
        c.link(&m, id(2));
        c.items([id(2)], Stage::Verified);
        c.message(&m, Stage::Relayed, None);
        c.item(id(2), Stage::Stored);
        let snap = c.snapshot();
        let t = &snap[&id(2)];
        assert_eq!(t.from, Some(peer));
        let order = [
            Stage::Received,
            Stage::Verified,
            Stage::Relayed,
            Stage::Stored,
        ];
        let times: Vec<Instant> = order.iter().map(|s| t.at(*s).expect("recorded")).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(t.at(Stage::Signed), None);
    }

    #[test]
    fn stages_before_the_id_existed_are_recorded_at_their_time() {
        let c = StageClock::default();
        c.start();
        let resolved = Instant::now();
        let sealed = resolved + std::time::Duration::from_micros(300);
        c.item(id(4), Stage::Signed);
        c.item_at(id(4), Stage::Resolved, resolved);
        c.item_at(id(4), Stage::Sealed, sealed);
        let t = &c.snapshot()[&id(4)];
        assert_eq!(t.at(Stage::Resolved), Some(resolved));
        assert_eq!(t.at(Stage::Sealed), Some(sealed));
        assert!(t.at(Stage::Signed).expect("recorded") >= resolved);
    }

    #[test]
    fn the_first_time_a_stage_is_reached_stands() {
        let c = StageClock::default();
        c.start();
        c.item(id(3), Stage::Stored);
        let first = c.snapshot()[&id(3)].at(Stage::Stored);
        std::thread::sleep(std::time::Duration::from_millis(2));
        c.item(id(3), Stage::Stored);
        assert_eq!(c.snapshot()[&id(3)].at(Stage::Stored), first);
    }

    #[test]
    fn it_stops_growing_at_its_bound() {
        let c = StageClock::default();
        c.start();
        for n in 0..MAX_ITEMS as u32 + 10 {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&n.to_le_bytes());
            c.item(ItemId(b), Stage::Stored);
        }
        assert_eq!(c.snapshot().len(), MAX_ITEMS);
        // Items already kept still get their later stages.
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&0u32.to_le_bytes());
        c.item(ItemId(b), Stage::Verified);
        assert!(c.snapshot()[&ItemId(b)].at(Stage::Verified).is_some());
    }
}
