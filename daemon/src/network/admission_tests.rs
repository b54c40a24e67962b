//! Tests of the admission handshake over an in-memory pipe: who is admitted,
//! what a refused peer learns, and how revocations travel.

use super::*;
use crate::network::peers::peer_id_of;
use crate::testutil::Fixture;
use cairn_store::RevocationLog;
use tokio_util::compat::TokioAsyncReadCompatExt;

struct Node {
    admission: Arc<Admission>,
    peer: PeerId,
    _dir: tempfile::TempDir,
}

fn node(f: &Fixture, name: &str, knows: Vec<Revocation>) -> Node {
    let (key, cert) = f.certificate(name);
    let dir = tempfile::tempdir().unwrap();
    let (log, stored) = RevocationLog::open(dir.path()).unwrap();
    let revocations = Arc::new(Revocations::load(
        f.community.clone(),
        Arc::new(log),
        stored,
        Timestamp::now(),
    ));
    revocations.add_all(knows, Timestamp::now());
    Node {
        admission: Arc::new(Admission::new(f.community.clone(), cert, revocations)),
        peer: peer_id_of(&key.public()),
        _dir: dir,
    }
}

/// Runs the dialer `a` against the listener `b`.
async fn connect(
    a: &Node,
    b: &Node,
) -> (
    Result<Certificate, AdmissionError>,
    Result<Certificate, AdmissionError>,
) {
    let (x, y) = tokio::io::duplex(64 * 1024);
    let (mut x, mut y) = (x.compat(), y.compat());
    let (a_peer, b_peer) = (a.peer, b.peer);
    tokio::join!(
        a.admission.dial(&mut x, b_peer),
        b.admission.accept(&mut y, a_peer)
    )
}

#[tokio::test]
async fn two_members_admit_each_other() {
    let f = Fixture::new();
    let (a, b) = (node(&f, "hospital", vec![]), node(&f, "grid", vec![]));
    let (da, db) = connect(&a, &b).await;
    assert_eq!(da.unwrap(), b.admission.certificate());
    assert_eq!(db.unwrap(), a.admission.certificate());
    assert!(a.admission.take_admitted(&b.peer).is_some());
    assert!(b.admission.take_admitted(&a.peer).is_some());
    assert!(b.admission.take_admitted(&a.peer).is_none(), "taken once");
}

#[tokio::test]
async fn a_stranger_is_refused_and_never_sees_the_listeners_certificate() {
    let f = Fixture::new();
    let b = node(&f, "grid", vec![]);
    // A peer presenting a certificate it signed itself.
    let (_, rogue_cert) = f.rogue_item();
    let rogue_key = Fixture::key("rogue");
    let (x, y) = tokio::io::duplex(64 * 1024);
    let (mut x, mut y) = (x.compat(), y.compat());
    let stranger = async {
        send(
            &mut x,
            &Handshake::Hello {
                certificate: rogue_cert,
                revocations: cairn_protocol::handshake::RevocationSummary::of(&[]),
            },
        )
        .await
        .unwrap();
        recv(&mut x, Step::Certificate).await.unwrap()
    };
    let (seen, refused) = tokio::join!(
        stranger,
        b.admission.accept(&mut y, peer_id_of(&rogue_key.public()))
    );
    assert!(matches!(refused, Err(AdmissionError::Refused(_))));
    let Handshake::Refused { reason } = seen else {
        panic!("the stranger was shown {seen:?}")
    };
    assert!(reason.contains("not an issuer"), "{reason}");
    assert!(
        !reason.contains("grid"),
        "the refusal names nothing of the node: {reason}"
    );
}

#[tokio::test]
async fn a_certificate_for_another_key_is_refused() {
    let f = Fixture::new();
    let (a, b) = (node(&f, "hospital", vec![]), node(&f, "grid", vec![]));
    let (x, y) = tokio::io::duplex(64 * 1024);
    let (mut x, mut y) = (x.compat(), y.compat());
    // "hospital"'s certificate presented on a connection noise authenticated
    // for another key.
    let thief = peer_id_of(&Fixture::key("thief").public());
    let (_, refused) = tokio::join!(
        a.admission.dial(&mut x, b.peer),
        b.admission.accept(&mut y, thief)
    );
    assert!(refused.unwrap_err().to_string().contains("holds key"));
}

#[tokio::test]
async fn revocations_travel_both_ways_before_admission() {
    let f = Fixture::new();
    let (_, r1) = f.revoked_member("former member one");
    let (_, r2) = f.revoked_member("former member two");
    let a = node(&f, "hospital", vec![r1.clone()]);
    let b = node(&f, "grid", vec![r2.clone()]);
    let (da, db) = connect(&a, &b).await;
    da.unwrap();
    db.unwrap();
    let mut both = vec![r1.id(), r2.id()];
    both.sort();
    assert_eq!(a.admission.revocations.ids(), both);
    assert_eq!(b.admission.revocations.ids(), both);
}

#[tokio::test]
async fn a_revoked_member_is_refused_even_by_a_node_that_learns_it_in_the_handshake() {
    let f = Fixture::new();
    let (_, revocation) = f.revoked_member("hospital");
    // The dialer is revoked; the listener has not heard of it, but the
    // dialer itself carries the revocation (as a node that received it by
    // gossip would), so the listener learns it and refuses.
    let a = node(&f, "hospital", vec![revocation.clone()]);
    let b = node(&f, "grid", vec![]);
    let (_, db) = connect(&a, &b).await;
    assert!(matches!(db, Err(AdmissionError::Refused(_))), "{db:?}");
    // Once known, it is refused at the first step.
    let (da, db) = connect(&a, &b).await;
    assert!(matches!(db, Err(AdmissionError::Refused(_))));
    assert!(matches!(da, Err(AdmissionError::RefusedByPeer(_))));
}

#[tokio::test]
async fn an_oversized_frame_is_refused_before_it_is_read() {
    let f = Fixture::new();
    let b = node(&f, "grid", vec![]);
    let (x, y) = tokio::io::duplex(1024);
    let (mut x, mut y) = (x.compat(), y.compat());
    let claim = async {
        // Claims 4 GiB and sends nothing more.
        x.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        x.flush().await.unwrap();
        x
    };
    let (_x, refused) = tokio::join!(claim, b.admission.accept(&mut y, PeerId::random()));
    assert!(matches!(refused, Err(AdmissionError::TooLarge { .. })));
}

#[tokio::test]
async fn a_banned_member_is_refused_until_the_ban_ends() {
    let f = Fixture::new();
    let (a, b) = (node(&f, "hospital", vec![]), node(&f, "grid", vec![]));
    b.admission.ban(
        a.peer,
        Duration::from_millis(300),
        "3 invalid gossip messages".into(),
    );
    assert_eq!(b.admission.bans_active(), 1);
    let (da, db) = connect(&a, &b).await;
    let refused = db.unwrap_err().to_string();
    assert!(refused.contains("banned for misbehaviour"), "{refused}");
    assert!(refused.contains("3 invalid gossip"), "{refused}");
    // The banned member is told why, so its operator can see it.
    let told = da.unwrap_err().to_string();
    assert!(told.contains("banned"), "{told}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (da, db) = connect(&a, &b).await;
    assert!(da.is_ok() && db.is_ok(), "admitted again after the ban");
    assert_eq!(b.admission.bans_active(), 0);
}

#[tokio::test]
async fn a_revoked_dialer_learns_its_revocation_from_the_refusal() {
    let f = Fixture::new();
    let (_, revocation) = f.revoked_member("hospital");
    // Only the listener knows: the dialer, refused at the first step, could
    // never learn it through a handshake otherwise.
    let a = node(&f, "hospital", vec![]);
    let b = node(&f, "grid", vec![revocation.clone()]);
    let (da, db) = connect(&a, &b).await;
    assert!(matches!(db, Err(AdmissionError::Refused(_))), "{db:?}");
    assert!(
        matches!(da, Err(AdmissionError::RefusedByPeer(_))),
        "{da:?}"
    );
    assert_eq!(a.admission.revocations.ids(), vec![revocation.id()]);
    let mine = a.admission.certificate();
    assert!(a
        .admission
        .revocations
        .check_peer(&mine, Timestamp::now())
        .is_err());
}

#[tokio::test]
async fn a_refusal_carrying_another_members_revocation_is_ignored() {
    let f = Fixture::new();
    let a = node(&f, "hospital", vec![]);
    let (_, other) = f.revoked_member("former member");
    let listener_key = Fixture::key("grid");
    let (x, y) = tokio::io::duplex(64 * 1024);
    let (mut x, mut y) = (x.compat(), y.compat());
    let listener = async {
        let _ = recv(&mut y, Step::Certificate).await.unwrap();
        let refusal = Handshake::Revoked {
            reason: "certificate revoked".into(),
            revocation: other,
        };
        send(&mut y, &refusal).await.unwrap();
    };
    let (refused, ()) = tokio::join!(
        a.admission.dial(&mut x, peer_id_of(&listener_key.public())),
        listener
    );
    assert!(matches!(refused, Err(AdmissionError::RefusedByPeer(_))));
    assert!(
        a.admission.revocations.ids().is_empty(),
        "a refusal is no channel for spreading revocations"
    );
}
