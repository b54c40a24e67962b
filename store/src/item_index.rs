//! The layout of the item index, one sled tree under one-byte prefixes:
//!
//! - `L` id -> [`Entry`]: location in the data file, creation time,
//!   publisher;
//! - `T` chunk number -> the (creation millis, id) pairs of the items stored
//!   by one batch: the time order, sorted when read. One entry per batch
//!   rather than per item halves sled's work per item (measured: 16 -> 9 us);
//! - `C` certificate id -> certificate encoding (publishers of stored items);
//! - `M` certificate id -> certificate encoding (members admitted, whether
//!   or not they published);
//! - `W` -> length of the data file known to be on disk;
//! - `N` -> how many items are stored (sled can only count by walking);
//! - `A` chunk number -> when the chunk was stored, and `V` -> where that
//!   index begins (see `items_added.rs`).
//!
//! Numbers are big-endian, so byte order is numeric order.

use crate::item_data::Location;
use cairn_protocol::{CertificateId, ItemId};

pub(crate) const LOCATION: u8 = b'L';
pub(crate) const TIME: u8 = b'T';
pub(crate) const CERTIFICATE: u8 = b'C';
pub(crate) const MEMBER: u8 = b'M';
pub(crate) const SYNCED: &[u8] = b"W";
pub(crate) const COUNT: &[u8] = b"N";

/// One (creation millis, id) pair in a time chunk.
pub(crate) const TIME_PAIR: usize = 8 + ItemId::LEN;

/// A location entry: offset, length, creation millis, publisher.
pub(crate) const LOCATION_VALUE: usize = 8 + 4 + 8 + CertificateId::LEN;

/// What the index says about one item.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub at: Location,
    pub created: u64,
    pub publisher: CertificateId,
}

impl Entry {
    pub(crate) fn to_bytes(self) -> [u8; LOCATION_VALUE] {
        let mut v = [0; LOCATION_VALUE];
        v[..8].copy_from_slice(&self.at.offset.to_be_bytes());
        v[8..12].copy_from_slice(&self.at.len.to_be_bytes());
        v[12..20].copy_from_slice(&self.created.to_be_bytes());
        v[20..].copy_from_slice(self.publisher.as_bytes());
        v
    }

    pub(crate) fn from_bytes(v: &[u8]) -> Option<Self> {
        if v.len() != LOCATION_VALUE {
            return None;
        }
        Some(Entry {
            at: Location {
                offset: u64::from_be_bytes(v[..8].try_into().ok()?),
                len: u32::from_be_bytes(v[8..12].try_into().ok()?),
            },
            created: u64::from_be_bytes(v[12..20].try_into().ok()?),
            publisher: CertificateId::from_slice(&v[20..]).ok()?,
        })
    }
}

pub(crate) fn location_key(id: &ItemId) -> [u8; 1 + ItemId::LEN] {
    let mut key = [LOCATION; 1 + ItemId::LEN];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

pub(crate) fn certificate_key(id: &CertificateId) -> [u8; 1 + CertificateId::LEN] {
    let mut key = [CERTIFICATE; 1 + CertificateId::LEN];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

pub(crate) fn chunk_key(number: u64) -> [u8; 9] {
    let mut key = [TIME; 9];
    key[1..].copy_from_slice(&number.to_be_bytes());
    key
}

pub(crate) fn push_pair(chunk: &mut Vec<u8>, created: u64, id: &ItemId) {
    chunk.extend_from_slice(&created.to_be_bytes());
    chunk.extend_from_slice(id.as_bytes());
}

/// The number in a time chunk's key.
pub(crate) fn chunk_number(key: &[u8]) -> Option<u64> {
    key.get(1..)?.try_into().ok().map(u64::from_be_bytes)
}

/// The (creation millis, id) pairs of a time chunk, if it is well formed.
pub(crate) fn parse_chunk(value: &[u8]) -> Option<Vec<(u64, ItemId)>> {
    if !value.len().is_multiple_of(TIME_PAIR) {
        return None;
    }
    let pairs = value.chunks_exact(TIME_PAIR).map(|p| {
        let millis = u64::from_be_bytes(p[..8].try_into().expect("8 bytes"));
        let id = ItemId(p[8..].try_into().expect("32 bytes"));
        (millis, id)
    });
    Some(pairs.collect())
}

/// The key of an admitted member's certificate.
pub(crate) fn member_key(id: &CertificateId) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + CertificateId::LEN);
    k.push(MEMBER);
    k.extend_from_slice(id.as_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_chunks_round_trip_and_refuse_wrong_sizes() {
        let e = Entry {
            at: Location {
                offset: 1 << 40,
                len: 1164,
            },
            created: 1_800_000_000_000,
            publisher: CertificateId([7; 32]),
        };
        let back = Entry::from_bytes(&e.to_bytes()).unwrap();
        assert_eq!(
            (back.at, back.created, back.publisher),
            (e.at, e.created, e.publisher)
        );
        assert!(Entry::from_bytes(&e.to_bytes()[1..]).is_none());

        let mut chunk = Vec::new();
        push_pair(&mut chunk, 5, &ItemId([1; 32]));
        push_pair(&mut chunk, 3, &ItemId([2; 32]));
        assert_eq!(
            parse_chunk(&chunk),
            Some(vec![(5, ItemId([1; 32])), (3, ItemId([2; 32]))])
        );
        assert_eq!(parse_chunk(&chunk[1..]), None);
        assert_eq!(chunk_number(&chunk_key(42)), Some(42));
        assert_eq!(chunk_number(b"T1"), None);
    }
}
