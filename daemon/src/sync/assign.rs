//! Which member each missing item is fetched from, when several hold it.
//!
//! Every catch-up session that reconciled with a member offers the ids that
//! member holds and this node lacks. Each session then takes ids to fetch
//! from its own member, a chunk at a time, in the order they were offered;
//! an id is in flight with one member at a time, so members that hold the
//! same missing set split it between them (the faster one takes more, as it
//! comes back for more sooner) and nothing is fetched twice. A member that
//! did not send an id it was asked for, or whose session failed (its request
//! deadline passed, its connection closed), gives its ids in flight back:
//! they go to the front of the other holders' queues. A session ends when
//! nothing it could fetch is left, neither waiting nor in flight with
//! another member that might give it back.
//!
//! Plain data, no I/O and no clock: the session (`fetch`) drives it.

use cairn_protocol::ItemId;
use std::collections::hash_map::Entry as MapEntry;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Members that can be in the plan at once (one bit each). Sessions are
/// bounded far below this (`schedule::MAX_SESSIONS`).
pub const MAX_HOLDERS: usize = 64;

/// Where one missing id stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    /// Asked of the member in this slot.
    InFlight(u8),
    /// Stored or refused, at this join count: no member is asked for it
    /// again while a session that joined before then is in the plan.
    Done(u64),
}

#[derive(Debug)]
struct Entry {
    /// Bit `s` set: the member in slot `s` holds it.
    holders: u64,
    state: State,
}

#[derive(Debug)]
struct Slot<P> {
    peer: P,
    /// The join count when it joined.
    joined: u64,
    /// Ids to ask this member for, oldest offer first. May hold ids since
    /// taken by another member or done: skipped when reached.
    queue: VecDeque<ItemId>,
    /// Ids in flight with this member.
    in_flight: usize,
    /// Ids this member holds that are not done (waiting or in flight with
    /// anyone): while any is, its session may still be needed.
    open: usize,
}

/// What a member's leaving did to the ids it held.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Left {
    /// Ids it had in flight, now waiting for another holder.
    pub reassigned: usize,
    /// Ids no other member holds: dropped from the plan (the next session
    /// with a member that has them finds them again).
    pub orphaned: usize,
}

/// The shared plan of one catch-up: missing ids, who holds each, and who
/// is fetching it.
#[derive(Debug)]
pub struct Assignments<P> {
    slots: Vec<Option<Slot<P>>>,
    ids: HashMap<ItemId, Entry>,
    /// Sessions joined so far: orders joins and completions.
    joins: u64,
}

impl<P> Default for Assignments<P> {
    fn default() -> Self {
        Assignments {
            slots: Vec::new(),
            ids: HashMap::new(),
            joins: 0,
        }
    }
}

impl<P: Copy + Eq + Hash> Assignments<P> {
    fn slot_of(&self, peer: P) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|s| s.peer == peer))
    }

    fn slot_mut(&mut self, s: usize) -> &mut Slot<P> {
        self.slots[s].as_mut().expect("a slot in use")
    }

    /// A session with `peer` starts, before it reconciles: ids done from
    /// now on stay known as done until it leaves, so the ids it will offer
    /// (found missing against the index as it was) are not fetched again.
    /// False when the plan has [`MAX_HOLDERS`] members already.
    pub fn join(&mut self, peer: P) -> bool {
        self.join_slot(peer).is_some()
    }

    fn join_slot(&mut self, peer: P) -> Option<usize> {
        match self.slot_of(peer) {
            Some(s) => Some(s),
            None => {
                let free = self.slots.iter().position(Option::is_none);
                let s = match free {
                    Some(s) => s,
                    None if self.slots.len() < MAX_HOLDERS => {
                        self.slots.push(None);
                        self.slots.len() - 1
                    }
                    None => return None,
                };
                self.slots[s] = Some(Slot {
                    peer,
                    joined: self.joins,
                    queue: VecDeque::new(),
                    in_flight: 0,
                    open: 0,
                });
                self.joins += 1;
                Some(s)
            }
        }
    }

    /// `peer` holds `ids` (it joins if it had not). Returns how many of
    /// them it may be asked for (those not already done in this plan), or
    /// `None` when the plan has [`MAX_HOLDERS`] members already.
    pub fn offer(&mut self, peer: P, ids: impl IntoIterator<Item = ItemId>) -> Option<usize> {
        let s = self.join_slot(peer)?;
        let bit = 1u64 << s;
        let mut taken = Vec::new();
        for id in ids {
            let entry = match self.ids.entry(id) {
                MapEntry::Occupied(e) => e.into_mut(),
                MapEntry::Vacant(v) => v.insert(Entry {
                    holders: 0,
                    state: State::Waiting,
                }),
            };
            if matches!(entry.state, State::Done(_)) || entry.holders & bit != 0 {
                continue;
            }
            entry.holders |= bit;
            taken.push((id, entry.state == State::Waiting));
        }
        let slot = self.slot_mut(s);
        slot.open += taken.len();
        // Ids in flight elsewhere join this queue only if given back.
        slot.queue.extend(
            taken
                .iter()
                .filter(|(_, waiting)| *waiting)
                .map(|(id, _)| *id),
        );
        Some(taken.len())
    }

    /// Up to `max` waiting ids to ask `peer` for now; they are in flight
    /// with it until [`Assignments::done`] or [`Assignments::not_held`].
    pub fn take(&mut self, peer: P, max: usize) -> Vec<ItemId> {
        let Some(s) = self.slot_of(peer) else {
            return Vec::new();
        };
        let bit = 1u64 << s;
        let mut chunk = Vec::new();
        let Assignments { slots, ids, .. } = self;
        let slot = slots[s].as_mut().expect("a slot in use");
        while chunk.len() < max {
            let Some(id) = slot.queue.pop_front() else {
                break;
            };
            if let Some(e) = ids.get_mut(&id) {
                if e.state == State::Waiting && e.holders & bit != 0 {
                    e.state = State::InFlight(s as u8);
                    chunk.push(id);
                }
            }
        }
        slot.in_flight += chunk.len();
        chunk
    }

    /// `peer` delivered these ids it had in flight (stored or refused: the
    /// same bytes from another member would fare the same, as an item's id
    /// is the hash of its content).
    pub fn done(&mut self, peer: P, delivered: &[ItemId]) {
        let Some(s) = self.slot_of(peer) else { return };
        for id in delivered {
            let Some(e) = self.ids.get_mut(id) else {
                continue;
            };
            if e.state != State::InFlight(s as u8) {
                continue;
            }
            e.state = State::Done(self.joins);
            let holders = e.holders;
            self.slot_mut(s).in_flight -= 1;
            for h in bits(holders) {
                self.slot_mut(h).open -= 1;
            }
        }
    }

    /// `peer` was asked for these ids and did not send them: it is no
    /// longer their holder, and they wait for another one.
    pub fn not_held(&mut self, peer: P, missing: &[ItemId]) -> Left {
        let Some(s) = self.slot_of(peer) else {
            return Left::default();
        };
        let mut left = Left::default();
        let mut requeue = Vec::new();
        for id in missing {
            if self.ids.get(id).map(|e| e.state) == Some(State::InFlight(s as u8)) {
                self.slot_mut(s).in_flight -= 1;
                self.give_up_holding(s, *id, &mut left, &mut requeue);
            }
        }
        self.requeue_first(requeue);
        left
    }

    /// `peer`'s session ended (done, failed or timed out): whatever it had
    /// in flight goes to the other holders, and it holds nothing any more.
    /// The plan forgets everything once no member is left in it.
    pub fn leave(&mut self, peer: P) -> Left {
        let Some(s) = self.slot_of(peer) else {
            return Left::default();
        };
        let bit = 1u64 << s;
        let held: Vec<ItemId> = self
            .ids
            .iter()
            .filter(|(_, e)| e.holders & bit != 0 && !matches!(e.state, State::Done(_)))
            .map(|(id, _)| *id)
            .collect();
        let mut left = Left::default();
        let mut requeue = Vec::new();
        for id in held {
            self.give_up_holding(s, id, &mut left, &mut requeue);
        }
        self.requeue_first(requeue);
        for e in self.ids.values_mut() {
            e.holders &= !bit;
        }
        self.slots[s] = None;
        // Ids done before every remaining session joined are in the index
        // those sessions reconciled against: none of them can offer them.
        match self.slots.iter().flatten().map(|s| s.joined).min() {
            None => {
                self.slots.clear();
                self.ids.clear();
            }
            Some(first) => self
                .ids
                .retain(|_, e| !matches!(e.state, State::Done(at) if at <= first)),
        }
        left
    }

    /// Takes slot `s` off `id`'s holders; an id it had in flight waits for
    /// the others (added to `requeue` with them), one nobody else holds is
    /// dropped.
    fn give_up_holding(
        &mut self,
        s: usize,
        id: ItemId,
        left: &mut Left,
        requeue: &mut Vec<(ItemId, u64)>,
    ) {
        let Some(e) = self.ids.get_mut(&id) else {
            return;
        };
        let was_in_flight = e.state == State::InFlight(s as u8);
        e.holders &= !(1u64 << s);
        let others = e.holders;
        if was_in_flight {
            e.state = State::Waiting;
        }
        let waiting = e.state == State::Waiting;
        self.slot_mut(s).open -= 1;
        if others == 0 {
            if waiting {
                self.ids.remove(&id);
                left.orphaned += 1;
            }
            return;
        }
        if was_in_flight {
            left.reassigned += 1;
            requeue.push((id, others));
        }
    }

    /// Puts given-back ids at the front of their holders' queues, in the
    /// order given: they were due before anything still waiting.
    fn requeue_first(&mut self, requeue: Vec<(ItemId, u64)>) {
        for (id, holders) in requeue.into_iter().rev() {
            for h in bits(holders) {
                self.slot_mut(h).queue.push_front(id);
            }
        }
    }

    /// Whether `peer` may still have ids to fetch: some it holds are
    /// waiting, or in flight with another member that may give them back.
    /// False also for a member not in the plan.
    pub fn has_open(&self, peer: P) -> bool {
        self.slot_of(peer)
            .and_then(|s| self.slots[s].as_ref())
            .is_some_and(|slot| slot.open > slot.in_flight)
    }

    /// Ids the plan keeps (waiting, in flight or remembered as done).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Ids in flight with `peer`.
    pub fn in_flight(&self, peer: P) -> usize {
        self.slot_of(peer)
            .and_then(|s| self.slots[s].as_ref())
            .map_or(0, |slot| slot.in_flight)
    }
}

/// The set bits of `mask`, lowest first.
fn bits(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let b = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(b)
    })
}

#[cfg(test)]
#[path = "assign_tests.rs"]
mod tests;
