//! The notices a node holds for others: members' events not yet known to
//! be registered, and receipts on their way back. Bounded (oldest dropped
//! first) and expiring: a member keeps its own events in its durable
//! outbox and offers them again, so a relay forgetting one loses nothing.

use cairn_protocol::{EventId, Notice, Receipt, SignedEvent};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Events held at most (each under 2 KiB).
pub const MAX_EVENTS: usize = 1024;
/// Receipts held at most (each about 200 bytes).
pub const MAX_RECEIPTS: usize = 4096;
/// How long an event is passed on without news of its receipt.
pub const EVENT_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long a receipt is kept to answer late copies of its event.
pub const RECEIPT_TTL: Duration = Duration::from_secs(3600);

/// What a node already knew of an offered event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventOffer {
    /// New here: keep passing it on.
    New,
    /// Already held: it was passed on when it first came.
    Known,
    /// Already registered: here is its receipt.
    Registered(Receipt),
}

#[derive(Debug, Default)]
struct State {
    events: HashMap<EventId, (SignedEvent, Instant)>,
    receipts: HashMap<EventId, (Receipt, Instant)>,
}

/// Notices held for others (shared by the network's handlers).
#[derive(Debug, Default)]
pub struct NoticePool {
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Drops entries older than `ttl`, then the oldest until `max` remain.
fn bound<T>(map: &mut HashMap<EventId, (T, Instant)>, now: Instant, ttl: Duration, max: usize) {
    map.retain(|_, (_, at)| now.saturating_duration_since(*at) < ttl);
    while map.len() > max {
        let oldest = map.iter().min_by_key(|(_, (_, at))| *at).map(|(id, _)| *id);
        match oldest {
            Some(id) => map.remove(&id),
            None => break,
        };
    }
}

impl NoticePool {
    /// Offers a checked event.
    pub fn offer_event(&self, event: &SignedEvent, now: Instant) -> EventOffer {
        let id = event.id();
        let mut s = lock(&self.state);
        if let Some((r, _)) = s.receipts.get(&id) {
            return EventOffer::Registered(r.clone());
        }
        if s.events.contains_key(&id) {
            return EventOffer::Known;
        }
        s.events.insert(id, (event.clone(), now));
        bound(&mut s.events, now, EVENT_TTL, MAX_EVENTS);
        EventOffer::New
    }

    /// Offers a checked receipt; returns whether it is new here. The event
    /// it acknowledges is no longer passed on.
    pub fn offer_receipt(&self, receipt: &Receipt, now: Instant) -> bool {
        let id = receipt.body.event;
        let mut s = lock(&self.state);
        s.events.remove(&id);
        if s.receipts.contains_key(&id) {
            return false;
        }
        s.receipts.insert(id, (receipt.clone(), now));
        bound(&mut s.receipts, now, RECEIPT_TTL, MAX_RECEIPTS);
        true
    }

    /// The receipt for `event`, if one passed through here.
    pub fn receipt(&self, event: &EventId) -> Option<Receipt> {
        lock(&self.state)
            .receipts
            .get(event)
            .map(|(r, _)| r.clone())
    }

    /// Everything held, for a member just admitted: events first (they
    /// still need the authority), then receipts (they still need their
    /// member), each oldest first.
    pub fn held(&self, now: Instant) -> Vec<Notice> {
        let mut s = lock(&self.state);
        bound(&mut s.events, now, EVENT_TTL, MAX_EVENTS);
        bound(&mut s.receipts, now, RECEIPT_TTL, MAX_RECEIPTS);
        let mut events: Vec<_> = s.events.values().collect();
        events.sort_by_key(|(_, at)| *at);
        let mut receipts: Vec<_> = s.receipts.values().collect();
        receipts.sort_by_key(|(_, at)| *at);
        events
            .into_iter()
            .map(|(e, _)| Notice::Event { event: e.clone() })
            .chain(
                receipts
                    .into_iter()
                    .map(|(r, _)| Notice::Receipt { receipt: r.clone() }),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;
    use cairn_protocol::{EventBody, ParticipationKind, ReceiptBody, Timestamp};

    fn event(f: &Fixture, sequence: u64) -> SignedEvent {
        let (key, certificate) = f.certificate("hospital");
        let body = EventBody {
            community: f.community.id,
            kind: ParticipationKind::Joined,
            effective: Timestamp::now(),
            certificate,
            sequence,
        };
        SignedEvent::sign(body, &key).unwrap()
    }

    fn receipt(f: &Fixture, e: &SignedEvent) -> Receipt {
        let body = ReceiptBody {
            community: f.community.id,
            event: e.id(),
            register_index: 0,
            registered_at: Timestamp::now(),
            authority: f.authority.public(),
        };
        Receipt::sign(body, &f.authority).unwrap()
    }

    #[test]
    fn an_event_is_new_once_and_answered_once_registered() {
        let f = Fixture::new();
        let pool = NoticePool::default();
        let t = Instant::now();
        let e = event(&f, 1);
        assert_eq!(pool.offer_event(&e, t), EventOffer::New);
        assert_eq!(pool.offer_event(&e, t), EventOffer::Known);
        assert_eq!(pool.held(t), vec![Notice::Event { event: e.clone() }]);
        let r = receipt(&f, &e);
        assert!(pool.offer_receipt(&r, t));
        assert!(!pool.offer_receipt(&r, t), "a receipt is passed on once");
        assert_eq!(pool.offer_event(&e, t), EventOffer::Registered(r.clone()));
        assert_eq!(pool.receipt(&e.id()), Some(r.clone()));
        assert_eq!(
            pool.held(t),
            vec![Notice::Receipt { receipt: r }],
            "the registered event is no longer passed on"
        );
    }

    #[test]
    fn old_notices_expire_and_the_pool_is_bounded() {
        let f = Fixture::new();
        let pool = NoticePool::default();
        let t = Instant::now();
        let e = event(&f, 1);
        pool.offer_event(&e, t);
        assert!(pool.held(t + EVENT_TTL).is_empty());
        let r = receipt(&f, &e);
        pool.offer_receipt(&r, t);
        assert!(pool.receipt(&e.id()).is_some());
        assert!(pool.held(t + RECEIPT_TTL).is_empty());

        let mut map = HashMap::new();
        for i in 0..10u8 {
            map.insert(
                EventId([i; 32]),
                ((), t + Duration::from_secs(u64::from(i))),
            );
        }
        bound(&mut map, t + Duration::from_secs(10), EVENT_TTL, 4);
        let mut kept: Vec<u8> = map.keys().map(|id| id.0[0]).collect();
        kept.sort();
        assert_eq!(kept, vec![6, 7, 8, 9], "the oldest go first");
    }
}
