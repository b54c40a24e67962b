//! Writing the query index behind the store's writes.
//!
//! An item stored is findable at once: until its postings exist, queries
//! read the items of the chunks from the cursor on and check them directly
//! ([`ItemStore::unindexed`]). The postings are written by one background
//! thread ([`QueryIndexer`]) a few hundred items at a time, then the cursor
//! moves past them. Two choices keep it off the item's critical path:
//!
//! - postings are plain sled inserts, never a batch: sled 0.34 applies a
//!   batch under a process-wide write lock that every other write waits
//!   for, so one batch of thousands of postings would stall the ingest
//!   worker's stores;
//! - the thread runs at a lower CPU priority (nice 10): when verification
//!   and relaying need both cores, indexing waits, and queries meanwhile
//!   cost a little more (the unindexed tail grows).
//!
//! A crash between postings and cursor leaves postings beyond the cursor;
//! they are written again, identically, after the restart.

use super::ItemStore;
use crate::error::StoreError;
use crate::item_index::chunk_key;
use crate::items::query_index::{postings, CURSOR_KEY};
use cairn_protocol::query::Position;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Items indexed per step: their postings are sorted before they are
/// written (see `index_pending`), and more at once means fewer page
/// versions; a step holds about 100,000 postings (a few MB) in memory.
const STEP_ITEMS: usize = 2_048;
/// How often an idle indexer looks for new chunks. Items are findable
/// before, so this only bounds how long the unindexed tail grows.
const IDLE_POLL: Duration = Duration::from_millis(200);
/// After a failure (disk full, a damaged index): wait, then try again.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// A backlog at least this large is logged when it has been indexed.
const LOGGED_BACKLOG: u64 = 10_000;
/// The indexer's nice value (0 is the default, 19 the lowest priority).
const NICE: i32 = 10;

impl ItemStore {
    /// Writes the postings of the oldest unindexed chunks, whole chunks up
    /// to about `max_items` items, and moves the cursor past them. Returns
    /// how many items got postings: 0 when the index is up to date.
    pub fn index_pending(&self, max_items: usize) -> Result<usize, StoreError> {
        let from = self.indexed_to.load(Ordering::Acquire);
        let end = self.next_chunk.load(Ordering::Acquire);
        if from >= end {
            return Ok(0);
        }
        let mut done = 0;
        let mut next = from;
        let mut keys = Vec::new();
        for entry in self.index.range(chunk_key(from)..chunk_key(end)) {
            let (key, value) = entry.map_err(|e| self.sled(e))?;
            for (created, id) in self.parse_chunk(&key, &value)? {
                // A damaged item is taken out by `load` and fetched again
                // later, into a new chunk.
                if let Some(item) = self.load(&id)? {
                    keys.extend(postings(&item.body, &Position { created, id }));
                    done += 1;
                }
            }
            next = self.chunk_number(&key)? + 1;
            if done >= max_items {
                break;
            }
        }
        // In key order, so that consecutive inserts land in the same sled
        // pages: measured, this halves the disk written (and kept) against
        // inserting item by item.
        keys.sort_unstable();
        for posting in keys {
            self.postings
                .insert(posting, &[][..])
                .map_err(|e| self.sled(e))?;
        }
        // Chunks taken out entirely leave gaps: the range ended below `end`.
        if done < max_items {
            next = end;
        }
        self.postings
            .insert(CURSOR_KEY, &next.to_be_bytes()[..])
            .map_err(|e| self.sled(e))?;
        if next == end {
            // Caught up: on disk before it is reported, so that a node
            // killed now does not read every item again at its next start
            // (and a status saying "up to date" is true across a crash).
            self.flush_query_index()?;
        }
        self.indexed_to.store(next, Ordering::Release);
        Ok(done)
    }

    /// How many time chunks (store batches) have no postings yet.
    pub fn unindexed_chunks(&self) -> u64 {
        let end = self.next_chunk.load(Ordering::Acquire);
        end.saturating_sub(self.indexed_to.load(Ordering::Acquire))
    }

    /// The query index's cursor: chunks before it have their postings.
    pub(crate) fn index_cursor(&self) -> u64 {
        self.indexed_to.load(Ordering::Acquire)
    }
}

/// The background thread that keeps the query index up to date; stopped
/// (and joined) when dropped.
#[derive(Debug)]
pub struct QueryIndexer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl QueryIndexer {
    /// Starts indexing `items` behind its writes.
    pub fn spawn(items: ItemStore) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("query-indexer".into())
            .spawn(move || run(items, &flag))?;
        Ok(QueryIndexer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for QueryIndexer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl ItemStore {
    /// Writes the query index's postings to disk (sled also does so on its
    /// own every half second); losing them costs only their writing again.
    pub fn flush_query_index(&self) -> Result<(), StoreError> {
        self.postings.flush().map(drop).map_err(|e| self.sled(e))
    }
}

fn run(items: ItemStore, stop: &AtomicBool) {
    lower_priority();
    index_until_stopped(&items, stop);
    if let Err(e) = items.flush_query_index() {
        tracing::warn!(error = %e, "cannot flush the query index at stop; it is written again at start");
    }
}

fn index_until_stopped(items: &ItemStore, stop: &AtomicBool) {
    let mut backlog: Option<(Instant, u64)> = None;
    while !stop.load(Ordering::Acquire) {
        match items.index_pending(STEP_ITEMS) {
            Ok(0) => {
                if let Some((since, n)) = backlog.take() {
                    if n >= LOGGED_BACKLOG {
                        tracing::info!(
                            items = n,
                            secs = since.elapsed().as_secs_f64(),
                            "the query index caught up with the store"
                        );
                    }
                }
                std::thread::park_timeout(IDLE_POLL);
            }
            Ok(n) => {
                let (_, total) = backlog.get_or_insert((Instant::now(), 0));
                *total += n as u64;
            }
            Err(e) => {
                // Queries stay exact (they read the unindexed items), only
                // slower: say so and try again.
                tracing::warn!(
                    error = %e,
                    "cannot write the query index; queries read unindexed items directly meanwhile, retrying in 5 s"
                );
                std::thread::park_timeout(RETRY_AFTER);
            }
        }
    }
}

/// Lowers this thread's CPU priority (Linux schedules threads one by one,
/// so the rest of the process keeps its own).
fn lower_priority() {
    // SAFETY: gettid takes no arguments; setpriority only reads its own.
    let failed = unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, NICE) != 0
    };
    if failed {
        tracing::debug!("could not lower the query indexer's priority; it runs at the default");
    }
}
