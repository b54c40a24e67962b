//! Golden vectors of the signed values: certificate, item (and a sealed
//! item's content), participation event, receipt and revocation, with the
//! ids derived from their frames.

use crate::assert_golden;
use crate::common::*;
use crate::messages::GOSSIP_REVOCATION_HEX;
use cairn_protocol::encryption::{EncryptionPublicKey, Sealed};
use cairn_protocol::entity::Sector;
use cairn_protocol::envelope::Recipient;
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{Content, Envelope, Selector};

pub(crate) const CERTIFICATE_HEX: &str = concat!("03", certificate_hex!());
pub(crate) const CERTIFICATE_ID: &str =
    "74298104d6fd4e4652d75decbb5d1f875fab86b0a1a66a19b1b5181a01c3d022";

pub(crate) const ITEM_HEX: &str = concat!("03", item_hex!());
pub(crate) const ITEM_ID: &str = "14a6bad5a3d3b43a0cede723693a57575d3d78a1f781305a7d3d777ec2399878";

pub(crate) const SEALED_CONTENT_HEX: &str = concat!(
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

pub(crate) const EVENT_HEX: &str = concat!(
    "03",                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a", // community
    "00",                                 // kind: joined
    "fd0008a922a3010000",                 // effective T0 + 2 d
    certificate_hex!(),                   // the member's certificate
    "01",                                 // sequence 1
    "40171eba2b522e194e60e153f2d3b6c51bd22a5daff4bc24b25f693543dce3bf38",
    "09f94479e47e2b11147d53b3ee2f4ba29ff9c98bf772b11aedab1d03857a8409", // signature
);
pub(crate) const EVENT_ID: &str =
    "19c1f5eae43a57804da9dc747670fa25dd0013b2b32ec0d0f3c3b6c425fdac7d";

pub(crate) const RECEIPT_HEX: &str = concat!(
    "03",                                                                 // codec version
    "105a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",                                 // community
    "2019c1f5eae43a57804da9dc747670fa25dd0013b2b32ec0d0f3c3b6c425fdac7d", // event id
    "04",                                                                 // register index 4
    "fddc0da922a3010000", // registered_at T0 + 2 d + 1.5 s
    "20ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1", // authority key
    "400b78f6ae7f095f3e68c3b49c6e1901924f74457bbcdaa8fa3e39800fd82ea5f4",
    "f967edf1e2d9b8ae72c11ab4138e0db40d0698128488b7be73dcdba5bafe1f07", // signature
);

pub(crate) const REVOCATION_HEX: &str = concat!("03", revocation_hex!());
pub(crate) const REVOCATION_ID: &str =
    "353e24ee898fc4587179cf8d35708498c7a364d2de3fc4de518ee24938716176";

#[test]
fn golden_revocation() {
    let r = revocation();
    assert_golden(&r, REVOCATION_HEX);
    assert_eq!(r.id().to_string(), REVOCATION_ID);
    let g = GossipMessage::Revocation { revocation: r };
    assert_golden(&g, GOSSIP_REVOCATION_HEX);
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
