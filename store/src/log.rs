//! An append-only, checksummed, fsynced record log: the durable home of state
//! no peer can send again (a node's own outbox, the authority's register).
//! sled has open crash-corruption reports, so this state does not rely on it.
//!
//! Each record is framed as `u32 LE payload length | u32 LE crc32(payload) |
//! payload`. Appends are sequential, so a crash (kill -9, power loss) can only
//! damage the end of the file: on open, a bad record that nothing valid follows
//! is a torn tail and is cut off. A bad record with valid records after it is
//! damage from elsewhere (disk, another program) and is reported rather than
//! dropped, since dropping it would silently lose the records behind it too.

use crate::error::StoreError;
use crate::lock::lock_exclusive;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Largest payload a record may carry: 2 MiB, twice the codec's frame limit.
pub const MAX_RECORD: usize = 2 << 20;

/// Bytes in front of each record's payload: its length and checksum.
pub(crate) const HEADER: usize = 8;

/// An open log, holding an exclusive lock on its file.
#[derive(Debug)]
pub struct RecordLog {
    path: PathBuf,
    file: File,
    /// Bytes known to be on disk and valid: where the next record goes.
    len: u64,
    /// Set when a write or fsync failed; see [`RecordLog::append_batch`].
    poisoned: bool,
}

impl RecordLog {
    /// Opens (creating if missing) the log at `path` and returns it with every
    /// valid record in append order, after cutting off a torn tail.
    pub fn open(path: &Path) -> Result<(Self, Vec<Vec<u8>>), StoreError> {
        let mut file = open_append_only(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StoreError::io("read", path, e))?;
        let (records, valid) = replay(path, &bytes)?;
        if let Some(why) = valid.torn {
            tracing::warn!(
                path = %path.display(),
                offset = valid.len,
                dropped_bytes = bytes.len() - valid.len,
                "cutting off a torn record at the end of the log ({why}); \
                 it was never acknowledged as written, so nothing durable is lost"
            );
            file.set_len(valid.len as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| StoreError::io("truncate the torn tail of", path, e))?;
        }
        let log = RecordLog {
            path: path.into(),
            file,
            len: valid.len as u64,
            poisoned: false,
        };
        Ok((log, records))
    }

    /// The file this log lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record; it is on disk when this returns.
    pub fn append(&mut self, record: &[u8]) -> Result<(), StoreError> {
        self.append_batch(&[record])
    }

    /// Appends several records with a single fsync; all are on disk when this
    /// returns. A crash midway may keep a prefix of them.
    ///
    /// After a failed write or fsync the log refuses further appends: the
    /// kernel may have dropped the unwritten pages while reporting the error
    /// only once, so only a fresh replay from disk tells what was kept.
    pub fn append_batch<R: AsRef<[u8]>>(&mut self, records: &[R]) -> Result<(), StoreError> {
        if self.poisoned {
            return Err(StoreError::LogPoisoned {
                path: self.path.clone(),
            });
        }
        let mut buf = Vec::new();
        for r in records {
            push_frame(&mut buf, r.as_ref())?;
        }
        if buf.is_empty() {
            return Ok(());
        }
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.poisoned = true;
            // Best effort: put the end back where it was, so that if the
            // process carries on and restarts, a half-written record does not
            // sit in front of later ones and read as damage.
            let _ = self.file.set_len(self.len);
            return Err(StoreError::io("append to", &self.path, e));
        }
        self.len += buf.len() as u64;
        Ok(())
    }
}

/// Frames `payload` onto `buf`.
pub(crate) fn push_frame(buf: &mut Vec<u8>, payload: &[u8]) -> Result<(), StoreError> {
    // Empty records are refused because a zero-filled region (what some file
    // systems leave after a crash) would otherwise read as valid empty
    // records: crc32 of nothing is 0.
    if payload.is_empty() || payload.len() > MAX_RECORD {
        return Err(StoreError::RecordSize {
            size: payload.len(),
            max: MAX_RECORD,
        });
    }
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buf.extend_from_slice(payload);
    Ok(())
}

/// How much of the file is valid, and why the rest (if any) is not.
struct Valid {
    len: usize,
    torn: Option<&'static str>,
}

fn replay(path: &Path, bytes: &[u8]) -> Result<(Vec<Vec<u8>>, Valid), StoreError> {
    let mut records = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        match frame_at(bytes, pos) {
            Ok(size) => {
                records.push(bytes[pos + HEADER..pos + size].to_vec());
                pos += size;
            }
            Err(why) => {
                // The bad record's own length field may be what is damaged,
                // so look for a valid record at every later offset rather than
                // trusting it to say where the next record starts.
                if let Some(next) = (pos + 1..bytes.len()).find(|&q| frame_at(bytes, q).is_ok()) {
                    return Err(StoreError::LogCorrupt {
                        path: path.into(),
                        offset: pos as u64,
                        detail: format!("{why}, and a valid record starts at byte {next}"),
                    });
                }
                let valid = Valid {
                    len: pos,
                    torn: Some(why),
                };
                return Ok((records, valid));
            }
        }
    }
    Ok((
        records,
        Valid {
            len: pos,
            torn: None,
        },
    ))
}

/// The size (header included) of the valid record at `pos`, or why there is
/// none.
pub(crate) fn frame_at(bytes: &[u8], pos: usize) -> Result<usize, &'static str> {
    let rest = &bytes[pos..];
    if rest.len() < HEADER {
        return Err("incomplete record header");
    }
    let len = u32::from_le_bytes(rest[0..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_RECORD {
        return Err("impossible record length");
    }
    if rest.len() - HEADER < len {
        return Err("record runs past the end of the file");
    }
    if crc32fast::hash(&rest[HEADER..HEADER + len]) != crc {
        return Err("checksum mismatch");
    }
    Ok(HEADER + len)
}

/// Opens (creating if missing, mode 0600) a file for appending and reading,
/// holding an exclusive lock on it, with its directory entry made durable.
pub(crate) fn open_append_only(path: &Path) -> Result<File, StoreError> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| StoreError::io("open", path, e))?;
    match lock_exclusive(&file) {
        Ok(true) => {}
        Ok(false) => return Err(StoreError::InUse { path: path.into() }),
        Err(e) => return Err(StoreError::io("lock", path, e)),
    }
    sync_parent(path)?;
    Ok(file)
}

/// Makes a newly created file's directory entry durable; without it a crash
/// could lose the whole file even though its contents were fsynced.
fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| StoreError::io("sync directory", parent, e))
}

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;
