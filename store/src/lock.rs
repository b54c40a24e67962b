//! Exclusive, non-blocking advisory locks, so two processes never write the
//! same state: a second cairnd on one data directory would interleave appends
//! to the logs and hand out the same register index twice.
//!
//! sled locks its own file, but its refusal is an `io::ErrorKind::Other` with
//! a formatted message we would have to match on, and it guards only the item
//! database, not the logs that hold what peers cannot send again. So the store
//! takes its own locks with `flock(2)` through `libc`: that needs no new crate
//! (libc is already in the tree), and `std::fs::File::try_lock` is newer than
//! the workspace's minimum Rust version. `flock` locks belong to the open file
//! description, not the process, so a second open in the same process is
//! refused too, which keeps the behaviour testable; the kernel releases the
//! lock when the file is closed or the process dies, so a kill -9 leaves no
//! stale lock behind.
//!
//! Because the lock belongs to the open file description, it outlives its
//! closing for as long as another copy of the descriptor lives: a process
//! forked at that moment holds one until it execs (the tests that run a
//! child writer to kill it fork beside other tests), and a restarted node's
//! predecessor may still be exiting. So a lock is waited for briefly before
//! the store reports the data as in use.

use crate::error::StoreError;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Name of the lock file inside a data directory.
const LOCK_FILE: &str = "lock";

/// How long a lock held by someone else is waited for.
const LOCK_PATIENCE: Duration = Duration::from_secs(1);

/// Takes an exclusive lock on `file`, waiting up to [`LOCK_PATIENCE`] for a
/// holder that is going away. `Ok(false)` means someone else still holds it.
pub(crate) fn lock_exclusive(file: &File) -> std::io::Result<bool> {
    let deadline = Instant::now() + LOCK_PATIENCE;
    loop {
        if try_lock_exclusive(file)? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Takes an exclusive lock on `file` without waiting. `Ok(false)` means
/// someone else holds it.
fn try_lock_exclusive(file: &File) -> std::io::Result<bool> {
    // SAFETY: flock only reads the descriptor number, which `file` keeps open
    // for the duration of the call.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Locks an in-memory index, carrying on if a thread panicked while holding
/// it. That is safe for the store's indexes because each is changed only after
/// its record is on disk, in steps that cannot panic halfway.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Held for as long as a [`crate::Store`] has its data directory open.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Locks `dir` by locking `dir/lock`, or says another cairnd has it.
    pub(crate) fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let path: PathBuf = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| StoreError::io("open lock file", &path, e))?;
        match lock_exclusive(&file) {
            Ok(true) => Ok(DirLock { _file: file }),
            Ok(false) => Err(StoreError::InUse { path: dir.into() }),
            Err(e) => Err(StoreError::io("lock", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_can_be_locked_once_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::InUse { .. }), "{err}");
        assert!(err.to_string().contains("another cairnd is using"), "{err}");
        drop(first);
        DirLock::acquire(dir.path()).unwrap();
    }
}
