//! Tests of sealing and opening audience envelopes.

use super::*;
use crate::identity::SecretKey;
use crate::item::Payload;

struct Member {
    key: SecretKey,
    encryption: EncryptionSecretKey,
}

fn member(seed: u8) -> Member {
    let key = SecretKey::from_seed(&[seed; 32]);
    let encryption = EncryptionSecretKey::derive_from(&key);
    Member { key, encryption }
}

impl Member {
    fn recipient(&self) -> (PublicKey, EncryptionPublicKey) {
        (self.key.public(), self.encryption.public())
    }
}

const TITLE: &str = "Distinctive title 7f3a";
const BODY: &str = "Distinctive body words 91c2";

fn contents() -> Contents {
    Contents {
        title: TITLE.into(),
        body: BODY.into(),
        payload: Some(Payload {
            media_type: "text/plain".into(),
            bytes: b"payload bytes 55e1".to_vec(),
        }),
        tags: vec!["cve:CVE-2026-0001".into()],
    }
}

struct Fixture {
    community: CommunityId,
    publisher: CertificateId,
}

fn fixture() -> Fixture {
    Fixture {
        community: CommunityId([3; 16]),
        publisher: CertificateId([4; 32]),
    }
}

impl Fixture {
    fn context(&self) -> SealContext<'_> {
        SealContext {
            community: &self.community,
            kind: ItemKind::Vulnerability,
            tlp: Tlp::AmberStrict,
            created: Timestamp(1_700_000_000_000),
            publisher: &self.publisher,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn recipients_open_others_cannot_and_no_plaintext_shows() {
    let f = fixture();
    let (a, b, c) = (member(1), member(2), member(3));
    let sealed = seal(
        &contents(),
        &[a.recipient(), b.recipient()],
        vec![Selector::Entity("A".into()), Selector::Entity("B".into())],
        f.context(),
    )
    .unwrap();
    for m in [&a, &b] {
        assert_eq!(
            sealed.open(&m.key.public(), &m.encryption, f.context()),
            Ok(contents())
        );
    }
    assert!(!sealed.is_for(&c.key.public()));
    assert_eq!(
        sealed.open(&c.key.public(), &c.encryption, f.context()),
        Err(EnvelopeError::NotARecipient)
    );
    // C claiming A's entry with its own key does not help.
    assert_eq!(
        sealed.open(&a.key.public(), &c.encryption, f.context()),
        Err(EnvelopeError::NotOpened)
    );
    let bytes = codec::encode(&sealed).unwrap();
    for secret in [
        TITLE.as_bytes(),
        BODY.as_bytes(),
        b"payload bytes",
        b"CVE-2026",
    ] {
        assert!(!contains(&bytes, secret));
    }
    assert_eq!(sealed.check_shape(), Ok(()));
}

#[test]
fn the_envelope_is_bound_to_the_item_it_was_sealed_for() {
    let f = fixture();
    let a = member(1);
    let sealed = seal(&contents(), &[a.recipient()], vec![], f.context()).unwrap();
    let other_publisher = CertificateId([9; 32]);
    let other_community = CommunityId([8; 16]);
    let mut moved = vec![
        SealContext {
            publisher: &other_publisher,
            ..f.context()
        },
        SealContext {
            community: &other_community,
            ..f.context()
        },
        SealContext {
            tlp: Tlp::Amber,
            ..f.context()
        },
        SealContext {
            kind: ItemKind::CyberThreat,
            ..f.context()
        },
    ];
    moved.push(SealContext {
        created: Timestamp(1),
        ..f.context()
    });
    for context in moved {
        assert_eq!(
            sealed.open(&a.key.public(), &a.encryption, context),
            Err(EnvelopeError::NotOpened)
        );
    }
    // Selectors and recipients are part of the context too.
    let mut widened = sealed.clone();
    widened
        .selectors
        .push(Selector::Sector(crate::entity::Sector::Health));
    assert_eq!(
        widened.open(&a.key.public(), &a.encryption, f.context()),
        Err(EnvelopeError::NotOpened)
    );
    let mut altered = sealed.clone();
    altered.ciphertext[0] ^= 1;
    assert_eq!(
        altered.open(&a.key.public(), &a.encryption, f.context()),
        Err(EnvelopeError::NotOpened)
    );
}

#[test]
fn each_envelope_has_its_own_content_key() {
    let f = fixture();
    let a = member(1);
    let one = seal(&contents(), &[a.recipient()], vec![], f.context()).unwrap();
    let two = seal(&contents(), &[a.recipient()], vec![], f.context()).unwrap();
    assert_ne!(one.ciphertext, two.ciphertext);
}

#[test]
fn recipient_lists_are_checked() {
    let f = fixture();
    let a = member(1);
    assert_eq!(
        seal(&contents(), &[], vec![], f.context()),
        Err(EnvelopeError::RecipientCount(0))
    );
    assert!(matches!(
        seal(
            &contents(),
            &[a.recipient(), a.recipient()],
            vec![],
            f.context()
        ),
        Err(EnvelopeError::DuplicateRecipient(_))
    ));
    let mut sealed = seal(&contents(), &[a.recipient()], vec![], f.context()).unwrap();
    sealed.recipients[0].content_key.ciphertext.push(0);
    assert!(sealed.check_shape().is_err());
    let mut twice = seal(&contents(), &[a.recipient()], vec![], f.context()).unwrap();
    twice.recipients.push(twice.recipients[0].clone());
    assert!(twice.check_shape().unwrap_err().contains("twice"));
}

#[test]
fn the_overhead_per_recipient_is_small_and_fixed() {
    let f = fixture();
    let members: Vec<Member> = (1..=10).map(member).collect();
    let size = |n: usize| {
        let to: Vec<_> = members[..n].iter().map(Member::recipient).collect();
        codec::encode(&seal(&contents(), &to, vec![], f.context()).unwrap())
            .unwrap()
            .len()
    };
    let per_recipient = (size(10) - size(1)) / 9;
    // Member key 32 and encapsulated key 32, the wrapped content key 48,
    // and three one-byte length prefixes.
    assert_eq!(per_recipient, 32 + 32 + 48 + 3);
}

#[test]
fn wraps_spread_over_threads_give_an_envelope_every_recipient_opens() {
    let f = fixture();
    let members: Vec<Member> = (1..=6).map(member).collect();
    let to: Vec<_> = members.iter().map(Member::recipient).collect();
    let envelope = seal_with(&contents(), &to, vec![], f.context(), |to, wrap| {
        let (a, b) = to.split_at(to.len() / 2);
        std::thread::scope(|s| {
            let first = s.spawn(|| a.iter().map(wrap).collect::<Vec<_>>());
            let mut out: Vec<_> = b.iter().map(wrap).collect();
            let mut all = first.join().unwrap();
            all.append(&mut out);
            all
        })
    })
    .unwrap();
    for m in &members {
        assert!(envelope.is_for(&m.key.public()));
        let opened = envelope
            .open(&m.key.public(), &m.encryption, f.context())
            .unwrap();
        assert_eq!(opened, contents());
    }
}

#[test]
fn a_wrapping_that_loses_a_recipient_is_refused() {
    let f = fixture();
    let members: Vec<Member> = (1..=3).map(member).collect();
    let to: Vec<_> = members.iter().map(Member::recipient).collect();
    let result = seal_with(&contents(), &to, vec![], f.context(), |to, wrap| {
        to[1..].iter().map(wrap).collect()
    });
    assert!(
        matches!(result, Err(EnvelopeError::Malformed(_))),
        "{result:?}"
    );
}
