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

mod common;

use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::entity::{EntityType, Role, Sector};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{
    Certificate, ItemBytes, ItemKind, ParticipationKind, Receipt, SignedEvent, SignedItem, Tlp,
};
use common::*;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

/// The certificate of `common::certificate()`, without the version byte.
macro_rules! certificate_hex {
    () => {
        concat!(
            "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community: len 16, 5a x 16
            "07",                                 // serial 7
            "208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c", // issuer key
            "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
            "1453742e204578616d706c6520486f73706974616c", // "St. Example Hospital"
            "00",                                 // entity type: essential
            "04",                                 // sector: health
            "024445",                             // member state "DE"
            "020001",                             // roles [publish, receive]
            "fd00505c18a3010000",                 // not_before T0
            "fd007c0d70aa010000",                 // not_after T0 + 365 d
            "40483941909181369f7b901c51cf7bf8e472dbb370981ab697a4dcff62558ca6ad",
            "7b9cf8c0116efb5727b1bf394cb361f4182d30f0350df8837169163bdc87ab0a", // signature
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
            "20eca03d800f0f3f44b6226f7c4a4a1175a09715c44502cb786955a579aede05cb", // publisher
            "40253c5d67898c1fb2fbf5a27fb90f9d8f106b434998fd3949f3d551fc236d53f8",
            "d27f588661594cb1f4ee78aaf36c69d3d80cd82cb91606dc7ee7f30e73852e01", // signature
        )
    };
}

const CERTIFICATE_HEX: &str = concat!("01", certificate_hex!());
const CERTIFICATE_ID: &str = "eca03d800f0f3f44b6226f7c4a4a1175a09715c44502cb786955a579aede05cb";

const ITEM_HEX: &str = concat!("01", item_hex!());
const ITEM_ID: &str = "710c21b4dca50a002d731e0cbd5c260facd491dd723b9dacae43da7c4f506112";

const EVENT_HEX: &str = concat!(
    "01",                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community
    "00",                                 // kind: joined
    "fd0008a922a3010000",                 // effective T0 + 2 d
    certificate_hex!(),                   // the member's certificate
    "01",                                 // sequence 1
    "40c55dd8d28bbecfa608f8dc204eb6ab13e31791135b8ae664017a433c64b6cc40",
    "ebb0e42cb3138119eeb067fc0a525cf447a079c737a1b9133169097f17b24100", // signature
);
const EVENT_ID: &str = "4c4bdb3c35747ef17517b991378bb789652374e3c02d33066eda9325d3528340";

const RECEIPT_HEX: &str = concat!(
    "01",                                                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
    "204c4bdb3c35747ef17517b991378bb789652374e3c02d33066eda9325d3528340", // event id
    "04",                                                                 // register index 4
    "fddc0da922a3010000", // registered_at T0 + 2 d + 1.5 s
    "20ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1", // authority key
    "40df69a80d11c4fe1b0c1d588b25b10349054c33df3613c7cb84699866a35332e1",
    "72161c86cad2dc4ffa9cf51437ed6f5a765910d82f82d1842437424833cc730c", // signature
);

const GOSSIP_ITEM_HEX: &str = concat!("01", "00", item_hex!(), certificate_hex!());
const REQUEST_HELLO_HEX: &str = concat!("01", "00", certificate_hex!());
const RESPONSE_REFUSED_HEX: &str = concat!(
    "01",                                       // codec version
    "02",                                       // variant 2: Refused
    "1363657274696669636174652065787069726564", // "certificate expired"
);

/// The certificate as JSON (key and certificate files, the control API).
/// Not covered by `codec::VERSION`, but files already written depend on it.
const CERTIFICATE_JSON: &str = concat!(
    r#"{"body":{"community":"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a","serial":7,"#,
    r#""issuer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","#,
    r#""member_key":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","#,
    r#""entity_name":"St. Example Hospital","entity_type":"essential","sector":"health","#,
    r#""member_state":"DE","roles":["publish","receive"],"#,
    r#""not_before":1800000000000,"not_after":1831536000000},"#,
    r#""signature":"483941909181369f7b901c51cf7bf8e472dbb370981ab697a4dcff62558ca6ad"#,
    r#"7b9cf8c0116efb5727b1bf394cb361f4182d30f0350df8837169163bdc87ab0a"}"#,
);

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
}

#[test]
fn golden_certificate() {
    let c = certificate();
    assert_golden(&c, CERTIFICATE_HEX);
    assert_eq!(c.id().to_string(), CERTIFICATE_ID);
}

#[test]
fn golden_signed_item() {
    let i = item();
    assert_golden(&i, ITEM_HEX);
    assert_eq!(i.id().to_string(), ITEM_ID);
    assert_eq!(i.body.publisher.to_string(), CERTIFICATE_ID);
}

#[test]
fn golden_signed_event() {
    let e = event();
    assert_golden(&e, EVENT_HEX);
    assert_eq!(e.id().to_string(), EVENT_ID);
}

#[test]
fn golden_receipt() {
    let r = receipt();
    assert_golden(&r, RECEIPT_HEX);
    assert_eq!(r.body.event.to_string(), EVENT_ID);
}

#[test]
fn golden_gossip_item() {
    let m = GossipMessage::Item {
        item: item(),
        certificate: certificate(),
    };
    assert_golden(&m, GOSSIP_ITEM_HEX);
}

#[test]
fn golden_request_hello() {
    let r = Request::Hello {
        certificate: certificate(),
    };
    assert_golden(&r, REQUEST_HELLO_HEX);
}

#[test]
fn golden_response_refused() {
    let r = Response::Refused {
        reason: "certificate expired".into(),
    };
    assert_golden(&r, RESPONSE_REFUSED_HEX);
}

#[test]
fn ids_are_sha256_of_the_golden_frames() {
    use sha2::{Digest, Sha256};
    for (frame, id) in [
        (CERTIFICATE_HEX, CERTIFICATE_ID),
        (ITEM_HEX, ITEM_ID),
        (EVENT_HEX, EVENT_ID),
    ] {
        let digest = Sha256::digest(hex::decode(frame).unwrap());
        assert_eq!(hex::encode(digest), id);
    }
}

/// The other wire variants are pinned by their index: a variant's fields are
/// encoded inline after it, so the frame is `version | index | fields`.
#[test]
fn wire_variant_indices_are_pinned() {
    fn frame_with_variant<T: Serialize, F: Serialize>(value: &T, index: u8, fields: &F) {
        let mut expected = vec![VERSION, index];
        expected.extend_from_slice(&codec::encode(fields).unwrap()[1..]);
        assert_eq!(codec::encode(value).unwrap(), expected);
    }
    let (c, e, r) = (certificate(), event(), receipt());
    frame_with_variant(
        &Request::Hello {
            certificate: c.clone(),
        },
        0,
        &c,
    );
    frame_with_variant(&Request::Participation { event: e.clone() }, 1, &e);
    frame_with_variant(
        &Response::Welcome {
            certificate: c.clone(),
        },
        0,
        &c,
    );
    frame_with_variant(&Response::Receipt { receipt: r.clone() }, 1, &r);
    frame_with_variant(&Response::Refused { reason: "x".into() }, 2, &"x");
    let bytes = vec![0x61u8, 1, 2];
    frame_with_variant(
        &Request::Reconcile {
            message: bytes.clone(),
        },
        2,
        &bytes,
    );
    let ids = vec![item().id()];
    frame_with_variant(&Request::Fetch { ids: ids.clone() }, 3, &ids);
    frame_with_variant(
        &Response::Reconcile {
            message: bytes.clone(),
        },
        3,
        &bytes,
    );
    frame_with_variant(
        &Response::Items {
            certificates: vec![c.clone()],
            items: vec![ItemBytes(codec::encode(&item()).unwrap())],
        },
        4,
        &(
            vec![c.clone()],
            vec![ItemBytes(codec::encode(&item()).unwrap())],
        ),
    );
    let m = GossipMessage::Item {
        item: item(),
        certificate: c.clone(),
    };
    frame_with_variant(&m, 0, &(item(), c));
}

/// Every vocabulary word keeps its variant index. Appending a new word at the
/// end of an enum (and of its list here) is compatible; reordering, renaming
/// or removing one changes the meaning of existing bytes.
#[test]
fn vocabulary_indices_are_pinned() {
    fn check<T>(all: &[T], names: &[&str])
    where
        T: Serialize + DeserializeOwned + std::str::FromStr + Copy + PartialEq + Debug,
        T::Err: Debug,
    {
        assert_eq!(all.len(), names.len(), "{names:?}");
        for (index, name) in names.iter().enumerate() {
            let value: T = name.parse().unwrap();
            assert_eq!(all[index], value);
            let frame = codec::encode(&value).unwrap();
            assert_eq!(frame, vec![VERSION, index as u8], "{name}");
            assert_eq!(codec::decode::<T>(&frame).unwrap(), value);
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{name}\"")
            );
        }
    }
    check(
        ItemKind::ALL,
        &[
            "cyber-threat",
            "near-miss",
            "vulnerability",
            "technique-and-procedure",
            "indicator-of-compromise",
            "adversarial-tactic",
            "threat-actor-information",
            "cybersecurity-alert",
            "configuration-recommendation",
        ],
    );
    check(
        Tlp::ALL,
        &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"],
    );
    check(
        EntityType::ALL,
        &[
            "essential",
            "important",
            "supplier",
            "csirt",
            "competent-authority",
        ],
    );
    check(
        Sector::ALL,
        &[
            "energy",
            "transport",
            "banking",
            "financial-market-infrastructures",
            "health",
            "drinking-water",
            "waste-water",
            "digital-infrastructure",
            "ict-service-management",
            "public-administration",
            "space",
            "postal-and-courier",
            "waste-management",
            "chemicals",
            "food",
            "manufacturing",
            "digital-providers",
            "research",
        ],
    );
    check(Role::ALL, &["publish", "receive", "authority"]);
    check(ParticipationKind::ALL, &["joined", "withdrawal-effective"]);
}

#[test]
fn golden_certificate_json() {
    let c = certificate();
    assert_eq!(serde_json::to_string(&c).unwrap(), CERTIFICATE_JSON);
    assert_eq!(
        serde_json::from_str::<Certificate>(CERTIFICATE_JSON).unwrap(),
        c
    );
}

#[test]
fn golden_values_survive_json() {
    let i = item();
    let back: SignedItem = serde_json::from_str(&serde_json::to_string(&i).unwrap()).unwrap();
    assert_eq!(back.id().to_string(), ITEM_ID);
    let e = event();
    let back: SignedEvent = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
    assert_eq!(back.id().to_string(), EVENT_ID);
    let r = receipt();
    let back: Receipt = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}
