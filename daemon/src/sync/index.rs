//! The set of items a node holds, as catch-up reconciles it: (creation
//! millis, item id) pairs, with a sealed negentropy snapshot rebuilt only
//! when the set changed since the last one.

use cairn_protocol::ItemId;
use negentropy::{Id, NegentropyStorageVector};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Shared between the ingest worker (which adds) and sync (which reads).
#[derive(Default)]
pub struct SyncIndex {
    inner: Mutex<Inner>,
}

type Entry = (u64, [u8; 32]);

#[derive(Default)]
struct Inner {
    /// Sorted, without duplicates.
    sorted: Vec<Entry>,
    /// Added since the last merge: ordered, so the ingest worker can ask
    /// about each item of a batch without merging (which copies the whole
    /// set) and a merge needs no sort.
    pending: BTreeSet<Entry>,
    snapshot: Option<Arc<NegentropyStorageVector>>,
}

impl SyncIndex {
    /// An index over `entries` (as read from the store on start-up).
    pub fn new(entries: Vec<(u64, ItemId)>) -> Self {
        let mut sorted: Vec<Entry> = entries.into_iter().map(|(t, id)| (t, id.0)).collect();
        sorted.sort_unstable();
        sorted.dedup();
        SyncIndex {
            inner: Mutex::new(Inner {
                sorted,
                pending: BTreeSet::new(),
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
        let before = inner.pending.len();
        inner
            .pending
            .extend(items.into_iter().map(|(t, id)| (t, id.0)));
        if inner.pending.len() != before {
            inner.snapshot = None;
        }
    }

    /// Forgets items the store took out (damaged bytes), so reconciliation
    /// asks members for them again.
    pub fn remove(&self, items: impl IntoIterator<Item = (u64, ItemId)>) {
        let mut inner = self.lock();
        inner.merge_pending();
        let mut changed = false;
        for (t, id) in items {
            if let Ok(pos) = inner.sorted.binary_search(&(t, id.0)) {
                inner.sorted.remove(pos);
                changed = true;
            }
        }
        if changed {
            inner.snapshot = None;
        }
    }

    /// For each (creation millis, id), whether the index holds it.
    pub fn holds(&self, entries: impl IntoIterator<Item = (u64, ItemId)>) -> Vec<bool> {
        let inner = self.lock();
        entries
            .into_iter()
            .map(|(t, id)| {
                let e = (t, id.0);
                inner.sorted.binary_search(&e).is_ok() || inner.pending.contains(&e)
            })
            .collect()
    }

    /// The ids of the `limit` newest items, newest first (by creation time,
    /// then id): what `cairn items list` shows, without reading the store's
    /// whole time index.
    pub fn newest(&self, limit: usize) -> Vec<ItemId> {
        let mut inner = self.lock();
        inner.merge_pending();
        inner
            .sorted
            .iter()
            .rev()
            .take(limit)
            .map(|(_, id)| ItemId(*id))
            .collect()
    }

    /// Up to `limit` entries after `after` (exclusive) created at or after
    /// `since` (millis), oldest first: a stable order for paging exports.
    pub fn after(
        &self,
        after: Option<(u64, ItemId)>,
        since: u64,
        limit: usize,
    ) -> Vec<(u64, ItemId)> {
        let mut inner = self.lock();
        inner.merge_pending();
        let from_since = inner.sorted.partition_point(|e| e.0 < since);
        let from_after = match after {
            Some((t, id)) => inner.sorted.partition_point(|e| *e <= (t, id.0)),
            None => 0,
        };
        inner.sorted[from_since.max(from_after)..]
            .iter()
            .take(limit)
            .map(|(t, id)| (*t, ItemId(*id)))
            .collect()
    }

    /// How many items the index holds.
    pub fn len(&self) -> usize {
        let mut inner = self.lock();
        inner.merge_pending();
        inner.sorted.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A sealed snapshot of the set for one reconciliation. Rebuilding one
    /// after a change costs time linear in the set (a merge, not a sort):
    /// during a burst every reconciliation may need a new one.
    pub fn snapshot(&self) -> Arc<NegentropyStorageVector> {
        let mut inner = self.lock();
        if let Some(s) = &inner.snapshot {
            return s.clone();
        }
        inner.merge_pending();
        let mut storage = NegentropyStorageVector::with_capacity(inner.sorted.len());
        for (t, id) in &inner.sorted {
            storage
                .insert(*t, Id::from_byte_array(*id))
                .expect("an unsealed storage accepts inserts");
        }
        // Sealing sorts again, but the input is already sorted, which the
        // standard library's sort detects in one pass.
        storage.seal().expect("a fresh storage seals once");
        let s = Arc::new(storage);
        inner.snapshot = Some(s.clone());
        s
    }
}

impl Inner {
    /// Merges what was added since into the sorted entries.
    fn merge_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let old = std::mem::take(&mut self.sorted);
        let mut merged = Vec::with_capacity(old.len() + pending.len());
        let (mut a, mut b) = (old.into_iter().peekable(), pending.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x < y => a.next(),
                (Some(x), Some(y)) if x > y => b.next(),
                (Some(_), Some(_)) => {
                    // Equal: the same item stored twice; keep one.
                    b.next();
                    a.next()
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            merged.extend(next);
        }
        self.sorted = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> ItemId {
        ItemId([n; 32])
    }

    #[test]
    fn additions_in_any_order_give_one_sorted_set_without_duplicates() {
        let index = SyncIndex::new(vec![(5, id(5)), (1, id(1)), (3, id(3)), (1, id(1))]);
        assert_eq!(index.len(), 3);
        index.add(vec![
            (4, id(4)),
            (0, id(0)),
            (3, id(3)),
            (6, id(6)),
            (4, id(4)),
        ]);
        index.add(vec![(2, id(2)), (2, id(9))]);
        let snapshot = index.snapshot();
        let mut seen = Vec::new();
        use negentropy::NegentropyStorageBase;
        snapshot
            .iterate(0, snapshot.size().unwrap(), &mut |item, _| {
                seen.push(item.timestamp);
                Ok(true)
            })
            .unwrap();
        assert_eq!(seen, vec![0, 1, 2, 2, 3, 4, 5, 6]);
        assert_eq!(index.len(), 8);
        // Same id at another time is another entry.
        let asked = [(2, id(9)), (0, id(0)), (9, id(2)), (8, id(8))];
        assert_eq!(index.holds(asked), [true, true, false, false]);
        assert_eq!(index.newest(3), vec![id(6), id(5), id(4)]);
        assert_eq!(index.newest(100).len(), 8);
        // Unchanged set: the same snapshot is handed out again.
        assert!(Arc::ptr_eq(&snapshot, &index.snapshot()));
        index.add(vec![(7, id(7))]);
        assert_eq!(index.holds([(7, id(7))]), [true], "pending, not merged yet");
        assert!(!Arc::ptr_eq(&snapshot, &index.snapshot()));
        assert_eq!(index.newest(1), vec![id(7)], "pending additions count");
        assert_eq!(
            index.after(None, 5, 10),
            vec![(5, id(5)), (6, id(6)), (7, id(7))]
        );
        assert_eq!(
            index.after(Some((2, id(2))), 0, 2),
            vec![(2, id(9)), (3, id(3))]
        );
        assert_eq!(index.after(Some((2, id(2))), 4, 1), vec![(4, id(4))]);
        assert!(index.after(Some((7, id(7))), 0, 10).is_empty());
        let before = index.snapshot();
        index.remove(vec![(7, id(7)), (3, id(3)), (99, id(99))]);
        assert_eq!(
            index.holds([(7, id(7)), (3, id(3)), (6, id(6))]),
            [false, false, true]
        );
        assert_eq!(index.len(), 7);
        assert!(
            !Arc::ptr_eq(&before, &index.snapshot()),
            "a new snapshot after removal"
        );
    }
}
