//! Content addressing: SHA-256 digests used as identifiers.

use sha2::{Digest as _, Sha256};

/// SHA-256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

crate::fixed_bytes!(
    /// A SHA-256 digest.
    Digest,
    32
);

impl Digest {
    /// Digest of one byte string.
    pub fn of(bytes: &[u8]) -> Self {
        Digest(sha256(&[bytes]))
    }
}
