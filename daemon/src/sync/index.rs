//! The set of items a node holds, as catch-up reconciles it: (creation
//! millis, item id) pairs, with a sealed negentropy snapshot rebuilt only
//! when the set changed since the last one.

use cairn_protocol::ItemId;
use negentropy::{Id, NegentropyStorageVector};
use std::sync::{Arc, Mutex};

/// Shared between the ingest worker (which adds) and sync (which reads).
#[derive(Default)]
pub struct SyncIndex {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Vec<(u64, [u8; 32])>,
    snapshot: Option<Arc<NegentropyStorageVector>>,
}

impl SyncIndex {
    /// An index over `entries` (as read from the store on start-up).
    pub fn new(entries: Vec<(u64, ItemId)>) -> Self {
        let entries = entries.into_iter().map(|(t, id)| (t, id.0)).collect();
        SyncIndex {
            inner: Mutex::new(Inner {
                entries,
                snapshot: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records newly stored items.
    pub fn add(&self, items: impl IntoIterator<Item = (u64, ItemId)>) {
        let mut inner = self.lock();
        let before = inner.entries.len();
        inner
            .entries
            .extend(items.into_iter().map(|(t, id)| (t, id.0)));
        if inner.entries.len() != before {
            inner.snapshot = None;
        }
    }

    /// How many items the index holds.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A sealed snapshot of the set for one reconciliation.
    pub fn snapshot(&self) -> Arc<NegentropyStorageVector> {
        let mut inner = self.lock();
        if let Some(s) = &inner.snapshot {
            return s.clone();
        }
        inner.entries.sort_unstable();
        inner.entries.dedup();
        let mut storage = NegentropyStorageVector::with_capacity(inner.entries.len());
        for (t, id) in &inner.entries {
            storage
                .insert(*t, Id::from_byte_array(*id))
                .expect("an unsealed storage accepts inserts");
        }
        storage.seal().expect("a fresh storage seals once");
        let s = Arc::new(storage);
        inner.snapshot = Some(s.clone());
        s
    }
}
