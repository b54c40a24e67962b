//! One small community with fixed keys and instants, shared by the seed
//! generator and the targets: seeds made from it carry its community id and
//! issuer key, so their mutations pass those cheap checks and exercise the
//! signature and validity rules behind them. Fixed seeds also make the seed
//! corpus reproducible byte for byte.

use cairn_protocol::certificate::CertificateBody;
use cairn_protocol::encryption::{EncryptionPublicKey, Sealed};
use cairn_protocol::envelope::Recipient;
use cairn_protocol::item::{ItemBody, ItemKind, Payload};
use std::sync::OnceLock;

use cairn_protocol::{
    Certificate, Community, CommunityId, Content, Contents, EncryptionSecretKey, Entity,
    EntityType, Envelope, EventBody, ParticipationKind, Receipt, ReceiptBody, RegisterEntry,
    RegisterRecord, Reveal, RevealBody, Role, SecretKey, Sector, Selector, SignedEvent, SignedItem,
    Subject, Timestamp, Tlp,
};

/// The instant everything here is issued at.
pub const T0: Timestamp = Timestamp(1_800_000_000_000);

/// A time at which every fixture is valid.
pub fn now() -> Timestamp {
    T0.plus_days(1)
}

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
        id: CommunityId([9; 16]),
        name: "Fuzz community".into(),
        issuers: vec![issuer().public()],
        authority: authority().public(),
        authority_encryption: EncryptionSecretKey::derive_from(&authority()).public(),
        max_validity_days: 366,
    }
}

/// A certificate for `key` with `roles`, issued by [`issuer`].
pub fn certificate_for(key: &SecretKey, name: &str, roles: Vec<Role>) -> Certificate {
    let body = CertificateBody {
        community: community().id,
        serial: 7,
        issuer: issuer().public(),
        member_key: key.public(),
        encryption_key: EncryptionSecretKey::derive_from(key).public(),
        subject: Subject::Entity(Entity {
            name: name.into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().expect("a Member State"),
        }),
        roles,
        not_before: T0,
        not_after: T0.plus_days(365),
    };
    Certificate::issue(body, &issuer()).expect("a well-formed certificate")
}

/// The member's certificate (made once: targets use it for every input).
pub fn certificate() -> Certificate {
    static CERT: OnceLock<Certificate> = OnceLock::new();
    CERT.get_or_init(|| {
        certificate_for(
            &member(),
            "St. Example Hospital",
            vec![Role::Publish, Role::Receive],
        )
    })
    .clone()
}

/// A signed item by the member; with a payload when `payload` is set.
pub fn item(title: &str, payload: bool) -> SignedItem {
    let cert = certificate();
    let body = ItemBody {
        community: community().id,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Green,
        content: Content::Open(Contents {
            title: title.into(),
            body: "Beaconing to 203.0.113.7 every 60 s.".into(),
            payload: payload.then(|| Payload {
                media_type: "application/stix+json;version=2.1".into(),
                bytes: br#"{"type":"indicator"}"#.to_vec(),
            }),
            tags: vec!["rsit:malicious-code".into()],
        }),
        created: T0.plus_millis(1_000),
        publisher: cert.id(),
    };
    SignedItem::sign(body, &member(), &cert).expect("a well-formed item")
}

/// A TLP:RED item sealed to the member, with fixed bytes where a real
/// envelope has random ones (so seeds stay the same from run to run; it
/// verifies, it does not open).
pub fn sealed_item() -> SignedItem {
    let cert = certificate();
    let envelope = Envelope {
        selectors: vec![Selector::Entity("St. Example Hospital".into())],
        recipients: vec![Recipient {
            member_key: member().public(),
            content_key: Sealed {
                encapsulated_key: EncryptionPublicKey([0x11; 32]),
                ciphertext: vec![0x22; 48],
            },
        }],
        ciphertext: vec![0x33; 200],
    };
    let body = ItemBody {
        community: community().id,
        kind: ItemKind::AdversarialTactic,
        tlp: Tlp::Red,
        content: Content::Sealed(envelope),
        created: T0.plus_millis(2_000),
        publisher: cert.id(),
    };
    SignedItem::sign(body, &member(), &cert).expect("a well-formed sealed item")
}

/// The member's participation event number `sequence`.
pub fn event(sequence: u64, kind: ParticipationKind) -> SignedEvent {
    let body = EventBody {
        community: community().id,
        kind,
        effective: T0.plus_millis(sequence.saturating_mul(1_000)),
        certificate: certificate(),
        sequence,
    };
    SignedEvent::sign(body, &member()).expect("a well-formed event")
}

/// The authority's receipt for `event` at register `index`.
pub fn receipt(event: &SignedEvent, index: u64) -> Receipt {
    let body = ReceiptBody {
        community: community().id,
        event: event.id(),
        register_index: index,
        registered_at: event.body.effective.plus_millis(5),
        authority: authority().public(),
    };
    Receipt::sign(body, &authority()).expect("the authority's own key")
}

/// The register entry for `event` at `index`.
pub fn register_entry(event: &SignedEvent, index: u64) -> RegisterEntry {
    RegisterEntry {
        index,
        record: RegisterRecord::Participation {
            event: event.clone(),
            receipt: receipt(event, index),
        },
    }
}

/// The authority's reveal of the fixture member behind an item, recorded at
/// `index`.
pub fn reveal(index: u64) -> Reveal {
    let named = certificate();
    let identity = cairn_protocol::pseudonym::escrowed_identity(&named)
        .expect("the fixture certificate is named");
    let body = RevealBody {
        community: community().id,
        authority: authority().public(),
        register_index: index,
        revealed_at: now(),
        item: item("Phishing wave", false).id(),
        certificate: named.id(),
        pseudonym: cairn_protocol::PseudonymId([7; 8]),
        identity,
        reason: "Case 2026/17".into(),
    };
    Reveal::sign(body, &authority()).expect("the authority's own key")
}

/// The register entry for a reveal at `index`.
pub fn reveal_entry(index: u64) -> RegisterEntry {
    RegisterEntry {
        index,
        record: RegisterRecord::Reveal(reveal(index)),
    }
}
