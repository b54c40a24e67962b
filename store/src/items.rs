//! The item store: every shared item this node holds, with the publisher
//! certificates needed to verify them again.
//!
//! Items can be lost without harm (each is signed and content-addressed, so
//! a node that loses them can fetch them again from peers and check them),
//! but never half-written: nothing is served that does not read back intact.
//!
//! Layout: item encodings are appended to a data file ([`crate::item_data`]);
//! one sled tree holds, under one-byte prefixes, everything that points into
//! it, so that one atomic sled batch records an item completely or not at all:
//!
//! - `L` id -> location in the data file, creation time, publisher;
//! - `T` chunk number -> the (creation millis, id) of the items of one
//!   batch: the time order, sorted when read. One entry per batch rather
//!   than per item halves sled's work per item (measured: 16 -> 9 us);
//! - `C` certificate id -> certificate encoding;
//! - `W` -> length of the data file known to be on disk;
//! - `N` -> how many items are stored (sled can only count by walking).
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

use crate::error::StoreError;
use crate::item_data::{DataReader, ItemData, Location, ReadError};
use crate::lock::DirLock;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::hash::sha256;
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

const LOCATION: u8 = b'L';
const TIME: u8 = b'T';
const CERTIFICATE: u8 = b'C';
const SYNCED: &[u8] = b"W";
const COUNT: &[u8] = b"N";

/// One (creation millis, id) pair in a time chunk.
const TIME_PAIR: usize = 8 + ItemId::LEN;

/// A location entry: offset, length, creation millis, publisher.
const LOCATION_VALUE: usize = 8 + 4 + 8 + CertificateId::LEN;

/// What the index says about one item.
#[derive(Clone, Copy, Debug)]
struct Entry {
    at: Location,
    created: u64,
    publisher: CertificateId,
}

/// Handle on the item store. Clones share one store.
#[derive(Clone, Debug)]
pub struct ItemStore {
    db: sled::Db,
    index: sled::Tree,
    /// Appends, and the check-then-insert of a batch, happen under this lock.
    data: Arc<Mutex<ItemData>>,
    reader: Arc<DataReader>,
    path: Arc<PathBuf>,
    /// Kept with the entries (`N`) and mirrored here.
    count: Arc<AtomicU64>,
    /// Number of the next time chunk; changed under the data lock.
    next_chunk: Arc<AtomicU64>,
    /// Set by [`crate::Store::open`]: keeps the data directory locked while
    /// any handle lives, even after the `Store` that opened it is dropped.
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

impl ItemStore {
    /// Opens (creating if missing) the store whose sled index is the
    /// directory `path`; item bytes go to the file beside it with the
    /// extension `.data`. Checks, and repairs, what a crash may have left.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let sled_err = |source| StoreError::Sled {
            path: path.into(),
            source,
        };
        // The data file first: its lock says clearly that another store has
        // this directory open.
        let (data, reader) = ItemData::open(&path.with_extension("data"))?;
        let db = open_sled(path).map_err(sled_err)?;
        if db.tree_names().iter().any(|n| &n[..] == b"items") {
            return Err(StoreError::ItemsDamaged {
                path: path.into(),
                detail: "it was written by an earlier development version of Cairn, \
                         which kept items inside sled"
                    .into(),
            });
        }
        let store = ItemStore {
            index: db.open_tree("item_index").map_err(sled_err)?,
            db,
            data: Arc::new(Mutex::new(data)),
            reader: Arc::new(reader),
            path: Arc::new(path.into()),
            count: Arc::new(AtomicU64::new(0)),
            next_chunk: Arc::new(AtomicU64::new(0)),
            dir_lock: None,
        };
        if let Some(last) = store.index.scan_prefix([TIME]).keys().next_back() {
            let key = last.map_err(|e| store.sled(e))?;
            store
                .next_chunk
                .store(store.chunk_number(&key)? + 1, Ordering::Relaxed);
        }
        store.recover()?;
        Ok(store)
    }

    /// Reads the count and, if the last stop was not clean, drops index
    /// entries whose bytes a crash lost.
    fn recover(&self) -> Result<(), StoreError> {
        let synced = self.read_u64(SYNCED)?;
        let data_len = self.data.lock().unwrap_or_else(|p| p.into_inner()).len();
        if synced == data_len {
            // Every entry points below the mark, into synced bytes.
            let n = self.read_u64(COUNT)?;
            self.count.store(n, Ordering::Relaxed);
            return Ok(());
        }
        let mut n = 0;
        let mut lost = HashSet::new();
        for entry in self.index.scan_prefix([LOCATION]) {
            let (key, value) = entry.map_err(|e| self.sled(e))?;
            let id = self.parse_id(&key[1..])?;
            let entry = self.parse_entry(&id, &value)?;
            n += 1;
            if entry.at.end() > synced && !self.intact(&id, entry.at)? {
                lost.insert(id);
            }
        }
        if !lost.is_empty() {
            tracing::warn!(
                items = lost.len(),
                path = %self.path.display(),
                "dropping index entries whose item bytes did not reach the disk before a crash; \
                 they were never acknowledged as durable, and catch-up fetches them again"
            );
        }
        let kept = n - lost.len() as u64;
        let mut batch = sled::Batch::default();
        for id in &lost {
            batch.remove(&location_key(id)[..]);
        }
        if !lost.is_empty() {
            for chunk in self.index.scan_prefix([TIME]) {
                let (key, value) = chunk.map_err(|e| self.sled(e))?;
                let pairs = self.parse_chunk(&key, &value)?;
                let keep: Vec<_> = pairs.iter().filter(|(_, id)| !lost.contains(id)).collect();
                if keep.len() == pairs.len() {
                    continue;
                }
                let mut value = Vec::with_capacity(keep.len() * TIME_PAIR);
                for (created, id) in keep {
                    push_pair(&mut value, *created, id);
                }
                batch.insert(key, value);
            }
        }
        batch.insert(COUNT, &kept.to_be_bytes()[..]);
        self.index.apply_batch(batch).map_err(|e| self.sled(e))?;
        self.count.store(kept, Ordering::Relaxed);
        self.flush()
    }

    /// A big-endian number kept under `key`; 0 if absent.
    fn read_u64(&self, key: &[u8]) -> Result<u64, StoreError> {
        match self.index.get(key).map_err(|e| self.sled(e))? {
            Some(v) => Ok(u64::from_be_bytes(v.as_ref().try_into().map_err(|_| {
                self.damaged(format!(
                    "the value under {:?} is not 8 bytes",
                    String::from_utf8_lossy(key)
                ))
            })?)),
            None => Ok(0),
        }
    }

    /// Whether the bytes at `at` are the item `id`.
    fn intact(&self, id: &ItemId, at: Location) -> Result<bool, StoreError> {
        match self.reader.read(at) {
            Ok(bytes) => Ok(ItemId(sha256(&[&bytes])) == *id),
            Err(ReadError::Damaged(_)) => Ok(false),
            Err(ReadError::Io(e)) => Err(e),
        }
    }

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
            let is_new = seen.insert(id) && !self.has(&location_key(&id))?;
            if is_new {
                fresh.push(*item);
            }
            outcome.push((id, is_new));
        }
        if fresh.is_empty() {
            // Nothing to write: a certificate is only kept for its items.
            return Ok(outcome);
        }
        let payloads: Vec<&[u8]> = fresh.iter().map(|i| i.bytes()).collect();
        let locations = data.append(&payloads)?;
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
        for (cid, bytes) in new_certs {
            write.insert(&certificate_key(&cid)[..], bytes);
        }
        // Writers hold the data lock, so the count cannot move meanwhile.
        let count = self.count() + fresh.len() as u64;
        write.insert(COUNT, &count.to_be_bytes()[..]);
        self.index.apply_batch(write).map_err(|e| self.sled(e))?;
        self.count.store(count, Ordering::Relaxed);
        self.next_chunk.store(chunk_number + 1, Ordering::Relaxed);
        Ok(outcome)
    }

    /// Every stored item as (creation millis, id), in that order: the set
    /// that catch-up reconciles with peers.
    pub fn index(&self) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let mut out = Vec::with_capacity(self.count() as usize);
        for chunk in self.index.scan_prefix([TIME]) {
            let (key, value) = chunk.map_err(|e| self.sled(e))?;
            out.extend(self.parse_chunk(&key, &value)?);
        }
        out.sort_unstable();
        Ok(out)
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
        let bytes = self.read(id, entry.at)?;
        Ok(Some((ItemBytes(bytes), entry.publisher)))
    }

    /// A stored certificate.
    pub fn certificate(&self, id: &CertificateId) -> Result<Option<Certificate>, StoreError> {
        let Some(bytes) = self
            .index
            .get(certificate_key(id))
            .map_err(|e| self.sled(e))?
        else {
            return Ok(None);
        };
        decode(&bytes)
            .map(Some)
            .map_err(|e| self.damaged(format!("certificate {id} does not decode: {e}")))
    }

    /// Every stored certificate, in id order.
    pub fn certificates(&self) -> Result<Vec<Certificate>, StoreError> {
        let mut out = Vec::new();
        for entry in self.index.scan_prefix([CERTIFICATE]) {
            let (key, bytes) = entry.map_err(|e| self.sled(e))?;
            let cert = decode(&bytes).map_err(|e| {
                self.damaged(format!(
                    "certificate {} does not decode: {e}",
                    hex::encode(&key[1..])
                ))
            })?;
            out.push(cert);
        }
        Ok(out)
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
            let item = self.load(id)?.ok_or_else(|| {
                self.damaged(format!("the time index names item {id}, which is missing"))
            })?;
            out.push((*id, item));
        }
        Ok(out)
    }

    fn load(&self, id: &ItemId) -> Result<Option<SignedItem>, StoreError> {
        let Some(entry) = self.entry(id)? else {
            return Ok(None);
        };
        let bytes = self.read(id, entry.at)?;
        let item = EncodedItem::decode(bytes)
            .map_err(|e| self.damaged(format!("item {id} does not decode: {e}")))?;
        if item.id() != *id {
            return Err(self.damaged(format!("the bytes stored for item {id} are another item")));
        }
        Ok(Some(item.into_item()))
    }

    fn read(&self, id: &ItemId, at: Location) -> Result<Vec<u8>, StoreError> {
        self.reader.read(at).map_err(|e| match e {
            ReadError::Damaged(why) => self.damaged(format!("item {id} cannot be read: {why}")),
            ReadError::Io(e) => e,
        })
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
        key.get(1..)
            .and_then(|n| n.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| {
                self.damaged(format!("time chunk key {} is malformed", hex::encode(key)))
            })
    }

    fn parse_chunk(&self, key: &[u8], value: &[u8]) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let number = self.chunk_number(key)?;
        if !value.len().is_multiple_of(TIME_PAIR) {
            return Err(self.damaged(format!(
                "time chunk {number} is {} bytes, not a whole number of entries",
                value.len()
            )));
        }
        Ok(value
            .chunks_exact(TIME_PAIR)
            .map(|p| {
                let millis = u64::from_be_bytes(p[..8].try_into().expect("8 bytes"));
                let id = ItemId(p[8..].try_into().expect("32 bytes"));
                (millis, id)
            })
            .collect())
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

/// Opens sled, waiting up to a second for its file lock. sled finishes
/// writes on background threads after the last handle is dropped, so a
/// store reopened in the same process (tests, benchmarks) can find the lock
/// still held for a moment. Another process holding it is kept out by
/// [`crate::Store`]'s directory lock before this point.
fn open_sled(path: &Path) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        match sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
        {
            // sled reports a held lock only as text inside an I/O error.
            Err(sled::Error::Io(e))
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

impl Entry {
    fn to_bytes(self) -> [u8; LOCATION_VALUE] {
        let mut v = [0; LOCATION_VALUE];
        v[..8].copy_from_slice(&self.at.offset.to_be_bytes());
        v[8..12].copy_from_slice(&self.at.len.to_be_bytes());
        v[12..20].copy_from_slice(&self.created.to_be_bytes());
        v[20..].copy_from_slice(self.publisher.as_bytes());
        v
    }

    fn from_bytes(v: &[u8]) -> Option<Self> {
        if v.len() != LOCATION_VALUE {
            return None;
        }
        Some(Entry {
            at: Location {
                offset: u64::from_be_bytes(v[..8].try_into().ok()?),
                len: u32::from_be_bytes(v[8..12].try_into().ok()?),
            },
            created: u64::from_be_bytes(v[12..20].try_into().ok()?),
            publisher: CertificateId::from_slice(&v[20..]).ok()?,
        })
    }
}

fn location_key(id: &ItemId) -> [u8; 1 + ItemId::LEN] {
    let mut key = [LOCATION; 1 + ItemId::LEN];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

fn certificate_key(id: &CertificateId) -> [u8; 1 + CertificateId::LEN] {
    let mut key = [CERTIFICATE; 1 + CertificateId::LEN];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

fn chunk_key(number: u64) -> [u8; 9] {
    let mut key = [TIME; 9];
    key[1..].copy_from_slice(&number.to_be_bytes());
    key
}

fn push_pair(chunk: &mut Vec<u8>, created: u64, id: &ItemId) {
    chunk.extend_from_slice(&created.to_be_bytes());
    chunk.extend_from_slice(id.as_bytes());
}

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
