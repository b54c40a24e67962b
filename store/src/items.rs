//! The item store: every shared item this node holds, with the publisher
//! certificates needed to verify them again.
//!
//! Items can be lost without harm (each is signed and content-addressed, so
//! a node that loses them can fetch them again from peers and check them),
//! but never half-written: nothing is served that does not read back intact.
//!
//! Layout: item encodings are appended to a data file ([`crate::item_data`]);
//! one sled tree holds everything that points into it
//! ([`crate::item_index`]), so that one atomic sled batch records an item
//! completely or not at all.
//!
//! sled may write index entries to disk before the data they point to is
//! synced (it flushes on its own too). So when [`ItemStore::open`] finds the
//! data file longer than the `W` mark (the node stopped without a final
//! flush), it checks every entry beyond the mark against the data file and
//! drops the ones whose bytes did not survive: catch-up fetches them again.
//! After a clean stop nothing is walked, which keeps start-up fast and small.
//!
//! Invariant: the store only stores. Callers verify an item against its
//! certificate and the community before inserting it; nothing read back from
//! here is re-verified, only checked against its checksum and id.

use crate::certificate_cache::CertificateCache;
use crate::error::StoreError;
use crate::item_data::{DataReader, ItemData, Location, ReadError};
use crate::item_index::{
    certificate_key, chunk_key, location_key, member_key, push_pair, Entry, CERTIFICATE, COUNT,
    LOCATION, MEMBER, SYNCED, TIME, TIME_PAIR,
};
use crate::known_ids::KnownIds;
use crate::lock::DirLock;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::hash::sha256;
use cairn_protocol::query::Position;
use cairn_protocol::{
    Certificate, CertificateId, EncodedItem, ItemBytes, ItemId, SignedItem, Timestamp,
};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// sled caches up to 1 GiB by default; the index of a large community fits
/// in a fraction of this.
const CACHE_BYTES: u64 = 64 << 20;
/// The postings' cache: queries read a few pages per posting list.
const POSTINGS_CACHE_BYTES: u64 = 16 << 20;

/// Handle on the item store. Clones share one store.
#[derive(Clone, Debug)]
pub struct ItemStore {
    db: sled::Db,
    index: sled::Tree,
    /// The query index's postings, in a sled database of their own
    /// (`query_index.rs`): flushed on their own schedule, never with the
    /// items' fsync, and with a cache of their own.
    postings: sled::Db,
    /// Appends, and the check-then-insert of a batch, happen under this lock.
    data: Arc<Mutex<ItemData>>,
    reader: Arc<DataReader>,
    path: Arc<PathBuf>,
    /// Kept with the entries (`N`) and mirrored here.
    count: Arc<AtomicU64>,
    /// Number of the next time chunk; changed under the data lock.
    next_chunk: Arc<AtomicU64>,
    /// The query index's cursor (`Qc`): chunks before it have postings.
    indexed_to: Arc<AtomicU64>,
    /// Every stored certificate, decoded once per change.
    certificates: Arc<CertificateCache>,
    /// Spares sled a lookup for most new ids; locked after `data`.
    known: Arc<Mutex<KnownIds>>,
    /// Items taken out because their bytes were damaged, until the node
    /// takes them ([`ItemStore::take_dropped`]).
    dropped: Arc<Mutex<Vec<(u64, ItemId)>>>,
    /// The stored-time index ([`added`]): its first chunk, the time legacy
    /// chunks count as stored, and the last time recorded.
    added_since: Arc<AtomicU64>,
    legacy_added: Arc<AtomicU64>,
    last_added: Arc<AtomicU64>,
    /// Set by [`crate::Store::open`]: keeps the data directory locked while
    /// any handle lives, even after the `Store` that opened it is dropped.
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

impl ItemStore {
    /// Encodes and stores one verified item; see [`ItemStore::insert_batch`].
    pub fn insert(&self, item: &SignedItem, certificate: &Certificate) -> Result<bool, StoreError> {
        let encoded = EncodedItem::new(item.clone()).map_err(|source| StoreError::Encode {
            what: "an item",
            source,
        })?;
        Ok(self.insert_batch(&[(&encoded, certificate)])?[0].1)
    }

    /// Stores verified items with their publishers' certificates, each item
    /// completely or not at all. Returns, per item, its id and whether it was
    /// new. Not durable until [`ItemStore::flush`]: callers insert a batch
    /// and flush once (group commit).
    pub fn insert_batch(
        &self,
        batch: &[(&EncodedItem, &Certificate)],
    ) -> Result<Vec<(ItemId, bool)>, StoreError> {
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let mut known = self.known_ids()?;
        // A batch usually holds many items of few publishers: check each
        // certificate once.
        let mut certs: Vec<(&Certificate, CertificateId)> = Vec::new();
        let mut new_certs: Vec<(CertificateId, Vec<u8>)> = Vec::new();
        let mut seen = HashSet::with_capacity(batch.len());
        let mut outcome = Vec::with_capacity(batch.len());
        let mut fresh = Vec::new();
        for (item, certificate) in batch {
            let id = item.id();
            let cert_id = match certs.iter().find(|(c, _)| c == certificate) {
                Some((_, cid)) => *cid,
                None => {
                    let bytes = encode(*certificate).map_err(|source| StoreError::Encode {
                        what: "a certificate",
                        source,
                    })?;
                    let cid = CertificateId(sha256(&[&bytes]));
                    certs.push((certificate, cid));
                    if !self.has(&certificate_key(&cid))? {
                        new_certs.push((cid, bytes));
                    }
                    cid
                }
            };
            let publisher = item.item().body.publisher;
            if publisher != cert_id {
                return Err(StoreError::NotItsPublisher {
                    item: id,
                    named: publisher,
                    given: cert_id,
                });
            }
            let is_new =
                seen.insert(id) && !(known.may_hold(&id) && self.has(&location_key(&id))?);
            if is_new {
                fresh.push(*item);
            }
            outcome.push((id, is_new));
        }
        if fresh.is_empty() {
            // Nothing to write: a certificate is only kept for its items.
            return Ok(outcome);
        }
        // New certificates go to the data file too, ahead of their items,
        // so a lost index can be rebuilt from the data file alone.
        let payloads: Vec<&[u8]> = new_certs
            .iter()
            .map(|(_, bytes)| bytes.as_slice())
            .chain(fresh.iter().map(|i| i.bytes()))
            .collect();
        let mut locations = data.append(&payloads)?;
        let locations = locations.split_off(new_certs.len());
        let mut write = sled::Batch::default();
        let mut chunk = Vec::with_capacity(fresh.len() * TIME_PAIR);
        for (item, at) in fresh.iter().zip(locations) {
            let id = item.id();
            let created = item.item().body.created.millis();
            let entry = Entry {
                at,
                created,
                publisher: item.item().body.publisher,
            };
            write.insert(&location_key(&id)[..], &entry.to_bytes()[..]);
            push_pair(&mut chunk, created, &id);
        }
        let chunk_number = self.next_chunk.load(Ordering::Relaxed);
        write.insert(&chunk_key(chunk_number)[..], chunk);
        let added = self.next_added();
        write.insert(
            &added::added_key(chunk_number)[..],
            &added.to_be_bytes()[..],
        );
        let certificates_added = !new_certs.is_empty();
        for (cid, bytes) in new_certs {
            write.insert(&certificate_key(&cid)[..], bytes);
        }
        // Writers hold the data lock, so the count cannot move meanwhile.
        let count = self.count() + fresh.len() as u64;
        write.insert(COUNT, &count.to_be_bytes()[..]);
        self.index.apply_batch(write).map_err(|e| self.sled(e))?;
        if certificates_added {
            self.certificates.changed();
        }
        known.extend(fresh.iter().map(|i| i.id()));
        self.count.store(count, Ordering::Relaxed);
        self.next_chunk.store(chunk_number + 1, Ordering::Relaxed);
        self.last_added.store(added, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Every stored item as (creation millis, id), in that order: the set
    /// that catch-up reconciles with peers.
    pub fn index(&self) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let mut out = self.time_pairs()?;
        out.sort_unstable();
        Ok(out)
    }

    /// The time index's pairs in storage order.
    fn time_pairs(&self) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let mut out = Vec::with_capacity(self.count() as usize);
        for chunk in self.index.scan_prefix([TIME]) {
            let (key, value) = chunk.map_err(|e| self.sled(e))?;
            out.extend(self.parse_chunk(&key, &value)?);
        }
        Ok(out)
    }

    /// The in-memory id filter, built from the time index on first use
    /// (which names every item with a location entry: both are written by
    /// one atomic batch, and crash repair rewrites both).
    fn known_ids(&self) -> Result<std::sync::MutexGuard<'_, KnownIds>, StoreError> {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.build(|| Ok(self.time_pairs()?.into_iter().map(|(_, id)| id).collect()))?;
        Ok(known)
    }

    /// Makes everything inserted so far durable: the item bytes first, then
    /// the index that points to them, with the synced length recorded.
    pub fn flush(&self) -> Result<(), StoreError> {
        let mut data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let synced = data.sync()?;
        self.index
            .insert(SYNCED, &synced.to_be_bytes()[..])
            .map_err(|e| self.sled(e))?;
        self.db.flush().map(drop).map_err(|e| self.sled(e))
    }

    /// Whether the item is stored.
    pub fn contains(&self, id: &ItemId) -> Result<bool, StoreError> {
        self.has(&location_key(id))
    }

    /// An item with its publisher's certificate.
    pub fn get(&self, id: &ItemId) -> Result<Option<(SignedItem, Certificate)>, StoreError> {
        let Some(item) = self.load(id)? else {
            return Ok(None);
        };
        let publisher = item.body.publisher;
        let certificate = self.certificate(&publisher)?.ok_or_else(|| {
            self.damaged(format!(
                "item {id} names publisher certificate {publisher}, which is missing"
            ))
        })?;
        Ok(Some((item, certificate)))
    }

    /// An item's stored encoding, as read back (checksum checked, not
    /// decoded), with its publisher's certificate id: what catch-up sends.
    pub fn item_bytes(
        &self,
        id: &ItemId,
    ) -> Result<Option<(ItemBytes, CertificateId)>, StoreError> {
        let Some(entry) = self.entry(id)? else {
            return Ok(None);
        };
        let Some(bytes) = self.read(id, entry.at)? else {
            return Ok(None);
        };
        if ItemId(sha256(&[&bytes])) != *id {
            self.quarantine(id, "its bytes are another item's")?;
            return Ok(None);
        }
        Ok(Some((ItemBytes(bytes), entry.publisher)))
    }

    /// Up to `limit` items, newest first. Reads the whole time index, so
    /// it costs in proportion to the store, not to `limit`.
    pub fn latest(&self, limit: usize) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        let index = self.index()?;
        self.collect(index.iter().rev().take(limit))
    }

    /// Up to `limit` items created after `cursor` (the creation time and id of
    /// the last item already seen), oldest first; from the beginning if
    /// `cursor` is `None`. Feed the last returned item back as the next
    /// cursor. Reads the whole time index, as [`ItemStore::latest`].
    pub fn after(
        &self,
        cursor: Option<(Timestamp, ItemId)>,
        limit: usize,
    ) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        let index = self.index()?;
        let start = match cursor {
            Some((created, id)) => index.partition_point(|p| *p <= (created.millis(), id)),
            None => 0,
        };
        self.collect(index[start..].iter().take(limit))
    }

    /// How many items are stored.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Loads the items a time index names.
    fn collect<'a>(
        &self,
        pairs: impl Iterator<Item = &'a (u64, ItemId)>,
    ) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        let mut out = Vec::new();
        for (_, id) in pairs {
            // A damaged item is taken out by `load` and skipped: one bad
            // item never hides the others.
            if let Some(item) = self.load(id)? {
                out.push((*id, item));
            }
        }
        Ok(out)
    }

    /// An item as stored, or `None` if it is not here or its bytes were
    /// damaged (then it is taken out of the index: see `items_heal.rs`).
    fn load(&self, id: &ItemId) -> Result<Option<SignedItem>, StoreError> {
        let Some(entry) = self.entry(id)? else {
            return Ok(None);
        };
        let Some(bytes) = self.read(id, entry.at)? else {
            return Ok(None);
        };
        match EncodedItem::decode(bytes) {
            Ok(item) if item.id() == *id => Ok(Some(item.into_item())),
            Ok(_) => {
                self.quarantine(id, "its bytes are another item's")?;
                Ok(None)
            }
            Err(e) => {
                self.quarantine(id, &format!("its bytes do not decode: {e}"))?;
                Ok(None)
            }
        }
    }

    /// The bytes at `at`, or `None` after taking a damaged item out.
    fn read(&self, id: &ItemId, at: Location) -> Result<Option<Vec<u8>>, StoreError> {
        match self.reader.read(at) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(ReadError::Damaged(why)) => {
                self.quarantine(id, &why)?;
                Ok(None)
            }
            Err(ReadError::Io(e)) => Err(e),
        }
    }

    fn entry(&self, id: &ItemId) -> Result<Option<Entry>, StoreError> {
        match self.index.get(location_key(id)).map_err(|e| self.sled(e))? {
            Some(v) => self.parse_entry(id, &v).map(Some),
            None => Ok(None),
        }
    }

    fn has(&self, key: &[u8]) -> Result<bool, StoreError> {
        self.index.contains_key(key).map_err(|e| self.sled(e))
    }

    fn parse_entry(&self, id: &ItemId, v: &[u8]) -> Result<Entry, StoreError> {
        Entry::from_bytes(v)
            .ok_or_else(|| self.damaged(format!("the index entry of item {id} is malformed")))
    }

    fn parse_id(&self, raw: &[u8]) -> Result<ItemId, StoreError> {
        ItemId::from_slice(raw)
            .map_err(|_| self.damaged(format!("index key {} is malformed", hex::encode(raw))))
    }

    fn chunk_number(&self, key: &[u8]) -> Result<u64, StoreError> {
        crate::item_index::chunk_number(key).ok_or_else(|| {
            self.damaged(format!("time chunk key {} is malformed", hex::encode(key)))
        })
    }

    fn parse_chunk(&self, key: &[u8], value: &[u8]) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let number = self.chunk_number(key)?;
        crate::item_index::parse_chunk(value).ok_or_else(|| {
            self.damaged(format!(
                "time chunk {number} is {} bytes, not a whole number of entries",
                value.len()
            ))
        })
    }

    fn sled(&self, source: sled::Error) -> StoreError {
        StoreError::Sled {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn damaged(&self, detail: String) -> StoreError {
        StoreError::ItemsDamaged {
            path: self.path.to_path_buf(),
            detail,
        }
    }
}

#[path = "items_open.rs"]
mod open;

#[path = "query_index.rs"]
pub(crate) mod query_index;
#[path = "query_plan.rs"]
mod query_plan;
pub use query_plan::Found;
#[path = "query_indexer.rs"]
mod query_indexer;
#[cfg(test)]
#[path = "query_indexer_tests.rs"]
mod query_indexer_tests;
#[path = "query_tail.rs"]
mod query_tail;
pub use query_indexer::QueryIndexer;
#[cfg(test)]
#[path = "query_tests.rs"]
mod query_tests;

#[path = "items_certificates.rs"]
mod certificates;

#[path = "items_heal.rs"]
mod heal;
pub use heal::{RebuildReport, ScrubReport};
#[path = "items_added.rs"]
pub mod added;
pub use added::{Added, StoredAt};

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
