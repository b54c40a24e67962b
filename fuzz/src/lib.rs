//! What the fuzz targets share: an allocator that measures, so a target can
//! assert a bound on what decoding allocates rather than only hoping the
//! process survives; fixed keys and values, so mutated seeds keep passing the
//! cheap checks (community id, issuer) and reach signature verification; and
//! the record log's framing, so targets over log contents can repair the
//! checksums the fuzzer would otherwise never get right.

pub mod alloc;
pub mod codec;
pub mod fixtures;
pub mod reconcile;
pub mod scratch;

/// The daemon's reconciliation functions, compiled from the daemon's own
/// source file: the reconcile target then runs exactly what a node runs on
/// a peer's message, while linking cairn-daemon would build libp2p with
/// coverage instrumentation, minutes of CI for three functions. The file
/// needs only cairn-protocol, negentropy and thiserror; should it ever use
/// the rest of the daemon, the fuzz build says so at once. Left out of this
/// crate's own tests, where the file's tests would look for the daemon.
#[cfg(not(test))]
#[path = "../../daemon/src/sync/reconcile.rs"]
pub mod daemon_reconcile;

pub use alloc::{measure, Measured};

/// The record log's frame: `u32 LE length | u32 LE crc32 | payload`, as
/// `store/src/log.rs` writes it (its own helper is crate-private).
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Rewrites the checksum of every complete frame in a log file image, walking
/// frames by their length fields and stopping at the first impossible one.
/// Targets over log *contents* call this: a fuzzer almost never guesses a
/// crc32, so without it every mutation would stop at the checksum.
pub fn repair_checksums(bytes: &mut [u8]) {
    let mut pos = 0;
    while bytes.len() - pos >= 8 {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        if len == 0 || len > cairn_store::log::MAX_RECORD || bytes.len() - pos - 8 < len {
            return;
        }
        let crc = crc32(&bytes[pos + 8..pos + 8 + len]);
        bytes[pos + 4..pos + 8].copy_from_slice(&crc.to_le_bytes());
        pos += 8 + len;
    }
}

/// The record log's checksum.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The size of the valid frame at `pos`, header included, if one starts
/// there: by the format as `store/src/log.rs` documents it rather than by the
/// store's code, which the targets check against this.
pub fn frame_at(bytes: &[u8], pos: usize) -> Option<usize> {
    let rest = bytes.get(pos..)?;
    let header = rest.get(..8)?;
    let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
    if len == 0 || len > cairn_store::log::MAX_RECORD {
        return None;
    }
    let payload = rest.get(8..8 + len)?;
    (crc32(payload) == crc).then_some(8 + len)
}

/// The payloads of the leading valid frames of a log file image, and the
/// offset where they end.
pub fn valid_frames(bytes: &[u8]) -> (Vec<&[u8]>, usize) {
    let mut frames = Vec::new();
    let mut pos = 0;
    while let Some(size) = frame_at(bytes, pos) {
        frames.push(&bytes[pos + 8..pos + size]);
        pos += size;
    }
    (frames, pos)
}
