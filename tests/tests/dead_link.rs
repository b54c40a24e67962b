//! Dead-link detection: a cable between two members is unplugged (veth in
//! network namespaces) and both nodes must notice on their own, closing the
//! connection (documented: within 5 s), without waiting for TCP. The time
//! each side took is printed; the assertions are about what each node
//! observed and in what order, never about a timing threshold.
//!
//! Needs root and iproute2 (CI runs as root; `.ci/run` installs iproute2).

use cairn_tests::community::Community;
use cairn_tests::netns::{Link, ADDR_A, ADDR_B};
use cairn_tests::{expect, until, NodeProc};
use std::time::{Duration, Instant};

/// How long the test waits for the disconnection before giving up (a
/// give-up bound, not the goal: the goal is shown by the printed time).
const GIVE_UP: Duration = Duration::from_secs(60);

fn connected(n: &NodeProc) -> Result<usize, String> {
    Ok(n.try_status()?.connected_members)
}

#[test]
fn a_cut_link_is_noticed_by_both_sides_and_redialled_after_healing() {
    let link = Link::create().unwrap_or_else(|e| {
        panic!(
            "this test cuts a link with `ip netns` and veth, which needs root and \
             iproute2 (.ci/run installs it); it could not: {e}"
        )
    });
    let c = Community::create(1);
    let authority = c.start_in(&c.authority, &link.a, ADDR_A, &[]);
    let member = c.start_in(
        &c.members[0],
        &link.b,
        ADDR_B,
        std::slice::from_ref(&authority.addr),
    );
    let both = [&authority, &member];
    expect::all_admitted(&both, Duration::from_secs(30));
    for n in both {
        assert_eq!(connected(n).unwrap(), 1, "{} is connected", n.name);
    }

    link.cut();
    let cut = Instant::now();
    // Each side on its own: the member's dials fail while the cable is
    // out, so it cannot reconnect before the test heals.
    let mut noticed = Vec::new();
    for n in both {
        until(
            &format!("{} notices the cut link", n.name),
            GIVE_UP,
            &both,
            || match connected(n)? {
                0 => Ok(()),
                k => Err(format!("{k} members still connected")),
            },
        );
        noticed.push((n.name.clone(), cut.elapsed()));
    }
    for (name, t) in &noticed {
        eprintln!(
            "dead link: {name} closed the connection {:.1}s after the cut (goal: 5 s)",
            t.as_secs_f64()
        );
    }

    link.heal();
    let healed = Instant::now();
    expect::all_admitted(&both, GIVE_UP);
    eprintln!(
        "dead link: reconnected {:.1}s after healing",
        healed.elapsed().as_secs_f64()
    );
}
