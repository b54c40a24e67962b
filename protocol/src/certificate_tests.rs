//! Tests of certificates, and the fixtures other protocol tests share.

use super::*;
use crate::community::CommunityId;
use crate::encryption::EncryptionSecretKey;
use crate::entity::{EntityType, Sector};
use crate::subject::Entity;

pub const T0: Timestamp = Timestamp(1_800_000_000_000);

pub fn issuer() -> SecretKey {
    SecretKey::from_seed(&[1; 32])
}

pub fn member() -> SecretKey {
    SecretKey::from_seed(&[2; 32])
}

pub fn community() -> Community {
    Community {
        id: CommunityId([9; 16]),
        name: "Test community".into(),
        issuers: vec![issuer().public()],
        authority: SecretKey::from_seed(&[3; 32]).public(),
        authority_encryption: EncryptionSecretKey::derive_from(&SecretKey::from_seed(&[3; 32]))
            .public(),
        max_validity_days: crate::community::DEFAULT_MAX_VALIDITY_DAYS,
    }
}

pub fn body_for(member: &SecretKey, roles: Vec<Role>) -> CertificateBody {
    CertificateBody {
        community: community().id,
        serial: 1,
        issuer: issuer().public(),
        member_key: member.public(),
        encryption_key: EncryptionSecretKey::derive_from(member).public(),
        subject: Subject::Entity(Entity {
            name: "St. Example Hospital".into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().unwrap(),
        }),
        roles,
        not_before: T0,
        not_after: T0.plus_days(365),
    }
}

pub fn cert_for(member: &SecretKey) -> Certificate {
    Certificate::issue(
        body_for(member, vec![Role::Publish, Role::Receive]),
        &issuer(),
    )
    .unwrap()
}

#[test]
fn a_properly_issued_certificate_verifies() {
    let c = cert_for(&member());
    assert_eq!(c.verify(&community(), T0.plus_days(1)), Ok(()));
    assert_eq!(
        c.verify_for_peer(&community(), T0.plus_days(1), &member().public()),
        Ok(())
    );
    assert!(c.has_role(Role::Publish) && !c.has_role(Role::Authority));
}

#[test]
fn tampered_fields_break_the_signature() {
    let mut c = cert_for(&member());
    c.body.roles.push(Role::Authority);
    assert_eq!(
        c.verify(&community(), T0.plus_days(1)),
        Err(CertificateError::BadSignature)
    );
    let mut c = cert_for(&member());
    if let Subject::Entity(e) = &mut c.body.subject {
        e.name = "Someone Else".into();
    }
    assert_eq!(
        c.verify(&community(), T0.plus_days(1)),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn self_signed_certificates_name_an_unknown_issuer() {
    let rogue = SecretKey::from_seed(&[66; 32]);
    let mut body = body_for(&rogue, vec![Role::Publish]);
    body.issuer = rogue.public();
    let c = Certificate::issue(body, &rogue).unwrap();
    assert_eq!(
        c.verify(&community(), T0.plus_days(1)),
        Err(CertificateError::UnknownIssuer(rogue.public()))
    );
}

#[test]
fn a_forged_issuer_field_fails_the_signature() {
    let rogue = SecretKey::from_seed(&[66; 32]);
    let body = body_for(&rogue, vec![Role::Publish]);
    let signature = rogue.sign(&signing_input(DOMAIN_CERTIFICATE, &body).unwrap());
    let c = Certificate { body, signature };
    assert_eq!(
        c.verify(&community(), T0.plus_days(1)),
        Err(CertificateError::BadSignature)
    );
}

#[test]
fn other_community_is_refused() {
    let c = cert_for(&member());
    let mut other = community();
    other.id = CommunityId([8; 16]);
    assert!(matches!(
        c.verify(&other, T0.plus_days(1)),
        Err(CertificateError::OtherCommunity { .. })
    ));
}

#[test]
fn validity_window_is_enforced_at_both_ends() {
    let c = cert_for(&member());
    assert!(matches!(
        c.verify(&community(), T0.minus_millis(1)),
        Err(CertificateError::NotYetValid { .. })
    ));
    assert_eq!(c.verify(&community(), T0), Ok(()));
    assert_eq!(c.verify(&community(), T0.plus_days(365)), Ok(()));
    let err = c
        .verify(&community(), T0.plus_days(365).plus_millis(1))
        .unwrap_err();
    assert!(matches!(err, CertificateError::Expired { .. }));
    assert!(err.to_string().contains("ask the issuer"));
}

#[test]
fn a_certificate_presented_by_another_peer_is_refused() {
    let c = cert_for(&member());
    let thief = SecretKey::from_seed(&[5; 32]).public();
    assert!(matches!(
        c.verify_for_peer(&community(), T0.plus_days(1), &thief),
        Err(CertificateError::KeyMismatch { .. })
    ));
}

#[test]
fn malformed_bodies_cannot_be_issued() {
    let mut b = body_for(&member(), vec![Role::Publish]);
    if let Subject::Entity(e) = &mut b.subject {
        e.name = "  ".into();
    }
    assert!(matches!(
        Certificate::issue(b, &issuer()),
        Err(CertificateError::Malformed(_))
    ));
    let b = body_for(&member(), vec![]);
    assert!(Certificate::issue(b, &issuer()).is_err());
    let mut b = body_for(&member(), vec![Role::Publish, Role::Publish]);
    b.not_after = b.not_before;
    assert!(Certificate::issue(b, &issuer()).is_err());
    let b = body_for(&member(), vec![Role::Publish]);
    assert!(matches!(
        Certificate::issue(b, &member()),
        Err(CertificateError::Malformed(_))
    ));
}

#[test]
fn ids_are_content_addresses() {
    let a = cert_for(&member());
    let mut b = a.clone();
    assert_eq!(a.id(), b.id());
    b.body.serial = 2;
    assert_ne!(a.id(), b.id());
}
