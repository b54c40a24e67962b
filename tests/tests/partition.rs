//! Partitions: the community split into two islands by unplugging a veth
//! cable between two network namespaces, both islands publishing, then the
//! cable plugged back in. Every node must hold every item within 10 s.
//!
//! Needs root and iproute2 (CI runs as root; `.ci/run` installs iproute2).
//! Where namespaces cannot be made the test fails saying so; it never
//! passes without having partitioned anything.

use cairn_tests::community::Community;
use cairn_tests::netns::{Link, ADDR_A, ADDR_B};
use cairn_tests::{control, expect, until};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const CONVERGENCE: Duration = Duration::from_secs(10);

#[test]
fn two_islands_converge_within_10s_after_the_partition_heals() {
    let link = Link::create().unwrap_or_else(|e| {
        panic!(
            "this test partitions the network with `ip netns` and veth, which needs root \
             and iproute2 (.ci/run installs it); it could not: {e}"
        )
    });
    let c = Community::create(4);
    let authority = c.start_in(&c.authority, &link.a, ADDR_A, &[]);
    let m1 = c.start_in(
        &c.members[0],
        &link.a,
        ADDR_A,
        std::slice::from_ref(&authority.addr),
    );
    let m2 = c.start_in(
        &c.members[1],
        &link.a,
        ADDR_A,
        &[authority.addr.clone(), m1.addr.clone()],
    );
    let island_a_addrs = vec![authority.addr.clone(), m1.addr.clone(), m2.addr.clone()];
    let m3 = c.start_in(&c.members[2], &link.b, ADDR_B, &island_a_addrs);
    let mut with_m3 = island_a_addrs.clone();
    with_m3.push(m3.addr.clone());
    let m4 = c.start_in(&c.members[3], &link.b, ADDR_B, &with_m3);
    let all = [&authority, &m1, &m2, &m3, &m4];
    expect::all_admitted(&all, Duration::from_secs(30));

    let mut ids: BTreeSet<String> = control::publish_many(&m1.socket, "before", 10, 2)
        .into_iter()
        .collect();
    until(
        "the first items are everywhere",
        Duration::from_secs(20),
        &all,
        || expect::holding_all(&all, &ids),
    );

    link.cut();
    let a_side: BTreeSet<String> = control::publish_many(&m1.socket, "island-a", 30, 3)
        .into_iter()
        .collect();
    let b_side: BTreeSet<String> = control::publish_many(&m3.socket, "island-b", 30, 3)
        .into_iter()
        .collect();
    // Healing over connections that are still open would test nothing:
    // wait until every node has closed its links across the cut (each
    // island's members stay connected to each other).
    let cut = Instant::now();
    for (island, others) in [(&[&authority, &m1, &m2][..], 2), (&[&m3, &m4][..], 1)] {
        for n in island {
            until(
                &format!("{} sees only its own island", n.name),
                Duration::from_secs(60),
                &all,
                || match n.try_status()?.connected_members {
                    k if k == others => Ok(()),
                    k => Err(format!("{k} members connected")),
                },
            );
        }
    }
    eprintln!(
        "the cut was observed by every node {:.1}s after it",
        cut.elapsed().as_secs_f64()
    );
    // Each island has its own items and none of the other's.
    until(
        "island B has its own items",
        Duration::from_secs(10),
        &[&m3, &m4],
        || expect::holding_all(&[&m3, &m4], &b_side),
    );
    until(
        "island A has its own items",
        Duration::from_secs(10),
        &[&authority, &m1, &m2],
        || expect::holding_all(&[&authority, &m1, &m2], &a_side),
    );
    for n in [&authority, &m1, &m2] {
        let held: BTreeSet<String> = n.items().into_iter().map(|i| i.id.to_string()).collect();
        assert!(
            held.is_disjoint(&b_side),
            "{} got island B's items through a cut cable",
            n.name
        );
    }

    link.heal();
    let healed = Instant::now();
    ids.extend(a_side);
    ids.extend(b_side);
    until(
        "every node holds both islands' items",
        CONVERGENCE,
        &all,
        || expect::holding_all(&all, &ids),
    );
    eprintln!(
        "converged {:.1}s after the partition healed",
        healed.elapsed().as_secs_f64()
    );
    expect::items_everywhere(&all, &ids, Duration::from_secs(10));
}
