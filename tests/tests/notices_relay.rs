//! Notices by any path (issue 12): a member whose only link goes through
//! another member joins and withdraws; both events reach the authority's
//! register through that member, exactly once each, and both receipts come
//! back the same way.
//!
//! The withdrawal is made while the member is cut off from every node: the
//! command says it is queued and why, `cairn status` lists it, and it goes
//! through the member once the link is back.
//!
//! The network makes the authority unreachable for the member, whatever
//! addresses it might learn: the authority listens on 127.0.0.1 inside
//! namespace A, the relay on A's veth address, and the member sits in
//! namespace B. Needs root and iproute2 (CI runs as root).
//!
//! The times are printed (goal: 5 s); the test waits for the outcome and
//! never asserts a time.

use cairn_protocol::control::ParticipationView;
use cairn_protocol::control::RegisterKind;
use cairn_protocol::ParticipationKind;
use cairn_tests::community::Community;
use cairn_tests::netns::{Link, ADDR_A, ADDR_B};
use cairn_tests::{expect, until, NodeProc};
use std::time::{Duration, Instant};

/// Give-up bound for each wait (not the goal).
const GIVE_UP: Duration = Duration::from_secs(60);

fn receipted(node: &NodeProc, kind: ParticipationKind) -> Result<ParticipationView, String> {
    let events = node.try_participation()?;
    match events.iter().find(|p| p.kind == kind) {
        Some(p) if p.register_index.is_some() => Ok(p.clone()),
        other => Err(format!("{other:?}")),
    }
}

#[test]
fn a_member_reaching_the_authority_only_through_members_joins_and_withdraws() {
    let link = Link::create().unwrap_or_else(|e| {
        panic!(
            "this test separates the member from the authority with `ip netns`, which needs \
             root and iproute2 (.ci/run installs it); it could not: {e}"
        )
    });
    let c = Community::create(2);
    let authority = c.start_in(&c.authority, &link.a, "127.0.0.1", &[]);
    let relay = c.start_in(
        &c.members[0],
        &link.a,
        ADDR_A,
        std::slice::from_ref(&authority.addr),
    );
    let member = c.start_in(
        &c.members[1],
        &link.b,
        ADDR_B,
        std::slice::from_ref(&relay.addr),
    );
    let all = [&authority, &relay, &member];
    expect::all_admitted(&[&authority, &relay], GIVE_UP);
    expect::all_admitted(&[&relay, &member], GIVE_UP);
    let authority_key = authority.status().member_key.to_string();
    let no_direct_link = || {
        assert!(
            member
                .members()
                .iter()
                .all(|m| m.member_key.to_string() != authority_key),
            "the member must have no connection to the authority in this test"
        );
    };
    no_direct_link();

    let t0 = Instant::now();
    let answer = member.cli_ok(["join"]);
    eprintln!(
        "cairn join answered after {:.1}s:\n{answer}",
        t0.elapsed().as_secs_f64()
    );
    let joined = until("the join's receipt is back", GIVE_UP, &all, || {
        receipted(&member, ParticipationKind::Joined)
    });
    eprintln!(
        "notice via members: join registered and receipted {:.1}s after `cairn join` (goal: 5 s)",
        t0.elapsed().as_secs_f64()
    );
    no_direct_link();

    // The withdrawal is made while the member is cut off from everyone:
    // `cairn withdraw` must say it is queued and why, `cairn status` must
    // list it, and it must go once a member is reachable again.
    link.cut();
    until("the member sees nobody", GIVE_UP, &all, || {
        match member.try_status()?.connected_members {
            0 => Ok(()),
            k => Err(format!("{k} members connected")),
        }
    });
    let answer = member.cli_ok(["withdraw"]);
    eprintln!("cairn withdraw, cut off from everyone, answered:\n{answer}");
    assert!(
        answer.contains("queued: neither the authority nor any member is connected"),
        "cairn withdraw says the event is queued and why:\n{answer}"
    );
    let status = member.status();
    let [pending] = status.undelivered.as_slice() else {
        panic!(
            "cairn status lists the undelivered withdrawal: {:?}",
            status.undelivered
        )
    };
    assert_eq!(pending.kind, ParticipationKind::WithdrawalEffective);
    assert!(
        pending
            .delivery
            .as_deref()
            .is_some_and(|d| d.starts_with("queued")),
        "{pending:?}"
    );
    let text = member.cli_ok(["status"]);
    assert!(text.contains("undelivered notices"), "{text}");
    eprintln!("cairn status while cut off:\n{text}");

    link.heal();
    let t1 = Instant::now();
    let withdrawn = until("the withdrawal's receipt is back", GIVE_UP, &all, || {
        receipted(&member, ParticipationKind::WithdrawalEffective)
    });
    eprintln!(
        "notice via members: withdrawal registered and receipted {:.1}s after the member's \
         link came back (goal: 5 s)",
        t1.elapsed().as_secs_f64()
    );

    // The register holds each event once, at the index its receipt names.
    let member_key = member.status().member_key;
    let register: Vec<_> = authority
        .register()
        .into_iter()
        .filter(|e| e.member_key == member_key)
        .collect();
    let seen: Vec<_> = register
        .iter()
        .map(|e| (e.kind, e.sequence, e.index, e.event_id))
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                RegisterKind::Joined,
                Some(1),
                joined.register_index.unwrap(),
                Some(joined.event_id)
            ),
            (
                RegisterKind::WithdrawalEffective,
                Some(2),
                withdrawn.register_index.unwrap(),
                Some(withdrawn.event_id)
            ),
        ],
        "each event registered exactly once, as its receipt says"
    );
    assert!(
        relay
            .log_text()
            .contains("passing a member's participation event on"),
        "the relay passed the events on"
    );
    assert_eq!(member.status().outbox_pending, 0);
    assert!(member.status().undelivered.is_empty());
}
