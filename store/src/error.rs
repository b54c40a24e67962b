//! One error type for everything the store can report, so the daemon can show
//! an operator what went wrong and what to do about it without knowing which
//! of the store's files was involved.

use cairn_protocol::codec::CodecError;
use cairn_protocol::{CertificateId, EventId, ItemId};
use std::path::PathBuf;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "another cairnd is using {path}: stop it first, or give this node its own data directory"
    )]
    InUse { path: PathBuf },

    #[error("{path} is damaged at byte {offset}: {detail}; valid records follow, so it was not repaired automatically: stop cairnd and restore the file from a backup (it holds state no peer can send again)")]
    LogCorrupt {
        path: PathBuf,
        offset: u64,
        detail: String,
    },

    #[error("record {record} of {path} is not valid: {detail}; stop cairnd and restore the file from a backup")]
    LogContent {
        path: PathBuf,
        record: u64,
        detail: String,
    },

    #[error("an earlier write to {path} failed, so its state on disk is uncertain: restart cairnd to recover the log from disk")]
    LogPoisoned { path: PathBuf },

    #[error(
        "a log record must be 1 to {max} bytes, this one is {size}: this is a bug in the caller"
    )]
    RecordSize { size: usize, max: usize },

    #[error("the item database {path} failed: {source}")]
    Sled { path: PathBuf, source: sled::Error },

    #[error("the item database {path} is damaged: {detail}; stop cairnd and move {path} aside: items are signed, so peers can send them again")]
    ItemsDamaged { path: PathBuf, detail: String },

    #[error("refusing to store item {item}: it names publisher certificate {named}, but certificate {given} came with it; items must be verified before they are stored, so this is a bug in the caller")]
    NotItsPublisher {
        item: ItemId,
        named: CertificateId,
        given: CertificateId,
    },

    #[error("cannot encode {what} for storage: {source}")]
    Encode {
        what: &'static str,
        source: CodecError,
    },

    #[error("event {0} is not in the outbox: only events this node pushed can be acknowledged")]
    UnknownEvent(EventId),

    #[error("event sequence {given} cannot be pushed, the outbox expects {expected}: sign the event again with sequence {expected}")]
    OutOfSequence { given: u64, expected: u64 },

    #[error("event {event} carries sequence number {given}, but the member's next is {expected}: a number already used by another event, or one that skips numbers, is never registered")]
    RegisterSequence {
        event: EventId,
        given: u64,
        expected: u64,
    },

    #[error("cannot make the receipt for event {event}, so it was not registered: {source}")]
    ReceiptFailed {
        event: EventId,
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("receipt does not fit event {event}: {detail}")]
    ReceiptMismatch { event: EventId, detail: String },

    #[error("cannot sign the reveal, so it was not registered: {source}")]
    RevealFailed {
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("the reveal names register index {given}, but it would be entry {index}")]
    RevealMismatch { given: u64, index: u64 },
}

impl StoreError {
    /// An I/O error with the action and the file it concerned.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
