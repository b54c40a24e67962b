//! The `codec` target's table of types: every value that arrives as a codec
//! frame from a peer or from the store, each checked the same way.
//!
//! One target covers them all, selected by the input's first byte, so the
//! fuzzer can carry a certificate it learned inside one type's frame into
//! another's, and CI builds and runs one binary rather than one per type.
//!
//! Adding a type is two lines: a row in [`codec_types!`] below, and an
//! `impl Inspect for NewType {}` (with a body if decoding is followed by
//! checks in the daemon that deserve running too). Rows are only ever
//! appended: a row's position is the selector byte of its seeds, like a
//! variant index on the wire.

use crate::fixtures;
use crate::measure;
use cairn_protocol::codec::{self, MAX_FRAME};
use cairn_protocol::directory::{AddressRecord, DirectoryAnswer, DirectoryRequest};
use cairn_protocol::handshake::Handshake;
use cairn_protocol::hash::sha256;
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{
    Certificate, EncodedItem, ItemId, Receipt, RegisterEntry, RegisterRecord, Revocation,
    SignedEvent, SignedItem,
};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

/// One decodable type: its name (seed files start with it) and its check.
pub struct Row {
    pub name: &'static str,
    pub check: fn(&[u8]),
}

macro_rules! codec_types {
    ($($name:literal => $check:expr),* $(,)?) => {
        /// Every type the `codec` target decodes, by selector byte.
        pub const TYPES: &[Row] = &[$(Row { name: $name, check: $check }),*];
    };
}

codec_types! {
    "gossip" => round_trip::<GossipMessage>,
    "request" => round_trip::<Request>,
    "response" => round_trip::<Response>,
    "item" => item,
    "certificate" => round_trip::<Certificate>,
    "event" => round_trip::<SignedEvent>,
    "receipt" => round_trip::<Receipt>,
    "register-entry" => round_trip::<RegisterEntry>,
    "revocation" => round_trip::<Revocation>,
    "handshake" => round_trip::<Handshake>,
    "directory-request" => round_trip::<DirectoryRequest>,
    "directory-answer" => round_trip::<DirectoryAnswer>,
}

/// Runs the check the input's first byte selects; other selectors are
/// ignored, so rows added later do not change what existing seeds mean.
pub fn run(data: &[u8]) {
    if let Some((&selector, frame)) = data.split_first() {
        if let Some(row) = TYPES.get(usize::from(selector)) {
            (row.check)(frame);
        }
    }
}

/// What decoding one frame may allocate: bincode caps each length prefix at
/// the frame limit and serde caps each preallocation at 1 MiB, so a frame of
/// any size costs a few nested 1 MiB reservations at most, plus the frame's
/// own re-encoding (which doubles its buffer while growing).
pub fn decode_bound(frame_len: usize) -> usize {
    4 * MAX_FRAME + 8 * frame_len
}

/// Checks a type cares to run after decoding, as the daemon would; each
/// must not panic, and may assert agreement between equivalent paths.
pub trait Inspect {
    fn inspect(&self) {}
}

/// Decodes `frame` as a `T` and, if it decodes, asserts that it is exactly
/// the encoding of the value (one value, one frame), that decoding that
/// encoding gives the value back, and that decoding stayed within
/// [`decode_bound`].
pub fn round_trip<T>(frame: &[u8])
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + Inspect,
{
    let what = std::any::type_name::<T>();
    let (decoded, used) = measure(|| codec::decode::<T>(frame));
    used.assert_within(decode_bound(frame.len()), what);
    let Ok(value) = decoded else { return };
    let encoded = codec::encode(&value).expect("a decoded value encodes");
    assert!(
        encoded == frame,
        "{what}: accepted a frame that is not its value's encoding"
    );
    assert_eq!(codec::decode::<T>(&encoded).as_ref(), Ok(&value), "{what}");
    value.inspect();
}

/// An item's encoding as the store and catch-up decode it: besides the
/// round trip, its id is the hash of exactly these bytes, and the fast
/// verification (which slices the signed body out of the encoding) agrees
/// with the reference path (which encodes the body again).
pub fn item(frame: &[u8]) {
    let (decoded, used) = measure(|| EncodedItem::decode(frame.to_vec()));
    used.assert_within(decode_bound(frame.len()), "EncodedItem");
    let Ok(encoded) = decoded else { return };
    assert_eq!(encoded.bytes(), frame);
    assert_eq!(encoded.id(), ItemId(sha256(&[frame])));
    assert_eq!(encoded.item().id(), encoded.id());
    assert_eq!(
        codec::encode(encoded.item()).expect("a decoded item encodes"),
        frame
    );
    let community = fixtures::community();
    let now = fixtures::now();
    if let Ok(publisher) = fixtures::certificate().authenticate(&community) {
        let fast = encoded.verify_from(&publisher, &community, now);
        let reference = encoded.item().verify_from(&publisher, &community, now);
        assert_eq!(fast, reference, "the two verification paths disagree");
        if fast.is_ok() {
            assert_eq!(
                encoded.recheck_held(&publisher, &community, now),
                Ok(()),
                "an item that verifies fails the recheck of held items"
            );
        }
    }
}

impl Inspect for Certificate {
    fn inspect(&self) {
        let community = fixtures::community();
        let _ = self.id();
        let verified = self.verify(&community, fixtures::now());
        if let Ok(authentic) = self.authenticate(&community) {
            assert_eq!(authentic.id(), self.id());
            assert_eq!(self.verify_authenticity(&community), Ok(()));
        }
        if verified.is_ok() {
            assert_eq!(self.verify_authenticity(&community), Ok(()));
        }
        let _ = self.verify_for_peer(&community, fixtures::now(), &self.body.member_key);
    }
}

impl Inspect for SignedItem {
    fn inspect(&self) {
        // As gossip delivers it: with a certificate, through the generic path.
        let _ = self.verify(
            &fixtures::certificate(),
            &fixtures::community(),
            fixtures::now(),
        );
    }
}

impl Inspect for SignedEvent {
    fn inspect(&self) {
        let _ = self.id();
        let _ = self.verify(&fixtures::community(), fixtures::now());
        self.body.certificate.inspect();
    }
}

impl Inspect for DirectoryRequest {
    fn inspect(&self) {
        if let Some(r) = &self.mine {
            r.inspect();
        }
    }
}

impl Inspect for DirectoryAnswer {
    fn inspect(&self) {
        for r in &self.records {
            r.inspect();
        }
    }
}

impl Inspect for AddressRecord {
    fn inspect(&self) {
        // As the network task judges a record (and `directory.bin` at start).
        let _ = self.verify(&fixtures::community(), &Default::default(), fixtures::now());
        self.certificate.inspect();
    }
}

impl Inspect for Receipt {
    fn inspect(&self) {
        let _ = self.verify(&fixtures::community(), &self.body.event);
    }
}

impl Inspect for RegisterEntry {
    fn inspect(&self) {
        match &self.record {
            RegisterRecord::Participation { event, receipt } => {
                event.inspect();
                let _ = receipt.verify(&fixtures::community(), &event.id());
            }
            RegisterRecord::Reveal(reveal) => {
                let _ = reveal.verify(&fixtures::community());
                let _ = reveal.id();
            }
        }
    }
}

// The enums below end in a wildcard arm: a variant added to the wire is
// still round-tripped by `round_trip`, and the fuzz build keeps compiling
// until someone adds the checks that variant deserves here.
#[allow(unreachable_patterns)]
impl Inspect for GossipMessage {
    fn inspect(&self) {
        match self {
            GossipMessage::Item { item, certificate } => {
                certificate.inspect();
                item.inspect();
                // The ingest path re-encodes the item once to get its id and
                // bytes: that must agree with the item's own id.
                let encoded = EncodedItem::new(item.clone()).expect("a decoded item encodes");
                assert_eq!(encoded.id(), item.id());
                if let Ok(publisher) = certificate.authenticate(&fixtures::community()) {
                    let now = fixtures::now();
                    let community = fixtures::community();
                    assert_eq!(
                        encoded.verify_from(&publisher, &community, now),
                        item.verify_from(&publisher, &community, now)
                    );
                }
            }
            GossipMessage::Revocation { revocation } => revocation.inspect(),
        }
    }
}

impl Inspect for Revocation {
    fn inspect(&self) {
        let _ = self.id();
        if let Ok(effects) = self.verify(&fixtures::community(), fixtures::now()) {
            // What verifies must apply without panicking, to any certificate.
            let mut set = cairn_protocol::RevocationSet::default();
            set.add(effects);
            let c = fixtures::certificate();
            let _ = set.check_peer(&c.id(), &c, fixtures::now());
            let _ = set.check_item(&c.id(), &c, fixtures::now(), false);
        }
    }
}

impl Inspect for Handshake {
    fn inspect(&self) {
        match self {
            Handshake::Hello { certificate, .. } | Handshake::Welcome { certificate, .. } => {
                certificate.inspect()
            }
            Handshake::Revocations { revocations, .. } => {
                for r in revocations {
                    r.inspect();
                }
            }
            Handshake::Revoked { revocation, .. } => revocation.inspect(),
            _ => {}
        }
    }
}

impl Inspect for Request {
    fn inspect(&self) {
        match self {
            Request::Certificate { certificate } => certificate.inspect(),
            Request::Participation { event } => event.inspect(),
            Request::Notice {
                notice: cairn_protocol::Notice::Event { event },
            } => event.inspect(),
            Request::Notice {
                notice: cairn_protocol::Notice::Receipt { receipt },
            } => receipt.inspect(),
            // Reconciliation messages have their own target; fetch ids are
            // only looked up.
            _ => {}
        }
    }
}

impl Inspect for Response {
    fn inspect(&self) {
        match self {
            Response::Revocations { revocations } => {
                for r in revocations {
                    r.inspect();
                }
            }
            Response::Receipt { receipt } => receipt.inspect(),
            Response::Items {
                certificates,
                items,
            } => {
                for c in certificates {
                    c.inspect();
                }
                // Catch-up decodes each carried encoding as an item.
                for raw in items {
                    item(&raw.0);
                }
            }
            // Refusals and reconciliation messages (which have their own
            // target) need nothing more.
            _ => {}
        }
    }
}
