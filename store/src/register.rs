//! The authority's append-only register of participation events: the record
//! the competent authority keeps of who joined and withdrew, and the source of
//! every receipt it issues. It also records each reveal of the entity behind
//! a pseudonym (signed by the authority, naming its own index), so opening
//! an escrow always leaves a trace.
//!
//! It cannot be fetched again from anyone, so its source of truth is an
//! fsynced [`RecordLog`] (`register.log`) of codec-encoded [`RegisterEntry`]s.
//! It stays small (one entry per join or withdrawal), so the whole register is
//! kept in memory, indexed by event id, and rebuilt by replay on open.
//!
//! Registration is exactly-once: an event that is already registered gets its
//! existing entry back, so a member retrying after a lost response receives
//! the same receipt instead of a second register entry. A new event must
//! carry its member's next sequence number (1 for the first): a different
//! event under a number already registered, or one that skips numbers, is
//! refused ([`StoreError::RegisterSequence`]), checked under the same lock
//! as the append so two concurrent requests cannot both pass. (A member's
//! outbox numbers its events from 1 and delivers them in order, so an
//! honest member never meets this.)
//!
//! Every method takes `&self`; a mutex serialises them, so `Register` can be
//! shared between tasks in an `Arc`. [`Register::append`] holds that mutex
//! while it signs and fsyncs: call it from async code through
//! `tokio::task::spawn_blocking`. The read methods only copy from memory and
//! may be called directly.

use crate::error::StoreError;
use crate::lock::{lock, DirLock};
use crate::log::RecordLog;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::{
    EventId, PublicKey, Receipt, RegisterEntry, RegisterRecord, Reveal, SignedEvent,
};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Name of the register log inside a data directory.
pub const REGISTER_FILE: &str = "register.log";

/// The outcome of [`Register::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub entry: RegisterEntry,
    /// False when the event was already registered (a retry).
    pub new: bool,
}

/// The authority's register.
#[derive(Debug)]
pub struct Register {
    inner: Mutex<State>,
    /// Set by [`crate::Store::open`]: keeps the data directory locked while
    /// this lives, even after the `Store` that opened it is dropped.
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

#[derive(Debug)]
struct State {
    log: RecordLog,
    /// Entry `i` has index `i`.
    entries: Vec<RegisterEntry>,
    /// Participation entries by event id (reveals have none).
    by_event: HashMap<EventId, usize>,
    /// Each member's highest registered sequence number (one entry per
    /// member whose verified event was registered: bounded by the register).
    last_sequence: HashMap<PublicKey, u64>,
}

impl State {
    /// Appends `entry` to the log (fsynced).
    fn write(&mut self, entry: &RegisterEntry) -> Result<(), StoreError> {
        let bytes = encode(entry).map_err(|source| StoreError::Encode {
            what: "a register entry",
            source,
        })?;
        self.log.append(&bytes)
    }

    fn note_sequence(&mut self, event: &SignedEvent) {
        let member = event.body.certificate.body.member_key;
        let last = self.last_sequence.entry(member).or_insert(0);
        *last = (*last).max(event.body.sequence);
    }
}

impl Register {
    /// Opens (creating if missing) `dir/register.log` and replays it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let (log, records) = RecordLog::open(&dir.join(REGISTER_FILE))?;
        let mut state = State {
            log,
            entries: Vec::with_capacity(records.len()),
            by_event: HashMap::with_capacity(records.len()),
            last_sequence: HashMap::new(),
        };
        for (n, bytes) in records.iter().enumerate() {
            let content_err = |detail: String| StoreError::LogContent {
                path: state.log.path().into(),
                record: n as u64,
                detail,
            };
            let entry: RegisterEntry =
                decode(bytes).map_err(|e| content_err(format!("it does not decode: {e}")))?;
            match &entry.record {
                RegisterRecord::Participation { event, .. } => {
                    let id = event.id();
                    if let Some(&earlier) = state.by_event.get(&id) {
                        return Err(content_err(format!(
                            "event {id} is already registered at index {earlier}"
                        )));
                    }
                    check_entry(&entry, n as u64).map_err(|e| content_err(e.to_string()))?;
                    state.by_event.insert(id, state.entries.len());
                    // Registers written before sequences were enforced may
                    // hold gaps; they are history, replayed as they are.
                    state.note_sequence(event);
                }
                RegisterRecord::Reveal(_) => {
                    check_entry(&entry, n as u64).map_err(|e| content_err(e.to_string()))?;
                }
            }
            state.entries.push(entry);
        }
        Ok(Register {
            inner: Mutex::new(state),
            dir_lock: None,
        })
    }

    /// Registers `event`, or returns its existing entry if it is already
    /// registered (exactly-once under retries).
    ///
    /// For a new event, `receipt_for` is called with the index the entry will
    /// get and must return the authority's signed receipt for that event and
    /// index; the entry is on disk before this returns. If `receipt_for`
    /// fails ([`StoreError::ReceiptFailed`]), nothing is registered. Callers
    /// verify the event first (`SignedEvent::verify`).
    pub fn append<E>(
        &self,
        event: &SignedEvent,
        receipt_for: impl FnOnce(u64) -> Result<Receipt, E>,
    ) -> Result<Appended, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut state = lock(&self.inner);
        let id = event.id();
        if let Some(&i) = state.by_event.get(&id) {
            return Ok(Appended {
                entry: state.entries[i].clone(),
                new: false,
            });
        }
        let member = event.body.certificate.body.member_key;
        let expected = state.last_sequence.get(&member).map_or(1, |s| s + 1);
        if event.body.sequence != expected {
            return Err(StoreError::RegisterSequence {
                event: id,
                given: event.body.sequence,
                expected,
            });
        }
        let index = state.entries.len() as u64;
        let receipt = receipt_for(index).map_err(|e| StoreError::ReceiptFailed {
            event: id,
            source: e.into(),
        })?;
        let entry = RegisterEntry {
            index,
            record: RegisterRecord::Participation {
                event: event.clone(),
                receipt,
            },
        };
        // Checked before writing: a wrong receipt in an append-only register
        // could never be taken back.
        check_entry(&entry, index)?;
        state.write(&entry)?;
        let at = state.entries.len();
        state.by_event.insert(id, at);
        state.note_sequence(event);
        state.entries.push(entry.clone());
        Ok(Appended { entry, new: true })
    }

    /// Records a reveal. `sign` is called with the index the entry will get
    /// and must return the authority's signed reveal naming that index; the
    /// entry is on disk before this returns. Reveals are never merged: each
    /// act of opening an escrow is an entry of its own. Reveals take no part
    /// in members' sequence numbers.
    pub fn append_reveal<E>(
        &self,
        sign: impl FnOnce(u64) -> Result<Reveal, E>,
    ) -> Result<RegisterEntry, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut state = lock(&self.inner);
        let index = state.entries.len() as u64;
        let reveal = sign(index).map_err(|e| StoreError::RevealFailed { source: e.into() })?;
        let entry = RegisterEntry {
            index,
            record: RegisterRecord::Reveal(reveal),
        };
        check_entry(&entry, index)?;
        state.write(&entry)?;
        state.entries.push(entry.clone());
        Ok(entry)
    }

    /// Entries from index `from` on, in index order.
    pub fn entries(&self, from: u64) -> Vec<RegisterEntry> {
        let state = lock(&self.inner);
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        state.entries.get(from..).unwrap_or_default().to_vec()
    }

    /// Number of entries; also the index the next entry will get.
    pub fn len(&self) -> u64 {
        lock(&self.inner).entries.len() as u64
    }

    /// Whether nothing is registered yet.
    pub fn is_empty(&self) -> bool {
        lock(&self.inner).entries.is_empty()
    }

    /// The entry registering `event`, if any.
    pub fn get_by_event(&self, event: &EventId) -> Option<RegisterEntry> {
        let state = lock(&self.inner);
        state.by_event.get(event).map(|&i| state.entries[i].clone())
    }

    /// The entry holding `member`'s event number `sequence`, if any.
    pub fn get_by_sequence(&self, member: &PublicKey, sequence: u64) -> Option<RegisterEntry> {
        let state = lock(&self.inner);
        state
            .entries
            .iter()
            .find(|e| {
                e.participation().is_some_and(|(event, _)| {
                    event.body.sequence == sequence
                        && event.body.certificate.body.member_key == *member
                })
            })
            .cloned()
    }
}

/// Checks that an entry sits at `index`: a participation entry's receipt
/// acknowledges its event at that index, a reveal names that index.
fn check_entry(entry: &RegisterEntry, index: u64) -> Result<(), StoreError> {
    match &entry.record {
        RegisterRecord::Participation { event, receipt } => {
            let id = event.id();
            let mismatch = |detail: String| StoreError::ReceiptMismatch { event: id, detail };
            if entry.index != index {
                return Err(mismatch(format!(
                    "the entry says index {}, but it is at index {index}",
                    entry.index
                )));
            }
            let receipt = &receipt.body;
            if receipt.event != id {
                return Err(mismatch(format!(
                    "the receipt acknowledges event {}",
                    receipt.event
                )));
            }
            if receipt.register_index != index {
                return Err(mismatch(format!(
                    "the receipt names register index {}, the entry is at {index}",
                    receipt.register_index
                )));
            }
        }
        RegisterRecord::Reveal(reveal) => {
            for given in [entry.index, reveal.body.register_index] {
                if given != index {
                    return Err(StoreError::RevealMismatch { given, index });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "register_tests.rs"]
mod tests;
