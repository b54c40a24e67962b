//! Revocation end to end with real `cairnd` processes: the issuer revokes a
//! member offline (`cairn cert revoke`), any node is handed the file
//! (`cairn revocation publish`), and every member cuts the revoked one off;
//! a node that was offline learns it when it reconnects, before it takes
//! anything from the revoked member.

use cairn_protocol::control::MemberView;
use cairn_tests::community::Community;
use cairn_tests::{bins, expect, NodeProc};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);
/// The bound on a revocation taking effect across connected members.
const TAKES_EFFECT: Duration = Duration::from_secs(2);

/// Signs a revocation of `member`'s certificate with the real issuer.
fn revoke(c: &Community, member: usize, reason: &str) -> PathBuf {
    let out = c.path().join(format!("revoke-{member}-{reason}.json"));
    c.issuer()
        .revoke(&c.members[member].cert_file, reason, &out);
    out
}

/// `node`'s view of the member whose key is `key`, if it lists it.
fn view_of(node: &NodeProc, key: &str) -> Result<Option<MemberView>, String> {
    Ok(node
        .try_members()?
        .into_iter()
        .find(|m| m.member_key.to_string() == key))
}

/// Waits until `node` lists `key` as revoked and not connected.
fn sees_revoked(node: &NodeProc, key: &str, timeout: Duration) {
    node.wait(
        "the member is shown revoked and disconnected",
        timeout,
        || match view_of(node, key)? {
            Some(m) if m.revoked.is_some() && !m.connected => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
}

/// A revoked member trying to publish: its own node may already refuse.
fn try_publish(node: &NodeProc, title: &str) {
    let _ = node.try_publish("near-miss", "GREEN", title, "x");
}

fn titles(node: &NodeProc) -> BTreeSet<String> {
    node.items().into_iter().map(|i| i.title).collect()
}

#[test]
fn a_revoked_member_is_cut_off_by_every_member_within_two_seconds() {
    let c = Community::create(3);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);
    let revoked_key = c.members[2].public_key.clone();
    let before = members[2].publish("near-miss", "GREEN", "published before revocation", "x");
    expect::items_everywhere(&all, &BTreeSet::from([before.clone()]), DEADLINE);

    let file = revoke(&c, 2, "misbehaviour");
    let said = members[0].cli_ok(["revocation", "publish", bins::s(&file)]);
    assert!(said.contains("enforced and spread"), "{said}");
    let t0 = Instant::now();
    for n in [&authority, &members[0], &members[1]] {
        let left = TAKES_EFFECT.saturating_sub(t0.elapsed());
        sees_revoked(n, &revoked_key, left.max(Duration::from_millis(1)));
    }
    eprintln!(
        "revocation in force on every member after {:?}",
        t0.elapsed()
    );

    // What the revoked member publishes now reaches nobody (its own node
    // may already refuse it, if the revocation reached it before its
    // connections closed); what it published before stays, marked.
    try_publish(&members[2], "published after revocation");
    std::thread::sleep(Duration::from_secs(3));
    for n in [&authority, &members[0], &members[1]] {
        let held = titles(n);
        assert!(held.contains("published before revocation"), "{}", n.name);
        assert!(
            !held.contains("published after revocation"),
            "{} took an item from a revoked member",
            n.name
        );
        let item = n
            .items()
            .into_iter()
            .find(|i| i.id.to_string() == before)
            .unwrap();
        let shown = n.cli_ok(["items", "show", &before]);
        assert!(
            item.publisher_revoked.is_some() && shown.contains("REVOKED"),
            "{shown}"
        );
    }
    // The refusing nodes say why, in their own logs.
    cairn_tests::until("a member logs the refusal", DEADLINE, &all, || {
        if [&members[0], &members[1], &authority]
            .iter()
            .any(|n| n.log_text().contains("was revoked (misbehaviour"))
        {
            Ok(())
        } else {
            Err("no refusal logged yet".into())
        }
    });
}

#[test]
/// member-2 may reach the revoked member first (its saved member directory
/// names it) and take an item before another member's handshake brings the
/// revocation: it must then remove it (`daemon/src/revoked_items.rs`).
fn a_node_offline_during_the_revocation_keeps_nothing_from_the_revoked_member() {
    let c = Community::create(3);
    let (authority, mut members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }
    let revoked_key = c.members[2].public_key.clone();
    // member-2 goes offline; member-3 (bootstrapped to it) is revoked.
    members[1].kill9();
    let file = revoke(&c, 2, "misbehaviour");
    members[0].cli_ok(["revocation", "publish", bins::s(&file)]);
    sees_revoked(&members[0], &revoked_key, DEADLINE);
    sees_revoked(&authority, &revoked_key, DEADLINE);
    try_publish(&members[2], "sent while member-2 was away");

    // member-2 comes back; member-3 keeps trying to reach it.
    members[1].restart();
    sees_revoked(&members[1], &revoked_key, DEADLINE);
    try_publish(&members[2], "sent after member-2 returned");
    std::thread::sleep(Duration::from_secs(3));
    let held = titles(&members[1]);
    let removed = members[1]
        .log_text()
        .matches("item removed: its publisher")
        .count();
    println!("member-2 took and then removed {removed} items from the revoked member");
    assert!(
        !held.contains("sent while member-2 was away")
            && !held.contains("sent after member-2 returned"),
        "member-2 took items from the revoked member: {held:?}\n{}",
        members[1].log_tail(40)
    );
}

#[test]
fn items_back_dated_with_a_compromised_key_are_refused_by_every_node_that_knows() {
    use cairn_tests::rogue::{RogueArgs, RogueProc};
    let c = Community::create(2);
    let (authority, mut members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }
    // member-1's key leaks; its operator stops the node. member-2 is offline.
    members[0].kill9();
    members[1].kill9();
    let cert: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&c.members[0].cert_file).unwrap()).unwrap();
    let not_before = cert["body"]["not_before"].as_u64().unwrap();
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    // Claimed creation time: before the revocation, inside the validity.
    let back_dated = (now_ms() - 500).max(not_before + 1);
    std::thread::sleep(Duration::from_millis(50));
    let file = revoke(&c, 0, "key-compromise");
    authority.cli_ok(["revocation", "publish", bins::s(&file)]);

    // The thief reaches member-2 before member-2 hears of the revocation:
    // no bootstrap and no saved member directory (which would have it dial
    // the authority at once); its new port is unknown to the others.
    c.write_config(&c.members[1], &[]);
    let _ = std::fs::remove_file(c.members[1].data_dir.join("directory.bin"));
    members[1].restart();
    let thief = RogueArgs {
        community: &c.community_file,
        key: &c.members[0].key_file,
        cert: &c.members[0].cert_file,
        bootstrap: vec![members[1].addr.clone()],
        mode: "valid",
        count: 2,
        linger_secs: 1.5,
        created_ms: Some(back_dated),
        extra: vec![],
    };
    let mut rogue = RogueProc::spawn(c.path(), "thief", &thief);
    rogue.finish(DEADLINE);
    members[1].wait("member-2 took the back-dated items", DEADLINE, || {
        let n = expect::titles_with(&[&members[1]], "ROGUE-valid-").len();
        if n == 2 {
            Ok(())
        } else {
            Err(format!("{n} of 2\n{}", rogue.describe()))
        }
    });

    // member-2 meets the community: it learns the revocation in the
    // handshake, keeps what it held (marked), and whoever reconciles with it
    // refuses the back-dated items.
    members[1].cli_ok(["sync"]);
    c.write_config(&c.members[1], std::slice::from_ref(&authority.addr));
    members[1].restart();
    let key = c.members[0].public_key.clone();
    sees_revoked(&members[1], &key, DEADLINE);
    authority.cli_ok(["sync"]);
    members[1].cli_ok(["sync"]);
    // The authority was offered them by catch-up and refused them.
    authority.wait("the authority refuses the offered items", DEADLINE, || {
        if authority.log_text().contains("refused=2") {
            Ok(())
        } else {
            Err("no catch-up refused them yet".into())
        }
    });
    // Refused for good: later sessions do not fetch them again.
    authority.cli_ok(["sync"]);
    authority.cli_ok(["sync"]);
    let refusals = authority.log_text().matches("refused=2").count();
    assert_eq!(refusals, 1, "refused items were fetched again");
    assert!(
        expect::titles_with(&[&authority], "ROGUE-valid-").is_empty(),
        "the authority took back-dated items of a compromised key\n{}",
        authority.log_tail(30)
    );
    let held: Vec<_> = members[1]
        .items()
        .into_iter()
        .filter(|i| i.title.contains("ROGUE-valid-"))
        .collect();
    assert_eq!(held.len(), 2, "items held before the revocation stay");
    assert!(held.iter().all(|i| i.publisher_revoked.is_some()));
}
