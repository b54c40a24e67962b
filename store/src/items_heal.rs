//! Healing the item store: damaged items are taken out of the index (so a
//! member sends them again), a scrub looks for them on purpose, and a lost
//! or unreadable index is rebuilt from the data file.
//!
//! Items can always be fetched again from members (they are signed and
//! content-addressed), so the store never repairs an item in place: it
//! forgets it, says so, and lets catch-up do the rest. The ids it forgot
//! wait in [`ItemStore::take_dropped`] for the node, whose in-memory
//! reconciliation set must forget them too. Items a revocation makes
//! unlawful to hold are removed the same way, but not fetched again
//! ([`ItemStore::remove_refused`]).

use super::*;
use crate::item_index::{LOCATION_VALUE, TIME_PAIR};

/// What a scrub found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScrubReport {
    /// Items whose bytes were read and hashed.
    pub checked: u64,
    /// Items whose bytes were damaged or missing: taken out of the index.
    pub dropped: Vec<ItemId>,
}

/// What rebuilding the index from the data file found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RebuildReport {
    pub items: u64,
    pub certificates: u64,
    /// Items whose publisher certificate is not in the data file (written by
    /// a store that kept certificates only in the index): not indexed.
    pub without_certificate: u64,
    /// Byte ranges skipped because no intact frame was found there.
    pub damaged_bytes: u64,
}

/// Items re-indexed per time chunk during a rebuild.
const REBUILD_CHUNK: usize = 4096;

impl ItemStore {
    /// Takes item `id` out of the index because its bytes are damaged: the
    /// node no longer claims to hold it, so catch-up fetches it again.
    pub(crate) fn quarantine(&self, id: &ItemId, why: &str) -> Result<(), StoreError> {
        let Some(entry) = self.take_out(id)? else {
            return Ok(());
        };
        self.dropped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((entry.created, *id));
        tracing::warn!(
            item = %id,
            path = %self.path.display(),
            "damaged item taken out of the store ({why}); a member will send it again in the next catch-up"
        );
        Ok(())
    }

    /// Removes items the node must not hold (their publisher's certificate
    /// was revoked before they were created: the node took them before it
    /// learned so). Unlike damaged items they are not fetched again: the
    /// caller also forgets them in its reconciliation set, and every node
    /// that knows the revocation refuses them. Returns (creation millis,
    /// id) of those that were held.
    pub fn remove_refused(&self, ids: &[ItemId]) -> Result<Vec<(u64, ItemId)>, StoreError> {
        let mut removed = Vec::new();
        for id in ids {
            if let Some(entry) = self.take_out(id)? {
                removed.push((entry.created, *id));
            }
        }
        Ok(removed)
    }

    /// Every stored item as (id, creation millis, publisher certificate),
    /// from the index alone (no item is read).
    pub fn publishers(&self) -> Result<Vec<(ItemId, u64, CertificateId)>, StoreError> {
        let mut out = Vec::with_capacity(self.count() as usize);
        for entry in self.index.scan_prefix([LOCATION]) {
            let (key, value) = entry.map_err(|e| self.sled(e))?;
            let id = self.parse_id(&key[1..])?;
            let e = self.parse_entry(&id, &value)?;
            out.push((id, e.created, e.publisher));
        }
        Ok(out)
    }

    /// Removes `id`'s location, time pair and visible postings; its entry
    /// if it was held.
    fn take_out(&self, id: &ItemId) -> Result<Option<Entry>, StoreError> {
        // Serialised with writers: the count and the time chunks change.
        let _data = self.data.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = self.entry(id)? else {
            return Ok(None);
        };
        let mut batch = sled::Batch::default();
        batch.remove(&location_key(id)[..]);
        let position = Position {
            created: entry.created,
            id: *id,
        };
        // Queries check every posting against the location entry, so these
        // may go after it (and a crash may leave them: harmless).
        for key in super::query_index::visible_postings(&position, &entry.publisher) {
            self.postings.remove(key).map_err(|e| self.sled(e))?;
        }
        for chunk in self.index.scan_prefix([TIME]) {
            let (key, value) = chunk.map_err(|e| self.sled(e))?;
            let pairs = self.parse_chunk(&key, &value)?;
            if let Some(pos) = pairs.iter().position(|p| p.1 == *id) {
                let mut value = Vec::with_capacity((pairs.len() - 1) * TIME_PAIR);
                for (i, (created, other)) in pairs.iter().enumerate() {
                    if i != pos {
                        push_pair(&mut value, *created, other);
                    }
                }
                batch.insert(key, value);
                break;
            }
        }
        let count = self.count().saturating_sub(1);
        batch.insert(COUNT, &count.to_be_bytes()[..]);
        self.index.apply_batch(batch).map_err(|e| self.sled(e))?;
        self.count.store(count, Ordering::Relaxed);
        // The id filter only says "perhaps held": it may keep the id.
        Ok(Some(entry))
    }

    /// The items taken out since the last call, as (creation millis, id).
    pub fn take_dropped(&self) -> Vec<(u64, ItemId)> {
        std::mem::take(&mut *self.dropped.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reads back every item and takes out those whose bytes are damaged.
    /// `pause` runs between batches of items (a background scrub sleeps
    /// there so it stays light).
    pub fn scrub(&self, mut pause: impl FnMut()) -> Result<ScrubReport, StoreError> {
        let mut report = ScrubReport::default();
        let mut batch = Vec::with_capacity(1024);
        let mut after: Vec<u8> = vec![LOCATION];
        loop {
            batch.clear();
            let range = (
                std::ops::Bound::Excluded(after.clone()),
                std::ops::Bound::Unbounded,
            );
            for entry in self.index.range::<Vec<u8>, _>(range).take(1024) {
                let (key, value) = entry.map_err(|e| self.sled(e))?;
                if key.first() != Some(&LOCATION) {
                    break;
                }
                batch.push((key.to_vec(), value.to_vec()));
            }
            if batch.is_empty() {
                break;
            }
            for (key, value) in &batch {
                let id = self.parse_id(&key[1..])?;
                let at = self.parse_entry(&id, value)?.at;
                report.checked += 1;
                let why = match self.reader.read(at) {
                    Ok(bytes) if ItemId(sha256(&[&bytes])) == id => continue,
                    Ok(_) => "its bytes are another item's".to_string(),
                    Err(ReadError::Damaged(why)) => why,
                    Err(ReadError::Io(e)) => return Err(e),
                };
                self.quarantine(&id, &why)?;
                report.dropped.push(id);
            }
            after = batch.last().map(|(k, _)| k.clone()).unwrap_or_default();
            pause();
        }
        // Also makes everything stored so far durable, with the synced mark:
        // after a check, a restart walks nothing it has just checked.
        self.flush()?;
        Ok(report)
    }

    /// Builds the index again from the data file (after it was lost or
    /// could not be read): every intact frame is an item or a certificate.
    pub(crate) fn rebuild(&self) -> Result<RebuildReport, StoreError> {
        let mut report = RebuildReport::default();
        let data_len = self.data.lock().unwrap_or_else(|p| p.into_inner()).len();
        let mut certificates: HashSet<CertificateId> = HashSet::new();
        let mut items: Vec<(ItemId, Entry)> = Vec::new();
        let mut offset = 0u64;
        let mut skipped_from: Option<u64> = None;
        while offset < data_len {
            match self.reader.frame(offset, data_len) {
                Some(payload) => {
                    if let Some(start) = skipped_from.take() {
                        report.damaged_bytes += offset - start;
                    }
                    let at = Location {
                        offset,
                        len: payload.len() as u32,
                    };
                    offset = at.end();
                    if let Ok(item) = EncodedItem::decode(payload.clone()) {
                        let body = &item.item().body;
                        let entry = Entry {
                            at,
                            created: body.created.millis(),
                            publisher: body.publisher,
                        };
                        items.push((item.id(), entry));
                    } else if decode::<Certificate>(&payload).is_ok() {
                        let id = CertificateId(sha256(&[&payload]));
                        if certificates.insert(id) {
                            self.index
                                .insert(&certificate_key(&id)[..], payload)
                                .map_err(|e| self.sled(e))?;
                            self.certificates.changed();
                            report.certificates += 1;
                        }
                    } else {
                        skipped_from.get_or_insert(at.offset);
                    }
                }
                None => {
                    skipped_from.get_or_insert(offset);
                    offset += 1;
                }
            }
        }
        if let Some(start) = skipped_from {
            report.damaged_bytes += data_len - start;
        }
        items.sort_by_key(|(id, _)| *id);
        items.dedup_by_key(|(id, _)| *id);
        let (kept, orphans): (Vec<_>, Vec<_>) = items
            .into_iter()
            .partition(|(_, e)| certificates.contains(&e.publisher));
        report.without_certificate = orphans.len() as u64;
        let mut chunk_number = 0u64;
        for part in kept.chunks(REBUILD_CHUNK) {
            let mut batch = sled::Batch::default();
            let mut chunk = Vec::with_capacity(part.len() * TIME_PAIR);
            for (id, entry) in part {
                batch.insert(&location_key(id)[..], &entry.to_bytes()[..LOCATION_VALUE]);
                push_pair(&mut chunk, entry.created, id);
            }
            batch.insert(&chunk_key(chunk_number)[..], chunk);
            self.index.apply_batch(batch).map_err(|e| self.sled(e))?;
            chunk_number += 1;
        }
        report.items = kept.len() as u64;
        self.index
            .insert(COUNT, &report.items.to_be_bytes()[..])
            .map_err(|e| self.sled(e))?;
        self.count.store(report.items, Ordering::Relaxed);
        self.next_chunk.store(chunk_number, Ordering::Relaxed);
        self.flush()?;
        Ok(report)
    }
}
