//! Bursts: several members publish as fast as they can at once. gossipsub
//! may drop some of it under load; anti-entropy must leave every node with
//! every acknowledged item anyway.

use cairn_tests::community::Community;
use cairn_tests::{control, expect, until, NodeProc};
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[test]
fn after_a_burst_from_three_members_every_node_holds_every_item() {
    let c = Community::create(4);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, Duration::from_secs(20));

    let stop = AtomicBool::new(false);
    let ids: BTreeSet<String> = std::thread::scope(|s| {
        let publishers: Vec<_> = members[..3]
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let stop = &stop;
                s.spawn(move || {
                    control::publish_until(
                        &m.socket,
                        &format!("burst-{i}"),
                        Duration::from_secs(3),
                        6,
                        stop,
                    )
                })
            })
            .collect();
        publishers
            .into_iter()
            .flat_map(|p| p.join().unwrap())
            .collect()
    });
    eprintln!("{} items acknowledged during the burst", ids.len());
    assert!(
        ids.len() > 100,
        "the burst published too little to mean anything"
    );

    until(
        "every node holds every burst item",
        Duration::from_secs(60),
        &all,
        || {
            let mut short = Vec::new();
            for n in &all {
                let held = n.try_status()?.items as usize;
                if held < ids.len() {
                    short.push(format!("{} holds {held}", n.name));
                }
            }
            if short.is_empty() {
                Ok(())
            } else {
                Err(short.join(", "))
            }
        },
    );
    // Counts match; now check identities and signatures once.
    expect::items_everywhere(&all, &ids, Duration::from_secs(30));
}

/// Chasing a loss round the community stops once a round finds nothing: in
/// a quiet community each node runs about one session per anti-entropy
/// interval (5 s), not a continuous stream.
#[test]
fn anti_entropy_settles_to_one_session_per_interval_when_quiet() {
    let c = Community::create(3);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, Duration::from_secs(20));
    let ids: BTreeSet<String> = (0..20)
        .map(|i| {
            let title = format!("quiet-{i}");
            members[i % 3].publish("cyber-threat", "green", &title, "quiet period")
        })
        .collect();
    expect::items_everywhere(&all, &ids, Duration::from_secs(30));
    // Let any chase started by the publishing finish.
    std::thread::sleep(Duration::from_secs(3));
    let sessions = |n: &NodeProc| n.status().sync.sessions;
    let before: Vec<u64> = all.iter().map(|n| sessions(n)).collect();
    std::thread::sleep(Duration::from_secs(11));
    for (n, b) in all.iter().zip(before) {
        let ran = sessions(n) - b;
        // Two or three ticks fall in 11 s; a runaway chase would run
        // hundreds of sessions.
        assert!(
            (1..=4).contains(&ran),
            "{} ran {ran} sessions in 11 quiet seconds",
            n.name
        );
    }
}
