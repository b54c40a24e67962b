//! Tests of the member directory's rules: what a record must prove, which
//! version wins, what a member is sent.

use super::*;
use crate::certificate::tests::{cert_for, community, issuer, member, T0};
use crate::entity::Role;
use crate::revocation::{Revocation, RevocationBody, RevocationReason, RevokedCertificate};

fn other() -> SecretKey {
    SecretKey::from_seed(&[7; 32])
}

fn record(key: &SecretKey, addrs: &[&str], at: Timestamp) -> AddressRecord {
    AddressRecord::sign(
        key,
        cert_for(key),
        addrs.iter().map(|a| a.to_string()).collect(),
        at,
    )
    .unwrap()
}

fn none() -> RevocationSet {
    RevocationSet::default()
}

const NOW: Timestamp = Timestamp(T0.0 + 86_400_000);

#[test]
fn a_signed_record_verifies_and_any_change_breaks_it() {
    let r = record(&member(), &["/ip4/192.0.2.7/tcp/7400"], NOW);
    r.verify(&community(), &none(), NOW).unwrap();

    // A relay pointing the member at another address.
    let mut moved = r.clone();
    moved.body.addresses = vec!["/ip4/203.0.113.66/tcp/7400".into()];
    assert_eq!(
        moved.verify(&community(), &none(), NOW),
        Err(DirectoryError::BadSignature)
    );
    // A relay making an old record look current.
    let mut newer = r.clone();
    newer.body.signed_at = NOW.plus_millis(1);
    assert_eq!(
        newer.verify(&community(), &none(), NOW),
        Err(DirectoryError::BadSignature)
    );
    // Another member's certificate under this record.
    let mut swapped = r.clone();
    swapped.certificate = cert_for(&other());
    assert!(matches!(
        swapped.verify(&community(), &none(), NOW),
        Err(DirectoryError::Certificate(
            CertificateError::KeyMismatch { .. }
        ))
    ));
    // Signed by someone else for this member's key.
    let mut forged = r.clone();
    forged.signature = other().sign(&signing_input(DOMAIN_DIRECTORY, &r.body).unwrap());
    assert_eq!(
        forged.verify(&community(), &none(), NOW),
        Err(DirectoryError::BadSignature)
    );
    // A node cannot sign a record under another member's certificate.
    assert_eq!(
        AddressRecord::sign(&member(), cert_for(&other()), vec![], NOW),
        Err(DirectoryError::KeyMismatch)
    );
}

#[test]
fn members_that_cannot_take_part_have_no_usable_record() {
    let r = record(&member(), &["/ip4/192.0.2.7/tcp/7400"], NOW);
    // Expired.
    let late = T0.plus_days(400);
    assert!(matches!(
        r.verify(&community(), &none(), late),
        Err(DirectoryError::Certificate(
            CertificateError::Expired { .. }
        ))
    ));
    // Revoked.
    let body = RevocationBody {
        community: community().id,
        issuer: issuer().public(),
        certificates: vec![RevokedCertificate {
            id: r.certificate.id(),
            serial: r.certificate.body.serial,
            member_key: member().public(),
        }],
        reason: RevocationReason::Misbehaviour,
        effective: NOW,
        issued: NOW,
    };
    let revocation = Revocation::issue(body, &issuer()).unwrap();
    let mut revoked = RevocationSet::default();
    revoked.add(revocation.verify(&community(), NOW).unwrap());
    assert!(matches!(
        r.verify(&community(), &revoked, NOW),
        Err(DirectoryError::Certificate(
            CertificateError::Revoked { .. }
        ))
    ));
    // Another community.
    let mut elsewhere = community();
    elsewhere.id = crate::community::CommunityId([1; 16]);
    assert!(matches!(
        r.verify(&elsewhere, &none(), NOW),
        Err(DirectoryError::OtherCommunity { .. })
    ));
    // Signed further ahead than clock skew allows.
    let ahead = record(&member(), &[], NOW.plus_millis(MAX_CLOCK_SKEW_MS + 1));
    assert!(matches!(
        ahead.verify(&community(), &none(), NOW),
        Err(DirectoryError::FromTheFuture { .. })
    ));
    // A pseudonym never connects, and announcing addresses would unmask
    // it: refused before anything else is looked at.
    let mut pseudo = cert_for(&other());
    pseudo.body.roles = vec![Role::Publish];
    pseudo.body.subject = crate::subject::Subject::Pseudonym(crate::subject::Pseudonym {
        id: crate::subject::PseudonymId([5; 8]),
        sector: None,
        member_state: None,
        escrow: crate::encryption::Sealed {
            encapsulated_key: crate::encryption::EncryptionSecretKey::derive_from(&other())
                .public(),
            ciphertext: vec![0; 48],
        },
    });
    let p = AddressRecord::sign(&other(), pseudo, vec![], NOW).unwrap();
    assert_eq!(
        p.verify(&community(), &none(), NOW),
        Err(DirectoryError::Certificate(CertificateError::Pseudonymous))
    );
}

#[test]
fn addresses_are_bounded_and_name_no_peer() {
    let shape = |addrs: Vec<String>| {
        RecordBody {
            community: community().id,
            member_key: member().public(),
            addresses: addrs,
            signed_at: NOW,
        }
        .check_shape()
    };
    assert!(shape(vec!["/ip4/192.0.2.7/tcp/7400".into()]).is_ok());
    assert!(shape(vec!["/ip4/1.2.3.4/tcp/1".into(); MAX_ADDRESSES + 1]).is_err());
    assert!(shape(vec![format!("/dns4/{}/tcp/1", "a".repeat(MAX_ADDRESS_LEN))]).is_err());
    assert!(shape(vec!["ip4/1.2.3.4/tcp/1".into()]).is_err());
    assert!(shape(vec!["/ip4/1.2.3.4/tcp/1\u{1b}[2J".into()]).is_err());
    assert!(shape(vec!["/ip4/1.2.3.4/tcp/1/p2p/12D3KooWabc".into()]).is_err());
}

#[test]
fn the_newest_signed_version_wins_and_stale_ones_cost_nothing() {
    let c = community();
    let mut d = Directory::default();
    let relay = other().public();
    let v1 = record(&member(), &["/ip4/192.0.2.7/tcp/7400"], NOW);
    let v2 = record(&member(), &["/ip4/192.0.2.8/tcp/7400"], NOW.plus_millis(5));
    assert_eq!(
        d.offer(v1.clone(), relay, &c, &none(), NOW),
        Ok(Offered::New)
    );
    assert_eq!(
        d.offer(v2.clone(), member().public(), &c, &none(), NOW),
        Ok(Offered::Newer)
    );
    // An older version relayed later changes nothing, even if broken: it
    // is judged stale before any signature is checked.
    let mut broken_old = v1.clone();
    broken_old.signature = Signature([0; 64]);
    assert_eq!(
        d.offer(broken_old, relay, &c, &none(), NOW),
        Ok(Offered::Stale)
    );
    assert_eq!(
        d.offer(v2.clone(), relay, &c, &none(), NOW),
        Ok(Offered::Stale)
    );
    let e = d.get(&member().public()).unwrap();
    assert_eq!(e.record, v2);
    assert_eq!(e.learned_from, member().public(), "the first to bring it");
    // A newer but forged version is refused and the held one stays.
    let mut forged = v2.clone();
    forged.body.signed_at = NOW.plus_millis(10);
    forged.body.addresses = vec!["/ip4/203.0.113.66/tcp/7400".into()];
    assert_eq!(
        d.offer(forged, relay, &c, &none(), NOW),
        Err(DirectoryError::BadSignature)
    );
    assert_eq!(d.get(&member().public()).unwrap().record, v2);
}

#[test]
fn an_answer_carries_what_the_requester_lacks_and_nothing_else() {
    let c = community();
    let mut d = Directory::default();
    let a = record(&member(), &["/ip4/192.0.2.7/tcp/7400"], NOW);
    let b = record(&other(), &["/ip4/192.0.2.9/tcp/7400"], NOW);
    d.offer(a.clone(), member().public(), &c, &none(), NOW)
        .unwrap();
    d.offer(b.clone(), other().public(), &c, &none(), NOW)
        .unwrap();

    assert_eq!(
        d.answer(&DirectoryRequest {
            have: vec![],
            mine: None
        })
        .records
        .len(),
        2
    );
    assert_eq!(
        d.answer(&d.request(&member().public())).records,
        vec![],
        "in sync"
    );
    let older = DirectoryRequest {
        have: vec![
            (member().public(), NOW.minus_millis(1)),
            (other().public(), NOW),
        ],
        mine: None,
    };
    assert_eq!(d.answer(&older).records, vec![a.clone()]);
    let newer = DirectoryRequest {
        have: vec![
            (member().public(), NOW.plus_millis(1)),
            (other().public(), NOW),
        ],
        mine: None,
    };
    assert_eq!(d.answer(&newer).records, vec![], "the requester's is newer");
    assert_eq!(d.request(&member().public()).mine, Some(a));
    assert_eq!(d.request(&issuer().public()).mine, None);
}

#[test]
fn pruning_drops_members_that_can_no_longer_take_part() {
    let c = community();
    let mut d = Directory::default();
    d.offer(
        record(&member(), &[], NOW),
        member().public(),
        &c,
        &none(),
        NOW,
    )
    .unwrap();
    assert_eq!(d.prune(&c, &none(), NOW), 0);
    assert_eq!(d.prune(&c, &none(), T0.plus_days(400)), 1);
    assert!(d.is_empty());
}
