//! Golden wire vectors: the exact bytes of one value of every top-level wire
//! type, built from fixed seeds, a fixed community id and fixed instants
//! (ed25519 signatures are deterministic, so whole signed values are stable).
//!
//! A FAILING TEST HERE MEANS THE WIRE FORMAT CHANGED. Nodes running the old
//! code would misread the new bytes, and every stored id and signature would
//! stop matching. Do not just paste the new output into the constant: either
//! undo the change, or make it deliberately, bump `codec::VERSION` (so old and
//! new nodes refuse each other's frames with a clear error instead of
//! misreading them) and only then regenerate the constants, whose first byte
//! changes with the version.
//!
//! Layout reminder (bincode 2 "standard"): integers are varints (`< 251` is
//! one byte, `fb` + u16, `fc` + u32, `fd` + u64, little endian), strings and
//! byte strings are a varint length then the bytes, `Option` is a `00`/`01`
//! tag, enums are a varint variant index, structs are their fields in
//! declaration order with no framing.
//!
//! The vectors are split by area, one file each under `golden/`: signed
//! values, wire messages, vocabulary indices, JSON forms, and the directory
//! exchange. The byte macros they share and [`assert_golden`] are here.

mod common;

use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::Certificate;
use common::*;
use serde::{de::DeserializeOwned, Serialize};
use signed::{
    CERTIFICATE_HEX, CERTIFICATE_ID, EVENT_HEX, EVENT_ID, ITEM_HEX, ITEM_ID, REVOCATION_HEX,
    REVOCATION_ID,
};
use std::fmt::Debug;

/// The certificate of `common::certificate()`, without the version byte.
macro_rules! certificate_hex {
    () => {
        concat!(
            "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community: len 16, 5a x 16
            "07",                                 // serial 7
            "208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c", // issuer key
            "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
            "208071b9337319956a36720bf2ddf44bb960e9a5f08bc147bf31530514c046510b", // X25519 key
            "00",                                 // subject: Entity
            "1453742e204578616d706c6520486f73706974616c", // "St. Example Hospital"
            "00",                                 // entity type: essential
            "04",                                 // sector: health
            "024445",                             // member state "DE"
            "020001",                             // roles [publish, receive]
            "fd00505c18a3010000",                 // not_before T0
            "fd007c0d70aa010000",                 // not_after T0 + 365 d
            "405f40d30c6f8b773a27186ffe6c2365a6cd1d3fea1ef4146de45dbe0fbcea177e",
            "e5f9bfd9bfb8ff6c4fc25bd7b6291355b968d04ffbd345f68f2eef8671bbb905", // signature
        )
    };
}

/// The item of `common::item()`, without the version byte.
macro_rules! item_hex {
    () => {
        concat!(
            "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community
            "04",                                 // kind: indicator-of-compromise
            "03",                                 // tlp: AMBER+STRICT
            "00",                                 // content: Open
            "23433220646f6d61696e207365656e20696e20686f73706974616c2056504e206c6f6773", // title
            "28426561636f6e696e6720746f206578616d706c652e696e76616c69642065766572792036",
            "3020732e",                                                             // body
            "01",                                                                   // payload: Some
            "216170706c69636174696f6e2f737469782b6a736f6e3b76657273696f6e3d322e31", // media type
            "147b2274797065223a22696e64696361746f72227d",                           // payload bytes
            "02",                                                                   // two tags
            "13727369743a6d616c6963696f75732d636f6465", // "rsit:malicious-code"
            "116376653a4356452d323032362d31323334",     // "cve:CVE-2026-1234"
            "fd00ac821da3010000",                       // created T0 + 1 d
            "2074298104d6fd4e4652d75decbb5d1f875fab86b0a1a66a19b1b5181a01c3d022", // publisher
            "404c631516171690c2d095eaf41acd87bba0760e6fe7bbc36f62c224a991a3e94a",
            "c632032134607117dec382e445cbd55ddab96f5c97f7767e5f9d707a88fc730a", // signature
        )
    };
}

/// The revocation of `common::revocation()`, without the version byte.
macro_rules! revocation_hex {
    () => {
        concat!(
            "00",                                                                 // variant: Issued
            "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
            "208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c", // issuer key
            "01",                                                                 // one certificate
            "2074298104d6fd4e4652d75decbb5d1f875fab86b0a1a66a19b1b5181a01c3d022", // its id
            "07",                                                                 // serial 7
            "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
            "00",                 // reason: key-compromise
            "fd0064cf27a3010000", // effective T0 + 3 d
            "fd604ed027a3010000", // issued T0 + 3 d + 1 min
            "407a027779a3af542ca147def3076ca1f987ef76281612b727cd4bbf8e7ce05103",
            "0d26ecaa1c2955897e273a69a2bbce7ccd0f51ed5f0dc94c3d4403f4565d4200", // signature
        )
    };
}

#[path = "golden/directory.rs"]
mod directory;
#[path = "golden/json.rs"]
mod json;
#[path = "golden/messages.rs"]
mod messages;
#[path = "golden/signed.rs"]
mod signed;
#[path = "golden/vocabulary.rs"]
mod vocabulary;

/// Asserts the exact encoding of `value` and that it decodes back to itself.
#[track_caller]
fn assert_golden<T>(value: &T, expected_hex: &str)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = codec::encode(value).unwrap();
    assert_eq!(
        hex::encode(&bytes),
        expected_hex,
        "the wire encoding changed: bump codec::VERSION, do not just update the constant"
    );
    let decoded: T = codec::decode(&hex::decode(expected_hex).unwrap()).unwrap();
    assert_eq!(&decoded, value);
    assert_eq!(&codec::decode::<T>(&bytes).unwrap(), value);
}

#[test]
fn the_fixtures_are_valid_values() {
    // Goldens of values that would be refused anyway would prove little.
    let c = certificate();
    assert_eq!(c.verify(&community(), T0.plus_days(1)), Ok(()));
    let i = item();
    assert_eq!(i.verify(&c, &community(), i.body.created), Ok(()));
    let e = event();
    assert_eq!(e.verify(&community(), T0.plus_days(2)), Ok(()));
    assert_eq!(receipt().verify(&community(), &e.id()), Ok(()));
    assert_eq!(
        revocation()
            .verify(&community(), T0.plus_days(4))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn frames_of_the_previous_version_are_refused_plainly() {
    let mut old = hex::decode(CERTIFICATE_HEX).unwrap();
    old[0] = VERSION - 1;
    let err = codec::decode::<Certificate>(&old).unwrap_err().to_string();
    assert!(
        err.contains(&format!("version {}", VERSION - 1)) && err.contains("another Cairn release"),
        "{err}"
    );
}

#[test]
fn ids_are_sha256_of_the_golden_frames() {
    use sha2::{Digest, Sha256};
    for (frame, id) in [
        (CERTIFICATE_HEX, CERTIFICATE_ID),
        (ITEM_HEX, ITEM_ID),
        (EVENT_HEX, EVENT_ID),
        (REVOCATION_HEX, REVOCATION_ID),
    ] {
        let digest = Sha256::digest(hex::decode(frame).unwrap());
        assert_eq!(hex::encode(digest), id);
    }
}
