//! Opening the item store: sled's lock, the count, and the check after a
//! stop without a final flush.

use super::*;

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
        let db = match open_sled(path) {
            Ok(db) => db,
            // The index is only a map of the data file: set a damaged one
            // aside (for a post-mortem) and rebuild it.
            Err(sled::Error::Corruption { .. }) if !data.is_empty() => {
                let aside =
                    path.with_extension(format!("sled.damaged-{}", Timestamp::now().millis()));
                std::fs::rename(path, &aside)
                    .map_err(|e| StoreError::io("move the damaged index aside", path, e))?;
                tracing::warn!(
                    index = %path.display(),
                    moved_to = %aside.display(),
                    "the item index is damaged; moved aside, rebuilding it from the data file"
                );
                open_sled(path).map_err(sled_err)?
            }
            Err(e) => return Err(sled_err(e)),
        };
        if db.tree_names().iter().any(|n| &n[..] == b"items") {
            return Err(StoreError::ItemsDamaged {
                path: path.into(),
                detail: "it was written by an earlier development version of Cairn, \
                         which kept items inside sled"
                    .into(),
            });
        }
        let postings = open_postings(&path.with_extension("query"))?;
        let store = ItemStore {
            index: db.open_tree("item_index").map_err(sled_err)?,
            postings,
            db,
            data: Arc::new(Mutex::new(data)),
            reader: Arc::new(reader),
            path: Arc::new(path.into()),
            count: Arc::new(AtomicU64::new(0)),
            next_chunk: Arc::new(AtomicU64::new(0)),
            indexed_to: Arc::new(AtomicU64::new(0)),
            certificates: Arc::default(),
            known: Arc::default(),
            dropped: Arc::default(),
            added_since: Arc::default(),
            legacy_added: Arc::default(),
            last_added: Arc::default(),
            dir_lock: None,
        };
        // An empty index beside a data file that holds items was lost
        // (deleted, or set aside above): rebuild it instead of coming up
        // empty and fetching everything again.
        let data_len = store.data.lock().unwrap_or_else(|p| p.into_inner()).len();
        if data_len > 0 && store.index.is_empty() {
            let report = store.rebuild()?;
            tracing::warn!(
                path = %path.display(),
                items = report.items,
                certificates = report.certificates,
                without_certificate = report.without_certificate,
                damaged_bytes = report.damaged_bytes,
                "the item index was missing; rebuilt it from the data file"
            );
            store.open_query_index()?;
            return Ok(store);
        }
        if let Some(last) = store.index.scan_prefix([TIME]).keys().next_back() {
            let key = last.map_err(|e| store.sled(e))?;
            store
                .next_chunk
                .store(store.chunk_number(&key)? + 1, Ordering::Relaxed);
        }
        store.recover()?;
        store.open_added()?;
        store.open_query_index()?;
        Ok(store)
    }

    /// Reads the count and, if the last stop was not clean, drops index
    /// entries whose bytes a crash lost.
    fn recover(&self) -> Result<(), StoreError> {
        let mut synced = self.read_u64(SYNCED)?;
        let data_len = self.data.lock().unwrap_or_else(|p| p.into_inner()).len();
        if data_len < synced {
            // Bytes the index counted as durable are gone (a truncated
            // file): every entry reaching past the end is checked, and the
            // next append, at the new end, overwrites nothing indexed.
            tracing::warn!(
                path = %self.path.display(),
                expected = synced,
                found = data_len,
                "the item data file is shorter than recorded; dropping the items it lost"
            );
            synced = data_len;
        }
        if synced == data_len && self.read_u64(SYNCED)? == data_len {
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
                "dropping index entries whose item bytes are not intact on disk (a crash before \
                 they were synced, or a damaged file); catch-up fetches them again"
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
}

/// Opens sled, waiting up to a second for its file lock. sled finishes
/// writes on background threads after the last handle is dropped, so a
/// store reopened in the same process (tests, benchmarks) can find the lock
/// still held for a moment. Another process holding it is kept out by
/// [`crate::Store`]'s directory lock before this point.
fn open_sled(path: &Path) -> sled::Result<sled::Db> {
    open_sled_with(path, CACHE_BYTES)
}

/// Opens the query index's postings (`path`). They can all be written
/// again from the items, so a damaged or unreadable copy is removed and
/// the index starts afresh rather than keeping the node from starting.
fn open_postings(path: &Path) -> Result<sled::Db, StoreError> {
    let sled_err = |source| StoreError::Sled {
        path: path.into(),
        source,
    };
    match open_sled_with(path, POSTINGS_CACHE_BYTES) {
        Ok(db) => Ok(db),
        Err(sled::Error::Corruption { .. }) => {
            tracing::warn!(
                path = %path.display(),
                "the query index is damaged; removed, it is written again from the items"
            );
            std::fs::remove_dir_all(path)
                .map_err(|e| StoreError::io("remove the damaged query index", path, e))?;
            open_sled_with(path, POSTINGS_CACHE_BYTES).map_err(sled_err)
        }
        Err(e) => Err(sled_err(e)),
    }
}

fn open_sled_with(path: &Path, cache: u64) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        match sled::Config::new().path(path).cache_capacity(cache).open() {
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
