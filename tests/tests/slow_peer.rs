//! Repair never waits on one slow peer (issue 12): a node missing items has
//! a member that is paused (SIGSTOP) while still connected to it; the items
//! it lacks arrive from the other members anyway, and its catch-up session
//! with the paused member ends on its own deadline instead of hanging.
//!
//! Layout: namespace A holds the authority and a publisher, namespace B the
//! paused member and the node that misses items (their link stays up). The
//! cable is cut, the publisher publishes, the member in B is paused, the
//! cable is healed and a full sync is asked for at once, so sessions with
//! the paused member and with the others start together.
//!
//! Times are printed; the test waits for the outcome and asserts no time.
//! Needs root and iproute2 (CI runs as root).

use cairn_tests::community::Community;
use cairn_tests::netns::{Link, ADDR_A, ADDR_B};
use cairn_tests::{control, expect, until, NodeProc};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Give-up bound for each wait (not the goal).
const GIVE_UP: Duration = Duration::from_secs(60);

fn missing(n: &NodeProc, ids: &BTreeSet<String>) -> Result<(), String> {
    let held: BTreeSet<String> = n
        .try_items()?
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    match ids.difference(&held).count() {
        0 => Ok(()),
        k => Err(format!("{} lacks {k}", n.name)),
    }
}

#[test]
fn items_arrive_from_other_members_while_one_is_paused() {
    let link = Link::create().unwrap_or_else(|e| {
        panic!(
            "this test partitions with `ip netns` and veth, which needs root and iproute2 \
             (.ci/run installs it); it could not: {e}"
        )
    });
    let c = Community::create(3);
    let authority = c.start_in(&c.authority, &link.a, ADDR_A, &[]);
    let publisher = c.start_in(
        &c.members[0],
        &link.a,
        ADDR_A,
        std::slice::from_ref(&authority.addr),
    );
    let paused = c.start_in(
        &c.members[1],
        &link.b,
        ADDR_B,
        &[authority.addr.clone(), publisher.addr.clone()],
    );
    let late = c.start_in(
        &c.members[2],
        &link.b,
        ADDR_B,
        &[
            authority.addr.clone(),
            publisher.addr.clone(),
            paused.addr.clone(),
        ],
    );
    let all = [&authority, &publisher, &paused, &late];
    expect::all_admitted(&all, GIVE_UP);

    link.cut();
    until("the cut is observed", GIVE_UP, &all, || {
        match late.try_status()?.connected_members {
            1 => Ok(()),
            k => Err(format!("late has {k} members")),
        }
    });
    let ids: BTreeSet<String> = control::publish_many(&publisher.socket, "while-cut", 40, 2)
        .into_iter()
        .collect();
    until("island A holds the items", GIVE_UP, &all, || {
        missing(&authority, &ids)
    });

    paused.freeze();
    link.heal();
    let healed = Instant::now();
    // Sessions with every member at once, the paused one among them.
    let sync = {
        let socket = late.socket.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let out = cairn_tests::bins::cairn_cmd([
                "--socket".as_ref(),
                socket.as_os_str(),
                "sync".as_ref(),
            ]);
            (t.elapsed(), out)
        })
    };
    until(
        "the late node holds the items from the members that answer",
        GIVE_UP,
        &all,
        || missing(&late, &ids),
    );
    eprintln!(
        "slow peer: the items arrived {:.1}s after the heal while a member was paused \
         (the full sync, which includes it, {})",
        healed.elapsed().as_secs_f64(),
        if sync.is_finished() {
            "had already answered"
        } else {
            "was still waiting on it"
        }
    );
    let (took, out) = sync.join().expect("the sync thread");
    eprintln!(
        "slow peer: `cairn sync` (sessions with every member, the paused one included) \
         answered after {:.1}s: {}",
        took.as_secs_f64(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    // It answered while the member was still paused: no session waited on
    // it past its deadline.
    assert!(
        out.status.success(),
        "`cairn sync` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    paused.thaw();
    until(
        "the paused member catches up once resumed",
        GIVE_UP,
        &all,
        || missing(&paused, &ids),
    );
}
