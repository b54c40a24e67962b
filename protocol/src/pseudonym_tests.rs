//! Tests of the pseudonym rules: issuing beside a named certificate, the
//! escrow checks, the authority's attestation, and reveals.

use super::*;
use crate::certificate::tests::{body_for, cert_for, community, issuer, member, T0};
use crate::encryption::EncryptionSecretKey;
use crate::entity::Sector;
use crate::item::{ItemBody, ItemKind};
use crate::subject::Pseudonym;
use crate::tlp::Tlp;

fn authority() -> SecretKey {
    SecretKey::from_seed(&[3; 32])
}

fn pseudonym_key() -> SecretKey {
    SecretKey::from_seed(&[40; 32])
}

/// A pseudonymous body beside `named`, escrowed to the community authority.
fn pseudonym_body(named: &Certificate, key: &SecretKey) -> CertificateBody {
    let id = PseudonymId([7; 8]);
    let escrow = seal_escrow(
        &community().authority_encryption,
        &id,
        &key.public(),
        &escrowed_identity(named).unwrap(),
    )
    .unwrap();
    CertificateBody {
        member_key: key.public(),
        encryption_key: EncryptionSecretKey::derive_from(key).public(),
        subject: Subject::Pseudonym(Pseudonym {
            id,
            sector: Some(Sector::Health),
            member_state: None,
            escrow,
        }),
        roles: vec![Role::Publish],
        not_before: T0.plus_days(1),
        not_after: T0.plus_days(30),
        ..named.body.clone()
    }
}

fn pseudonym_cert() -> Certificate {
    Certificate::issue(
        pseudonym_body(&cert_for(&member()), &pseudonym_key()),
        &issuer(),
    )
    .unwrap()
}

#[test]
fn a_pseudonym_beside_its_named_certificate_passes_every_rule() {
    let named = cert_for(&member());
    let body = pseudonym_body(&named, &pseudonym_key());
    assert_eq!(check_issue(&named, &body), Ok(()));
    let opener = authority_encryption(&community(), &authority()).unwrap();
    assert_eq!(
        check_escrow(&opener, &body, &escrowed_identity(&named).unwrap()),
        Ok(())
    );
    // And nodes accept it as a certificate of the community.
    let cert = Certificate::issue(body, &issuer()).unwrap();
    assert_eq!(cert.verify(&community(), T0.plus_days(2)), Ok(()));
}

#[test]
fn each_issuing_rule_refuses_what_it_should() {
    let named = cert_for(&member());
    let good = pseudonym_body(&named, &pseudonym_key());
    let refused = |body: CertificateBody| check_issue(&named, &body).unwrap_err();

    assert_eq!(
        refused(pseudonym_body(&named, &member())),
        PseudonymError::SameKey
    );
    let mut b = good.clone();
    b.not_after = named.body.not_after.plus_millis(1);
    assert!(matches!(refused(b), PseudonymError::OutlivesNamed { .. }));
    let mut b = good.clone();
    b.roles = vec![Role::Publish, Role::Receive];
    assert_eq!(refused(b), PseudonymError::Roles);
    let mut b = good.clone();
    b.community = crate::community::CommunityId([1; 16]);
    assert_eq!(refused(b), PseudonymError::OtherCommunity);
    assert_eq!(refused(named.body.clone()), PseudonymError::NotPseudonymous);

    // Beside a pseudonym, or for a member that may not publish: no.
    let pseudonymous = Certificate::issue(good.clone(), &issuer()).unwrap();
    assert_eq!(
        check_issue(&pseudonymous, &good),
        Err(PseudonymError::NamedIsPseudonym)
    );
    let receive_only =
        Certificate::issue(body_for(&member(), vec![Role::Receive]), &issuer()).unwrap();
    assert_eq!(
        check_issue(&receive_only, &good),
        Err(PseudonymError::NamedCannotPublish)
    );
}

#[test]
fn an_escrow_that_does_not_open_to_the_member_is_caught() {
    let named = cert_for(&member());
    let expected = escrowed_identity(&named).unwrap();
    let opener = authority_encryption(&community(), &authority()).unwrap();

    // Sealed to a key that is not the authority's (a wrong community file).
    let mut wrong = community();
    wrong.authority_encryption =
        EncryptionSecretKey::derive_from(&SecretKey::from_seed(&[66; 32])).public();
    let id = PseudonymId([7; 8]);
    let mut body = pseudonym_body(&named, &pseudonym_key());
    if let Subject::Pseudonym(p) = &mut body.subject {
        p.escrow = seal_escrow(
            &wrong.authority_encryption,
            &id,
            &pseudonym_key().public(),
            &expected,
        )
        .unwrap();
    }
    assert!(matches!(
        check_escrow(&opener, &body, &expected),
        Err(PseudonymError::EscrowNotOpened(_))
    ));

    // Sealed to the authority, but naming another member.
    let other = cert_for(&SecretKey::from_seed(&[50; 32]));
    let body = pseudonym_body(&other, &pseudonym_key());
    assert_eq!(
        check_escrow(&opener, &body, &expected),
        Err(PseudonymError::EscrowNamesAnother)
    );

    // Moved to another pseudonym key: the escrow is bound to its key.
    let mut body = pseudonym_body(&named, &pseudonym_key());
    body.member_key = SecretKey::from_seed(&[41; 32]).public();
    assert!(matches!(
        check_escrow(&opener, &body, &expected),
        Err(PseudonymError::EscrowNotOpened(_))
    ));
}

#[test]
fn only_the_authority_key_matching_the_community_file_opens_escrows() {
    assert_eq!(
        authority_encryption(&community(), &issuer()).unwrap_err(),
        PseudonymError::NotTheAuthority(community().authority)
    );
    let mut c = community();
    c.authority_encryption = EncryptionSecretKey::derive_from(&issuer()).public();
    assert_eq!(
        authority_encryption(&c, &authority()).unwrap_err(),
        PseudonymError::AuthorityEncryptionMismatch
    );
}

#[test]
fn the_authority_attests_escrows_it_opened_and_the_issuer_checks_the_attestation() {
    let named = cert_for(&member());
    let key = pseudonym_key().public();
    let a = EscrowAttestation::make(&community(), &authority(), &named, &key).unwrap();
    assert_eq!(a.verify(&community(), &named.id(), &key), Ok(()));
    // The escrow inside opens to the member.
    let opener = authority_encryption(&community(), &authority()).unwrap();
    let p = Pseudonym {
        id: a.body.pseudonym,
        sector: None,
        member_state: None,
        escrow: a.body.escrow.clone(),
    };
    assert_eq!(
        open_escrow(&opener, &p, &key).unwrap(),
        escrowed_identity(&named).unwrap()
    );

    // For another member or another key: refused.
    let other = cert_for(&SecretKey::from_seed(&[50; 32]));
    assert!(matches!(
        a.verify(&community(), &other.id(), &key),
        Err(PseudonymError::AttestationMismatch { .. })
    ));
    assert!(matches!(
        a.verify(&community(), &named.id(), &member().public()),
        Err(PseudonymError::AttestationMismatch { .. })
    ));
    // Altered after signing: refused.
    let mut altered = a.clone();
    altered.body.escrow.ciphertext[0] ^= 1;
    assert_eq!(
        altered.verify(&community(), &named.id(), &key),
        Err(PseudonymError::BadAttestationSignature)
    );
    // Made by anyone but the authority: refused at both ends.
    assert!(matches!(
        EscrowAttestation::make(&community(), &issuer(), &named, &key),
        Err(PseudonymError::NotTheAuthority(_))
    ));
    let mut forged = a.clone();
    forged.body.authority = issuer().public();
    forged.signature =
        issuer().sign(&signing_input(DOMAIN_ESCROW_ATTESTATION, &forged.body).unwrap());
    assert!(matches!(
        forged.verify(&community(), &named.id(), &key),
        Err(PseudonymError::AttestationMismatch { .. })
    ));
    // The member's own key cannot be its pseudonym's.
    assert_eq!(
        EscrowAttestation::make(&community(), &authority(), &named, &member().public()),
        Err(PseudonymError::SameKey)
    );
}

fn item_by(key: &SecretKey, cert: &Certificate) -> SignedItem {
    let body = ItemBody {
        community: community().id,
        kind: ItemKind::NearMiss,
        tlp: Tlp::Green,
        content: crate::item::Content::Open(crate::item::Contents {
            title: "Phishing wave against hospitals".into(),
            body: "Details.".into(),
            payload: None,
            tags: vec![],
        }),
        created: T0.plus_days(2),
        publisher: cert.id(),
    };
    SignedItem::sign(body, key, cert).unwrap()
}

#[test]
fn the_authority_opens_the_publisher_of_a_pseudonymous_item_only() {
    let opener = authority_encryption(&community(), &authority()).unwrap();
    let cert = pseudonym_cert();
    let item = item_by(&pseudonym_key(), &cert);
    assert_eq!(item.verify(&cert, &community(), T0.plus_days(2)), Ok(()));
    let identity = open_publisher(&opener, &item, &cert).unwrap();
    assert_eq!(identity, escrowed_identity(&cert_for(&member())).unwrap());

    let named = cert_for(&member());
    let named_item = item_by(&member(), &named);
    assert_eq!(
        open_publisher(&opener, &named_item, &named),
        Err(PseudonymError::NotPseudonymous)
    );
    assert!(matches!(
        open_publisher(&opener, &named_item, &cert),
        Err(PseudonymError::PublisherMismatch { .. })
    ));
    // Nobody else's key opens it.
    let stranger = EncryptionSecretKey::derive_from(&issuer());
    assert!(matches!(
        open_publisher(&stranger, &item, &cert),
        Err(PseudonymError::EscrowNotOpened(_))
    ));
}

fn reveal_body(reason: &str) -> RevealBody {
    let cert = pseudonym_cert();
    let item = item_by(&pseudonym_key(), &cert);
    RevealBody {
        community: community().id,
        authority: authority().public(),
        register_index: 3,
        revealed_at: T0.plus_days(3),
        item: item.id(),
        certificate: cert.id(),
        pseudonym: PseudonymId([7; 8]),
        identity: escrowed_identity(&cert_for(&member())).unwrap(),
        reason: reason.into(),
    }
}

#[test]
fn reveals_are_signed_by_the_authority_with_a_reason() {
    let r = Reveal::sign(reveal_body("Case 2026/17, Art. 32(4) NIS2"), &authority()).unwrap();
    assert_eq!(r.verify(&community()), Ok(()));
    let mut altered = r.clone();
    altered.body.register_index = 4;
    assert_eq!(
        altered.verify(&community()),
        Err(PseudonymError::BadRevealSignature)
    );
    assert_eq!(
        Reveal::sign(reveal_body("  "), &authority()),
        Err(PseudonymError::Reason)
    );
    assert_eq!(
        Reveal::sign(reveal_body("two\nlines"), &authority()),
        Err(PseudonymError::Reason)
    );
    assert!(matches!(
        Reveal::sign(reveal_body("Case 1"), &issuer()),
        Err(PseudonymError::NotTheAuthority(_))
    ));
    let by_other = Reveal::sign(
        RevealBody {
            authority: issuer().public(),
            ..reveal_body("Case 1")
        },
        &issuer(),
    )
    .unwrap();
    assert!(matches!(
        by_other.verify(&community()),
        Err(PseudonymError::NotTheAuthority(_))
    ));
}
