//! X25519 encryption keys and HPKE sealing (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305).
//!
//! Every membership certificate binds an encryption key beside the signing
//! key, so an item for an audience and the identity escrowed in a
//! pseudonymous certificate can be sealed to exactly the keys the issuer
//! vouched for. The construction is the `hpke` crate's, not ours: this file
//! only fixes the suite and gives the bytes types.

use crate::identity::SecretKey;
use hpke::{
    aead::ChaCha20Poly1305, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem as _,
    OpModeR, OpModeS, Serializable,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

type Kem = X25519HkdfSha256;

crate::fixed_bytes!(
    /// An X25519 public key a member receives sealed content under.
    EncryptionPublicKey,
    32
);

/// Sealing or opening failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptionError {
    #[error("the encryption key is not a valid X25519 key")]
    BadKey,
    #[error("the sealed bytes do not open with this key (not a recipient, or altered)")]
    NotOpened,
    #[error("sealing failed: {0}")]
    Seal(String),
}

/// An X25519 secret key. Zeroed on drop; never printed.
pub struct EncryptionSecretKey(<Kem as hpke::Kem>::PrivateKey);

/// Domain of the derivation of a member's encryption key from its signing
/// seed: one seed, two independent keys, one key file.
const DERIVE_DOMAIN: &[u8] = b"cairn/encryption-key/v1";

impl EncryptionSecretKey {
    /// The encryption key that belongs to signing key `key` (RFC 9180
    /// DeriveKeyPair over a domain-separated hash of the seed).
    pub fn derive_from(key: &SecretKey) -> Self {
        let seed = key.to_seed();
        let ikm = Zeroizing::new(crate::hash::sha256(&[DERIVE_DOMAIN, seed.as_ref()]));
        let (sk, _) = Kem::derive_keypair(ikm.as_ref());
        EncryptionSecretKey(sk)
    }

    /// The matching public key.
    pub fn public(&self) -> EncryptionPublicKey {
        let pk = <Kem as hpke::Kem>::sk_to_pk(&self.0);
        let mut out = [0u8; 32];
        out.copy_from_slice(&pk.to_bytes());
        EncryptionPublicKey(out)
    }

    /// Opens what [`seal`] sealed to this key with the same `info` and `aad`.
    pub fn open(
        &self,
        sealed: &Sealed,
        info: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, EncryptionError> {
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(sealed.encapsulated_key.as_bytes())
            .map_err(|_| EncryptionError::NotOpened)?;
        hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, Kem>(
            &OpModeR::Base,
            &self.0,
            &enc,
            info,
            &sealed.ciphertext,
            aad,
        )
        .map_err(|_| EncryptionError::NotOpened)
    }
}

impl std::fmt::Debug for EncryptionSecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "EncryptionSecretKey(<redacted>, public {})",
            self.public()
        )
    }
}

/// Bytes sealed to one recipient: the HPKE encapsulated key and the AEAD
/// ciphertext (plaintext plus a 16-byte tag).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub encapsulated_key: EncryptionPublicKey,
    pub ciphertext: Vec<u8>,
}

/// Seals `plaintext` to `recipient`. `info` names what is sealed (a domain);
/// `aad` binds it to its context, which is authenticated but not encrypted.
pub fn seal(
    recipient: &EncryptionPublicKey,
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Sealed, EncryptionError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(recipient.as_bytes())
        .map_err(|_| EncryptionError::BadKey)?;
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        info,
        plaintext,
        aad,
    )
    .map_err(|e| EncryptionError::Seal(e.to_string()))?;
    let mut encapsulated_key = [0u8; 32];
    encapsulated_key.copy_from_slice(&enc.to_bytes());
    Ok(Sealed {
        encapsulated_key: EncryptionPublicKey(encapsulated_key),
        ciphertext,
    })
}

impl EncryptionPublicKey {
    /// Whether the bytes are a usable X25519 public key.
    pub fn check(&self) -> Result<(), EncryptionError> {
        <Kem as hpke::Kem>::PublicKey::from_bytes(self.as_bytes())
            .map(|_| ())
            .map_err(|_| EncryptionError::BadKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> EncryptionSecretKey {
        EncryptionSecretKey::derive_from(&SecretKey::from_seed(&[seed; 32]))
    }

    #[test]
    fn derivation_is_stable_and_separates_members() {
        assert_eq!(key(1).public(), key(1).public());
        assert_ne!(key(1).public(), key(2).public());
        // The encryption key is not the signing key's bytes.
        assert_ne!(key(1).public().0, SecretKey::from_seed(&[1; 32]).public().0);
    }

    #[test]
    fn only_the_recipient_opens_and_only_in_context() {
        let sealed = seal(&key(1).public(), b"info", b"aad", b"secret words").unwrap();
        assert_eq!(
            key(1).open(&sealed, b"info", b"aad").unwrap(),
            b"secret words"
        );
        assert_eq!(
            key(2).open(&sealed, b"info", b"aad"),
            Err(EncryptionError::NotOpened)
        );
        assert!(key(1).open(&sealed, b"other", b"aad").is_err());
        assert!(key(1).open(&sealed, b"info", b"other").is_err());
        let mut altered = sealed.clone();
        altered.ciphertext[0] ^= 1;
        assert!(key(1).open(&altered, b"info", b"aad").is_err());
        assert!(!sealed
            .ciphertext
            .windows(b"secret".len())
            .any(|w| w == b"secret"));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(format!("{:?}", key(1)).contains("redacted"));
    }
}
