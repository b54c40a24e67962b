//! Tests of item signing and verification.

use super::*;
use crate::certificate::tests::{body_for, cert_for, community, issuer, member, T0};

pub fn body(cert: &Certificate) -> ItemBody {
    ItemBody {
        community: community().id,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Amber,
        title: "C2 domain seen in hospital VPN logs".into(),
        body: "Beaconing to example.invalid every 60 s.".into(),
        payload: Some(Payload {
            media_type: "application/stix+json;version=2.1".into(),
            bytes: br#"{"type":"indicator"}"#.to_vec(),
        }),
        tags: vec!["rsit:malicious-code".into()],
        created: T0.plus_days(1),
        publisher: cert.id(),
    }
}

fn now() -> Timestamp {
    T0.plus_days(1).plus_millis(10)
}

#[test]
fn a_signed_item_verifies() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    assert_eq!(item.verify(&c, &community(), now()), Ok(()));
}

#[test]
fn any_change_breaks_the_signature_and_the_id() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    let mut forged = item.clone();
    forged.body.tlp = Tlp::Clear;
    assert_eq!(
        forged.verify(&c, &community(), now()),
        Err(ItemError::BadSignature)
    );
    assert_ne!(forged.id(), item.id());
}

#[test]
fn a_signature_by_someone_else_is_refused() {
    let c = cert_for(&member());
    let b = body(&c);
    let mallory = crate::identity::SecretKey::from_seed(&[42; 32]);
    let signature = mallory.sign(&signing_input(DOMAIN_ITEM, &b).unwrap());
    let forged = SignedItem { body: b, signature };
    assert_eq!(
        forged.verify(&c, &community(), now()),
        Err(ItemError::BadSignature)
    );
}

#[test]
fn the_certificate_must_be_the_named_one() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    let other = cert_for(&crate::identity::SecretKey::from_seed(&[43; 32]));
    assert!(matches!(
        item.verify(&other, &community(), now()),
        Err(ItemError::PublisherMismatch { .. })
    ));
}

#[test]
fn readers_without_the_publish_role_cannot_publish() {
    let c =
        crate::certificate::Certificate::issue(body_for(&member(), vec![Role::Receive]), &issuer())
            .unwrap();
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    assert_eq!(
        item.verify(&c, &community(), now()),
        Err(ItemError::NotPermitted)
    );
}

#[test]
fn items_created_outside_the_certificate_validity_are_refused() {
    let c = cert_for(&member());
    let mut b = body(&c);
    b.created = T0.plus_days(400);
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    assert!(matches!(
        item.verify(&c, &community(), T0.plus_days(400)),
        Err(ItemError::Certificate(CertificateError::Expired { .. }))
    ));
}

#[test]
fn old_items_stay_valid_after_the_certificate_expires() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    assert_eq!(item.verify(&c, &community(), T0.plus_days(1000)), Ok(()));
}

#[test]
fn items_from_the_future_are_refused() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    assert!(matches!(
        item.verify(&c, &community(), T0),
        Err(ItemError::FromTheFuture { .. })
    ));
}

#[test]
fn other_community_items_are_refused() {
    let c = cert_for(&member());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    let mut other = community();
    other.id = CommunityId([1; 16]);
    assert!(matches!(
        item.verify(&c, &other, now()),
        Err(ItemError::OtherCommunity { .. })
    ));
}

#[test]
fn shape_limits_are_enforced() {
    let c = cert_for(&member());
    let cases: Vec<fn(&mut ItemBody)> = vec![
        |b| b.title = String::new(),
        |b| b.title = "x".repeat(MAX_TITLE + 1),
        |b| b.body = "x".repeat(MAX_BODY + 1),
        |b| b.payload.as_mut().unwrap().bytes = vec![0; MAX_PAYLOAD + 1],
        |b| b.payload.as_mut().unwrap().media_type = "stix".into(),
        |b| b.tags = vec!["a".into(); MAX_TAGS + 1],
        |b| b.tags = vec!["has space".into()],
        |b| b.tags = vec![String::new()],
    ];
    for (i, mutate) in cases.iter().enumerate() {
        let mut b = body(&c);
        mutate(&mut b);
        assert!(
            matches!(
                SignedItem::sign(b, &member(), &c),
                Err(ItemError::Malformed(_))
            ),
            "case {i}"
        );
    }
}

#[test]
fn the_cached_path_checks_everything_but_the_certificate_signature() {
    let c = cert_for(&member());
    let publisher = c.authenticate(&community()).unwrap();
    assert_eq!(publisher.id(), c.id());
    let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
    assert_eq!(item.verify_from(&publisher, &community(), now()), Ok(()));
    let mut forged = item.clone();
    forged.body.title = "other".into();
    assert_eq!(
        forged.verify_from(&publisher, &community(), now()),
        Err(ItemError::BadSignature)
    );
    // Checked at creation time, so still valid after the certificate expired.
    let later = T0.plus_days(400);
    assert_eq!(item.verify_from(&publisher, &community(), later), Ok(()));
    let mut late = body(&c);
    late.created = later;
    let late = SignedItem::sign(late, &member(), &c).unwrap();
    assert!(matches!(
        late.verify_from(&publisher, &community(), later),
        Err(ItemError::Certificate(CertificateError::Expired { .. }))
    ));
    // Another member's authenticated certificate is not this item's publisher.
    let other = crate::identity::SecretKey::from_seed(&[43; 32]);
    let other = cert_for(&other).authenticate(&community()).unwrap();
    assert!(matches!(
        item.verify_from(&other, &community(), now()),
        Err(ItemError::PublisherMismatch { .. })
    ));
}

#[test]
fn only_issued_certificates_authenticate() {
    let mut c = cert_for(&member());
    c.body.serial += 1;
    assert_eq!(
        c.authenticate(&community()).unwrap_err(),
        CertificateError::BadSignature
    );
}

#[test]
fn the_largest_allowed_item_fits_in_a_frame() {
    let c = cert_for(&member());
    let mut b = body(&c);
    b.title = "t".repeat(MAX_TITLE);
    b.body = "b".repeat(MAX_BODY);
    b.payload.as_mut().unwrap().bytes = vec![0xff; MAX_PAYLOAD];
    b.tags = vec!["t".repeat(MAX_TAG); MAX_TAGS];
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    let envelope = crate::wire::GossipMessage::Item {
        item,
        certificate: c,
    };
    assert!(codec::encode(&envelope).is_ok());
}
