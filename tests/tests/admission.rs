//! Admission and ingest against a rogue node that speaks the real protocol
//! (`cairn-rogue`): a self-made certificate, an expired certificate, and a
//! valid certificate with forged items (which get it banned), and a member
//! replaying its participation event. Nothing the rogue should not get in
//! is stored anywhere, while what it may send (valid items under a valid
//! certificate) does arrive, so the tests can tell "refused" from "lost".
//! The other certificates refused at connection are in `refusals.rs`; the
//! honest community and the refusal checks both use are in
//! `cairn_tests::honest`.

use cairn_tests::community::{CertOptions, Issuer};
use cairn_tests::honest::{
    expire, forged_community, refusals, Honest, DEADLINE, ROGUE_ENTITY, ROGUE_ROLES,
};
use cairn_tests::rogue::{RogueArgs, RogueProc};
use cairn_tests::{bins, expect, NodeProc};
use std::collections::BTreeSet;

#[test]
fn a_self_made_certificate_gets_nothing_in() {
    let h = Honest::start();
    let c = &h.c;
    let rogue_issuer = c.new_key("rogue-issuer");
    let rogue_key = c.new_key("rogue");
    let cert = c.path().join("rogue.cert.json");

    // The CLI refuses to issue with a key that is not the community's issuer...
    let refused = bins::cairn_cmd([
        "cert",
        "issue",
        "--community",
        bins::s(&c.community_file),
        "--issuer-key",
        bins::s(&rogue_issuer),
        "--member-key",
        bins::s(&rogue_key),
        "--entity-name",
        "Rogue Self-Signed",
        "--entity-type",
        "essential",
        "--sector",
        "health",
        "--member-state",
        "AT",
        "--roles",
        ROGUE_ROLES,
        "--out",
        bins::s(&cert),
    ]);
    assert!(!refused.status.success() && !cert.exists());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("not an issuer key"), "{stderr}");

    // ...so the rogue forges its own community file: the real id and name,
    // its own issuer. The certificate names the real community.
    let rogue_community = forged_community(c, &rogue_issuer);
    Issuer {
        community_file: &rogue_community,
        issuer_key: &rogue_issuer,
    }
    .issue(
        &rogue_key,
        &cert,
        "Rogue Self-Signed",
        ROGUE_ENTITY,
        ROGUE_ROLES,
        CertOptions::default(),
    );

    let rogue = h.rogue("rogue-self-signed", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "not an issuer", "self-signed");
}

#[test]
fn an_expired_certificate_gets_nothing_in() {
    let h = Honest::start();
    let c = &h.c;
    let (rogue_key, cert) = h.rogue_member("Rogue Expired", CertOptions::default());
    expire(c, &cert);

    let rogue = h.rogue("rogue-expired", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "expired", "expired");
}

#[test]
fn a_member_with_a_valid_certificate_cannot_forge_items() {
    let h = Honest::start();
    let (rogue_key, cert) = h.rogue_member("Rogue Insider", CertOptions::default());

    // Control: the same rogue, certificate and code path deliver valid items.
    let valid = h.rogue("rogue-valid", &rogue_key, &cert, "valid", 2);
    assert!(refusals(&valid).is_empty(), "{}", valid.describe());
    cairn_tests::until(
        "every honest node holds the rogue's 2 valid items, verified",
        DEADLINE,
        &h.nodes(),
        || {
            let found = expect::titles_with(&h.nodes(), "ROGUE-valid-");
            if found.len() == 2 * h.nodes().len() {
                Ok(())
            } else {
                Err(format!("{found:?}"))
            }
        },
    );
    for n in h.nodes() {
        assert!(n
            .items()
            .iter()
            .filter(|i| i.title.contains("ROGUE-valid-"))
            .all(|i| i.verified && i.publisher_name == "Rogue Insider"));
    }

    // Forged: a flipped signature byte, a title changed after signing. More
    // than `invalid_before_ban` (2) of them get the rogue banned; it then
    // tries to come back (`--redial`).
    let forged = h.rogue_with(
        "rogue-forged",
        &rogue_key,
        &cert,
        "forged",
        4,
        &["--redial"],
    );
    assert_eq!(forged.lines("published ").len(), 4, "{}", forged.describe());
    cairn_tests::until(
        "an honest node logs that it rejected forged gossip",
        DEADLINE,
        &h.nodes(),
        || {
            if h.nodes()
                .iter()
                .any(|n| n.log_text().contains("gossip rejected"))
            {
                Ok(())
            } else {
                Err("no rejection logged".into())
            }
        },
    );
    let banned: Vec<&NodeProc> = h
        .nodes()
        .into_iter()
        .filter(|n| {
            n.log_text()
                .contains("peer banned for 600 s: 3 invalid gossip")
        })
        .collect();
    assert!(
        !banned.is_empty(),
        "no honest node banned the forger\n{}",
        forged.describe()
    );
    // Disconnected by each node that banned it, and refused, with the
    // reason, when it came back.
    assert!(
        forged.lines("disconnected ").len() >= banned.len(),
        "{}",
        forged.describe()
    );
    let refused = refusals(&forged);
    assert_eq!(refused.len(), banned.len(), "{}", forged.describe());
    assert!(
        refused
            .iter()
            .all(|r| r.contains("banned for misbehaviour (3 invalid gossip")),
        "{refused:?}"
    );
    for n in &banned {
        cairn_tests::until(
            &format!("{} logs the refused reconnection", n.name),
            DEADLINE,
            &[n],
            || {
                if n.log_text().contains("connection refused: banned") {
                    Ok(())
                } else {
                    Err("not yet".into())
                }
            },
        );
        let abuse = n.status().abuse;
        assert!(
            abuse.peers_banned == 1 && abuse.banned_now == 1 && abuse.gossip_rejected >= 3,
            "{}: {abuse:?}",
            n.name
        );
    }
    h.honest_round("After the forging rogue");
    h.assert_nothing_stored("ROGUE-forged", &forged);
}

#[test]
fn a_replayed_participation_event_is_registered_once() {
    let h = Honest::start();
    let c = &h.c;
    let (rogue_key, cert) = h.rogue_member("Rogue Replayer", CertOptions::default());
    let member_key = bins::cairn_ok(["key", "show", bins::s(&rogue_key)]);
    let event_file = c.path().join("rogue-event.bin");
    let mut digests = BTreeSet::new();
    // The second run replays the same event from the file, over a new
    // connection, after it was registered.
    for run in 0..2 {
        let args = RogueArgs {
            community: &c.community_file,
            key: &rogue_key,
            cert: &cert,
            bootstrap: h.addrs(),
            mode: "replay-event",
            count: 4,
            linger_secs: 3.0,
            created_ms: None,
            extra: vec!["--event".into(), bins::s(&event_file).to_string()],
        };
        let mut rogue = RogueProc::spawn(c.path(), &format!("rogue-replay-{run}"), &args);
        rogue.finish(DEADLINE);
        let receipts = rogue.lines("receipt-from ");
        assert!(!receipts.is_empty(), "{}", rogue.describe());
        for r in &receipts {
            assert!(r.contains(" index="), "{r}");
            digests.insert(r.split(" index=").nth(1).unwrap().to_string());
        }
        // The other event under the same number and the one skipping a
        // number are refused (or, if the authority was busy, not answered
        // with a receipt: the digests above would differ).
        for r in rogue.lines("request-refused-by ") {
            assert!(
                r.contains("already registered as a different event")
                    || r.contains("out of sequence")
                    || r.contains("busy"),
                "{r}\n{}",
                rogue.describe()
            );
        }
    }
    assert_eq!(
        digests.len(),
        1,
        "one receipt, always the original: {digests:?}"
    );
    let entries: Vec<_> = h
        .authority
        .register()
        .into_iter()
        .filter(|e| e.member_key.to_string() == member_key)
        .collect();
    assert_eq!(entries.len(), 1, "registered once: {entries:?}");
    assert_eq!(entries[0].sequence, Some(1));
}
