//! Repeated log lines, rate-limited: a misconfigured peer that retries every
//! second must not fill the log with the same warning on both nodes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most distinct keys remembered; past it, stale ones are forgotten.
const MAX_KEYS: usize = 4096;

/// Lets one line per key through every `every`; counts the rest.
pub struct LogLimiter {
    every: Duration,
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl LogLimiter {
    pub fn new(every: Duration) -> Self {
        LogLimiter {
            every,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` if a line for `key` may be logged now, `n` being how many
    /// were held back since the last one; `None` to stay quiet.
    pub fn allow(&self, key: &str, now: Instant) -> Option<u64> {
        let mut seen = self.seen.lock().expect("log limiter lock poisoned");
        if seen.len() >= MAX_KEYS {
            let every = self.every;
            seen.retain(|_, (at, _)| now.duration_since(*at) < every);
            if seen.len() >= MAX_KEYS {
                // Every key is fresh: a flood of distinct peers. Let this one
                // through and start over rather than grow.
                seen.clear();
            }
        }
        match seen.get_mut(key) {
            Some((at, held)) if now.duration_since(*at) < self.every => {
                *held += 1;
                None
            }
            Some((at, held)) => {
                let n = *held;
                *at = now;
                *held = 0;
                Some(n)
            }
            None => {
                seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

/// The suffix that tells how many identical lines were held back.
pub fn held_back(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} more like this since the last report)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_key_and_interval_with_a_count_of_the_rest() {
        let l = LogLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(l.allow("a", t0), Some(0));
        assert_eq!(l.allow("a", t0 + Duration::from_secs(1)), None);
        assert_eq!(l.allow("a", t0 + Duration::from_secs(2)), None);
        assert_eq!(l.allow("b", t0 + Duration::from_secs(2)), Some(0));
        assert_eq!(l.allow("a", t0 + Duration::from_secs(11)), Some(2));
        assert_eq!(held_back(2), " (2 more like this since the last report)");
        assert_eq!(held_back(0), "");
    }

    #[test]
    fn memory_stays_bounded_under_a_flood_of_keys() {
        let l = LogLimiter::new(Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..(3 * MAX_KEYS) {
            l.allow(&i.to_string(), t0);
        }
        assert!(l.seen.lock().unwrap().len() <= MAX_KEYS);
    }
}
