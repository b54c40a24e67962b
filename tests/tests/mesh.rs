//! Members learn each other's addresses (the member directory): two
//! entities whose bootstrap lists name only the authority connect to each
//! other, keep exchanging items after the authority is killed, and one
//! restarted while the authority is still down finds the other from the
//! directory it saved.

use cairn_protocol::control::{DirectoryView, MemberView};
use cairn_tests::community::Community;
use cairn_tests::{expect, NodeProc};
use std::collections::BTreeSet;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// Waits until `node` has admitted the member holding `key`, and returns
/// its view.
fn connected_to(node: &NodeProc, other: &NodeProc, key: &str) -> MemberView {
    node.wait(
        &format!("{} is connected to {}", node.name, other.name),
        DEADLINE,
        || {
            let members = node.try_members()?;
            members
                .into_iter()
                .find(|m| m.member_key.to_string() == key && m.connected)
                .ok_or_else(|| format!("not connected to {}", other.name))
        },
    )
}

/// `node`'s directory entry of the member holding `peer_id`.
fn entry(node: &NodeProc, peer_id: &str) -> Option<DirectoryView> {
    node.status()
        .directory
        .into_iter()
        .find(|d| d.peer_id == peer_id)
}

#[test]
fn a_star_around_the_authority_becomes_a_mesh_that_outlives_it() {
    let c = Community::create(2);
    let mut authority = c.start(&c.authority, &[]);
    let hub = [authority.addr.clone()];
    let a = c.start(&c.members[0], &hub);
    let mut b = c.start(&c.members[1], &hub);
    let (key_a, key_b) = (&c.members[0].public_key, &c.members[1].public_key);

    // Neither names the other, yet they connect: one learned the other's
    // signed addresses through the authority and dialled them.
    let seen_by_a = connected_to(&a, &b, key_b);
    let seen_by_b = connected_to(&b, &a, key_a);
    let dialled = [&seen_by_a, &seen_by_b]
        .iter()
        .filter(|m| {
            m.reached_at
                .as_deref()
                .is_some_and(|r| r.ends_with("(dialled)"))
        })
        .count();
    assert!(
        dialled >= 1,
        "one of them dialled the other: {:?} / {:?}",
        seen_by_a.reached_at,
        seen_by_b.reached_at
    );
    // `cairn status` shows what each learned: the other's addresses as it
    // signed them (its real listen address), and from whom.
    let peer_b = b.status().peer_id;
    let port_b = b.port();
    let learned = a.wait("a's directory holds b's record", DEADLINE, || {
        entry(&a, &peer_b).ok_or_else(|| "no record of b".to_string())
    });
    assert!(
        learned
            .addresses
            .contains(&format!("/ip4/127.0.0.1/tcp/{port_b}")),
        "{learned:?}"
    );
    assert!(!learned.own && learned.connected, "{learned:?}");
    let text = a.cli_ok(["status"]);
    assert!(text.contains("member directory"), "{text}");

    // The hub goes away for good; items still flow between the entities.
    authority.kill9();
    let id = a.publish(
        "indicator-of-compromise",
        "AMBER",
        "Published while the authority is down",
        "C2 at 198.51.100.7.",
    );
    expect::items_everywhere(&[&a, &b], &BTreeSet::from([id]), DEADLINE);

    // b restarts (on a new port) while the authority is still down: its
    // only bootstrap peer is unreachable, so it finds a through the
    // directory it saved.
    b.restart();
    connected_to(&b, &a, key_a);
    let id = b.publish(
        "vulnerability",
        "GREEN",
        "Published after a restart without the hub",
        "Patch now.",
    );
    expect::items_everywhere(&[&a, &b], &BTreeSet::from([id]), DEADLINE);
    let bootstrap = b.status().bootstrap;
    assert!(
        bootstrap.iter().all(|v| !v.connected),
        "the hub is down: {bootstrap:?}"
    );
}
