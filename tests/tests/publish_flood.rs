//! Publish floods (issue 9): one member publishes as fast as it can for
//! 10 s while three others publish one item a second. Every item of the
//! three must reach every node within 2 s of its publication at p99, the
//! flooder must be throttled, and no node's memory may grow without bound
//! (held to a bound: see the end of the test).
//!
//! The flooder is `cairn-rogue --mode flood`, a member with a real
//! certificate that gossips valid items one after another with none of an
//! honest node's pacing (an honest `cairnd` publishes only as fast as it
//! stores, well under the limits), connected to every node. It signs its
//! items before the flood: on this test's one machine its signing would
//! otherwise take the cores of the nodes under attack, which a real
//! flooder's would not. (It reaches 1,000-1,900 items/s here, over the
//! publisher budget of 500/s with a burst of 1,000.) The honest items'
//! latency is measured from their creation time (stamped by the publishing
//! node when it signs) to the moment a poll of each other node's control
//! socket finds the item, verified, so it includes the poll's own delay.
//! The three publishers' own nodes are not counted: 90 arrivals, whose
//! p99 is the second slowest.

use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_tests::community::CertOptions;
use cairn_tests::honest::{Honest, DEADLINE};
use cairn_tests::rogue::{RogueArgs, RogueProc};
use cairn_tests::{control, expect, until, Community, NodeProc};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the flood lasts, and the honest items published meanwhile.
const FLOOD: Duration = Duration::from_secs(10);
const STEADY_ITEMS: u32 = 10;
/// The bound on the honest items' latency at p99.
const P99_WITHIN: Duration = Duration::from_secs(2);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// `id` on `node`, with its creation time, if the node holds it (and it
/// verifies there).
fn created_ms(node: &NodeProc, id: &str) -> Option<u64> {
    let id = id.parse().expect("an item id");
    match control::request(&node.socket, &ControlRequest::ShowItem { id }) {
        Ok(ControlResponse::Item(view)) if view.verified => Some(view.created.0),
        _ => None,
    }
}

/// The value below which `p` of the sorted `values` lie (nearest rank).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
fn a_flooding_member_is_throttled_and_the_others_items_arrive_within_2s_at_p99() {
    let c = Community::create(3);
    let (authority, members) = c.start_all();
    let h = Honest {
        c,
        authority,
        members,
    };
    let nodes = h.nodes();
    expect::all_admitted(&nodes, DEADLINE);
    let (key, cert) = h.rogue_member("Flooding Member GmbH", CertOptions::default());
    let seconds = FLOOD.as_secs_f64().to_string();
    let args = RogueArgs {
        community: &h.c.community_file,
        key: &key,
        cert: &cert,
        bootstrap: h.addrs(),
        mode: "flood",
        count: 0,
        linger_secs: 0.5,
        created_ms: None,
        // Signing is the flooder's own cost: it signs for a few seconds
        // before the flood, so the nodes under attack, on the same cores,
        // spend the flood's seconds on what the flooder sends.
        extra: vec!["--seconds".into(), seconds, "--prepare".into(), "3".into()],
    };
    let before: Vec<u64> = nodes.iter().map(|n| n.rss_kib()).collect();
    let mut rogue = RogueProc::spawn(h.c.path(), "flooder", &args);
    until("the flooder is connected", DEADLINE, &nodes, || {
        let ready = rogue.lines("ready: ");
        match ready.first() {
            Some(l) if l.starts_with(&format!("ready: {} connected", nodes.len())) => Ok(()),
            _ => Err(rogue.describe()),
        }
    });
    let started = until("the flood starts", DEADLINE, &nodes, || {
        match rogue.lines("flooding ").first() {
            Some(l) => Ok(l.clone()),
            None => Err(rogue.describe()),
        }
    });
    eprintln!("{started}");
    let t0 = Instant::now();

    // Three members publish one item a second; a poller notes when each
    // other node first holds each item.
    let published: Mutex<Vec<(usize, String)>> = Mutex::new(Vec::new());
    let arrivals: Mutex<BTreeMap<(usize, String), u64>> = Mutex::new(BTreeMap::new());
    let mut rss_at = [Vec::new(), Vec::new()];
    std::thread::scope(|s| {
        for (i, m) in h.members.iter().enumerate() {
            let published = &published;
            s.spawn(move || {
                for k in 0..STEADY_ITEMS {
                    let at = t0 + Duration::from_secs(k as u64);
                    std::thread::sleep(at.saturating_duration_since(Instant::now()));
                    let id = control::publish(&m.socket, format!("steady-{i}-{k}"))
                        .unwrap_or_else(|e| panic!("member {i} could not publish: {e}"));
                    published.lock().unwrap().push((i + 1, id));
                }
            });
        }
        let poll_until = t0 + FLOOD + Duration::from_secs(20);
        let expected = 3 * STEADY_ITEMS as usize * (nodes.len() - 1);
        let (published, arrivals, nodes) = (&published, &arrivals, &nodes);
        s.spawn(move || {
            while Instant::now() < poll_until && arrivals.lock().unwrap().len() < expected {
                let ids = published.lock().unwrap().clone();
                for (publisher, id) in ids {
                    for (n, node) in nodes.iter().enumerate() {
                        let key = (n, id.clone());
                        if n == publisher || arrivals.lock().unwrap().contains_key(&key) {
                            continue;
                        }
                        if let Some(created) = created_ms(node, &id) {
                            let latency = now_ms().saturating_sub(created);
                            arrivals.lock().unwrap().insert(key, latency);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        // Memory at 5 s and 10 s of flooding.
        for (slot, at) in [(0, 5), (1, 10)] {
            std::thread::sleep(
                (t0 + Duration::from_secs(at)).saturating_duration_since(Instant::now()),
            );
            rss_at[slot] = nodes.iter().map(|n| n.rss_kib()).collect();
        }
    });
    rogue.finish(DEADLINE);
    let flooded = rogue.lines("flooded ").join("\n");
    eprintln!("{flooded}");
    // More than the publisher budget lets through in the flood's time
    // (burst 1,000 and 500/s), or there was nothing to throttle.
    let sent: u64 = flooded
        .split_whitespace()
        .find_map(|w| w.strip_prefix("published="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the flooder says what it sent\n{}", rogue.describe()));
    assert!(
        sent > 1_000 + 500 * FLOOD.as_secs(),
        "the flood sent only {sent} items: too little to mean anything"
    );

    let arrivals = arrivals.into_inner().unwrap();
    let published = published.into_inner().unwrap();
    let expected = published.len() * (nodes.len() - 1);
    assert_eq!(
        arrivals.len(),
        expected,
        "every steady item reached every other node (within the poll's 20 s)"
    );
    let mut latencies: Vec<u64> = arrivals.values().copied().collect();
    latencies.sort_unstable();
    let p50 = percentile(&latencies, 0.50);
    let p99 = percentile(&latencies, 0.99);
    let max = *latencies.last().unwrap();
    eprintln!(
        "steady items under the flood: {} arrivals, latency p50 {p50} ms, p99 {p99} ms, max {max} ms",
        latencies.len()
    );
    for (n, node) in nodes.iter().enumerate() {
        let status = node.status();
        let a = &status.abuse;
        eprintln!(
            "{}: {} items, abuse {:?}, RSS before {} KiB, at 5 s {} KiB, at 10 s {} KiB",
            node.name, status.items, a, before[n], rss_at[0][n], rss_at[1][n]
        );
        assert!(
            a.gossip_rate_limited + a.publisher_rate_limited > 0,
            "{} throttled the flooder: {a:?}",
            node.name
        );
        // What a flood makes a node hold is bounded by design: gossip
        // waiting for verification (64 MiB of bytes, 256 messages per peer),
        // gossipsub's caches (messages for 7 s, ids for 120 s, at most the
        // per-peer rate), sled's cache (64 MiB), and about 50 bytes per
        // stored item. A 40 s run of this flood (1,000 items/s) showed the
        // RSS levelling off at 110-120 MB after 30 s; within these 10 s it
        // is still rising, so the two samples are held to a bound rather
        // than to each other: 192 MiB, about 1.6 times that plateau.
        for (at, rss) in [(5, rss_at[0][n]), (10, rss_at[1][n])] {
            assert!(
                rss <= 192 * 1024,
                "{}: RSS {rss} KiB after {at} s of flooding, over 192 MiB",
                node.name
            );
        }
    }
    assert!(
        p99 <= P99_WITHIN.as_millis() as u64,
        "p99 latency {p99} ms over {P99_WITHIN:?}; all: {latencies:?}"
    );
}
