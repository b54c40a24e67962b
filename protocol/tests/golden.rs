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
use cairn_protocol::encryption::{EncryptionPublicKey, Sealed};
use cairn_protocol::entity::{EntityType, Role, Sector};
use cairn_protocol::envelope::Recipient;
use cairn_protocol::handshake::{Handshake, RevocationSummary};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{
    Certificate, Content, Envelope, ItemBytes, ItemKind, ParticipationKind, Receipt,
    RevocationReason, Selector, SignedEvent, SignedItem, Tlp,
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

const CERTIFICATE_HEX: &str = concat!("03", certificate_hex!());
const CERTIFICATE_ID: &str = "74298104d6fd4e4652d75decbb5d1f875fab86b0a1a66a19b1b5181a01c3d022";

const ITEM_HEX: &str = concat!("03", item_hex!());
const ITEM_ID: &str = "14a6bad5a3d3b43a0cede723693a57575d3d78a1f781305a7d3d777ec2399878";

const SEALED_CONTENT_HEX: &str = concat!(
    "03",                                                                 // codec version
    "01",                                                                 // content: Sealed
    "02",                                                                 // two selectors
    "000141",                                                             // Entity("A")
    "0104",                                                               // Sector(health)
    "01",                                                                 // one recipient
    "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
    "201111111111111111111111111111111111111111111111111111111111111111", // encapsulated key
    "30222222222222222222222222222222222222222222222222",
    "222222222222222222222222222222222222222222222222", // wrapped content key (48)
    "1033333333333333333333333333333333",               // ciphertext (16)
);

const EVENT_HEX: &str = concat!(
    "03",                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community
    "00",                                 // kind: joined
    "fd0008a922a3010000",                 // effective T0 + 2 d
    certificate_hex!(),                   // the member's certificate
    "01",                                 // sequence 1
    "40171eba2b522e194e60e153f2d3b6c51bd22a5daff4bc24b25f693543dce3bf38",
    "09f94479e47e2b11147d53b3ee2f4ba29ff9c98bf772b11aedab1d03857a8409", // signature
);
const EVENT_ID: &str = "19c1f5eae43a57804da9dc747670fa25dd0013b2b32ec0d0f3c3b6c425fdac7d";

const RECEIPT_HEX: &str = concat!(
    "03",                                                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
    "2019c1f5eae43a57804da9dc747670fa25dd0013b2b32ec0d0f3c3b6c425fdac7d", // event id
    "04",                                                                 // register index 4
    "fddc0da922a3010000", // registered_at T0 + 2 d + 1.5 s
    "20ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1", // authority key
    "400b78f6ae7f095f3e68c3b49c6e1901924f74457bbcdaa8fa3e39800fd82ea5f4",
    "f967edf1e2d9b8ae72c11ab4138e0db40d0698128488b7be73dcdba5bafe1f07", // signature
);

const REVOCATION_HEX: &str = concat!("03", revocation_hex!());
const REVOCATION_ID: &str = "353e24ee898fc4587179cf8d35708498c7a364d2de3fc4de518ee24938716176";

const GOSSIP_ITEM_HEX: &str = concat!("03", "00", item_hex!(), certificate_hex!());
const GOSSIP_REVOCATION_HEX: &str = concat!("03", "01", revocation_hex!());
const HANDSHAKE_HELLO_HEX: &str = concat!(
    "03",                                                                 // codec version
    "00",                                                                 // variant 0: Hello
    certificate_hex!(), // the dialer's certificate
    "01",               // revocation summary: count 1
    "206a5904bfc899ccb8840131bb0f6b7841fdd84e362f60f30a9ce3dce0f7bd1c6f", // digest
);
/// A refusal that carries the revocation behind it.
const HANDSHAKE_REVOKED_HEX: &str = concat!(
    "03",                                       // codec version
    "06",                                       // variant 6: Revoked
    "136365727469666963617465207265766f6b6564", // "certificate revoked"
    revocation_hex!(),                          // the revocation
);
const REQUEST_CERTIFICATE_HEX: &str = concat!("03", "00", certificate_hex!());
const RESPONSE_REFUSED_HEX: &str = concat!(
    "03",                                       // codec version
    "02",                                       // variant 2: Refused
    "1363657274696669636174652065787069726564", // "certificate expired"
);

/// The certificate as JSON (key and certificate files, the control API).
/// Not covered by `codec::VERSION`, but files already written depend on it.
const CERTIFICATE_JSON: &str = concat!(
    r#"{"body":{"community":"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a","serial":7,"#,
    r#""issuer":"8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c","#,
    r#""member_key":"8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394","#,
    r#""encryption_key":"8071b9337319956a36720bf2ddf44bb960e9a5f08bc147bf31530514c046510b","#,
    r#""subject":{"Entity":{"name":"St. Example Hospital","entity_type":"essential","#,
    r#""sector":"health","member_state":"DE"}},"roles":["publish","receive"],"#,
    r#""not_before":1800000000000,"not_after":1831536000000},"#,
    r#""signature":"5f40d30c6f8b773a27186ffe6c2365a6cd1d3fea1ef4146de45dbe0fbcea177e"#,
    r#"e5f9bfd9bfb8ff6c4fc25bd7b6291355b968d04ffbd345f68f2eef8671bbb905"}"#,
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
    assert_eq!(
        revocation()
            .verify(&community(), T0.plus_days(4))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn golden_revocation() {
    let r = revocation();
    assert_golden(&r, REVOCATION_HEX);
    assert_eq!(r.id().to_string(), REVOCATION_ID);
    let g = GossipMessage::Revocation { revocation: r };
    assert_golden(&g, GOSSIP_REVOCATION_HEX);
}

#[test]
fn golden_handshake_hello() {
    let h = Handshake::Hello {
        certificate: certificate(),
        revocations: RevocationSummary::of(&[revocation().id()]),
    };
    assert_golden(&h, HANDSHAKE_HELLO_HEX);
}

#[test]
fn golden_handshake_revoked() {
    let h = Handshake::Revoked {
        reason: "certificate revoked".into(),
        revocation: revocation(),
    };
    assert_golden(&h, HANDSHAKE_REVOKED_HEX);
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

/// The layout of a sealed item's content (the envelope's bytes are random
/// in real items, so they are fixed by hand here).
#[test]
fn golden_sealed_content() {
    let content = Content::Sealed(Envelope {
        selectors: vec![
            Selector::Entity("A".into()),
            Selector::Sector(Sector::Health),
        ],
        recipients: vec![Recipient {
            member_key: member().public(),
            content_key: Sealed {
                encapsulated_key: EncryptionPublicKey([0x11; 32]),
                ciphertext: vec![0x22; 48],
            },
        }],
        ciphertext: vec![0x33; 16],
    });
    assert_golden(&content, SEALED_CONTENT_HEX);
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
fn golden_request_certificate() {
    let r = Request::Certificate {
        certificate: certificate(),
    };
    assert_golden(&r, REQUEST_CERTIFICATE_HEX);
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
        (REVOCATION_HEX, REVOCATION_ID),
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
        &Request::Certificate {
            certificate: c.clone(),
        },
        0,
        &c,
    );
    frame_with_variant(&Request::Participation { event: e.clone() }, 1, &e);
    frame_with_variant(&Response::Accepted, 0, &());
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
    let summary = RevocationSummary::of(&[]);
    frame_with_variant(&Request::Revocations { summary }, 4, &summary);
    let rids = vec![revocation().id()];
    frame_with_variant(&Request::FetchRevocations { ids: rids.clone() }, 5, &rids);
    frame_with_variant(&Response::RevocationIds { ids: rids.clone() }, 5, &rids);
    let revs = vec![revocation()];
    frame_with_variant(
        &Response::Revocations {
            revocations: revs.clone(),
        },
        6,
        &revs,
    );
    frame_with_variant(&Response::RevocationsInSync, 7, &());
    frame_with_variant(
        &Handshake::Welcome {
            certificate: c.clone(),
            revocations: summary,
        },
        1,
        &(c.clone(), summary),
    );
    frame_with_variant(&Handshake::Refused { reason: "x".into() }, 2, &"x");
    frame_with_variant(&Handshake::Done, 3, &());
    frame_with_variant(&Handshake::RevocationIds { ids: rids.clone() }, 4, &rids);
    frame_with_variant(
        &Handshake::Revocations {
            revocations: revs.clone(),
            more: false,
        },
        5,
        &(revs.clone(), false),
    );
    frame_with_variant(
        &Handshake::Revoked {
            reason: "x".into(),
            revocation: revs[0].clone(),
        },
        6,
        &("x", revs[0].clone()),
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
    check(
        RevocationReason::ALL,
        &["key-compromise", "withdrawn", "superseded", "misbehaviour"],
    );
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

/// A member directory record (`protocol::directory`), exchanged on its own
/// protocol: the certificate's bytes are `certificate_hex!()`.
const DIRECTORY_ANSWER_HEX: &str = concat!(
    "03",                                                                 // version
    "01",                                                                 // one record
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
    "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // member key
    "01",                                                                 // one address
    "172f6970342f3139322e302e322e372f7463702f37343030", // "/ip4/192.0.2.7/tcp/7400"
    "fd00ac821da3010000",                               // signed_at T0 + 1 d
    "40d02cc1a3e2177e7259bce272129be190848627f90b6299dd47528b2b3e95c3",
    "868c0c22cf517bec38d2bcc918610c93809d0049cbdab37eee6b2e001f4af9dc06", // signature
    certificate_hex!(),                                                   // its certificate
);
const DIRECTORY_REQUEST_HEX: &str = concat!(
    "03",                                                                 // version
    "01",                                                                 // one held record:
    "208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394", // its key
    "fd00ac821da3010000",                                                 // its version
    "00",                                                                 // mine: None
);

fn directory_record() -> cairn_protocol::directory::AddressRecord {
    cairn_protocol::directory::AddressRecord::sign(
        &member(),
        certificate(),
        vec!["/ip4/192.0.2.7/tcp/7400".into()],
        T0.plus_days(1),
    )
    .unwrap()
}

#[test]
fn golden_directory_exchange() {
    use cairn_protocol::directory::{DirectoryAnswer, DirectoryRequest};
    let r = directory_record();
    r.verify(&community(), &Default::default(), T0.plus_days(1))
        .unwrap();
    assert_golden(&DirectoryAnswer { records: vec![r] }, DIRECTORY_ANSWER_HEX);
    let q = DirectoryRequest {
        have: vec![(member().public(), T0.plus_days(1))],
        mine: None,
    };
    assert_golden(&q, DIRECTORY_REQUEST_HEX);
}
