//! An item together with its exact encoding and content address.
//!
//! A node handles every item as bytes at least twice (hashing it for its id,
//! storing it, serving it in catch-up); [`EncodedItem`] computes the encoding
//! and the id once and keeps them with the decoded value, and [`ItemBytes`]
//! carries stored bytes to a peer without decoding and re-encoding them.

use crate::certificate::Authentic;
use crate::codec::{self, CodecError};
use crate::community::Community;
use crate::hash::sha256;
use crate::item::{ItemError, ItemId, SignedItem};
use crate::signing::{signing_input, DOMAIN_ITEM};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the signature adds at the end of an item's encoding: its length as
/// a one-byte varint, then its 64 bytes. Everything before is the encoding
/// of the body, which is what the publisher signed.
const SIGNATURE_TAIL: usize = 1 + 64;

/// A signed item, its canonical encoding and its id, consistent by
/// construction: only [`EncodedItem::new`] and [`EncodedItem::decode`] make one.
/// Says nothing about whether the item verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedItem {
    item: SignedItem,
    bytes: Vec<u8>,
    id: ItemId,
}

impl EncodedItem {
    /// Encodes `item`.
    pub fn new(item: SignedItem) -> Result<Self, CodecError> {
        let bytes = codec::encode(&item)?;
        let id = ItemId(sha256(&[&bytes]));
        Ok(EncodedItem { item, bytes, id })
    }

    /// Decodes an item's encoding (as kept by a store or sent by a peer),
    /// refusing anything but the canonical encoding of one item.
    pub fn decode(bytes: Vec<u8>) -> Result<Self, CodecError> {
        let item = codec::decode(&bytes)?;
        let id = ItemId(sha256(&[&bytes]));
        Ok(EncodedItem { item, bytes, id })
    }

    /// The item.
    pub fn item(&self) -> &SignedItem {
        &self.item
    }

    /// Its canonical encoding.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Its content address, `SignedItem::id`.
    pub fn id(&self) -> ItemId {
        self.id
    }

    /// The item, dropping the encoding.
    pub fn into_item(self) -> SignedItem {
        self.item
    }

    /// [`SignedItem::verify_from`], taking the signed bytes from the
    /// encoding instead of encoding the body again.
    pub fn verify_from(
        &self,
        publisher: &Authentic,
        community: &Community,
        now: Timestamp,
    ) -> Result<(), ItemError> {
        self.item.check_rules(publisher, community, now)?;
        match self.signed_body() {
            Some(body) => {
                let mut signed = Vec::with_capacity(DOMAIN_ITEM.len() + 1 + body.len());
                signed.extend_from_slice(DOMAIN_ITEM.as_bytes());
                signed.push(0);
                signed.extend_from_slice(body);
                self.item.check_signature(publisher, &signed)
            }
            None => self
                .item
                .check_signature(publisher, &signing_input(DOMAIN_ITEM, &self.item.body)?),
        }
    }

    /// [`EncodedItem::verify_from`] for an item this node already holds
    /// under the same id: every rule but the signature. The id is the hash
    /// of these exact bytes, whose signature was verified when they were
    /// stored, so only the rules that depend on `now` or on the publisher
    /// certificate can give another answer.
    pub fn recheck_held(
        &self,
        publisher: &Authentic,
        community: &Community,
        now: Timestamp,
    ) -> Result<(), ItemError> {
        self.item.check_rules(publisher, community, now)
    }

    /// The body's encoding within the item's, if the item's encoding ends
    /// with the signature as expected (it always does with this codec; the
    /// check keeps a future codec change from verifying the wrong bytes).
    fn signed_body(&self) -> Option<&[u8]> {
        let split = self.bytes.len().checked_sub(SIGNATURE_TAIL)?;
        let (body, tail) = self.bytes.split_at(split);
        (tail[0] == 64 && tail[1..] == self.item.signature.0).then_some(body)
    }
}

/// An item's encoding as sent in catch-up responses, not yet decoded: the
/// receiver turns it into an [`EncodedItem`] (and verifies it) before use.
#[derive(Clone, PartialEq, Eq)]
pub struct ItemBytes(pub Vec<u8>);

impl std::fmt::Debug for ItemBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItemBytes({} bytes)", self.0.len())
    }
}

impl From<&EncodedItem> for ItemBytes {
    fn from(item: &EncodedItem) -> Self {
        ItemBytes(item.bytes.clone())
    }
}

impl Serialize for ItemBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // As a byte string (one length, then the bytes), not a sequence of
        // numbers: serde's default for Vec<u8> costs a call per byte.
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for ItemBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ItemBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an item's encoding as a byte string")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ItemBytes, E> {
                Ok(ItemBytes(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ItemBytes, E> {
                Ok(ItemBytes(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::tests::{cert_for, member};
    use crate::item::tests::body;

    fn item() -> SignedItem {
        let c = cert_for(&member());
        SignedItem::sign(body(&c), &member(), &c).unwrap()
    }

    #[test]
    fn new_and_decode_agree_with_the_item_and_its_id() {
        let encoded = EncodedItem::new(item()).unwrap();
        assert_eq!(encoded.id(), item().id());
        assert_eq!(encoded.bytes(), codec::encode(&item()).unwrap());
        let decoded = EncodedItem::decode(encoded.bytes().to_vec()).unwrap();
        assert_eq!(decoded, encoded);
        assert_eq!(decoded.into_item(), item());
    }

    #[test]
    fn the_signed_bytes_are_the_body_encoding_within_the_item_encoding() {
        let encoded = EncodedItem::new(item()).unwrap();
        let body = codec::encode(&item().body).unwrap();
        assert_eq!(encoded.signed_body(), Some(&body[..]));
        let c = cert_for(&member());
        let publisher = c
            .authenticate(&crate::certificate::tests::community())
            .unwrap();
        let community = crate::certificate::tests::community();
        let now = item().body.created;
        assert_eq!(encoded.verify_from(&publisher, &community, now), Ok(()));
        let mut forged = item();
        crate::item::tests::open(&mut forged.body).title = "changed".into();
        let forged = EncodedItem::new(forged).unwrap();
        assert_eq!(
            forged.verify_from(&publisher, &community, now),
            Err(ItemError::BadSignature)
        );
    }

    #[test]
    fn decode_refuses_anything_but_one_canonical_item() {
        let bytes = codec::encode(&item()).unwrap();
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(matches!(
            EncodedItem::decode(trailing),
            Err(CodecError::TrailingBytes(1))
        ));
        assert!(EncodedItem::decode(bytes[..bytes.len() - 1].to_vec()).is_err());
        assert!(EncodedItem::decode(Vec::new()).is_err());
        let cert = codec::encode(&cert_for(&member())).unwrap();
        assert!(EncodedItem::decode(cert).is_err());
    }

    #[test]
    fn item_bytes_travel_as_one_byte_string() {
        let raw = ItemBytes(vec![7, 8, 9]);
        let frame = codec::encode(&raw).unwrap();
        // Version byte, length 3, the bytes.
        assert_eq!(frame, vec![codec::VERSION, 3, 7, 8, 9]);
        assert_eq!(codec::decode::<ItemBytes>(&frame).unwrap(), raw);
    }
}
