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

/// Hex MD5 of `bytes`. Not for security: MISP feeds index attribute values
/// by it (`hashes.csv`), and a feed must write what MISP looks up.
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(bytes).as_slice())
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
