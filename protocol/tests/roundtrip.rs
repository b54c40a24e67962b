//! Property tests over the wire codec and the JSON form: signed values survive
//! both encodings unchanged and still verify; arbitrary or corrupted frames
//! never make decoding (or the rules run on what it yields) panic; and a
//! corrupted item is never accepted as the original.

mod common;
mod strategies;

use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::handshake::{Handshake, RevocationSummary};
use cairn_protocol::item::{Payload, MAX_BODY, MAX_PAYLOAD, MAX_TAG, MAX_TAGS, MAX_TITLE};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{Certificate, Content, EncodedItem, ItemBody, SignedItem};
use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use std::sync::OnceLock;
use strategies::*;

// ed25519 verification takes about 10 ms in a debug build, so the properties
// that verify run fewer cases than the ones that only decode.
proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn signed_items_survive_the_codec_and_verify(item in signed_item()) {
        let frame = codec::encode(&item).unwrap();
        let back: SignedItem = codec::decode(&frame).unwrap();
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(&codec::encode(&back).unwrap(), &frame);
        prop_assert_eq!(back.id(), item.id());
        prop_assert_eq!(back.verify(cert(), &community(), back.body.created), Ok(()));
        // The path nodes take: verified from the encoding, same verdict.
        let publisher = cert().authenticate(&community()).unwrap();
        let encoded = EncodedItem::decode(frame.clone()).unwrap();
        prop_assert_eq!(encoded.verify_from(&publisher, &community(), back.body.created), Ok(()));

        let envelope = GossipMessage::Item { item: item.clone(), certificate: cert().clone() };
        let back: GossipMessage = codec::decode(&codec::encode(&envelope).unwrap()).unwrap();
        prop_assert_eq!(back, envelope);
    }

    #[test]
    fn signed_items_survive_json_and_verify(item in signed_item()) {
        let json = serde_json::to_string(&item).unwrap();
        let back: SignedItem = serde_json::from_str(&json).unwrap();
        // Equal values verify alike: the signature covers the re-encoded body.
        prop_assert_eq!(&back, &item);
        prop_assert_eq!(back.id(), item.id());
        // Fixed-size byte strings are hex in JSON, never arrays of numbers.
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let publisher = cert().id().to_string();
        let signature = item.signature.to_string();
        prop_assert_eq!(value["body"]["publisher"].as_str(), Some(publisher.as_str()));
        prop_assert_eq!(value["signature"].as_str(), Some(signature.as_str()));
    }

    #[test]
    fn certificates_survive_json_and_the_codec(body in certificate_body_strategy()) {
        let c = Certificate::issue(body, &issuer()).unwrap();

        let json = serde_json::to_string(&c).unwrap();
        let back: Certificate = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&back, &c);
        prop_assert_eq!(back.id(), c.id());
        prop_assert_eq!(back.verify(&community(), back.body.not_after), Ok(()));

        let frame = codec::encode(&c).unwrap();
        let back: Certificate = codec::decode(&frame).unwrap();
        prop_assert_eq!(&back, &c);
        prop_assert_eq!(codec::encode(&back).unwrap(), frame);
    }
}

/// Decodes `frame` as every top-level wire type, and runs the rules over
/// whatever decodes: none of it may panic.
fn decode_everything(frame: &[u8]) {
    let now = T0.plus_days(1);
    match codec::decode::<GossipMessage>(frame) {
        Ok(GossipMessage::Item { item, certificate }) => {
            let _ = item.id();
            let _ = certificate.id();
            let _ = item.verify(&certificate, &community(), now);
        }
        Ok(GossipMessage::Revocation { revocation }) => {
            let _ = revocation.id();
            let _ = revocation.verify(&community(), now);
        }
        Err(_) => {}
    }
    if let Ok(Handshake::Hello { certificate, .. } | Handshake::Welcome { certificate, .. }) =
        codec::decode::<Handshake>(frame)
    {
        let _ = certificate.verify_for_peer(&community(), now, &member().public());
    }
    if let Ok(request) = codec::decode::<Request>(frame) {
        match request {
            Request::Certificate { certificate } => {
                let _ = certificate.verify_for_peer(&community(), now, &member().public());
            }
            Request::Revocations { .. } => {}
            Request::FetchRevocations { ids } => {
                assert!(ids.len() <= codec::MAX_FRAME / cairn_protocol::RevocationId::LEN)
            }
            Request::Participation { event } => {
                let _ = event.id();
                let _ = event.verify(&community(), now);
            }
            Request::Reconcile { message } => assert!(message.len() <= codec::MAX_FRAME),
            Request::Fetch { ids } => {
                assert!(ids.len() <= codec::MAX_FRAME / cairn_protocol::ItemId::LEN)
            }
            Request::Notice { notice } => {
                let _ = notice.event_id();
                let _ = notice.check(&community(), now);
            }
            Request::SyncHint { .. } => {}
        }
    }
    match codec::decode::<Response>(frame) {
        Ok(Response::Revocations { revocations }) => {
            for r in revocations {
                let _ = r.verify(&community(), now);
            }
        }
        Ok(Response::Receipt { receipt }) => {
            let _ = receipt.verify(&community(), &event().id());
        }
        Ok(Response::Items {
            certificates,
            items,
        }) => {
            for (i, c) in items.into_iter().zip(certificates.iter().cycle()) {
                if let Ok(i) = EncodedItem::decode(i.0) {
                    let _ = i.item().verify(c, &community(), now);
                }
            }
        }
        Ok(Response::Refused { .. })
        | Ok(Response::Reconcile { .. })
        | Ok(Response::Accepted)
        | Ok(Response::RevocationIds { .. })
        | Ok(Response::RevocationsInSync)
        | Err(_) => {}
    }
    if let Ok(item) = codec::decode::<SignedItem>(frame) {
        let _ = item.id();
        let _ = item.verify(cert(), &community(), now);
    }
}

/// Valid frames of every wire type, to corrupt.
fn valid_frames() -> &'static [Vec<u8>] {
    static FRAMES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FRAMES.get_or_init(|| {
        vec![
            codec::encode(&GossipMessage::Item {
                item: item(),
                certificate: certificate(),
            })
            .unwrap(),
            codec::encode(&Request::Certificate {
                certificate: certificate(),
            })
            .unwrap(),
            codec::encode(&Request::Participation { event: event() }).unwrap(),
            codec::encode(&Handshake::Hello {
                certificate: certificate(),
                revocations: RevocationSummary::of(&[]),
            })
            .unwrap(),
            codec::encode(&GossipMessage::Revocation {
                revocation: revocation(),
            })
            .unwrap(),
            codec::encode(&Response::Receipt { receipt: receipt() }).unwrap(),
            codec::encode(&Response::Refused {
                reason: "no".into(),
            })
            .unwrap(),
            codec::encode(&item()).unwrap(),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
        versioned in any::<bool>(),
    ) {
        // Without the right version byte almost every input stops at the
        // version check, so most cases carry it.
        let mut frame = Vec::with_capacity(bytes.len() + 1);
        if versioned {
            frame.push(VERSION);
        }
        frame.extend_from_slice(&bytes);
        decode_everything(&frame);
    }

    #[test]
    fn corrupted_frames_never_panic_the_decoders(
        which in any::<Index>(),
        edits in proptest::collection::vec((any::<Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<Index>()),
        insert in proptest::option::of((any::<Index>(), proptest::collection::vec(any::<u8>(), 1..16))),
    ) {
        let mut frame = which.get(valid_frames()).clone();
        for (at, byte) in edits {
            // Keep the version byte so corruption reaches the decoder.
            let i = 1 + at.index(frame.len() - 1);
            frame[i] = byte;
        }
        if let Some((at, bytes)) = insert {
            let i = 1 + at.index(frame.len() - 1);
            frame.splice(i..i, bytes);
        }
        if let Some(at) = cut {
            frame.truncate(1 + at.index(frame.len() - 1));
        }
        decode_everything(&frame);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A single flipped bit never produces an item that is accepted in the
    /// original's place: the frame does not decode, or the item differs from
    /// the original (so its content address differs too) and fails to verify.
    #[test]
    fn a_flipped_bit_never_yields_an_accepted_item(item in signed_item(), bit in any::<Index>()) {
        let mut frame = codec::encode(&item).unwrap();
        let bit = bit.index(frame.len() * 8);
        frame[bit / 8] ^= 1 << (bit % 8);
        if let Ok(corrupted) = codec::decode::<SignedItem>(&frame) {
            prop_assert_ne!(&corrupted, &item, "bit {} decoded to the original", bit);
            prop_assert_ne!(corrupted.id(), item.id());
            prop_assert!(
                corrupted.verify(cert(), &community(), item.body.created).is_err(),
                "bit {} flipped yet the item verifies", bit
            );
        }
    }
}

/// Every single-bit flip of the golden item frame, exhaustively: none decodes
/// back to the original item (so none shares its id). Verification is left to
/// the sampled property above, as ed25519 is slow in debug builds.
#[test]
fn no_flipped_bit_of_an_item_decodes_to_the_original() {
    let original = item();
    let frame = codec::encode(&original).unwrap();
    let mut decoded_flips = 0;
    for bit in 0..frame.len() * 8 {
        let mut flipped = frame.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        if let Ok(decoded) = codec::decode::<SignedItem>(&flipped) {
            decoded_flips += 1;
            assert_ne!(decoded, original, "bit {bit}");
            assert_ne!(decoded.id(), original.id(), "bit {bit}");
        }
    }
    // Most flips land in text, keys or the signature and still decode, so
    // the loop above really exercises the comparison.
    assert!(decoded_flips > frame.len() * 4, "{decoded_flips}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A flipped bit in a certificate never yields a different certificate
    /// that verifies. (It can yield the *same* certificate: see
    /// `every_decodable_frame_is_the_canonical_encoding`.)
    #[test]
    fn a_flipped_bit_never_yields_a_different_valid_certificate(bit in any::<Index>()) {
        let original = cert();
        let mut frame = codec::encode(original).unwrap();
        let bit = bit.index(frame.len() * 8);
        frame[bit / 8] ^= 1 << (bit % 8);
        if let Ok(corrupted) = codec::decode::<Certificate>(&frame) {
            if &corrupted != original {
                prop_assert_ne!(corrupted.id(), original.id());
                prop_assert!(
                    corrupted.verify(&community(), T0.plus_days(1)).is_err(),
                    "bit {} flipped yet the certificate verifies", bit
                );
            }
        }
    }
}

/// `codec.rs` promises that each value has exactly one encoding, so a frame
/// that decodes must be the one `encode` produces for the decoded value.
///
/// Fails today, for two reasons in `protocol/src` (reported, not fixed here):
/// - bincode 2 accepts non-minimal varints (`fb 07 00` decodes as `07`), so any
///   integer or length can be re-encoded longer;
/// - `MemberState` deserialises through its lenient `FromStr` (trim, ASCII
///   case-insensitive) in the binary codec too, so `"de"` or `" DE"` decode
///   to `DE`: flipping bit 5 of either letter of a certificate's member state
///   yields an identical certificate, with the same id and a valid signature,
///   from different bytes (likewise for an event embedding it).
///
/// Ids and signatures are computed over re-encodings, so neither is forged;
/// but anything keyed on received bytes (a gossipsub message id over the
/// payload, a stored frame) sees two messages where there is one value.
#[test]
fn every_decodable_frame_is_the_canonical_encoding() {
    fn canonical_under_bit_flips<T>(value: &T) -> Vec<usize>
    where
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let frame = codec::encode(value).unwrap();
        (0..frame.len() * 8)
            .filter(|bit| {
                let mut flipped = frame.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                codec::decode::<T>(&flipped)
                    .is_ok_and(|decoded: T| codec::encode(&decoded).unwrap() != flipped)
            })
            .collect()
    }
    assert_eq!(canonical_under_bit_flips(&item()), Vec::<usize>::new());
    assert_eq!(
        canonical_under_bit_flips(&certificate()),
        Vec::<usize>::new()
    );
    assert_eq!(canonical_under_bit_flips(&event()), Vec::<usize>::new());

    // A non-minimal varint: the certificate serial 7 written as u16.
    let frame = codec::encode(&certificate()).unwrap();
    let serial_at = 1 + 17; // version byte, then the 17-byte community id
    assert_eq!(frame[serial_at], 0x07);
    let mut long = frame[..serial_at].to_vec();
    long.extend_from_slice(&[0xfb, 0x07, 0x00]);
    long.extend_from_slice(&frame[serial_at + 1..]);
    assert!(
        codec::decode::<Certificate>(&long).is_err(),
        "a non-minimal varint decoded to the same certificate"
    );
}

/// An item with every field at its limit survives the codec (in a gossip
/// envelope, within `MAX_FRAME`) and JSON, and verifies after both.
#[test]
fn the_largest_allowed_item_survives_both_encodings() {
    let mut item_body = item_body_fixture();
    let Content::Open(body) = &mut item_body.content else {
        unreachable!("the fixture is open")
    };
    body.title = "\u{1F6A8}".repeat(MAX_TITLE / 4); // four-byte characters
    body.body = "\u{e9}".repeat(MAX_BODY / 2);
    body.payload = Some(Payload {
        media_type: format!("application/{}", "x".repeat(MAX_TAG - "application/".len())),
        bytes: (0..MAX_PAYLOAD).map(|i| i as u8).collect(),
    });
    body.tags = (0..MAX_TAGS)
        .map(|i| format!("{i:02}{}", "t".repeat(MAX_TAG - 2)))
        .collect();
    assert_eq!(body.title.len(), MAX_TITLE);
    assert_eq!(body.body.len(), MAX_BODY);
    let item = SignedItem::sign(item_body, &member(), cert()).unwrap();

    let envelope = GossipMessage::Item {
        item: item.clone(),
        certificate: cert().clone(),
    };
    let frame = codec::encode(&envelope).unwrap();
    assert!(frame.len() <= codec::MAX_FRAME);
    assert_eq!(codec::decode::<GossipMessage>(&frame).unwrap(), envelope);
    let back: SignedItem = codec::decode(&codec::encode(&item).unwrap()).unwrap();
    assert_eq!(back, item);
    assert_eq!(back.verify(cert(), &community(), back.body.created), Ok(()));

    let json = serde_json::to_string(&item).unwrap();
    let back: SignedItem = serde_json::from_str(&json).unwrap();
    assert_eq!(back, item);
    assert_eq!(back.id(), item.id());
}

fn item_body_fixture() -> ItemBody {
    common::item_body(cert())
}
