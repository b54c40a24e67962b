//! Certificates an honest node must refuse at connection, each thrown at a
//! running community by `cairn-rogue`: not yet valid, from another
//! community, a valid member's certificate presented with another key, and
//! a revoked one. (A self-made and an expired certificate are in
//! `admission.rs`.) For each, every honest node refuses within 2 s of the
//! dial, logs why, and nothing the rogue sends is stored anywhere; the
//! honest members keep sharing.

use cairn_tests::community::{CertOptions, Issuer};
use cairn_tests::honest::{Honest, DEADLINE, ROGUE_ENTITY, ROGUE_ROLES};
use cairn_tests::{bins, until};

#[test]
fn a_certificate_not_yet_valid_is_refused_at_connection() {
    let h = Honest::start();
    // Signed by the real issuer, only its validity has not begun: the
    // refusal is about the window, nothing else.
    let (rogue_key, cert) = h.rogue_member(
        "Rogue Early",
        CertOptions {
            not_before: Some("2099-01-01T00:00:00Z"),
            valid_days: Some(30),
        },
    );

    let rogue = h.rogue("rogue-early", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "is not valid before", "not-yet-valid");
}

#[test]
fn a_certificate_of_another_community_is_refused_at_connection() {
    let h = Honest::start();
    let c = &h.c;
    // The same issuer runs a second community; its certificates are no
    // ticket into the first.
    let other = c.path().join("other-community.json");
    let other_authority = c.new_key("other-authority");
    bins::cairn_ok([
        "community",
        "create",
        "--name",
        "Other ISAC",
        "--issuer-key",
        bins::s(&c.issuer_key),
        "--authority-key",
        bins::s(&other_authority),
        "--out",
        bins::s(&other),
    ]);
    let rogue_key = c.new_key("rogue");
    let cert = c.path().join("rogue.cert.json");
    Issuer {
        community_file: &other,
        issuer_key: &c.issuer_key,
    }
    .issue(
        &rogue_key,
        &cert,
        "Rogue Elsewhere",
        ROGUE_ENTITY,
        ROGUE_ROLES,
        CertOptions::default(),
    );

    let rogue = h.rogue_in(&other, "rogue-elsewhere", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "certificate is for community", "other-community");
}

#[test]
fn a_members_certificate_with_another_key_is_refused_at_connection() {
    let h = Honest::start();
    let c = &h.c;
    // A copied certificate: genuine, valid, a member's, but noise proves the
    // rogue holds a different key.
    let rogue_key = c.new_key("rogue");
    let stolen = &c.members[0].cert_file;

    let rogue = h.rogue("rogue-stolen", &rogue_key, stolen, "valid", 3);
    h.assert_refused(&rogue, "but the peer holds key", "key-mismatch");
    // The real holder is still a member everywhere.
    let holder = &c.members[0].public_key;
    for n in h.nodes().into_iter().filter(|n| n.name != "member-1") {
        assert!(
            n.members()
                .iter()
                .any(|m| &m.member_key.to_string() == holder && m.connected),
            "{} still has member-1 connected",
            n.name
        );
    }
}

#[test]
fn a_revoked_certificate_is_refused_at_connection() {
    let h = Honest::start();
    let c = &h.c;
    let (rogue_key, cert) = h.rogue_member("Rogue Revoked", CertOptions::default());
    let file = c.path().join("rogue.revocation.json");
    let id = c.issuer().revoke(&cert, "key-compromise", &file);
    h.members[0].cli_ok(["revocation", "publish", bins::s(&file)]);
    // Every node holds the revocation before the rogue dials, so each
    // refusal is the revocation's doing.
    until(
        "every node enforces the revocation",
        DEADLINE,
        &h.nodes(),
        || {
            let lacking: Vec<&str> = h
                .nodes()
                .into_iter()
                .filter(|n| {
                    !n.log_text()
                        .lines()
                        .any(|l| l.contains("revocation enforced") && l.contains(&id))
                })
                .map(|n| n.name.as_str())
                .collect();
            if lacking.is_empty() {
                Ok(())
            } else {
                Err(format!("not yet on {lacking:?}"))
            }
        },
    );

    let rogue = h.rogue("rogue-revoked", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "was revoked (key-compromise", "revoked");
}
