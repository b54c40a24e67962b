//! Proptest strategies for the round-trip properties: items and
//! certificates anywhere within the shape limits of `item.rs` and
//! `certificate.rs`, signed with the shared test keys.

use crate::common::*;
use cairn_protocol::entity::MEMBER_STATES;
use cairn_protocol::item::{Payload, MAX_TAG, MAX_TAGS, MAX_TITLE};
use cairn_protocol::subject::MAX_ENTITY_NAME;
use cairn_protocol::{
    Certificate, CertificateBody, Content, Contents, EncryptionSecretKey, Entity, EntityType,
    ItemBody, ItemKind, Role, Sector, Selector, SignedItem, Subject, Timestamp, Tlp,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use std::sync::OnceLock;

/// The publisher's certificate, issued once and shared by every case.
pub fn cert() -> &'static Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(certificate)
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate_bytes(mut s: String, max: usize) -> String {
    while s.len() > max {
        s.pop();
    }
    s
}

/// Any characters at all (controls, non-BMP, ...), up to `chars` of them.
pub fn any_text(chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..=chars).prop_map(String::from_iter)
}

/// One-line text: any characters but controls, up to `chars` of them.
pub fn line_text(chars: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        any::<char>().prop_filter("no controls", |c| !c.is_control()),
        0..=chars,
    )
    .prop_map(String::from_iter)
}

pub fn title() -> impl Strategy<Value = String> {
    // Up to 200 characters of up to 4 bytes, cut at MAX_TITLE bytes so the
    // limit itself is often reached.
    line_text(200)
        .prop_map(|s| truncate_bytes(s, MAX_TITLE))
        .prop_filter("titles must not be blank", |s| !s.trim().is_empty())
}

pub fn tag() -> impl Strategy<Value = String> {
    // At most 32 characters of at most 4 bytes each: within MAX_TAG.
    "[^\\s\\p{Cc}]{1,32}".prop_map(|s| truncate_bytes(s, MAX_TAG))
}

pub fn payload() -> impl Strategy<Value = Option<Payload>> {
    let media_type = prop_oneof![
        "[a-z]{1,16}/[a-z0-9.+-]{1,32}(;[a-z]{1,8}=[a-z0-9.]{1,8})?",
        ("\\PC{0,40}", "\\PC{0,40}").prop_map(|(a, b)| truncate_bytes(format!("{a}/{b}"), MAX_TAG)),
    ]
    .prop_filter("a media type needs its slash", |m| m.contains('/'));
    let bytes = proptest::collection::vec(any::<u8>(), 0..1024);
    proptest::option::of(
        (media_type, bytes).prop_map(|(media_type, bytes)| Payload { media_type, bytes }),
    )
}

/// Item bodies within the shape limits of `item.rs`, published under `cert()`
/// while it is valid. Titles and tags reach their byte limits; bodies and
/// payloads stay small to keep debug-build runs fast, and
/// `the_largest_allowed_item_survives_both_encodings` covers their limits.
pub fn item_body() -> impl Strategy<Value = ItemBody> {
    (
        select(ItemKind::ALL),
        select(Tlp::ALL),
        title(),
        any_text(300),
        payload(),
        proptest::collection::vec(tag(), 0..=MAX_TAGS),
        0..=365 * 86_400_000u64,
    )
        .prop_map(|(kind, tlp, title, body, payload, tags, offset)| {
            let contents = Contents {
                title,
                body,
                payload,
                tags,
            };
            let mut item = ItemBody {
                community: COMMUNITY_ID,
                kind,
                tlp,
                content: Content::Open(contents.clone()),
                created: T0.plus_millis(offset),
                publisher: cert().id(),
            };
            // TLP:RED needs named recipients: sealed to the publisher.
            if tlp == Tlp::Red {
                let me = (
                    member().public(),
                    EncryptionSecretKey::derive_from(&member()).public(),
                );
                let selectors = vec![Selector::Entity("Publisher".into())];
                let envelope = cairn_protocol::envelope::seal(
                    &contents,
                    &[me],
                    selectors,
                    item.seal_context(),
                )
                .expect("sealing to one recipient");
                item.content = Content::Sealed(envelope);
            }
            item
        })
}

pub fn signed_item() -> impl Strategy<Value = SignedItem> {
    item_body().prop_map(|b| {
        SignedItem::sign(b, &member(), cert()).expect("a body within the limits signs")
    })
}

/// Certificate bodies within the shape rules of `certificate.rs`.
pub fn certificate_body_strategy() -> impl Strategy<Value = CertificateBody> {
    (
        any::<u64>(),
        line_text(100)
            .prop_map(|s| truncate_bytes(s, MAX_ENTITY_NAME))
            .prop_filter("names must not be blank", |s| !s.trim().is_empty()),
        select(EntityType::ALL),
        select(Sector::ALL),
        select(&MEMBER_STATES[..]),
        // The authority role belongs to the authority's key alone.
        subsequence(vec![Role::Publish, Role::Receive], 1..=2).prop_shuffle(),
        0..u64::MAX - 1,
        // Within the community's maximum validity (366 days).
        1..=366 * 86_400_000u64,
    )
        .prop_map(
            |(serial, name, entity_type, sector, state, roles, start, len)| CertificateBody {
                community: COMMUNITY_ID,
                serial,
                issuer: issuer().public(),
                member_key: member().public(),
                encryption_key: EncryptionSecretKey::derive_from(&member()).public(),
                subject: Subject::Entity(Entity {
                    name,
                    entity_type,
                    sector,
                    member_state: state.parse().unwrap(),
                }),
                roles,
                not_before: Timestamp(start),
                not_after: Timestamp(start.saturating_add(len).max(start + 1)),
            },
        )
}
