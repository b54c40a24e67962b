//! Withdrawal ends access (issue 9): once a member's `WithdrawalEffective`
//! is registered, the authority spreads the member's event with its
//! receipt as a revocation. Every node then lists the member as withdrawn,
//! disconnects it and refuses its connections, and nothing signed with its
//! key after the withdrawal is stored anywhere.
//!
//! And a withdrawn member whose receipt was lost (the answer never reached
//! its node) cannot connect to ask again; the refusal of its connection
//! carries the revocation, which holds the receipt, and its outbox records
//! it from there.

use cairn_protocol::codec;
use cairn_protocol::control::ParticipationView;
use cairn_protocol::{ParticipationKind, RevocationReason};
use cairn_tests::honest::{Honest, DEADLINE};
use cairn_tests::rogue::{RogueArgs, RogueProc};
use cairn_tests::{expect, net, Community, NodeProc};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The withdrawal as `node`'s `cairn participation` shows it.
fn withdrawal(node: &NodeProc) -> Result<ParticipationView, String> {
    node.try_participation()?
        .into_iter()
        .find(|p| p.kind == ParticipationKind::WithdrawalEffective)
        .ok_or_else(|| "no withdrawal yet".to_string())
}

/// `cairn join` on `node`, and its receipt.
fn join(node: &NodeProc) {
    node.cli_ok(["join"]);
    node.wait("the join has a receipt", DEADLINE, || {
        match node.try_participation()?.as_slice() {
            [joined] if joined.register_index.is_some() => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
}

/// Waits until `node` lists the member with `key` as withdrawn and not
/// connected.
fn shows_withdrawn(node: &NodeProc, key: &str) {
    node.wait("the member is listed as withdrawn", DEADLINE, || {
        let members = node.try_members()?;
        match members.iter().find(|m| m.member_key.to_string() == key) {
            Some(m)
                if m.revoked.as_ref().map(|r| r.reason) == Some(RevocationReason::Withdrawn)
                    && !m.connected =>
            {
                Ok(())
            }
            other => Err(format!("{other:?}")),
        }
    });
}

#[test]
fn a_registered_withdrawal_ends_the_members_access() {
    let c = Community::create(3);
    let (authority, mut members) = c.start_all();
    let leaving = members.pop().unwrap();
    let leaving_spec = c.members[2].clone();
    let h = Honest {
        c,
        authority,
        members,
    };
    let mut all = h.nodes();
    all.push(&leaving);
    expect::all_admitted(&all, DEADLINE);
    join(&leaving);
    // What it shared while a member stays shared.
    let before = leaving.publish("near-miss", "GREEN", "Before leaving", "Shared.");
    expect::items_everywhere(&all, &BTreeSet::from([before.clone()]), DEADLINE);

    leaving.cli_ok(["withdraw"]);
    let t0 = Instant::now();
    let w = leaving.wait("the withdrawal has a receipt", DEADLINE, || {
        withdrawal(&leaving).and_then(|w| match w.register_index {
            Some(_) => Ok(w),
            None => Err(format!("{w:?}")),
        })
    });
    let receipt_after = t0.elapsed();
    for n in h.nodes() {
        shows_withdrawn(n, &leaving_spec.public_key);
    }
    eprintln!(
        "withdrawal: receipt after {receipt_after:?}; every other node lists the member as \
         withdrawn and disconnected after {:?}",
        t0.elapsed()
    );
    let registered = h.authority.register();
    assert!(
        registered.iter().any(|e| e.event_id == Some(w.event_id)
            && e.kind == ParticipationKind::WithdrawalEffective
            && Some(e.index) == w.register_index),
        "the receipt is for the register's entry: {registered:?}"
    );
    leaving.wait("the withdrawn node is cut off", DEADLINE, || match leaving
        .try_status()?
        .connected_members
    {
        0 => Ok(()),
        n => Err(format!("{n} connected members")),
    });

    // Its own node no longer publishes for a withdrawn entity.
    let refused = leaving
        .try_publish("near-miss", "GREEN", "After", "x")
        .expect_err("a withdrawn node refuses to publish");
    assert!(refused.contains("withdrawn"), "{refused}");
    // A node that skips that check, with the member's key and certificate,
    // is refused at connection by every node, within 2 s, and nothing it
    // publishes is stored anywhere.
    let rogue = h.rogue(
        "withdrawn",
        &leaving_spec.key_file,
        &leaving_spec.cert_file,
        "valid",
        3,
    );
    let times = h.assert_refused(&rogue, "(withdrawn", "withdrawn member");
    eprintln!("the withdrawn member's key: refused after {times:?} ms");
    // Its own node's redials are refused too, and it is told why.
    leaving.wait("the withdrawn node is refused on redial", DEADLINE, || {
        let log = leaving.log_text();
        let told = log
            .lines()
            .filter(|l| l.contains("it refused this node's certificate") && l.contains("withdrawn"))
            .count();
        if told >= h.nodes().len() {
            Ok(())
        } else {
            Err(format!("{told} refusals logged"))
        }
    });
    // What it shared before stays, everywhere.
    expect::items_everywhere(&h.nodes(), &BTreeSet::from([before]), DEADLINE);
}

/// The receipt is lost this way: the authority is down when the member
/// withdraws, so the event waits in the member's outbox, and the member's
/// node is killed. The event (the member's own, read from its outbox) then
/// reaches the authority through another connection with the member's key
/// (`cairn-rogue --mode send-event`), which keeps the receipt to itself:
/// the register holds the withdrawal, the authority spreads it as a
/// revocation, and the member's node never saw the receipt, as when an
/// answer is lost on the way. A node killed right after `cairn withdraw`
/// would race the receipt, which arrives within milliseconds.
#[test]
fn a_withdrawn_node_whose_receipt_was_lost_takes_it_from_the_refusal() {
    let mut c = Community::create(2);
    c.authority.listen = net::loopback(net::free_port());
    let (mut authority, mut members) = c.start_all();
    let mut leaving = members.pop().unwrap();
    let member = members.pop().unwrap();
    expect::all_admitted(&[&authority, &member, &leaving], DEADLINE);
    join(&leaving);

    authority.kill9();
    leaving.cli_ok(["withdraw"]);
    leaving.kill9();
    let spec = &c.members[1];
    let pending = cairn_store::Outbox::open(&spec.data_dir)
        .expect("the outbox opens")
        .pending();
    let [event] = pending.as_slice() else {
        panic!("one event waits for the authority: {pending:?}")
    };
    assert_eq!(event.body.kind, ParticipationKind::WithdrawalEffective);
    let event_file = c.path().join("withdrawal.event");
    std::fs::write(&event_file, codec::encode(event).unwrap()).unwrap();

    authority.restart();
    let args = RogueArgs {
        community: &c.community_file,
        key: &spec.key_file,
        cert: &spec.cert_file,
        bootstrap: vec![authority.addr.clone()],
        mode: "send-event",
        count: 0,
        linger_secs: 0.0,
        created_ms: None,
        extra: vec!["--event".into(), event_file.display().to_string()],
    };
    let mut carrier = RogueProc::spawn(c.path(), "carrier", &args);
    carrier.finish(DEADLINE);
    assert_eq!(
        carrier.lines("receipt-from ").len(),
        1,
        "the authority answered with a receipt\n{}",
        carrier.describe()
    );
    let entry = authority.wait("the register holds the withdrawal", DEADLINE, || {
        authority
            .try_register()?
            .into_iter()
            .find(|e| e.event_id == Some(event.id()))
            .ok_or_else(|| "not yet".to_string())
    });
    expect::all_admitted(&[&authority, &member], DEADLINE);
    shows_withdrawn(&member, &spec.public_key);

    // The withdrawn node starts again: every node refuses it, and the
    // refusal carries the revocation with the receipt.
    let t0 = Instant::now();
    leaving.restart();
    let w = leaving.wait(
        "the withdrawal's receipt is recorded",
        Duration::from_secs(15),
        || {
            let w = withdrawal(&leaving)?;
            let pending = leaving.try_status()?.outbox_pending;
            match w.register_index {
                Some(_) if pending == 0 => Ok(w),
                _ => Err(format!("{w:?}, {pending} pending")),
            }
        },
    );
    eprintln!(
        "lost receipt: recorded {:?} after the withdrawn node's restart",
        t0.elapsed()
    );
    assert_eq!(Some(w.event_id), entry.event_id);
    assert_eq!(w.register_index, Some(entry.index));
    assert_eq!(w.registered_at, Some(entry.registered_at));
    let status = leaving.status();
    assert!(
        status
            .warnings
            .iter()
            .any(|w| w.contains("withdrawn") && w.contains("refuse its connections")),
        "status says the certificate no longer serves: {:?}",
        status.warnings
    );
    assert!(
        leaving
            .log_text()
            .contains("the receipt came with the withdrawal's revocation"),
        "{}",
        leaving.log_tail(40)
    );
    assert_eq!(status.connected_members, 0);
}
