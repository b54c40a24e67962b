//! Deterministic fixtures shared by the integration tests: fixed seeds, a
//! fixed community id and fixed instants, so every signed value (ed25519
//! signatures are deterministic) is byte-for-byte stable across runs.

// Each integration test crate uses a different subset of these helpers.
#![allow(dead_code)]

use cairn_protocol::item::Payload;
use cairn_protocol::revocation::{RevocationBody, RevokedCertificate};
use cairn_protocol::{
    Certificate, CertificateBody, Community, CommunityId, Content, Contents, EncryptionSecretKey,
    Entity, EntityType, EventBody, ItemBody, ItemKind, ParticipationKind, Receipt, ReceiptBody,
    Revocation, RevocationReason, Role, SecretKey, Sector, SignedEvent, SignedItem, Subject,
    Timestamp, Tlp,
};

/// 2027-01-15T08:00:00Z.
pub const T0: Timestamp = Timestamp(1_800_000_000_000);

pub const COMMUNITY_ID: CommunityId = CommunityId([0x5a; 16]);

pub fn issuer() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

pub fn member() -> SecretKey {
    SecretKey::from_seed(&[2; 32])
}

pub fn authority() -> SecretKey {
    SecretKey::from_seed(&[3; 32])
}

pub fn community() -> Community {
    Community {
        id: COMMUNITY_ID,
        name: "Golden test community".into(),
        issuers: vec![issuer().public()],
        authority: authority().public(),
        authority_encryption: EncryptionSecretKey::derive_from(&authority()).public(),
        max_validity_days: 366,
    }
}

pub fn certificate_body() -> CertificateBody {
    CertificateBody {
        community: COMMUNITY_ID,
        serial: 7,
        issuer: issuer().public(),
        member_key: member().public(),
        encryption_key: EncryptionSecretKey::derive_from(&member()).public(),
        subject: Subject::Entity(Entity {
            name: "St. Example Hospital".into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().unwrap(),
        }),
        roles: vec![Role::Publish, Role::Receive],
        not_before: T0,
        not_after: T0.plus_days(365),
    }
}

pub fn certificate() -> Certificate {
    Certificate::issue(certificate_body(), &issuer()).unwrap()
}

pub fn item_body(cert: &Certificate) -> ItemBody {
    ItemBody {
        community: COMMUNITY_ID,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::AmberStrict,
        content: Content::Open(Contents {
            title: "C2 domain seen in hospital VPN logs".into(),
            body: "Beaconing to example.invalid every 60 s.".into(),
            payload: Some(Payload {
                media_type: "application/stix+json;version=2.1".into(),
                bytes: br#"{"type":"indicator"}"#.to_vec(),
            }),
            tags: vec!["rsit:malicious-code".into(), "cve:CVE-2026-1234".into()],
        }),
        created: T0.plus_days(1),
        publisher: cert.id(),
    }
}

pub fn item() -> SignedItem {
    let cert = certificate();
    SignedItem::sign(item_body(&cert), &member(), &cert).unwrap()
}

pub fn event() -> SignedEvent {
    let body = EventBody {
        community: COMMUNITY_ID,
        kind: ParticipationKind::Joined,
        effective: T0.plus_days(2),
        certificate: certificate(),
        sequence: 1,
    };
    SignedEvent::sign(body, &member()).unwrap()
}

pub fn receipt() -> Receipt {
    let body = ReceiptBody {
        community: COMMUNITY_ID,
        event: event().id(),
        register_index: 4,
        registered_at: T0.plus_days(2).plus_millis(1_500),
        authority: authority().public(),
    };
    Receipt::sign(body, &authority()).unwrap()
}

pub fn revocation() -> Revocation {
    let cert = certificate();
    let body = RevocationBody {
        community: COMMUNITY_ID,
        issuer: issuer().public(),
        certificates: vec![RevokedCertificate {
            id: cert.id(),
            serial: cert.body.serial,
            member_key: cert.body.member_key,
        }],
        reason: RevocationReason::KeyCompromise,
        effective: T0.plus_days(3),
        issued: T0.plus_days(3).plus_millis(60_000),
    };
    Revocation::issue(body, &issuer()).unwrap()
}
