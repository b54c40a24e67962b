//! When this node stored each item, and the order it stored them in: what
//! a TAXII server calls `date_added` and pages through with a stable
//! cursor (items are only ever appended, so a position never moves).
//!
//! Each batch of new items is one time chunk (`T` + chunk number, see
//! [`crate::item_index`]); the same sled batch records `A` + chunk number
//! -> the time it was stored, in milliseconds, never earlier than the
//! previous chunk's (so a later position never has an earlier time). A
//! store written before this index existed has chunks without it: they
//! count as stored when the index began (`V` -> its first chunk and that
//! time, written once on open).

use super::*;
use crate::item_index::{chunk_key, TIME};

pub(crate) const ADDED: u8 = b'A';
/// The first chunk with an `A` entry, and when the index began.
pub(crate) const ADDED_SINCE: &[u8] = b"V";

pub(crate) fn added_key(chunk: u64) -> [u8; 9] {
    let mut key = [ADDED; 9];
    key[1..].copy_from_slice(&chunk.to_be_bytes());
    key
}

/// A stored item's place in the order this node stored items: its batch
/// (time chunk) and its place in that batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredAt {
    pub chunk: u64,
    pub index: u32,
}

/// One stored item in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Added {
    pub at: StoredAt,
    /// When this node stored it.
    pub added: Timestamp,
    pub id: ItemId,
    /// Its creation time (millis), as the time index has it.
    pub created: u64,
}

impl ItemStore {
    /// Reads (or, on the first open with this index, writes) where the
    /// `A` entries begin, and the last stored time.
    pub(crate) fn open_added(&self) -> Result<(), StoreError> {
        let since = match self.index.get(ADDED_SINCE).map_err(|e| self.sled(e))? {
            Some(v) if v.len() == 16 => (
                u64::from_be_bytes(v[..8].try_into().expect("8 bytes")),
                u64::from_be_bytes(v[8..].try_into().expect("8 bytes")),
            ),
            Some(_) => return Err(self.damaged("the added-index marker is not 16 bytes".into())),
            None => {
                let first = self.next_chunk.load(Ordering::Relaxed);
                let now = Timestamp::now().millis();
                let mut v = first.to_be_bytes().to_vec();
                v.extend_from_slice(&now.to_be_bytes());
                self.index
                    .insert(ADDED_SINCE, v)
                    .map_err(|e| self.sled(e))?;
                (first, now)
            }
        };
        let last = match self.index.scan_prefix([ADDED]).next_back() {
            Some(entry) => {
                let (_, v) = entry.map_err(|e| self.sled(e))?;
                self.parse_millis(&v)?
            }
            None => since.1,
        };
        self.added_since.store(since.0, Ordering::Relaxed);
        self.legacy_added.store(since.1, Ordering::Relaxed);
        self.last_added.store(last, Ordering::Relaxed);
        Ok(())
    }

    /// The time to record for a chunk stored now: never before the last.
    pub(crate) fn next_added(&self) -> u64 {
        Timestamp::now()
            .millis()
            .max(self.last_added.load(Ordering::Relaxed))
    }

    fn parse_millis(&self, v: &[u8]) -> Result<u64, StoreError> {
        v.try_into()
            .map(u64::from_be_bytes)
            .map_err(|_| self.damaged("a stored-time entry is not 8 bytes".into()))
    }

    /// When chunk `chunk` was stored.
    fn added_at(&self, chunk: u64) -> Result<u64, StoreError> {
        if chunk < self.added_since.load(Ordering::Relaxed) {
            return Ok(self.legacy_added.load(Ordering::Relaxed));
        }
        match self.index.get(added_key(chunk)).map_err(|e| self.sled(e))? {
            Some(v) => self.parse_millis(&v),
            None => Ok(self.legacy_added.load(Ordering::Relaxed)),
        }
    }

    /// Up to `limit` items from position `from` on (inclusive), in the
    /// order this node stored them.
    pub fn stored_from(&self, from: StoredAt, limit: usize) -> Result<Vec<Added>, StoreError> {
        let mut out = Vec::new();
        let end = vec![TIME + 1];
        for chunk in self.index.range(chunk_key(from.chunk).to_vec()..end) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = chunk.map_err(|e| self.sled(e))?;
            let number = self.chunk_number(&key)?;
            let pairs = self.parse_chunk(&key, &value)?;
            let added = Timestamp(self.added_at(number)?);
            let skip = if number == from.chunk { from.index } else { 0 };
            for (i, (created, id)) in pairs.into_iter().enumerate().skip(skip as usize) {
                if out.len() >= limit {
                    break;
                }
                out.push(Added {
                    at: StoredAt {
                        chunk: number,
                        index: i as u32,
                    },
                    added,
                    id,
                    created,
                });
            }
        }
        Ok(out)
    }

    /// The first position whose item was stored after `t` (the end of the
    /// store if none was).
    pub fn first_stored_after(&self, t: Timestamp) -> Result<StoredAt, StoreError> {
        let t = t.millis();
        let since = self.added_since.load(Ordering::Relaxed);
        if self.legacy_added.load(Ordering::Relaxed) > t {
            return Ok(StoredAt::default());
        }
        // Times only grow with the chunk number: binary search over the
        // `A` entries (a missing number reads as the next present one).
        let (mut lo, mut hi) = (since, self.next_chunk.load(Ordering::Relaxed));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let next = self
                .index
                .range(added_key(mid).to_vec()..added_key(u64::MAX).to_vec())
                .next();
            let (chunk, added) = match next {
                Some(entry) => {
                    let (k, v) = entry.map_err(|e| self.sled(e))?;
                    let chunk =
                        u64::from_be_bytes(k[1..].try_into().map_err(|_| {
                            self.damaged("a stored-time key is not 9 bytes".into())
                        })?);
                    (chunk, self.parse_millis(&v)?)
                }
                None => (hi, u64::MAX),
            };
            if added > t {
                hi = mid;
            } else {
                lo = chunk + 1;
            }
        }
        Ok(StoredAt {
            chunk: lo,
            index: 0,
        })
    }
}
