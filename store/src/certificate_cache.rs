//! The store's certificates, decoded once: resolving an audience on every
//! publish read and decoded every stored certificate (a sled scan), while
//! the set changes only when a new member or publisher appears.
//!
//! Kept current by generation: every writer of a certificate bumps it after
//! its write is applied, and a list loaded under an older generation is not
//! served. A load that races a write is tagged with the generation read
//! before it scanned, so the next reader loads again rather than keep a
//! list missing the new certificate. Revocations and validity are not
//! cached here: callers check them against the list on each use.

use cairn_protocol::Certificate;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub(crate) struct CertificateCache {
    generation: AtomicU64,
    loaded: Mutex<Option<(u64, Arc<Vec<Certificate>>)>>,
}

impl CertificateCache {
    /// A certificate was written (call after the write is applied).
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The certificates, from the last load if nothing changed since, else
    /// from `load`.
    pub(crate) fn get<E>(
        &self,
        load: impl FnOnce() -> Result<Vec<Certificate>, E>,
    ) -> Result<Arc<Vec<Certificate>>, E> {
        let now = self.generation.load(Ordering::Acquire);
        if let Some((at, list)) = self.lock().as_ref() {
            if *at == now {
                return Ok(list.clone());
            }
        }
        let list = Arc::new(load()?);
        *self.lock() = Some((now, list.clone()));
        Ok(list)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(u64, Arc<Vec<Certificate>>)>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn certs(n: u64) -> Vec<Certificate> {
        let key = crate::testutil::member();
        (1..=n)
            .map(|serial| crate::testutil::certificate_for(&key, serial))
            .collect()
    }

    #[test]
    fn loads_once_while_nothing_changes() {
        let cache = CertificateCache::default();
        let loads = Cell::new(0);
        let all = certs(2);
        for _ in 0..3 {
            let got = cache
                .get(|| {
                    loads.set(loads.get() + 1);
                    Ok::<_, ()>(all.clone())
                })
                .expect("loads");
            assert_eq!(*got, all);
        }
        assert_eq!(loads.get(), 1);
    }

    #[test]
    fn a_new_certificate_is_seen_at_the_next_read() {
        let cache = CertificateCache::default();
        let all = certs(2);
        let first = cache.get(|| Ok::<_, ()>(all[..1].to_vec())).expect("loads");
        assert_eq!(first.len(), 1);
        cache.changed();
        let second = cache.get(|| Ok::<_, ()>(all.clone())).expect("loads");
        assert_eq!(*second, all);
    }

    #[test]
    fn a_write_during_a_load_makes_the_next_read_load_again() {
        let cache = CertificateCache::default();
        let all = certs(2);
        // The scan saw one certificate; a second was written meanwhile.
        cache
            .get(|| {
                cache.changed();
                Ok::<_, ()>(all[..1].to_vec())
            })
            .expect("loads");
        let next = cache.get(|| Ok::<_, ()>(all.clone())).expect("loads");
        assert_eq!(
            next.len(),
            2,
            "the list loaded before the write is not kept"
        );
    }

    #[test]
    fn a_failed_load_is_not_cached() {
        let cache = CertificateCache::default();
        assert_eq!(
            cache.get(|| Err::<Vec<Certificate>, _>("damaged")),
            Err("damaged")
        );
        let all = certs(1);
        assert_eq!(
            *cache.get(|| Ok::<_, &str>(all.clone())).expect("loads"),
            all
        );
    }
}
