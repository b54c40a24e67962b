//! Connection floods (issue 9): hundreds of certificate-less libp2p peers,
//! slow-byte sockets and stalled noise handshakes against one node that
//! holds items, from many source addresses at once. A new member must
//! still connect and catch up within 5 s of starting its dial, and the
//! node's memory must come back to its level before the attack. A second
//! flood then shows that an attack leaves nothing behind: memory after it
//! is what it was after the first.
//!
//! The attack comes from side B of a veth cable between two network
//! namespaces, from 32 addresses the test adds there; the node under
//! attack lives on side A. The new member is on side B too but dials from
//! B's own address, which no attacker uses: per-address limits rightly
//! refuse a member who shares an address with a flood. Needs root and
//! iproute2, like the partition test; it fails saying so where namespaces
//! cannot be made.

use cairn_tests::community::Community;
use cairn_tests::netns::{Link, ADDR_A, ADDR_B};
use cairn_tests::{bins, control, expect, node, until, NodeProc};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Items the node holds when the attack starts, all to be caught up.
const ITEMS: usize = 300;
/// The bound, from the new member's start to holding every item.
const CATCH_UP_WITHIN: Duration = Duration::from_secs(5);
/// How long the flood lasts, and how long it runs before the new member
/// starts (so every attacker is cycling by then).
const FLOOD: Duration = Duration::from_secs(11);
const RAMP_UP: Duration = Duration::from_secs(3);
/// The second flood, with nobody joining.
const SECOND_FLOOD: Duration = Duration::from_secs(6);
/// The attackers: certificate-less peers, slow-byte sockets and stalled
/// noise handshakes, from this many addresses. Together they want far
/// more handshake slots than the node's 128, from more addresses than
/// 128 / 8 (the per-address bound), so only the node's fairness between
/// addresses leaves room for a newcomer.
const STRANGERS: usize = 300;
const SLOW: usize = 150;
const STALL: usize = 60;
const ATTACK_ADDRESSES: u8 = 32;

#[test]
fn a_new_member_connects_and_catches_up_during_a_connection_flood() {
    let link = Link::create().unwrap_or_else(|e| {
        panic!(
            "this test floods from many addresses in a network namespace, which needs root \
             and iproute2 (.ci/run installs it); it could not: {e}"
        )
    });
    let sources = link
        .add_b_addresses(10..10 + ATTACK_ADDRESSES)
        .unwrap_or_else(|e| panic!("cannot add the attackers' addresses: {e}"));
    let c = Community::create(2);
    let authority = c.start_in(&c.authority, &link.a, ADDR_A, &[]);
    let target = c.start_in(
        &c.members[0],
        &link.a,
        ADDR_A,
        std::slice::from_ref(&authority.addr),
    );
    expect::all_admitted(&[&authority, &target], Duration::from_secs(20));
    let ids: BTreeSet<String> = control::publish_many(&target.socket, "held", ITEMS, 4)
        .into_iter()
        .collect();
    expect::items_everywhere(&[&authority, &target], &ids, Duration::from_secs(30));

    // Memory before: the highest of a few samples once publishing settled.
    std::thread::sleep(Duration::from_secs(1));
    let before = (0..10)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            target.rss_kib()
        })
        .max()
        .unwrap();

    let port = target.addr.split('/').nth(4).expect("a TCP port");
    let target_addr = format!("{ADDR_A}:{port}");
    let out = c.path().join("flood.out");
    let mut flood = start_flood(&link, &sources, &target_addr, FLOOD, &out);
    let flood_started = Instant::now();

    // The node's memory throughout the attack, every 100 ms.
    let peak = AtomicU64::new(before);
    let sampling = AtomicBool::new(true);
    let target_pid = target.pid().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            while sampling.load(Ordering::Relaxed) {
                if let Some(kib) = node::rss_kib(target_pid) {
                    peak.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });

        // Stops the sampler however this ends: the scope waits for it
        // before a failed assertion below can end the test.
        let _stop = StopOnDrop(&sampling);
        std::thread::sleep(RAMP_UP);
        // From here the new member's start is its dial's start (it dials
        // its bootstrap peer as soon as it runs).
        let t0 = Instant::now();
        let newcomer = c.start_in(
            &c.members[1],
            &link.b,
            ADDR_B,
            std::slice::from_ref(&target.addr),
        );
        let target_key = target.status().member_key.to_string();
        let mut connected = None;
        until(
            "the new member connects and holds every item",
            CATCH_UP_WITHIN + Duration::from_secs(10),
            &[&newcomer, &target],
            || {
                if connected.is_none()
                    && newcomer
                        .try_members()?
                        .iter()
                        .any(|m| m.member_key.to_string() == target_key && m.connected)
                {
                    connected = Some(t0.elapsed());
                }
                let held = newcomer.try_status()?.items as usize;
                if connected.is_some() && held >= ITEMS {
                    Ok(())
                } else {
                    Err(format!("connected: {connected:?}, {held} items"))
                }
            },
        );
        let caught_up = t0.elapsed();
        eprintln!(
            "during the flood the new member connected after {:?} and held all {ITEMS} items \
             after {caught_up:?}",
            connected.unwrap()
        );
        assert!(
            caught_up <= CATCH_UP_WITHIN,
            "the new member caught up after {caught_up:?}, more than {CATCH_UP_WITHIN:?}"
        );
        assert!(
            flood_started.elapsed() < FLOOD,
            "the flood ended before the new member caught up: nothing was shown"
        );
        expect::items_everywhere(&[&newcomer], &ids, Duration::from_secs(10));

        let status = flood.wait().expect("cairn-flood ends");
        assert!(status.success(), "cairn-flood failed ({status})");
    });
    let report = std::fs::read_to_string(&out).unwrap();
    eprintln!("{report}");
    check_flood_report(&report);

    // Memory after: back to its level before the attack, give or take what
    // the new member costs and what the allocator keeps. The node now
    // serves a second member (its connection, gossipsub and sync state,
    // the store pages its catch-up read: measured without a flood, 0.4 to
    // 0.8 MiB), and mimalloc keeps some freed pages for reuse rather than
    // return them; 4 MiB covers both (measured: 2.3 to 2.6 MiB above the
    // level before). That bound alone would also pass a node that freed
    // nothing of an attack this small (the handshake slots keep its peak a
    // few MiB up; the issue measured +32 MB that stayed), so the second
    // flood below checks what is left behind.
    let peak_first = peak.load(Ordering::Relaxed);
    let after_first = settled_rss(&target);
    eprintln!("target RSS: before {before} KiB, peak {peak_first} KiB, after {after_first} KiB");
    assert!(
        after_first <= before + 4 * 1024,
        "RSS after the flood {after_first} KiB, before it {before} KiB (peak {peak_first} KiB)"
    );
    // The handshake slots bound what an attack costs while it lasts.
    assert!(
        peak_first <= before + 16 * 1024,
        "RSS peaked at {peak_first} KiB during the flood, from {before} KiB"
    );

    // The same attack again, nobody joining: tens of thousands more
    // connections. Whatever an attack leaves behind would now show; the
    // allocator's reserve is already there. 1 MiB over 30,000 and more
    // connections would be a leak of about 30 bytes each.
    let out = c.path().join("flood-2.out");
    let status = start_flood(&link, &sources, &target_addr, SECOND_FLOOD, &out)
        .wait()
        .expect("cairn-flood ends");
    assert!(status.success(), "cairn-flood failed ({status})");
    let report = std::fs::read_to_string(&out).unwrap();
    check_flood_report(&report);
    let after_second = settled_rss(&target);
    eprintln!("target RSS after a second flood: {after_second} KiB\n{report}");
    assert!(
        after_second <= after_first + 1024,
        "RSS after the second flood {after_second} KiB, after the first {after_first} KiB"
    );
    // The existing member was never cut off.
    assert!(
        target
            .members()
            .iter()
            .any(|m| m.connected && m.member_key.to_string() == c.authority.public_key),
        "the authority stayed connected to the node under attack"
    );
}

/// Starts `cairn-flood` on side B against `target` for `seconds`, its
/// report to `out`.
fn start_flood(
    link: &Link,
    sources: &[String],
    target: &str,
    seconds: Duration,
    out: &Path,
) -> Child {
    Command::new("ip")
        .args(["netns", "exec", &link.b])
        .arg(bins::flood())
        .args(["--target", target])
        .args(sources.iter().flat_map(|s| ["--source", s.as_str()]))
        .args(["--strangers", &STRANGERS.to_string()])
        .args(["--slow", &SLOW.to_string()])
        .args(["--stall", &STALL.to_string()])
        .args(["--seconds", &seconds.as_secs_f64().to_string()])
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cairn-flood starts")
}

/// The node's RSS a second after an attack ended (its connections closed
/// when `cairn-flood` exited).
fn settled_rss(node: &NodeProc) -> u64 {
    let mut last = 0;
    for _ in 0..10 {
        std::thread::sleep(Duration::from_millis(100));
        last = node.rss_kib();
    }
    last
}

/// Clears its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Every kind of attacker really attacked, and no connection of any kind
/// was held past the node's handshake deadline (1.5 s, checked with slack
/// for a loaded machine).
fn check_flood_report(report: &str) {
    let lines: Vec<serde_json::Value> = report
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3, "one line per kind of attacker:\n{report}");
    for l in &lines {
        let kind = l["kind"].as_str().unwrap();
        let attackers = l["attackers"].as_u64().unwrap();
        let ended = l["ended"].as_u64().unwrap();
        assert!(
            ended >= attackers,
            "{kind}: every attacker had at least one connection ended by the node:\n{report}"
        );
        let held = l["held_ms_max"].as_u64().unwrap();
        assert!(
            held < 2_500,
            "{kind}: a connection was held {held} ms, past the handshake deadline:\n{report}"
        );
    }
}
