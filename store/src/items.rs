//! The item store: every shared item this node holds, with the publisher
//! certificates needed to verify them again, in sled.
//!
//! Items live in sled rather than a checksummed log because they can be lost
//! without harm: each is signed and content-addressed, so a node that loses
//! its database can fetch the items again from peers and check them.
//!
//! Invariant: the store only stores. Callers verify an item against its
//! certificate and the community (`SignedItem::verify`) before inserting it;
//! nothing read back from here is re-verified.

use crate::error::StoreError;
use crate::lock::DirLock;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::{Certificate, CertificateId, ItemId, SignedItem, Timestamp};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use std::convert::Infallible;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// sled caches up to 1 GiB by default; a node serving a community needs the
/// recent items hot, not the whole history.
const CACHE_BYTES: u64 = 64 << 20;

/// A by-time key: creation millis big-endian (so byte order is time order),
/// then the item id (so items created in the same millisecond stay distinct).
const TIME_KEY: usize = 8 + ItemId::LEN;

/// Handle on the item database. Clones share one sled database.
#[derive(Clone, Debug)]
pub struct ItemStore {
    db: sled::Db,
    items: sled::Tree,
    by_time: sled::Tree,
    certificates: sled::Tree,
    path: Arc<PathBuf>,
    /// Counted once on open, then kept up to date, because sled can only
    /// count by walking the whole tree.
    count: Arc<AtomicU64>,
    /// Set by [`crate::Store::open`]: keeps the data directory locked while
    /// any handle lives, even after the `Store` that opened it is dropped.
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

impl ItemStore {
    /// Opens (creating if missing) the sled database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let sled_err = |source| StoreError::Sled {
            path: path.into(),
            source,
        };
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(sled_err)?;
        let store = ItemStore {
            items: db.open_tree("items").map_err(sled_err)?,
            by_time: db.open_tree("items_by_time").map_err(sled_err)?,
            certificates: db.open_tree("certificates").map_err(sled_err)?,
            db,
            path: Arc::new(path.into()),
            count: Arc::new(AtomicU64::new(0)),
            dir_lock: None,
        };
        // Counted over the by-time index, whose values are empty: walking
        // the items tree would page every item into memory.
        let mut n = 0;
        for key in store.by_time.iter().keys() {
            key.map_err(|e| store.sled(e))?;
            n += 1;
        }
        store.count.store(n, Ordering::Relaxed);
        Ok(store)
    }

    /// Stores a verified item and its publisher's certificate. Returns whether
    /// the item was new. Not durable until [`ItemStore::flush`]: callers insert
    /// a batch and flush once (group commit).
    pub fn insert(&self, item: &SignedItem, certificate: &Certificate) -> Result<bool, StoreError> {
        Ok(self.insert_batch(&[(item, certificate)])?[0].1)
    }

    /// Stores verified items with their publishers' certificates in one
    /// transaction. Returns, per item, its id and whether it was new.
    pub fn insert_batch(
        &self,
        batch: &[(&SignedItem, &Certificate)],
    ) -> Result<Vec<(ItemId, bool)>, StoreError> {
        let encode_err = |what| move |source| StoreError::Encode { what, source };
        // A batch usually holds many items of few publishers: encode each
        // certificate once.
        type Known<'c> = (&'c Certificate, CertificateId, Arc<Vec<u8>>);
        let mut certs: Vec<Known<'_>> = Vec::new();
        let mut rows = Vec::with_capacity(batch.len());
        for (item, certificate) in batch {
            let item_bytes = encode(*item).map_err(encode_err("an item"))?;
            let id = ItemId(cairn_protocol::hash::sha256(&[&item_bytes]));
            let known = certs.iter().find(|(c, _, _)| *c == *certificate);
            let (cert_id, cert_bytes) = match known {
                Some((_, cid, bytes)) => (*cid, bytes.clone()),
                None => {
                    let bytes =
                        Arc::new(encode(*certificate).map_err(encode_err("a certificate"))?);
                    let cid = CertificateId(cairn_protocol::hash::sha256(&[&bytes]));
                    certs.push((certificate, cid, bytes.clone()));
                    (cid, bytes)
                }
            };
            if item.body.publisher != cert_id {
                return Err(StoreError::NotItsPublisher {
                    item: id,
                    named: item.body.publisher,
                    given: cert_id,
                });
            }
            let key = time_key(item.body.created, &id);
            rows.push((id, cert_id, item_bytes, cert_bytes, key));
        }
        // One transaction over the three trees, so a crash can never leave the
        // by-time index naming an item, or an item naming a certificate, that
        // is not there.
        let outcome = (&self.items, &self.by_time, &self.certificates).transaction(
            |(items, by_time, certificates)| {
                let mut new = Vec::with_capacity(rows.len());
                for (id, cert_id, item_bytes, cert_bytes, key) in &rows {
                    if items.get(id.as_bytes())?.is_some() {
                        new.push((*id, false));
                        continue;
                    }
                    items.insert(&id.as_bytes()[..], item_bytes.as_slice())?;
                    by_time.insert(&key[..], &[][..])?;
                    if certificates.get(cert_id.as_bytes())?.is_none() {
                        certificates.insert(&cert_id.as_bytes()[..], cert_bytes.as_slice())?;
                    }
                    new.push((*id, true));
                }
                Ok::<_, ConflictableTransactionError<Infallible>>(new)
            },
        );
        let new = match outcome {
            Ok(new) => new,
            Err(TransactionError::Storage(e)) => return Err(self.sled(e)),
            Err(TransactionError::Abort(never)) => match never {},
        };
        let added = new.iter().filter(|(_, n)| *n).count() as u64;
        self.count.fetch_add(added, Ordering::Relaxed);
        Ok(new)
    }

    /// Every stored item as (creation millis, id), in that order: the set
    /// that catch-up reconciles with peers.
    pub fn index(&self) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let mut out = Vec::with_capacity(self.count() as usize);
        for key in self.by_time.iter().keys() {
            let key = key.map_err(|e| self.sled(e))?;
            out.push(self.parse_time_key(&key)?);
        }
        Ok(out)
    }

    /// Makes everything inserted so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(drop).map_err(|e| self.sled(e))
    }

    /// Whether the item is stored.
    pub fn contains(&self, id: &ItemId) -> Result<bool, StoreError> {
        self.items
            .contains_key(id.as_bytes())
            .map_err(|e| self.sled(e))
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

    /// A stored certificate.
    pub fn certificate(&self, id: &CertificateId) -> Result<Option<Certificate>, StoreError> {
        let Some(bytes) = self
            .certificates
            .get(id.as_bytes())
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
        for entry in self.certificates.iter() {
            let (key, bytes) = entry.map_err(|e| self.sled(e))?;
            let cert = decode(&bytes).map_err(|e| {
                self.damaged(format!(
                    "certificate {} does not decode: {e}",
                    hex::encode(&key)
                ))
            })?;
            out.push(cert);
        }
        Ok(out)
    }

    /// Up to `limit` items, newest first.
    pub fn latest(&self, limit: usize) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        self.collect(self.by_time.iter().keys().rev(), limit)
    }

    /// Up to `limit` items created after `cursor` (the creation time and id of
    /// the last item already seen), oldest first; from the beginning if
    /// `cursor` is `None`. Feed the last returned item back as the next cursor.
    pub fn after(
        &self,
        cursor: Option<(Timestamp, ItemId)>,
        limit: usize,
    ) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        let start = match cursor {
            Some((created, id)) => Bound::Excluded(time_key(created, &id).to_vec()),
            None => Bound::Unbounded,
        };
        self.collect(self.by_time.range((start, Bound::Unbounded)).keys(), limit)
    }

    /// How many items are stored.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Loads the items a by-time key iterator names.
    fn collect(
        &self,
        keys: impl Iterator<Item = sled::Result<sled::IVec>>,
        limit: usize,
    ) -> Result<Vec<(ItemId, SignedItem)>, StoreError> {
        let mut out = Vec::new();
        for key in keys.take(limit) {
            let key = key.map_err(|e| self.sled(e))?;
            let (_, id) = self.parse_time_key(&key)?;
            let item = self.load(&id)?.ok_or_else(|| {
                self.damaged(format!("by-time index names item {id}, which is missing"))
            })?;
            out.push((id, item));
        }
        Ok(out)
    }

    fn parse_time_key(&self, key: &[u8]) -> Result<(u64, ItemId), StoreError> {
        let malformed = || {
            self.damaged(format!(
                "by-time index key {} is malformed",
                hex::encode(key)
            ))
        };
        if key.len() != TIME_KEY {
            return Err(malformed());
        }
        let millis = u64::from_be_bytes(key[..8].try_into().map_err(|_| malformed())?);
        let id = ItemId::from_slice(&key[8..]).map_err(|_| malformed())?;
        Ok((millis, id))
    }

    fn load(&self, id: &ItemId) -> Result<Option<SignedItem>, StoreError> {
        Ok(self.item_with_size(id)?.map(|(item, _)| item))
    }

    /// An item without its certificate, and the size of its encoding: for
    /// callers that fetch many items of few publishers and budget by size.
    pub fn item_with_size(&self, id: &ItemId) -> Result<Option<(SignedItem, usize)>, StoreError> {
        let Some(bytes) = self.items.get(id.as_bytes()).map_err(|e| self.sled(e))? else {
            return Ok(None);
        };
        decode(&bytes)
            .map(|item| Some((item, bytes.len())))
            .map_err(|e| self.damaged(format!("item {id} does not decode: {e}")))
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

fn time_key(created: Timestamp, id: &ItemId) -> [u8; TIME_KEY] {
    let mut key = [0; TIME_KEY];
    key[..8].copy_from_slice(&created.millis().to_be_bytes());
    key[8..].copy_from_slice(id.as_bytes());
    key
}

#[cfg(test)]
#[path = "items_tests.rs"]
mod tests;
