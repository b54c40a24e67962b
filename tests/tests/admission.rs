//! Admission and ingest against a rogue node that speaks the real protocol
//! (`cairn-rogue`): a self-made certificate, an expired certificate, and a
//! valid certificate with forged items. Nothing the rogue should not get in
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
        let args = RogueArgs {
            community: &self.c.community_file,
            key,
            cert,
            bootstrap: self.addrs(),
            mode,
            count,
            linger_secs: 1.5,
            created_ms: None,
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
        CertOptions::default(),
    );
    // `cairn cert issue` refuses to make an expired certificate; the issuer
    // signs one anyway.
    c.issuer().resign(&cert, |b| {
        b.not_before = cairn_protocol::Timestamp(1_577_836_800_000); // 2020-01-01
        b.not_after = b.not_before.plus_days(1);
    });

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

    // Forged: a flipped signature byte, a title changed after signing.
    let forged = h.rogue("rogue-forged", &rogue_key, &cert, "forged", 4);
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
    h.honest_round("After the forging rogue");
    h.assert_nothing_stored("ROGUE-forged", &forged);
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
