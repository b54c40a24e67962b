//! Durable state of a Cairn node, all under one data directory:
//!
//! - `items.data` and `items.sled/`: shared items (appended to the data
//!   file) and their index and publisher certificates (in sled)
//!   ([`ItemStore`]); losing them costs a re-fetch from peers;
//! - `outbox.log`: this node's participation events and receipts ([`Outbox`]);
//! - `register.log`: on the authority's node only, its register ([`Register`]);
//! - `revocations.log`: every revocation the node knows ([`RevocationLog`]);
//! - `directory.bin`: the member directory, members' signed addresses
//!   ([`directory`]); a cache members refill;
//! - `lock`: held while any handle from a [`Store`] lives, so one cairnd owns
//!   the directory.
//!
//! What no peer can send again lives in checksummed, fsynced logs
//! ([`log::RecordLog`]) rather than in sled, whose crash safety has open
//! upstream reports. Values are encoded only through `cairn_protocol::codec`.

mod certificate_cache;
pub mod directory;
pub mod error;
pub mod files;
pub mod item_data;
mod item_index;
pub mod items;
mod known_ids;
mod lock;
pub mod log;
pub mod outbox;
pub mod register;
pub mod revocations;
#[cfg(test)]
mod testutil;

pub use error::StoreError;
pub use items::{ItemStore, QueryIndexer};
pub use outbox::Outbox;
pub use register::Register;
pub use revocations::RevocationLog;

use lock::DirLock;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Name of the item database inside a data directory.
pub const ITEMS_DIR: &str = "items.sled";

/// A node's open data directory: handles on its parts, which the daemon
/// may clone and hand to its tasks. The directory stays locked until the last
/// handle is dropped.
#[derive(Debug)]
pub struct Store {
    pub items: ItemStore,
    pub outbox: Arc<Outbox>,
    /// Present when opened as the community authority's node.
    pub register: Option<Arc<Register>>,
    pub revocations: Arc<RevocationLog>,
    /// What `revocations.log` held when opened, for the daemon to verify.
    pub stored_revocations: Vec<cairn_protocol::Revocation>,
    dir: PathBuf,
}

impl Store {
    /// Opens the data directory `dir`, creating it (mode 0700) if missing.
    /// The register is opened only on the authority's node (`authority`).
    /// Fails with [`StoreError::InUse`] if another process has it open.
    pub fn open(dir: &Path, authority: bool) -> Result<Self, StoreError> {
        create_private_dir(dir)?;
        // Taken before anything else is opened, so a second cairnd stops
        // here with a clear message rather than at sled's lock.
        let lock = Arc::new(DirLock::acquire(dir)?);
        let mut items = ItemStore::open(&dir.join(ITEMS_DIR))?;
        items.dir_lock = Some(lock.clone());
        let mut outbox = Outbox::open(dir)?;
        outbox.dir_lock = Some(lock.clone());
        let (mut revocations, stored_revocations) = RevocationLog::open(dir)?;
        revocations.dir_lock = Some(lock.clone());
        let register = if authority {
            let mut register = Register::open(dir)?;
            register.dir_lock = Some(lock);
            Some(Arc::new(register))
        } else {
            None
        };
        Ok(Store {
            items,
            outbox: Arc::new(outbox),
            register,
            revocations: Arc::new(revocations),
            stored_revocations,
            dir: dir.into(),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Creates `dir` readable by its owner only. An existing directory is left as
/// it is, with a warning if others can read it: the operator may have chosen
/// that, but items marked TLP:AMBER or RED sit inside.
fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::io("create data directory", dir, e))?;
    let mode = std::fs::metadata(dir)
        .map_err(|e| StoreError::io("inspect data directory", dir, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory can be read by other users: run `chmod 700` on it"
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
