//! Items catch-up was offered and refused for good, so anti-entropy does not
//! fetch them again every round.
//!
//! An item's id is the hash of its bytes, so an item that failed a rule that
//! does not depend on time (a bad signature, a revoked or foreign publisher)
//! fails it again whenever it is fetched. A member that legitimately holds
//! such items (it stored them before a revocation) would otherwise offer them
//! in every session, and every node would fetch and refuse them forever.
//! Only "from the future" depends on time; those ids are not remembered.

use cairn_protocol::ItemId;
use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Most ids remembered (about 3 MB); the oldest are forgotten first, and a
/// forgotten id costs only one more fetch.
pub const MAX_REFUSED: usize = 100_000;

/// A bounded set of refused item ids.
#[derive(Debug, Default)]
pub struct RefusedIds {
    inner: Mutex<(HashSet<ItemId>, VecDeque<ItemId>)>,
}

impl RefusedIds {
    /// Remembers `id` as refused for good.
    pub fn insert(&self, id: ItemId) {
        let mut g = self.inner.lock().expect("refused ids lock poisoned");
        let (set, order) = &mut *g;
        if set.insert(id) {
            order.push_back(id);
            if order.len() > MAX_REFUSED {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
    }

    /// `ids` without those refused before.
    pub fn filter(&self, ids: Vec<ItemId>) -> Vec<ItemId> {
        let g = self.inner.lock().expect("refused ids lock poisoned");
        ids.into_iter().filter(|id| !g.0.contains(id)).collect()
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .expect("refused ids lock poisoned")
            .0
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_ids_are_skipped_and_memory_is_bounded() {
        let r = RefusedIds::default();
        let id = |n: u32| {
            let mut b = [0u8; 32];
            b[..4].copy_from_slice(&n.to_le_bytes());
            ItemId(b)
        };
        r.insert(id(1));
        r.insert(id(1));
        assert_eq!(r.filter(vec![id(1), id(2)]), vec![id(2)]);
        for n in 0..(MAX_REFUSED as u32 + 10) {
            r.insert(id(n + 10));
        }
        assert_eq!(r.len(), MAX_REFUSED);
        assert_eq!(
            r.filter(vec![id(1)]),
            vec![id(1)],
            "the oldest is forgotten"
        );
    }
}
