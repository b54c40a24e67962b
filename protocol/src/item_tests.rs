//! Tests of item signing and verification.

use super::*;
use crate::certificate::tests::{body_for, cert_for, community, issuer, member, T0};

pub fn body(cert: &Certificate) -> ItemBody {
    ItemBody {
        community: community().id,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Amber,
        content: Content::Open(Contents {
            title: "C2 domain seen in hospital VPN logs".into(),
            body: "Beaconing to example.invalid every 60 s.".into(),
            payload: Some(Payload {
                media_type: "application/stix+json;version=2.1".into(),
                bytes: br#"{"type":"indicator"}"#.to_vec(),
            }),
            tags: vec!["rsit:malicious-code".into()],
        }),
        created: T0.plus_days(1),
        publisher: cert.id(),
    }
}

/// The open contents of a test body.
pub fn open(b: &mut ItemBody) -> &mut Contents {
    match &mut b.content {
        Content::Open(c) => c,
        Content::Sealed(_) => panic!("a sealed test item"),
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
        |b| open(b).title = String::new(),
        |b| open(b).title = "x".repeat(MAX_TITLE + 1),
        |b| open(b).body = "x".repeat(MAX_BODY + 1),
        |b| open(b).payload.as_mut().unwrap().bytes = vec![0; MAX_PAYLOAD + 1],
        |b| open(b).payload.as_mut().unwrap().media_type = "stix".into(),
        |b| open(b).tags = vec!["a".into(); MAX_TAGS + 1],
        |b| open(b).tags = vec!["has space".into()],
        |b| open(b).tags = vec![String::new()],
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
    open(&mut forged.body).title = "other".into();
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
    open(&mut b).title = "t".repeat(MAX_TITLE);
    open(&mut b).body = "b".repeat(MAX_BODY);
    open(&mut b).payload.as_mut().unwrap().bytes = vec![0xff; MAX_PAYLOAD];
    open(&mut b).tags = vec!["t".repeat(MAX_TAG); MAX_TAGS];
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    let envelope = crate::wire::GossipMessage::Item {
        item,
        certificate: c,
    };
    assert!(codec::encode(&envelope).is_ok());
}

fn sealed_body(
    cert: &Certificate,
    tlp: Tlp,
    selectors: Vec<Selector>,
    to: &[SecretKey],
) -> ItemBody {
    let mut b = body(cert);
    b.tlp = tlp;
    let contents = open(&mut b).clone();
    let recipients: Vec<_> = to
        .iter()
        .map(|k| (k.public(), EncryptionSecretKey::derive_from(k).public()))
        .collect();
    b.content = Content::Sealed(
        crate::envelope::seal(&contents, &recipients, selectors, b.seal_context()).unwrap(),
    );
    b
}

use crate::audience::Selector;
use crate::encryption::EncryptionSecretKey;
use crate::identity::SecretKey;

#[test]
fn an_audience_item_verifies_everywhere_and_opens_for_its_recipients() {
    let c = cert_for(&member());
    let reader = SecretKey::from_seed(&[50; 32]);
    let outsider = SecretKey::from_seed(&[51; 32]);
    let selectors = vec![Selector::Entity("Reader".into())];
    let b = sealed_body(&c, Tlp::Red, selectors, &[member(), reader.clone()]);
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    assert_eq!(item.verify(&c, &community(), now()), Ok(()));
    let envelope = item.body.envelope().unwrap();
    let context = item.body.seal_context();
    let opened = envelope
        .open(
            &reader.public(),
            &EncryptionSecretKey::derive_from(&reader),
            context,
        )
        .unwrap();
    assert_eq!(opened.title, "C2 domain seen in hospital VPN logs");
    assert_eq!(
        envelope.open(
            &outsider.public(),
            &EncryptionSecretKey::derive_from(&outsider),
            context
        ),
        Err(crate::envelope::EnvelopeError::NotARecipient)
    );
    let bytes = codec::encode(&item).unwrap();
    assert!(!bytes.windows(9).any(|w| w == b"C2 domain"));
}

#[test]
fn a_marking_that_does_not_fit_the_audience_is_refused_like_a_forgery() {
    let c = cert_for(&member());
    // TLP:RED to the whole community: the publisher cannot sign it...
    let mut red = body(&c);
    red.tlp = Tlp::Red;
    assert!(matches!(
        SignedItem::sign(red.clone(), &member(), &c),
        Err(ItemError::Marking(MarkingError::RedNeedsRecipients))
    ));
    // ...and a hand-signed one is refused by every verifier.
    let signature = member().sign(&signing_input(DOMAIN_ITEM, &red).unwrap());
    let forged = SignedItem {
        body: red,
        signature,
    };
    assert!(matches!(
        forged.verify(&c, &community(), now()),
        Err(ItemError::Marking(MarkingError::RedNeedsRecipients))
    ));
    // TLP:RED to a sector, TLP:GREEN to an audience.
    let sector = vec![Selector::Sector(crate::entity::Sector::Health)];
    let b = sealed_body(&c, Tlp::Red, sector, &[member()]);
    assert!(matches!(
        SignedItem::sign(b, &member(), &c),
        Err(ItemError::Marking(MarkingError::RedToGroup(_)))
    ));
    let b = sealed_body(&c, Tlp::Green, vec![], &[member()]);
    assert!(matches!(
        SignedItem::sign(b, &member(), &c),
        Err(ItemError::Marking(MarkingError::CommunityOnly(_)))
    ));
}

#[test]
fn a_relay_cannot_lower_the_marking_or_widen_the_audience() {
    let c = cert_for(&member());
    let reader = SecretKey::from_seed(&[50; 32]);
    let b = sealed_body(&c, Tlp::AmberStrict, vec![], &[member(), reader]);
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    let mut lowered = item.clone();
    lowered.body.tlp = Tlp::Amber;
    assert_eq!(
        lowered.verify(&c, &community(), now()),
        Err(ItemError::BadSignature)
    );
    let mut widened = item.clone();
    let extra = SecretKey::from_seed(&[52; 32]);
    let Content::Sealed(e) = &mut widened.body.content else {
        unreachable!()
    };
    let mut entry = e.recipients[0].clone();
    entry.member_key = extra.public();
    e.recipients.push(entry);
    e.selectors
        .push(Selector::Sector(crate::entity::Sector::Energy));
    assert_eq!(
        widened.verify(&c, &community(), now()),
        Err(ItemError::BadSignature)
    );
    // Opened up to the community: still signed over the envelope.
    let mut opened = item.clone();
    opened.body.content = body(&c).content;
    assert_eq!(
        opened.verify(&c, &community(), now()),
        Err(ItemError::BadSignature)
    );
}

#[test]
fn the_largest_audience_item_fits_in_a_frame() {
    let c = cert_for(&member());
    let mut b = body(&c);
    open(&mut b).title = "t".repeat(MAX_TITLE);
    open(&mut b).body = "b".repeat(MAX_BODY);
    open(&mut b).payload.as_mut().unwrap().bytes = vec![0xff; MAX_PAYLOAD];
    open(&mut b).payload.as_mut().unwrap().media_type = "m".repeat(MAX_TAG - 2) + "/x";
    open(&mut b).tags = vec!["t".repeat(MAX_TAG); MAX_TAGS];
    let contents = open(&mut b).clone();
    let recipients: Vec<_> = (0..crate::audience::MAX_RECIPIENTS)
        .map(|i| {
            let k = SecretKey::from_seed(&[
                (i % 251) as u8,
                (i / 251) as u8,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
            ]);
            (k.public(), EncryptionSecretKey::derive_from(&k).public())
        })
        .collect();
    let selectors = (0..crate::audience::MAX_SELECTORS)
        .map(|i| {
            Selector::Entity(format!(
                "{i:0>width$}",
                width = crate::subject::MAX_ENTITY_NAME
            ))
        })
        .collect();
    b.content = Content::Sealed(
        crate::envelope::seal(&contents, &recipients, selectors, b.seal_context()).unwrap(),
    );
    let item = SignedItem::sign(b, &member(), &c).unwrap();
    let message = crate::wire::GossipMessage::Item {
        item,
        certificate: c,
    };
    let size = codec::encode(&message).unwrap().len();
    assert!(size < codec::MAX_FRAME, "{size}");
}
