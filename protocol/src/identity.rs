//! Ed25519 identities.
//!
//! One key pair is both a member's signing identity and its libp2p transport
//! identity (the daemon derives the PeerId from the same secret), so the peer
//! at the other end of a connection is the holder of the certified key.

use crate::signing::Signature;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use zeroize::Zeroizing;

crate::fixed_bytes!(
    /// An ed25519 public key.
    PublicKey,
    32
);

/// A signature that does not verify, or a key that is not a curve point.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the public key is not a valid ed25519 point")]
    BadKey,
    #[error("the signature does not verify under the claimed key")]
    Mismatch,
}

impl PublicKey {
    /// Strict ed25519 verification (rejects small-order keys and
    /// non-canonical signatures, so one message has one valid signature).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        self.prepare()?.verify(message, signature)
    }

    /// The key decoded to a curve point once, for verifying many signatures
    /// (decoding is about a tenth of the cost of one verification).
    pub fn prepare(&self) -> Result<PreparedKey, SignatureError> {
        VerifyingKey::from_bytes(&self.0)
            .map(PreparedKey)
            .map_err(|_| SignatureError::BadKey)
    }
}

impl PublicKey {
    /// The libp2p PeerId of the node holding this key, as bootstrap
    /// addresses write it (`/p2p/12D3KooW…`): the base58 identity multihash
    /// of the key's libp2p protobuf encoding. Here, without libp2p, so the
    /// CLI can print it; the daemon's tests check it against libp2p's.
    pub fn peer_id(&self) -> String {
        // protobuf PublicKey { Type = Ed25519 (field 1, value 1),
        // Data = 32 bytes (field 2) }, inside an identity multihash (code 0)
        // of that length.
        let mut bytes = vec![0x00, 36, 0x08, 0x01, 0x12, 32];
        bytes.extend_from_slice(&self.0);
        bs58::encode(bytes).into_string()
    }
}

/// A [`PublicKey`] decoded for verification; see [`PublicKey::prepare`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedKey(VerifyingKey);

impl PreparedKey {
    /// Strict verification, exactly as [`PublicKey::verify`].
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), SignatureError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| SignatureError::Mismatch)
    }

    /// The key it was prepared from.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.to_bytes())
    }
}

/// An ed25519 secret key. Zeroed on drop; never printed.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).expect("the operating system random source is unavailable");
        Self::from_seed(&seed)
    }

    /// The key whose 32-byte seed is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SecretKey(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for writing to a key file with restricted
    /// permissions. Wrapped so the copy is zeroed when dropped.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs raw bytes. Callers sign domain-separated input from
    /// [`crate::signing::signing_input`].
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> Self {
        Self::from_seed(&self.to_seed())
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(<redacted>, public {})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let sk = SecretKey::from_seed(&[7u8; 32]);
        let shown = format!("{sk:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains(&hex::encode([7u8; 32])));
        assert!(!shown.contains(&hex::encode(&[7u8; 32][..8])));
    }

    #[test]
    fn signatures_verify_only_under_their_key_and_message() {
        let a = SecretKey::from_seed(&[1; 32]);
        let b = SecretKey::from_seed(&[2; 32]);
        let sig = a.sign(b"hello");
        assert_eq!(a.public().verify(b"hello", &sig), Ok(()));
        assert_eq!(
            a.public().verify(b"hellO", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            b.public().verify(b"hello", &sig),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn prepared_keys_verify_exactly_like_public_keys() {
        let a = SecretKey::from_seed(&[1; 32]);
        let prepared = a.public().prepare().unwrap();
        assert_eq!(prepared.public(), a.public());
        let sig = a.sign(b"hello");
        assert_eq!(prepared.verify(b"hello", &sig), Ok(()));
        assert_eq!(
            prepared.verify(b"hellO", &sig),
            Err(SignatureError::Mismatch)
        );
        // y = 2 has no x on the curve: refused when preparing, as when verifying.
        let mut not_a_point = [0; 32];
        not_a_point[0] = 2;
        let bad = PublicKey(not_a_point);
        assert_eq!(bad.prepare(), Err(SignatureError::BadKey));
        assert_eq!(bad.verify(b"hello", &sig), Err(SignatureError::BadKey));
    }

    #[test]
    fn seeds_round_trip_and_generation_differs() {
        let a = SecretKey::generate();
        let b = SecretKey::from_seed(&a.to_seed());
        assert_eq!(a.public(), b.public());
        assert_ne!(SecretKey::generate().public(), a.public());
    }

    #[test]
    fn public_keys_parse_from_hex_with_clear_errors() {
        let k = SecretKey::from_seed(&[3; 32]).public();
        assert_eq!(k.to_string().parse::<PublicKey>().unwrap(), k);
        assert!("zz"
            .parse::<PublicKey>()
            .unwrap_err()
            .to_string()
            .contains("hexadecimal"));
        assert!("abcd"
            .parse::<PublicKey>()
            .unwrap_err()
            .to_string()
            .contains("32 bytes"));
    }
}
