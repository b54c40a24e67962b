//! Which items the store may hold, answered from memory.
//!
//! Most items a node is asked to store are new, and proving that an id is
//! absent from sled costs a tree walk. Item ids are SHA-256 digests, so
//! their first 8 bytes are as good as random; the set of those prefixes
//! answers "certainly not held" without sled, in about 9 bytes of memory
//! per item. "Perhaps held" (a prefix shared by chance, or crafted) is
//! settled by sled as before, so an answer is never wrong, only slower.

use cairn_protocol::ItemId;
use std::collections::HashSet;

/// The 8-byte prefixes of every id with an index entry. Kept complete
/// under the store's data lock: every insert that adds entries adds their
/// prefixes after sled accepted the batch, and nothing removes entries
/// while a store is open (crash repair runs before it is built).
/// Built on first use (from the time index), so opening a store stays as
/// cheap as before.
#[derive(Debug, Default)]
pub(crate) struct KnownIds {
    prefixes: Option<HashSet<u64>>,
}

fn prefix(id: &ItemId) -> u64 {
    let mut p = [0u8; 8];
    p.copy_from_slice(&id.0[..8]);
    u64::from_ne_bytes(p)
}

impl KnownIds {
    /// Fills the set from `held` (every id with an index entry) unless
    /// that was done before.
    pub(crate) fn build<E>(
        &mut self,
        held: impl FnOnce() -> Result<Vec<ItemId>, E>,
    ) -> Result<(), E> {
        if self.prefixes.is_none() {
            self.prefixes = Some(held()?.iter().map(prefix).collect());
        }
        Ok(())
    }

    /// False if `id` is certainly not held; true if it may be (or if the
    /// set is not built yet).
    pub(crate) fn may_hold(&self, id: &ItemId) -> bool {
        self.prefixes
            .as_ref()
            .is_none_or(|p| p.contains(&prefix(id)))
    }

    /// Records ids just stored (nothing to do before the set is built: the
    /// build reads them from the index).
    pub(crate) fn extend(&mut self, ids: impl IntoIterator<Item = ItemId>) {
        if let Some(p) = &mut self.prefixes {
            p.extend(ids.into_iter().map(|id| prefix(&id)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_ids_are_certain_and_shared_prefixes_only_say_perhaps() {
        let a = ItemId([1; 32]);
        let mut b = [1; 32];
        b[31] = 2; // same first 8 bytes as `a`
        let b = ItemId(b);
        let c = ItemId([3; 32]);
        let mut known = KnownIds::default();
        assert!(known.may_hold(&c), "unbuilt: everything is perhaps held");
        known.extend([c]);
        known.build(|| Ok::<_, ()>(vec![a])).unwrap();
        known.build(|| Err(())).expect("built once");
        assert!(known.may_hold(&a));
        assert!(known.may_hold(&b), "a shared prefix must defer to sled");
        assert!(
            !known.may_hold(&c),
            "extended before the build: read from the index"
        );
        known.extend([c]);
        assert!(known.may_hold(&c));
    }
}
