//! The revocations a node knows, in an fsynced, checksummed log
//! (`revocations.log`).
//!
//! A revocation could be fetched again from members, but until it is, a
//! node that forgot one would admit a revoked member: so it is written like
//! the register, durably before it is acted on, not kept in sled. The log
//! holds codec-encoded [`Revocation`]s in arrival order; it stays small (a
//! community has few), so all of it is replayed into memory on open. The
//! daemon verifies each against its community when it loads them.

use crate::error::StoreError;
use crate::lock::DirLock;
use crate::log::RecordLog;
use cairn_protocol::codec::{decode, encode};
use cairn_protocol::{Revocation, RevocationId};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Name of the revocation log inside a data directory.
pub const REVOCATIONS_FILE: &str = "revocations.log";

/// The durable set of revocations.
#[derive(Debug)]
pub struct RevocationLog {
    inner: Mutex<State>,
    pub(crate) dir_lock: Option<Arc<DirLock>>,
}

#[derive(Debug)]
struct State {
    log: RecordLog,
    ids: HashSet<RevocationId>,
}

impl RevocationLog {
    /// Opens (creating if missing) `dir/revocations.log`; returns the log and
    /// every revocation in it, in the order they were written.
    pub fn open(dir: &Path) -> Result<(Self, Vec<Revocation>), StoreError> {
        let (log, records) = RecordLog::open(&dir.join(REVOCATIONS_FILE))?;
        let mut all = Vec::with_capacity(records.len());
        let mut ids = HashSet::with_capacity(records.len());
        for (n, bytes) in records.iter().enumerate() {
            let r: Revocation = decode(bytes).map_err(|e| StoreError::LogContent {
                path: log.path().into(),
                record: n as u64,
                detail: format!("it does not decode: {e}"),
            })?;
            if ids.insert(r.id()) {
                all.push(r);
            }
        }
        let state = State { log, ids };
        Ok((
            RevocationLog {
                inner: Mutex::new(state),
                dir_lock: None,
            },
            all,
        ))
    }

    /// Writes `revocation` and fsyncs, unless it is already there. Returns
    /// whether it was new. Blocks on the fsync: call it off the async
    /// runtime's worker threads.
    pub fn append(&self, revocation: &Revocation) -> Result<bool, StoreError> {
        let id = revocation.id();
        let mut state = self.inner.lock().expect("revocation log lock poisoned");
        if state.ids.contains(&id) {
            return Ok(false);
        }
        let bytes = encode(revocation).map_err(|source| StoreError::Encode {
            what: "a revocation",
            source,
        })?;
        state.log.append(&bytes)?;
        state.ids.insert(id);
        Ok(true)
    }

    /// How many revocations are stored.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .expect("revocation log lock poisoned")
            .ids
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::revocation;

    #[test]
    fn revocations_survive_a_reopen_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let r = revocation();
        {
            let (log, all) = RevocationLog::open(dir.path()).unwrap();
            assert!(all.is_empty());
            assert!(log.append(&r).unwrap());
            assert!(!log.append(&r).unwrap(), "a second copy is not written");
        }
        let (log, all) = RevocationLog::open(dir.path()).unwrap();
        assert_eq!(all, vec![r]);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn a_damaged_record_is_reported_not_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let first_len = {
            let (log, _) = RevocationLog::open(dir.path()).unwrap();
            log.append(&revocation()).unwrap();
            let len = std::fs::metadata(dir.path().join(REVOCATIONS_FILE))
                .unwrap()
                .len();
            let Revocation::Issued { mut body, .. } = revocation() else {
                unreachable!()
            };
            body.effective = body.effective.plus_millis(1);
            log.append(&Revocation::issue(body, &crate::testutil::issuer()).unwrap())
                .unwrap();
            len as usize
        };
        // Damage in the first record, with a valid one behind it, is not a
        // torn tail: the log refuses to open rather than drop both.
        let path = dir.path().join(REVOCATIONS_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[first_len / 2] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        assert!(RevocationLog::open(dir.path()).is_err());
    }
}
