//! Admission and ingest against a rogue node that speaks the real protocol
//! (`cairn-rogue`): a self-made certificate, an expired certificate, and a
//! valid certificate with forged items (which get it banned), and a member
//! replaying its participation event. Nothing the rogue should not get in
//! is stored anywhere, while what it may send (valid items under a valid
//! certificate) does arrive, so the tests can tell "refused" from "lost".

use cairn_tests::community::{CertOptions, Community, Issuer};
use cairn_tests::rogue::{RogueArgs, RogueProc};
use cairn_tests::{bins, expect, NodeProc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);
const ROGUE_ROLES: &str = "publish,receive";
const ROGUE_ENTITY: (&str, &str, &str) = ("essential", "health", "AT");

/// A running community of an authority and two members, all admitted.
struct Honest {
    c: Community,
    authority: NodeProc,
    members: Vec<NodeProc>,
}

impl Honest {
    fn start() -> Honest {
        let c = Community::create(2);
        let (authority, members) = c.start_all();
        let h = Honest {
            c,
            authority,
            members,
        };
        expect::all_admitted(&h.nodes(), DEADLINE);
        h
    }

    fn nodes(&self) -> Vec<&NodeProc> {
        std::iter::once(&self.authority)
            .chain(&self.members)
            .collect()
    }

    fn addrs(&self) -> Vec<String> {
        self.nodes().iter().map(|n| n.addr.clone()).collect()
    }

    /// Runs the rogue to completion; returns it for its output.
    fn rogue(&self, name: &str, key: &Path, cert: &Path, mode: &str, count: usize) -> RogueProc {
        self.rogue_with(name, key, cert, mode, count, &[])
    }

    fn rogue_with(
        &self,
        name: &str,
        key: &Path,
        cert: &Path,
        mode: &str,
        count: usize,
        extra: &[&str],
    ) -> RogueProc {
        let args = RogueArgs {
            community: &self.c.community_file,
            key,
            cert,
            bootstrap: self.addrs(),
            mode,
            count,
            linger_secs: 1.5,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        let mut rogue = RogueProc::spawn(self.c.path(), name, &args);
        // While it is connected, no honest node may count it as a member.
        let rogue_key = bins::cairn_ok(["key", "show", bins::s(key)]);
        expect_published(&rogue);
        rogue.finish(DEADLINE);
        rogue_key_absent(&self.nodes(), &rogue_key, &rogue);
        rogue
    }

    /// No node holds an item whose title has `marker`.
    fn assert_nothing_stored(&self, marker: &str, rogue: &RogueProc) {
        let found = expect::titles_with(&self.nodes(), marker);
        assert!(
            found.is_empty(),
            "items from the rogue were stored: {found:?}\n{}",
            rogue.describe()
        );
    }

    /// An honest member publishes and every node receives it: the community
    /// still works, and anything the rogue sent earlier has had time to land.
    /// A rogue whose certificate every honest node refuses with `reason`:
    /// nothing it sends is stored, and the honest nodes carry on.
    fn assert_refused(&self, rogue: &RogueProc, reason: &str, label: &str) {
        let refusals = refusals(rogue);
        assert!(
            !refusals.is_empty() && refusals.iter().all(|r| r.contains(reason)),
            "every honest node refuses the certificate with '{reason}'\n{}",
            rogue.describe()
        );
        self.honest_round(&format!("After the {label} rogue"));
        self.assert_nothing_stored("ROGUE", rogue);
    }

    fn honest_round(&self, title: &str) {
        let id = self.members[0].publish("near-miss", "GREEN", title, "Still sharing.");
        expect::items_everywhere(&self.nodes(), &BTreeSet::from([id]), DEADLINE);
    }
}

/// Waits until the rogue has published at least one item, or was refused
/// by the nodes it dialled (then it cannot even connect, let alone
/// publish), so assertions that follow are about what really happened.
fn expect_published(rogue: &RogueProc) {
    cairn_tests::until(&format!("{} publishes", rogue.name), DEADLINE, &[], || {
        let out = rogue.output();
        if out
            .lines()
            .any(|l| l.starts_with("published ") || l.starts_with("refused-by "))
        {
            Ok(())
        } else if out.contains("publish-failed") || out.contains("done") {
            panic!("the rogue could not publish:\n{}", rogue.describe())
        } else {
            Err(out)
        }
    });
}

fn rogue_key_absent(nodes: &[&NodeProc], rogue_key: &str, rogue: &RogueProc) {
    for n in nodes {
        let members = n.members();
        assert!(
            members
                .iter()
                .all(|m| m.member_key.to_string() != rogue_key),
            "{} lists the rogue as a member: {members:?}\n{}",
            n.name,
            rogue.describe()
        );
    }
}

/// The refusals the rogue received, one per honest node it reached.
fn refusals(rogue: &RogueProc) -> Vec<String> {
    rogue.lines("refused-by ")
}

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
    let rogue_key = c.new_key("rogue");
    let cert = c.path().join("rogue.cert.json");
    c.issuer().issue(
        &rogue_key,
        &cert,
        "Rogue Expired",
        ROGUE_ENTITY,
        ROGUE_ROLES,
        CertOptions {
            not_before: Some("2020-01-01T00:00:00Z"),
            valid_days: Some(1),
        },
    );

    let rogue = h.rogue("rogue-expired", &rogue_key, &cert, "valid", 3);
    h.assert_refused(&rogue, "expired", "expired");
}

#[test]
fn a_member_with_a_valid_certificate_cannot_forge_items() {
    let h = Honest::start();
    let c = &h.c;
    let rogue_key = c.new_key("rogue");
    let cert = c.path().join("rogue.cert.json");
    c.issuer().issue(
        &rogue_key,
        &cert,
        "Rogue Insider",
        ROGUE_ENTITY,
        ROGUE_ROLES,
        CertOptions::default(),
    );

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
    let rogue_key = c.new_key("rogue");
    let cert = c.path().join("rogue.cert.json");
    c.issuer().issue(
        &rogue_key,
        &cert,
        "Rogue Replayer",
        ROGUE_ENTITY,
        ROGUE_ROLES,
        CertOptions::default(),
    );
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
    assert_eq!(entries[0].sequence, 1);
}

/// The real community file with the issuers replaced by `issuer_key`'s.
fn forged_community(c: &Community, issuer_key: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&c.community_file).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let issuer = bins::cairn_ok(["key", "show", bins::s(issuer_key)]);
    doc["issuers"] = serde_json::json!([issuer]);
    let path = c.path().join("rogue-community.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}
