//! An honest community to throw a rogue at, shared by the admission tests
//! (`tests/admission.rs`) and the refusal tests (`tests/refusals.rs`): start
//! it, run `cairn-rogue` against every node, and check a refusal the way
//! the issue states it — every honest node refuses at connection, within
//! 2 s of the dial, says why in its own log, and stores nothing the rogue
//! sent, while honest members keep sharing.

use crate::community::{CertOptions, Community};
use crate::rogue::{RogueArgs, RogueProc};
use crate::{bins, expect, until, NodeProc};
use cairn_protocol::Timestamp;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Generous deadline for anything not bounded by the issue itself.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// The issue's bound: a refused certificate is refused this soon after the
/// dial.
pub const REFUSED_WITHIN: Duration = Duration::from_secs(2);
pub const ROGUE_ROLES: &str = "publish,receive";
pub const ROGUE_ENTITY: (&str, &str, &str) = ("essential", "health", "AT");

/// A running community of an authority and two members, all admitted.
pub struct Honest {
    pub c: Community,
    pub authority: NodeProc,
    pub members: Vec<NodeProc>,
}

impl Honest {
    pub fn start() -> Honest {
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

    pub fn nodes(&self) -> Vec<&NodeProc> {
        std::iter::once(&self.authority)
            .chain(&self.members)
            .collect()
    }

    pub fn addrs(&self) -> Vec<String> {
        self.nodes().iter().map(|n| n.addr.clone()).collect()
    }

    /// A key and a certificate from the community's real issuer for a
    /// rogue member named `entity_name`: `rogue.key`, `rogue.cert.json`.
    pub fn rogue_member(&self, entity_name: &str, options: CertOptions<'_>) -> (PathBuf, PathBuf) {
        let key = self.c.new_key("rogue");
        let cert = self.c.path().join("rogue.cert.json");
        self.c
            .issuer()
            .issue(&key, &cert, entity_name, ROGUE_ENTITY, ROGUE_ROLES, options);
        (key, cert)
    }

    /// Runs the rogue against every node to completion; returns it for its
    /// output.
    pub fn rogue(
        &self,
        name: &str,
        key: &Path,
        cert: &Path,
        mode: &str,
        count: usize,
    ) -> RogueProc {
        self.rogue_in(&self.c.community_file, name, key, cert, mode, count)
    }

    /// [`Honest::rogue`] believing it belongs to the community in
    /// `community` (its topic, the community its items name).
    pub fn rogue_in(
        &self,
        community: &Path,
        name: &str,
        key: &Path,
        cert: &Path,
        mode: &str,
        count: usize,
    ) -> RogueProc {
        self.run_rogue(community, name, key, cert, mode, count, &[])
    }

    /// [`Honest::rogue`] with further `cairn-rogue` arguments (`--redial`).
    pub fn rogue_with(
        &self,
        name: &str,
        key: &Path,
        cert: &Path,
        mode: &str,
        count: usize,
        extra: &[&str],
    ) -> RogueProc {
        let community = self.c.community_file.clone();
        self.run_rogue(&community, name, key, cert, mode, count, extra)
    }

    #[allow(clippy::too_many_arguments)]
    fn run_rogue(
        &self,
        community: &Path,
        name: &str,
        key: &Path,
        cert: &Path,
        mode: &str,
        count: usize,
        extra: &[&str],
    ) -> RogueProc {
        let args = RogueArgs {
            community,
            key,
            cert,
            bootstrap: self.addrs(),
            mode,
            count,
            linger_secs: 1.5,
            created_ms: None,
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
    pub fn assert_nothing_stored(&self, marker: &str, rogue: &RogueProc) {
        let found = expect::titles_with(&self.nodes(), marker);
        assert!(
            found.is_empty(),
            "items from the rogue were stored: {found:?}\n{}",
            rogue.describe()
        );
    }

    /// A rogue whose certificate every honest node refuses with `reason`:
    /// each refused it within [`REFUSED_WITHIN`] of its dial and logged
    /// `connection refused: …reason…` naming the rogue, nothing it sent is
    /// stored anywhere, and the honest nodes carry on. Returns the refusal
    /// times in milliseconds, as the rogue measured them.
    pub fn assert_refused(&self, rogue: &RogueProc, reason: &str, label: &str) -> Vec<u128> {
        let refusals = refusals(rogue);
        assert!(
            refusals.len() == self.nodes().len() && refusals.iter().all(|r| r.contains(reason)),
            "every honest node refuses the certificate with '{reason}'\n{}",
            rogue.describe()
        );
        let times: Vec<u128> = refusals.iter().map(|r| refused_after_ms(r)).collect();
        eprintln!("{label}: refused after {times:?} ms");
        assert!(
            times.iter().all(|ms| *ms < REFUSED_WITHIN.as_millis()),
            "every refusal within {REFUSED_WITHIN:?} of the dial: {times:?} ms\n{}",
            rogue.describe()
        );
        let peer = rogue_peer(rogue);
        for n in self.nodes() {
            n.wait(
                &format!("the node logs why it refused the {label} rogue"),
                DEADLINE,
                || {
                    let log = n.log_text();
                    if log.lines().any(|l| {
                        l.contains("connection refused: ")
                            && l.contains(reason)
                            && l.contains(&peer)
                    }) {
                        Ok(())
                    } else {
                        Err(format!("no 'connection refused: …{reason}…' for {peer}"))
                    }
                },
            );
        }
        self.honest_round(&format!("After the {label} rogue"));
        self.assert_nothing_stored("ROGUE", rogue);
        times
    }

    /// An honest member publishes and every node receives it: the community
    /// still works, and anything the rogue sent earlier has had time to land.
    pub fn honest_round(&self, title: &str) {
        let id = self.members[0].publish("near-miss", "GREEN", title, "Still sharing.");
        expect::items_everywhere(&self.nodes(), &BTreeSet::from([id]), DEADLINE);
    }
}

/// Waits until the rogue has published at least one item, or was refused
/// by the nodes it dialled (then it cannot even connect, let alone
/// publish), so assertions that follow are about what really happened.
pub fn expect_published(rogue: &RogueProc) {
    until(&format!("{} publishes", rogue.name), DEADLINE, &[], || {
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

pub fn rogue_key_absent(nodes: &[&NodeProc], rogue_key: &str, rogue: &RogueProc) {
    for n in nodes {
        let members = n.members();
        // A revoked key is listed, as revoked: never connected.
        assert!(
            members
                .iter()
                .all(|m| m.member_key.to_string() != rogue_key
                    || (m.revoked.is_some() && !m.connected)),
            "{} lists the rogue as a member: {members:?}\n{}",
            n.name,
            rogue.describe()
        );
    }
}

/// The refusals the rogue received, one per honest node it reached.
pub fn refusals(rogue: &RogueProc) -> Vec<String> {
    rogue.lines("refused-by ")
}

/// The `after-ms=` figure of a `refused-by` line.
fn refused_after_ms(line: &str) -> u128 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("after-ms="))
        .and_then(|ms| ms.trim_end_matches(':').parse().ok())
        .unwrap_or_else(|| panic!("a refusal says when it came: {line}"))
}

/// The rogue's peer id, from its first line (`rogue <peer id> …`).
fn rogue_peer(rogue: &RogueProc) -> String {
    rogue
        .lines("rogue ")
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("the rogue names itself\n{}", rogue.describe()))
        .to_string()
}

/// The real community file with the issuers replaced by `issuer_key`'s.
pub fn forged_community(c: &Community, issuer_key: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&c.community_file).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let issuer = bins::cairn_ok(["key", "show", bins::s(issuer_key)]);
    doc["issuers"] = serde_json::json!([issuer]);
    let path = c.path().join("rogue-community.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

/// Re-issues the certificate at `cert` (made with `cairn cert issue`) by the
/// community's real issuer as if it had been issued on 2020-01-01 for one
/// day, so it has long expired. The CLI rightly refuses to issue such a
/// certificate; an expired certificate is what a former member still holds.
pub fn expire(c: &Community, cert: &Path) {
    c.issuer().resign(cert, |b| {
        // 2020-01-01T00:00:00Z.
        b.not_before = Timestamp(1_577_836_800_000);
        b.not_after = b.not_before.plus_days(1);
    });
}
