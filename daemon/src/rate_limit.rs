//! Abuse resistance as plain data structures, with no network in sight:
//! token buckets (per peer, per publisher, per request kind), a strike
//! counter that decides when a peer has misbehaved often enough to be
//! banned, the ban list the admission handshake consults, and the counters
//! `cairn status` shows.
//!
//! Every map here is keyed by something a peer chooses (its PeerId, a
//! publisher key it presents), so every map is capped: past the cap the
//! entries that carry no information (a full bucket, an expired window or
//! ban) are dropped first, and if that is not enough the map starts over.
//! Starting over only forgives; it never punishes an honest peer.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Most keys any limiter, strike counter or ban list remembers.
pub const MAX_KEYS: usize = 10_000;

/// A rate and the burst allowed above it: `rate` tokens per second are
/// added, at most `burst` are held; each message takes one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

impl Rate {
    pub fn new(per_second: f64, burst: f64) -> Self {
        Rate {
            per_second: per_second.max(0.0),
            burst: burst.max(1.0),
        }
    }
}

/// One token bucket. Starts full, so a peer that was quiet may send a
/// burst at once.
#[derive(Clone, Copy, Debug)]
pub struct TokenBucket {
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn full(rate: Rate, now: Instant) -> Self {
        TokenBucket {
            tokens: rate.burst,
            last: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        self.last = now;
    }

    /// Takes one token if there is one.
    pub fn take(&mut self, rate: Rate, now: Instant) -> bool {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Tokens held at `now`, none taken.
    pub fn available(&mut self, rate: Rate, now: Instant) -> f64 {
        self.refill(rate, now);
        self.tokens
    }

    /// Whether the bucket is full again at `now` (it then says nothing a
    /// fresh bucket would not, and may be forgotten).
    fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * rate.per_second >= rate.burst
    }
}

/// A token bucket per key, all with the same rate, at most [`MAX_KEYS`].
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    rate: Rate,
    buckets: HashMap<K, TokenBucket>,
    cap: usize,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(rate: Rate) -> Self {
        Self::with_cap(rate, MAX_KEYS)
    }

    pub fn with_cap(rate: Rate, cap: usize) -> Self {
        KeyedLimiter {
            rate,
            buckets: HashMap::new(),
            cap: cap.max(1),
        }
    }

    /// Takes a token from `key`'s bucket; false means: over the limit, drop.
    pub fn allow(&mut self, key: &K, now: Instant) -> bool {
        if let Some(bucket) = self.buckets.get_mut(key) {
            return bucket.take(self.rate, now);
        }
        if self.buckets.len() >= self.cap {
            let rate = self.rate;
            self.buckets.retain(|_, b| !b.is_full(rate, now));
            if self.buckets.len() >= self.cap {
                // Every key is busy: forget them all rather than grow. The
                // worst this does is let each key burst once more.
                self.buckets.clear();
            }
        }
        let mut bucket = TokenBucket::full(self.rate, now);
        let allowed = bucket.take(self.rate, now);
        self.buckets.insert(key.clone(), bucket);
        allowed
    }

    /// Tokens `key` holds at `now`, none taken (a key not seen yet holds a
    /// full bucket).
    pub fn available(&mut self, key: &K, now: Instant) -> f64 {
        match self.buckets.get_mut(key) {
            Some(bucket) => bucket.available(self.rate, now),
            None => self.rate.burst,
        }
    }

    /// Forgets `key` (its connection closed).
    pub fn forget(&mut self, key: &K) {
        self.buckets.remove(key);
    }

    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// Counts strikes per key in a fixed window: the count starts over once
/// `window` has passed since the key's first strike in it.
#[derive(Debug)]
pub struct Strikes<K> {
    window: Duration,
    counts: HashMap<K, (Instant, u32)>,
    cap: usize,
}

impl<K: Hash + Eq + Clone> Strikes<K> {
    pub fn new(window: Duration) -> Self {
        Strikes {
            window,
            counts: HashMap::new(),
            cap: MAX_KEYS,
        }
    }

    /// Records one strike against `key`; returns its count in the window.
    pub fn strike(&mut self, key: &K, now: Instant) -> u32 {
        let window = self.window;
        if !self.counts.contains_key(key) && self.counts.len() >= self.cap {
            self.counts
                .retain(|_, (since, _)| now.saturating_duration_since(*since) < window);
            if self.counts.len() >= self.cap {
                self.counts.clear();
            }
        }
        let entry = self.counts.entry(key.clone()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    /// Forgets `key`'s strikes (it was banned: the ban is the consequence).
    pub fn clear(&mut self, key: &K) {
        self.counts.remove(key);
    }
}

/// Keys refused until a deadline. Shared between the network task (which
/// bans) and the handshake (which refuses), so behind a lock by its owner.
#[derive(Debug)]
pub struct BanList<K> {
    until: HashMap<K, Instant>,
    cap: usize,
}

impl<K: Hash + Eq + Clone> Default for BanList<K> {
    fn default() -> Self {
        BanList {
            until: HashMap::new(),
            cap: MAX_KEYS,
        }
    }
}

impl<K: Hash + Eq + Clone> BanList<K> {
    /// Bans `key` until `until` (a later ban extends an earlier one).
    pub fn ban(&mut self, key: K, until: Instant, now: Instant) {
        if !self.until.contains_key(&key) && self.until.len() >= self.cap {
            self.until.retain(|_, u| *u > now);
            if self.until.len() >= self.cap {
                // Only admitted members can be banned, so this many live
                // bans means something else is wrong; forgive the oldest.
                if let Some(oldest) = self
                    .until
                    .iter()
                    .min_by_key(|(_, u)| **u)
                    .map(|(k, _)| k.clone())
                {
                    self.until.remove(&oldest);
                }
            }
        }
        let e = self.until.entry(key).or_insert(until);
        *e = (*e).max(until);
    }

    /// How long `key` stays banned, if it is.
    pub fn remaining(&self, key: &K, now: Instant) -> Option<Duration> {
        self.until
            .get(key)
            .and_then(|u| u.checked_duration_since(now))
            .filter(|d| !d.is_zero())
    }

    /// Keys banned at `now`.
    pub fn active(&self, now: Instant) -> usize {
        self.until.values().filter(|u| **u > now).count()
    }
}

/// What was dropped or punished since the node started; shown by
/// `cairn status`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Gossip dropped because its sender exceeded its per-peer rate.
    pub gossip_rate_limited: AtomicU64,
    /// Gossiped items dropped because their publisher exceeded its rate.
    pub publisher_rate_limited: AtomicU64,
    /// Direct requests refused as rate limited.
    pub requests_rate_limited: AtomicU64,
    /// Gossip rejected as invalid (undecodable, too large, forged, ...).
    pub gossip_rejected: AtomicU64,
    /// Peers disconnected and banned for misbehaviour.
    pub peers_banned: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let rate = Rate::new(2.0, 5.0);
        let t0 = Instant::now();
        let mut b = TokenBucket::full(rate, t0);
        assert_eq!((0..10).filter(|_| b.take(rate, t0)).count(), 5);
        assert!(!b.take(rate, t0 + Duration::from_millis(400)));
        assert!(b.take(rate, t0 + Duration::from_millis(500)));
        // Refill stops at the burst, however long the bucket was idle.
        let later = t0 + 100 * S;
        assert_eq!((0..10).filter(|_| b.take(rate, later)).count(), 5);
    }

    #[test]
    fn each_key_has_its_own_bucket() {
        let mut l = KeyedLimiter::new(Rate::new(1.0, 2.0));
        let t0 = Instant::now();
        assert!(l.allow(&"a", t0));
        assert!(l.allow(&"a", t0));
        assert!(!l.allow(&"a", t0));
        assert!(l.allow(&"b", t0), "a's flood does not starve b");
        assert!(l.allow(&"a", t0 + S));
        l.forget(&"a");
        assert!(l.allow(&"a", t0 + S), "forgotten: starts full");
    }

    #[test]
    fn looking_at_a_bucket_takes_nothing() {
        let mut l = KeyedLimiter::new(Rate::new(1.0, 3.0));
        let t0 = Instant::now();
        assert_eq!(l.available(&"a", t0), 3.0, "unseen: a full bucket");
        assert!(l.is_empty(), "looking adds no key");
        assert!(l.allow(&"a", t0));
        assert_eq!(l.available(&"a", t0), 2.0);
        assert_eq!(l.available(&"a", t0), 2.0);
        assert_eq!(l.available(&"a", t0 + S), 3.0);
    }

    #[test]
    fn limiter_maps_stay_bounded_and_keep_busy_keys_first() {
        let mut l = KeyedLimiter::with_cap(Rate::new(1.0, 1.0), 3);
        let t0 = Instant::now();
        for k in 0..3 {
            assert!(l.allow(&k, t0));
        }
        // Keys 0..3 are empty now; at t0 + 2 s they are full again and are
        // the first to go when a new key needs room.
        assert!(l.allow(&10, t0 + 2 * S));
        assert_eq!(l.len(), 1);
        // A flood of distinct keys never grows the map past its cap.
        for k in 100..1000 {
            l.allow(&k, t0 + 2 * S);
            assert!(l.len() <= 3);
        }
    }

    #[test]
    fn strikes_count_within_a_window_and_start_over_after_it() {
        let mut s = Strikes::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(s.strike(&"p", t0), 1);
        assert_eq!(s.strike(&"p", t0 + 10 * S), 2);
        assert_eq!(s.strike(&"q", t0 + 10 * S), 1);
        assert_eq!(s.strike(&"p", t0 + 61 * S), 1, "a new window");
        s.clear(&"p");
        assert_eq!(s.strike(&"p", t0 + 62 * S), 1);
    }

    #[test]
    fn bans_expire_and_extend() {
        let mut b = BanList::default();
        let t0 = Instant::now();
        b.ban("p", t0 + 600 * S, t0);
        assert_eq!(b.remaining(&"p", t0 + 100 * S), Some(500 * S));
        assert_eq!(b.remaining(&"q", t0), None);
        b.ban("p", t0 + 10 * S, t0);
        assert_eq!(b.remaining(&"p", t0), Some(600 * S), "never shortened");
        assert_eq!(b.active(t0), 1);
        assert_eq!(b.remaining(&"p", t0 + 600 * S), None);
        assert_eq!(b.active(t0 + 601 * S), 0);
    }

    #[test]
    fn ban_lists_stay_bounded() {
        let mut b = BanList {
            until: HashMap::new(),
            cap: 4,
        };
        let t0 = Instant::now();
        for k in 0..100u32 {
            b.ban(k, t0 + (k + 1) * S, t0);
            assert!(b.until.len() <= 4);
        }
        assert!(b.remaining(&99, t0).is_some(), "the newest ban holds");
    }
}
