//! The multi-recipient envelope of an audience item.
//!
//! The item's contents (title, body, payload, tags) are encrypted once with
//! ChaCha20-Poly1305 under a fresh 256-bit content key; the content key is
//! sealed to each recipient's X25519 key with RFC 9180 HPKE (the suite of
//! [`crate::encryption`]). This is the two-layer layout of COSE-HPKE and
//! JOSE-HPKE key encryption: one ciphertext, one small wrapped key per
//! recipient. The content key is used for one message only, so its nonce is
//! fixed at zero.
//!
//! Both layers authenticate a context: community, kind, marking, creation
//! time, publisher certificate, selectors and the recipients' keys. The
//! publisher's signature already covers the envelope, so relays cannot
//! change it; the context also stops a member from re-signing someone
//! else's envelope as its own item (it would not open under the new
//! context).

use crate::audience::{self, Selector, MAX_RECIPIENTS};
use crate::certificate::CertificateId;
use crate::codec;
use crate::community::CommunityId;
use crate::encryption::{self, EncryptionError, EncryptionPublicKey, EncryptionSecretKey, Sealed};
use crate::identity::PublicKey;
use crate::item::{Contents, ItemKind};
use crate::time::Timestamp;
use crate::tlp::Tlp;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// HPKE `info` of wrapped content keys.
const KEY_INFO: &[u8] = b"cairn/item-content-key/v1";
/// Domain of the context hash.
const CONTEXT_DOMAIN: &[u8] = b"cairn/item-envelope-context/v1";
/// A wrapped content key: 32 bytes and the 16-byte tag.
const WRAPPED_LEN: usize = 32 + 16;
/// Largest sealed contents: the largest contents a publisher may make,
/// with room for their encoding and the tag.
pub const MAX_CIPHERTEXT: usize = crate::item::MAX_TITLE
    + crate::item::MAX_BODY
    + crate::item::MAX_PAYLOAD
    + crate::item::MAX_TAGS * (crate::item::MAX_TAG + 2)
    + crate::item::MAX_TAG
    + 64;

/// One recipient: its member key (how a node finds its own entry) and the
/// content key sealed to the encryption key its certificate binds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub member_key: PublicKey,
    pub content_key: Sealed,
}

/// An audience item's contents, sealed to its recipients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// How the audience was chosen (shown to everyone).
    pub selectors: Vec<Selector>,
    pub recipients: Vec<Recipient>,
    /// The encoded [`Contents`], encrypted under the content key.
    pub ciphertext: Vec<u8>,
}

/// What the envelope is bound to: the item's visible, signed fields.
#[derive(Clone, Copy, Debug)]
pub struct SealContext<'a> {
    pub community: &'a CommunityId,
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub created: Timestamp,
    pub publisher: &'a CertificateId,
}

/// Sealing or opening an envelope failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("this node is not in the item's audience")]
    NotARecipient,
    #[error("the envelope does not open with this node's key: it was altered, or sealed to another key than this node's certificate binds")]
    NotOpened,
    #[error("the sealed contents are malformed: {0}")]
    Malformed(String),
    #[error("an audience needs 1-{MAX_RECIPIENTS} recipients, not {0}")]
    RecipientCount(usize),
    #[error("recipient {0} is listed twice")]
    DuplicateRecipient(PublicKey),
    #[error("sealing failed: {0}")]
    Seal(#[from] EncryptionError),
}

impl SealContext<'_> {
    /// The authenticated data of both layers.
    fn digest(
        &self,
        selectors: &[Selector],
        members: &[&PublicKey],
    ) -> Result<[u8; 32], EnvelopeError> {
        let visible = (
            self.community,
            self.kind,
            self.tlp,
            self.created,
            self.publisher,
            selectors,
            members,
        );
        let bytes = codec::encode(&visible).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        Ok(crate::hash::sha256(&[CONTEXT_DOMAIN, &bytes]))
    }
}

fn cipher(key: &[u8; 32]) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(&(*key).into())
}

/// The content key is fresh for every envelope, so one fixed nonce.
fn nonce() -> chacha20poly1305::Nonce {
    [0u8; 12].into()
}

/// A recipient of an envelope: its member key and the encryption key its
/// certificate binds.
pub type RecipientKeys = (PublicKey, EncryptionPublicKey);

/// Wraps the content key for one recipient.
pub type Wrap<'a> = dyn Fn(&RecipientKeys) -> Result<Recipient, EnvelopeError> + Sync + 'a;

/// Seals `contents` to `recipients`, recording `selectors`.
pub fn seal(
    contents: &Contents,
    recipients: &[RecipientKeys],
    selectors: Vec<Selector>,
    context: SealContext<'_>,
) -> Result<Envelope, EnvelopeError> {
    seal_with(contents, recipients, selectors, context, |to, wrap| {
        to.iter().map(wrap).collect()
    })
}

/// As [`seal`], with the wrapping of the content key for each recipient
/// handed to `map`, which must return one result per recipient, in order.
/// Each wrap is an HPKE seal (two X25519 operations), about 0.1 ms: nearly
/// all the cost of a sealed item, so a node may spread it over its cores.
pub fn seal_with<M>(
    contents: &Contents,
    recipients: &[RecipientKeys],
    selectors: Vec<Selector>,
    context: SealContext<'_>,
    map: M,
) -> Result<Envelope, EnvelopeError>
where
    M: FnOnce(&[RecipientKeys], &Wrap<'_>) -> Vec<Result<Recipient, EnvelopeError>>,
{
    if recipients.is_empty() || recipients.len() > MAX_RECIPIENTS {
        return Err(EnvelopeError::RecipientCount(recipients.len()));
    }
    audience::check_selectors(&selectors).map_err(EnvelopeError::Malformed)?;
    let members: Vec<&PublicKey> = recipients.iter().map(|(k, _)| k).collect();
    check_distinct(&members)?;
    let aad = context.digest(&selectors, &members)?;
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut()).expect("the operating system random source is unavailable");
    let plain = Zeroizing::new(
        codec::encode(contents).map_err(|e| EnvelopeError::Malformed(e.to_string()))?,
    );
    let ciphertext = cipher(&key)
        .encrypt(
            &nonce(),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| EnvelopeError::Seal(EncryptionError::Seal("content encryption".into())))?;
    let wrap = |(member_key, to): &RecipientKeys| {
        Ok(Recipient {
            member_key: *member_key,
            content_key: encryption::seal(to, KEY_INFO, &aad, key.as_ref())?,
        })
    };
    let wrapped = map(recipients, &wrap);
    if wrapped.len() != recipients.len() {
        return Err(EnvelopeError::Malformed(format!(
            "{} content keys wrapped for {} recipients",
            wrapped.len(),
            recipients.len()
        )));
    }
    let recipients = wrapped.into_iter().collect::<Result<Vec<_>, _>>()?;
    Ok(Envelope {
        selectors,
        recipients,
        ciphertext,
    })
}

fn check_distinct(members: &[&PublicKey]) -> Result<(), EnvelopeError> {
    let mut sorted: Vec<&PublicKey> = members.to_vec();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    match sorted.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(EnvelopeError::DuplicateRecipient(*w[0])),
        None => Ok(()),
    }
}

impl Envelope {
    /// Whether `member` is among the recipients.
    pub fn is_for(&self, member: &PublicKey) -> bool {
        self.recipients.iter().any(|r| &r.member_key == member)
    }

    /// Structural checks every node makes (it cannot open the envelope).
    pub(crate) fn check_shape(&self) -> Result<(), String> {
        if self.recipients.is_empty() || self.recipients.len() > MAX_RECIPIENTS {
            return Err(EnvelopeError::RecipientCount(self.recipients.len()).to_string());
        }
        audience::check_selectors(&self.selectors)?;
        let members: Vec<&PublicKey> = self.recipients.iter().map(|r| &r.member_key).collect();
        check_distinct(&members).map_err(|e| e.to_string())?;
        if let Some(r) = self
            .recipients
            .iter()
            .find(|r| r.content_key.ciphertext.len() != WRAPPED_LEN)
        {
            return Err(format!(
                "the content key for {} is {} bytes, not {WRAPPED_LEN}",
                r.member_key,
                r.content_key.ciphertext.len()
            ));
        }
        if self.ciphertext.len() < 16 || self.ciphertext.len() > MAX_CIPHERTEXT {
            return Err(format!(
                "the sealed contents are {} bytes, outside 16-{MAX_CIPHERTEXT}",
                self.ciphertext.len()
            ));
        }
        Ok(())
    }

    /// Opens the envelope as `member` with its encryption key. The contents
    /// are checked like an open item's.
    pub fn open(
        &self,
        member: &PublicKey,
        key: &EncryptionSecretKey,
        context: SealContext<'_>,
    ) -> Result<Contents, EnvelopeError> {
        let mine = self
            .recipients
            .iter()
            .find(|r| &r.member_key == member)
            .ok_or(EnvelopeError::NotARecipient)?;
        let members: Vec<&PublicKey> = self.recipients.iter().map(|r| &r.member_key).collect();
        let aad = context.digest(&self.selectors, &members)?;
        let wrapped = Zeroizing::new(
            key.open(&mine.content_key, KEY_INFO, &aad)
                .map_err(|_| EnvelopeError::NotOpened)?,
        );
        let content_key: [u8; 32] = wrapped
            .as_slice()
            .try_into()
            .map_err(|_| EnvelopeError::NotOpened)?;
        let content_key = Zeroizing::new(content_key);
        let plain = Zeroizing::new(
            cipher(&content_key)
                .decrypt(
                    &nonce(),
                    Payload {
                        msg: &self.ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| EnvelopeError::NotOpened)?,
        );
        let contents: Contents =
            codec::decode(&plain).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        contents
            .check_shape()
            .map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
        Ok(contents)
    }
}

#[cfg(test)]
#[path = "envelope_tests.rs"]
mod tests;
