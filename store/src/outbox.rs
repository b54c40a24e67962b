//! The outbox: this node's own Art. 29(4) participation events, kept until the
//! authority's receipt for each has arrived, and the receipts themselves.
//!
//! No peer can send this state back if it is lost, and losing it would mean
//! failing a legal notification duty, so its source of truth is an fsynced
//! [`RecordLog`] (`outbox.log`), not sled. The in-memory view is rebuilt by
//! replaying the log on open, applying the same rules as live calls, so a
//! replayed outbox is exactly the one that was written.
//!
//! The outbox also hands out event sequence numbers: a push must carry the
//! next one, so the node can never sign two different events with the same
//! number and the authority sees no gaps.
//!
//! Every method takes `&self` (an internal mutex serialises them). `push` and
//! `acknowledge` block on an fsync: call them from async code through
//! `tokio::task::spawn_blocking`.

use crate::error::StoreError;
use crate::lock::{lock, DirLock};
use crate::log::RecordLog;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::{EventId, ParticipationKind, Receipt, SignedEvent};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Name of the outbox log inside a data directory.
pub const OUTBOX_FILE: &str = "outbox.log";

/// One record of `outbox.log`. New variants go at the end: the codec encodes
/// the variant index.
#[derive(Serialize, Deserialize)]
enum Record {
    Pushed(Box<SignedEvent>),
    Acknowledged { event: EventId, receipt: Receipt },
}

/// This node's participation events and their receipts.
#[derive(Debug)]
pub struct Outbox {
    inner: Mutex<State>,
    /// Set by [`crate::Store::open`]: keeps the data directory locked while
    /// this lives, even after the `Store` that opened it is dropped.
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

#[derive(Debug)]
struct State {
    log: RecordLog,
    /// In push order.
    entries: Vec<(SignedEvent, Option<Receipt>)>,
    by_id: HashMap<EventId, usize>,
}

impl Outbox {
    /// Opens (creating if missing) `dir/outbox.log` and replays it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let (log, records) = RecordLog::open(&dir.join(OUTBOX_FILE))?;
        let mut state = State {
            log,
            entries: Vec::new(),
            by_id: HashMap::new(),
        };
        for (n, bytes) in records.iter().enumerate() {
            let content_err = |detail: String| StoreError::LogContent {
                path: state.log.path().into(),
                record: n as u64,
                detail,
            };
            let record: Record =
                decode(bytes).map_err(|e| content_err(format!("it does not decode: {e}")))?;
            // A redundant record (a repeated push or acknowledgement) is never
            // written, but would be harmless, so it is skipped, not refused.
            if state
                .check(&record)
                .map_err(|e| content_err(e.to_string()))?
            {
                state.apply(record);
            }
        }
        Ok(Outbox {
            inner: Mutex::new(state),
            dir_lock: None,
        })
    }

    /// Records an event this node signed, durably. The event must carry
    /// [`Outbox::next_sequence`]. Pushing an event that is already here
    /// changes nothing; returns whether the event was new.
    pub fn push(&self, event: &SignedEvent) -> Result<bool, StoreError> {
        self.write(Record::Pushed(Box::new(event.clone())))
    }

    /// Records the authority's receipt for a pushed event, durably. Repeating
    /// it changes nothing (the first receipt is kept); returns whether this
    /// call recorded it. Callers verify the receipt first (`Receipt::verify`).
    pub fn acknowledge(&self, event: &EventId, receipt: &Receipt) -> Result<bool, StoreError> {
        self.write(Record::Acknowledged {
            event: *event,
            receipt: receipt.clone(),
        })
    }

    /// Events still waiting for a receipt, in push order.
    pub fn pending(&self) -> Vec<SignedEvent> {
        lock(&self.inner)
            .entries
            .iter()
            .filter(|(_, receipt)| receipt.is_none())
            .map(|(event, _)| event.clone())
            .collect()
    }

    /// Every event with its receipt if one arrived, in push order.
    pub fn all(&self) -> Vec<(SignedEvent, Option<Receipt>)> {
        lock(&self.inner).entries.clone()
    }

    /// The sequence number the next pushed event must carry (from 1).
    pub fn next_sequence(&self) -> u64 {
        lock(&self.inner).next_sequence()
    }

    /// The kind of the last pushed event: whether this node last joined or
    /// withdrew.
    pub fn last_kind(&self) -> Option<ParticipationKind> {
        lock(&self.inner)
            .entries
            .last()
            .map(|(event, _)| event.body.kind)
    }

    fn write(&self, record: Record) -> Result<bool, StoreError> {
        let mut state = lock(&self.inner);
        if !state.check(&record)? {
            return Ok(false);
        }
        let bytes = encode(&record).map_err(|source| StoreError::Encode {
            what: "an outbox record",
            source,
        })?;
        state.log.append(&bytes)?;
        state.apply(record);
        Ok(true)
    }
}

impl State {
    fn next_sequence(&self) -> u64 {
        self.entries
            .last()
            .map_or(1, |(event, _)| event.body.sequence + 1)
    }

    /// Whether `record` would change the outbox (`false`: it is already
    /// there), or why it may not be applied.
    fn check(&self, record: &Record) -> Result<bool, StoreError> {
        match record {
            Record::Pushed(event) => {
                if self.by_id.contains_key(&event.id()) {
                    return Ok(false);
                }
                let expected = self.next_sequence();
                if event.body.sequence != expected {
                    return Err(StoreError::OutOfSequence {
                        given: event.body.sequence,
                        expected,
                    });
                }
                Ok(true)
            }
            Record::Acknowledged { event, receipt } => {
                let &i = self
                    .by_id
                    .get(event)
                    .ok_or(StoreError::UnknownEvent(*event))?;
                if receipt.body.event != *event {
                    return Err(StoreError::ReceiptMismatch {
                        event: *event,
                        detail: format!("the receipt acknowledges event {}", receipt.body.event),
                    });
                }
                match &self.entries[i].1 {
                    None => Ok(true),
                    Some(kept) => {
                        if kept != receipt {
                            tracing::warn!(
                                event = %event,
                                kept = kept.body.register_index,
                                offered = receipt.body.register_index,
                                "a second, different receipt arrived for an acknowledged event; keeping the first"
                            );
                        }
                        Ok(false)
                    }
                }
            }
        }
    }

    /// Applies a record that [`State::check`] accepted.
    fn apply(&mut self, record: Record) {
        match record {
            Record::Pushed(event) => {
                self.by_id.insert(event.id(), self.entries.len());
                self.entries.push((*event, None));
            }
            Record::Acknowledged { event, receipt } => {
                let i = self.by_id[&event];
                self.entries[i].1 = Some(receipt);
            }
        }
    }
}

#[cfg(test)]
#[path = "outbox_tests.rs"]
mod tests;
