//! Real, signed protocol values for the store's tests, built only through the
//! protocol crate's public API so the tests store what a node would.

use cairn_protocol::revocation::{RevocationBody, RevokedCertificate};
use cairn_protocol::{
    Certificate, CertificateBody, CommunityId, EncryptionSecretKey, Entity, EntityType, EventBody,
    ItemBody, ItemId, ItemKind, ParticipationKind, PseudonymId, Receipt, ReceiptBody, Reveal,
    RevealBody, Revocation, RevocationReason, Role, SecretKey, Sector, SignedEvent, SignedItem,
    Subject, Timestamp, Tlp,
};

pub const T0: Timestamp = Timestamp(1_800_000_000_000);
pub const COMMUNITY: CommunityId = CommunityId([9; 16]);

pub fn issuer() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

pub fn member() -> SecretKey {
    SecretKey::from_seed(&[2; 32])
}

pub fn authority() -> SecretKey {
    SecretKey::from_seed(&[3; 32])
}

/// A certificate for `key`; `serial` makes distinct certificates for one key.
pub fn certificate_for(key: &SecretKey, serial: u64) -> Certificate {
    let body = CertificateBody {
        community: COMMUNITY,
        serial,
        issuer: issuer().public(),
        member_key: key.public(),
        encryption_key: EncryptionSecretKey::derive_from(key).public(),
        subject: Subject::Entity(Entity {
            name: "St. Example Hospital".into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().unwrap(),
        }),
        roles: vec![Role::Publish, Role::Receive],
        not_before: T0,
        not_after: T0.plus_days(365),
    };
    Certificate::issue(body, &issuer()).unwrap()
}

pub fn certificate() -> Certificate {
    certificate_for(&member(), 1)
}

/// An item created at `created`; `n` makes items at one instant distinct.
pub fn item_at(created: Timestamp, n: u32) -> SignedItem {
    item_by(&certificate(), created, n)
}

/// An item published under `cert`, which must certify [`member`]'s key.
pub fn item_by(cert: &Certificate, created: Timestamp, n: u32) -> SignedItem {
    let body = ItemBody {
        community: COMMUNITY,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Amber,
        content: cairn_protocol::Content::Open(cairn_protocol::Contents {
            title: format!("indicator {n}"),
            body: "Beaconing to example.invalid every 60 s.".into(),
            payload: None,
            tags: vec!["rsit:malicious-code".into()],
        }),
        created,
        publisher: cert.id(),
    };
    SignedItem::sign(body, &member(), cert).unwrap()
}

pub fn event(sequence: u64, kind: ParticipationKind) -> SignedEvent {
    let body = EventBody {
        community: COMMUNITY,
        kind,
        effective: T0.plus_days(2),
        certificate: certificate(),
        sequence,
    };
    SignedEvent::sign(body, &member()).unwrap()
}

pub fn receipt(event: &SignedEvent, register_index: u64) -> Receipt {
    let body = ReceiptBody {
        community: COMMUNITY,
        event: event.id(),
        register_index,
        registered_at: T0.plus_days(3),
        authority: authority().public(),
    };
    Receipt::sign(body, &authority()).unwrap()
}

/// An issuer's revocation of [`certificate`].
pub fn revocation() -> Revocation {
    let c = certificate();
    let body = RevocationBody {
        community: COMMUNITY,
        issuer: issuer().public(),
        certificates: vec![RevokedCertificate {
            id: c.id(),
            serial: c.body.serial,
            member_key: c.body.member_key,
        }],
        reason: RevocationReason::Misbehaviour,
        effective: T0.plus_days(4),
        issued: T0.plus_days(4),
    };
    Revocation::issue(body, &issuer()).unwrap()
}

/// The authority's reveal of [`member`] behind an item, at `register_index`.
pub fn reveal(register_index: u64) -> Reveal {
    let c = certificate();
    let Subject::Entity(entity) = c.body.subject.clone() else {
        unreachable!("the fixture certificate is named")
    };
    let body = RevealBody {
        community: COMMUNITY,
        authority: authority().public(),
        register_index,
        revealed_at: T0.plus_days(5),
        item: ItemId([4; 32]),
        certificate: cairn_protocol::CertificateId([5; 32]),
        pseudonym: PseudonymId([6; 8]),
        identity: cairn_protocol::subject::EscrowedIdentity {
            certificate: c.id(),
            member_key: c.body.member_key,
            entity,
        },
        reason: "Case 2026/17".into(),
    };
    Reveal::sign(body, &authority()).unwrap()
}
