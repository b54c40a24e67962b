//! Tests of revocations: who may revoke, what each reason reaches, and the
//! item rules that follow.

use super::*;
use crate::certificate::tests::{body_for, cert_for, community, issuer, member, T0};
use crate::entity::Role;
use crate::event::{EventBody, ParticipationKind};
use crate::receipt::ReceiptBody;

fn authority() -> SecretKey {
    SecretKey::from_seed(&[3; 32])
}

fn revoke(cert: &Certificate, reason: RevocationReason, effective: Timestamp) -> Revocation {
    let body = RevocationBody {
        community: community().id,
        issuer: issuer().public(),
        certificates: vec![RevokedCertificate {
            id: cert.id(),
            serial: cert.body.serial,
            member_key: cert.body.member_key,
        }],
        reason,
        effective,
        issued: T0.plus_days(3),
    };
    Revocation::issue(body, &issuer()).unwrap()
}

fn set_of(r: &Revocation) -> RevocationSet {
    let mut set = RevocationSet::default();
    set.add(r.verify(&community(), T0.plus_days(3)).unwrap());
    set
}

fn renewed(cert: &Certificate) -> Certificate {
    let mut body = body_for(&member(), vec![Role::Publish, Role::Receive]);
    body.serial = cert.body.serial + 1;
    body.not_before = T0.plus_days(1);
    body.not_after = T0.plus_days(300);
    Certificate::issue(body, &issuer()).unwrap()
}

#[test]
fn an_issuer_revocation_verifies_and_tampering_breaks_it() {
    let c = cert_for(&member());
    let r = revoke(&c, RevocationReason::Misbehaviour, T0.plus_days(2));
    assert_eq!(r.verify(&community(), T0.plus_days(3)).unwrap().len(), 1);
    let Revocation::Issued {
        mut body,
        signature,
    } = r
    else {
        unreachable!()
    };
    body.effective = T0;
    assert_eq!(
        Revocation::Issued { body, signature }.verify(&community(), T0.plus_days(3)),
        Err(RevocationError::BadSignature)
    );
}

#[test]
fn only_an_issuer_of_the_community_may_revoke() {
    let c = cert_for(&member());
    let rogue = SecretKey::from_seed(&[66; 32]);
    let body = RevocationBody {
        community: community().id,
        issuer: rogue.public(),
        certificates: vec![RevokedCertificate {
            id: c.id(),
            serial: 1,
            member_key: c.body.member_key,
        }],
        reason: RevocationReason::Misbehaviour,
        effective: T0,
        issued: T0,
    };
    let r = Revocation::issue(body, &rogue).unwrap();
    assert_eq!(
        r.verify(&community(), T0.plus_days(3)),
        Err(RevocationError::UnknownIssuer(rogue.public()))
    );
}

#[test]
fn a_revocation_names_at_least_one_certificate() {
    let body = RevocationBody {
        community: community().id,
        issuer: issuer().public(),
        certificates: vec![],
        reason: RevocationReason::Superseded,
        effective: T0,
        issued: T0,
    };
    assert!(matches!(
        Revocation::issue(body, &issuer()),
        Err(RevocationError::Malformed(_))
    ));
}

#[test]
fn a_revoked_peer_is_refused_once_the_revocation_is_in_force() {
    let c = cert_for(&member());
    let set = set_of(&revoke(&c, RevocationReason::Superseded, T0.plus_days(5)));
    assert_eq!(set.check_peer(&c.id(), &c, T0.plus_days(4)), Ok(()));
    assert!(matches!(
        set.check_peer(&c.id(), &c, T0.plus_days(5)),
        Err(CertificateError::Revoked { .. })
    ));
    // Another certificate of the same key is not reached by a plain
    // revocation of this one.
    let r = renewed(&c);
    assert_eq!(set.check_peer(&r.id(), &r, T0.plus_days(6)), Ok(()));
}

#[test]
fn items_after_the_effective_time_are_refused_older_ones_kept() {
    let c = cert_for(&member());
    let set = set_of(&revoke(&c, RevocationReason::Misbehaviour, T0.plus_days(2)));
    assert_eq!(set.check_item(&c.id(), &c, T0.plus_days(1), false), Ok(()));
    assert!(set.check_item(&c.id(), &c, T0.plus_days(2), false).is_err());
    assert_eq!(set.check_item(&c.id(), &c, T0.plus_days(2), true), Ok(()));
}

#[test]
fn key_compromise_refuses_back_dated_items_and_every_certificate_of_the_key() {
    let c = cert_for(&member());
    let set = set_of(&revoke(
        &c,
        RevocationReason::KeyCompromise,
        T0.plus_days(2),
    ));
    // Back-dated before the effective time: still refused unless held.
    assert!(set
        .check_item(&c.id(), &c, T0.plus_millis(1), false)
        .is_err());
    assert_eq!(set.check_item(&c.id(), &c, T0.plus_millis(1), true), Ok(()));
    // A renewal for the same key is just as compromised.
    let r = renewed(&c);
    assert!(set.check_peer(&r.id(), &r, T0.plus_days(1)).is_err());
    assert!(set.check_item(&r.id(), &r, T0.plus_days(1), false).is_err());
}

fn withdrawal(effective: Timestamp) -> (SignedEvent, Receipt) {
    let body = EventBody {
        community: community().id,
        kind: ParticipationKind::WithdrawalEffective,
        effective,
        certificate: cert_for(&member()),
        sequence: 2,
    };
    let event = SignedEvent::sign(body, &member()).unwrap();
    let receipt = Receipt::sign(
        ReceiptBody {
            community: community().id,
            event: event.id(),
            register_index: 7,
            registered_at: effective,
            authority: authority().public(),
        },
        &authority(),
    )
    .unwrap();
    (event, receipt)
}

#[test]
fn a_registered_withdrawal_revokes_the_members_key_from_its_effective_time() {
    let (event, receipt) = withdrawal(T0.plus_days(4));
    let r = Revocation::from_withdrawal(event, receipt);
    let effects = r.verify(&community(), T0.plus_days(4)).unwrap();
    assert_eq!(effects[0].reason, RevocationReason::Withdrawn);
    let mut set = RevocationSet::default();
    set.add(effects);
    let c = cert_for(&member());
    assert!(set.check_peer(&c.id(), &c, T0.plus_days(4)).is_err());
    assert_eq!(set.check_item(&c.id(), &c, T0.plus_days(3), false), Ok(()));
    assert!(set.check_item(&c.id(), &c, T0.plus_days(4), false).is_err());
    // The renewal issued before the withdrawal is reached; a certificate
    // issued for the key after it (the entity re-joins) is not.
    let r = renewed(&c);
    assert!(set.check_peer(&r.id(), &r, T0.plus_days(5)).is_err());
    let mut later = body_for(&member(), vec![Role::Publish]);
    later.serial = 9;
    later.not_before = T0.plus_days(10);
    later.not_after = T0.plus_days(20);
    let later = Certificate::issue(later, &issuer()).unwrap();
    assert_eq!(
        set.check_peer(&later.id(), &later, T0.plus_days(11)),
        Ok(())
    );
}

#[test]
fn a_withdrawal_needs_the_members_event_and_the_authoritys_receipt() {
    let (event, receipt) = withdrawal(T0.plus_days(4));
    // A Joined event is not a withdrawal.
    let mut joined = event.body.clone();
    joined.kind = ParticipationKind::Joined;
    let joined = SignedEvent::sign(joined, &member()).unwrap();
    assert!(matches!(
        Revocation::from_withdrawal(joined, receipt.clone()).verify(&community(), T0.plus_days(4)),
        Err(RevocationError::Malformed(_))
    ));
    // A receipt for another event does not count.
    let (other, _) = withdrawal(T0.plus_days(5));
    assert!(matches!(
        Revocation::from_withdrawal(other, receipt.clone()).verify(&community(), T0.plus_days(5)),
        Err(RevocationError::Receipt(_))
    ));
    // The authority alone cannot make one: the event is the member's.
    let mut forged = event.clone();
    forged.body.effective = T0.plus_days(3);
    assert!(matches!(
        Revocation::from_withdrawal(forged, receipt).verify(&community(), T0.plus_days(4)),
        Err(RevocationError::Event(_))
    ));
}

#[test]
fn the_largest_revocations_go_with_a_refusal() {
    use crate::handshake::{Handshake, Step, MAX_REASON};
    let c = cert_for(&member());
    let mut body = match revoke(&c, RevocationReason::Misbehaviour, T0.plus_days(2)) {
        Revocation::Issued { body, .. } => body,
        Revocation::Withdrawal { .. } => unreachable!(),
    };
    body.certificates = vec![body.certificates[0].clone(); MAX_REVOKED_PER_REVOCATION];
    let issued = Revocation::issue(body, &issuer()).unwrap();
    let (event, receipt) = withdrawal(T0.plus_days(4));
    let long = "x".repeat(MAX_REASON + 100);
    for r in [issued, Revocation::from_withdrawal(event, receipt)] {
        let message = Handshake::revoked(&long, r.clone());
        let frame = crate::codec::encode(&message).unwrap();
        assert!(frame.len() <= Handshake::limit(Step::Certificate));
        assert!(
            matches!(&message, Handshake::Revoked { revocation, reason }
                if *revocation == r && reason.len() == MAX_REASON),
            "{message:?}"
        );
    }
}

#[test]
fn claimed_effects_are_what_verification_returns() {
    let c = cert_for(&member());
    let (event, receipt) = withdrawal(T0.plus_days(4));
    for r in [
        revoke(&c, RevocationReason::KeyCompromise, T0.plus_days(2)),
        revoke(&c, RevocationReason::Superseded, T0.plus_days(2)),
        Revocation::from_withdrawal(event.clone(), receipt.clone()),
    ] {
        assert_eq!(
            r.verify(&community(), T0.plus_days(5)).unwrap(),
            r.claimed_effects()
        );
    }
    let w = Revocation::from_withdrawal(event.clone(), receipt.clone());
    assert_eq!(w.withdrawal(), Some((&event, &receipt)));
    assert_eq!(
        revoke(&c, RevocationReason::Withdrawn, T0).withdrawal(),
        None
    );
}
