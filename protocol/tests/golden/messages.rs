//! Golden vectors of the wire messages around the signed values: gossip,
//! the admission handshake, direct requests and responses, and the pinned
//! variant index of every message kind.

use crate::assert_golden;
use crate::common::*;
use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::handshake::{Handshake, RevocationSummary};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::ItemBytes;
use serde::Serialize;

pub(crate) const GOSSIP_ITEM_HEX: &str = concat!("03", "00", item_hex!(), certificate_hex!());
pub(crate) const GOSSIP_REVOCATION_HEX: &str = concat!("03", "01", revocation_hex!());
pub(crate) const HANDSHAKE_HELLO_HEX: &str = concat!(
    "03",                                                                 // codec version
    "00",                                                                 // variant 0: Hello
    certificate_hex!(), // the dialer's certificate
    "01",               // revocation summary: count 1
    "206a5904bfc899ccb8840131bb0f6b7841fdd84e362f60f30a9ce3dce0f7bd1c6f", // digest
);
/// A refusal that carries the revocation behind it.
pub(crate) const HANDSHAKE_REVOKED_HEX: &str = concat!(
    "03",                                       // codec version
    "06",                                       // variant 6: Revoked
    "136365727469666963617465207265766f6b6564", // "certificate revoked"
    revocation_hex!(),                          // the revocation
);
pub(crate) const REQUEST_CERTIFICATE_HEX: &str = concat!("03", "00", certificate_hex!());
pub(crate) const RESPONSE_REFUSED_HEX: &str = concat!(
    "03",                                       // codec version
    "02",                                       // variant 2: Refused
    "1363657274696669636174652065787069726564", // "certificate expired"
);

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
