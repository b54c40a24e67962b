//! Nothing for strangers, shown from the stranger's side: a plain
//! rust-libp2p node without a certificate (`cairn-stranger`) dials a real
//! `cairnd` and never gets a connection, a gossipsub subscription, the
//! community's topic or a certificate; one that completes noise and then
//! says nothing, or garbage, is dropped within 2 s, and so is a bare TCP
//! socket. The node serves its real members throughout.

use cairn_tests::community::Community;
use cairn_tests::stranger::{after_ms, StrangerRun};
use cairn_tests::{expect, net, NodeProc};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);
/// The bound on how long a stranger may hold a connection.
const DROPPED_WITHIN: Duration = Duration::from_secs(2);

/// An authority and one member, admitted to each other.
fn community() -> (Community, NodeProc, Vec<NodeProc>) {
    let c = Community::create(1);
    let (authority, members) = c.start_all();
    expect::all_admitted(&[&authority, &members[0]], DEADLINE);
    (c, authority, members)
}

fn topic(c: &Community) -> String {
    cairn_store::files::read_community(&c.community_file)
        .expect("the community file reads")
        .items_topic()
}

/// The member publishes and the authority receives: still serving members.
fn honest_round(authority: &NodeProc, member: &NodeProc, title: &str) {
    let id = member.publish("near-miss", "GREEN", title, "Still sharing.");
    expect::items_everywhere(&[authority, member], &BTreeSet::from([id]), DEADLINE);
    assert!(
        authority.members().iter().any(|m| m.member_key.to_string()
            == member.status().member_key.to_string()
            && m.connected),
        "the member is still connected to the authority"
    );
}

#[test]
fn a_libp2p_node_without_a_certificate_gets_no_connection_and_learns_nothing() {
    let (c, authority, members) = community();
    let topic = topic(&c);
    for node in [&authority, &members[0]] {
        // It knows the topic's name and subscribes to it: knowing is not
        // enough to be told anything.
        let run = StrangerRun::run(c.path(), &node.addr, &topic, "swarm");
        let (_, ms) = run.event("dial-failed");
        eprintln!(
            "swarm stranger against {}: dial failed after {ms} ms",
            node.name
        );
        assert!(
            ms < DROPPED_WITHIN.as_millis(),
            "dropped within {DROPPED_WITHIN:?}\n{}",
            run.describe()
        );
        // Only these lines: no connection, no gossipsub event of any kind,
        // so no subscription and no topic.
        let allowed = ["stranger ", "dialing ", "dial-failed", "done "];
        assert_saw_only(&run, &allowed, &topic);

        // With V1Lazy the stranger assumes yamux was accepted and counts a
        // connection of its own; the node never took it, hangs up at
        // once, and nothing reaches gossipsub on either side.
        let lazy = StrangerRun::run(c.path(), &node.addr, &topic, "swarm-lazy");
        let closed = [lazy.lines("closed "), lazy.lines("dial-failed")].concat();
        assert_eq!(closed.len(), 1, "the node hung up\n{}", lazy.describe());
        let ms = after_ms(closed[0]);
        eprintln!(
            "lazy swarm stranger against {}: closed after {ms} ms",
            node.name
        );
        assert!(
            ms < DROPPED_WITHIN.as_millis(),
            "dropped within {DROPPED_WITHIN:?}\n{}",
            lazy.describe()
        );
        let allowed = [
            "stranger ",
            "dialing ",
            "established ",
            "closed ",
            "dial-failed",
            "done ",
        ];
        assert_saw_only(&lazy, &allowed, &topic);
    }
    honest_round(&authority, &members[0], "After the swarm strangers");
}

/// Every line the stranger printed starts with one of `allowed`, and none
/// names the community's topic.
fn assert_saw_only(run: &StrangerRun, allowed: &[&str], topic: &str) {
    assert!(
        run.stdout
            .lines()
            .all(|l| allowed.iter().any(|a| l.starts_with(a))),
        "the stranger saw something\n{}",
        run.describe()
    );
    assert!(!run.stdout.contains(topic), "{}", run.describe());
}

#[test]
fn a_stranger_that_says_nothing_or_garbage_after_noise_is_dropped_within_two_seconds() {
    let (c, authority, members) = community();
    for mode in ["silent", "garbage"] {
        let run = StrangerRun::run(c.path(), &authority.addr, "unused", mode);
        run.event("noise-ok");
        let closed = [run.lines("eof "), run.lines("read-error ")].concat();
        assert_eq!(closed.len(), 1, "the node hung up\n{}", run.describe());
        let ms = after_ms(closed[0]);
        eprintln!("{mode} stranger after noise: dropped after {ms} ms");
        assert!(
            ms < DROPPED_WITHIN.as_millis(),
            "dropped within {DROPPED_WITHIN:?}\n{}",
            run.describe()
        );
        // The listener speaks only after a verified Hello: not a byte, so
        // not its certificate, went to the stranger.
        assert!(closed[0].contains("received-bytes=0"), "{}", run.describe());
    }
    honest_round(&authority, &members[0], "After the noise strangers");
}

#[test]
fn a_bare_tcp_connection_is_closed_within_two_seconds() {
    let (_c, authority, members) = community();
    for (what, bytes) in [("silent", Vec::new()), ("garbage", net::garbage(4096, 7))] {
        let start = Instant::now();
        let mut s = TcpStream::connect(("127.0.0.1", authority.port())).expect("connects");
        // The node may hang up mid-write; that is its right.
        let _ = s.write_all(&bytes);
        s.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut sink = Vec::new();
        // EOF or a reset: either way the node let go.
        let result = s.read_to_end(&mut sink);
        let took = start.elapsed();
        eprintln!("bare TCP, {what}: closed after {took:?} ({result:?})");
        assert!(
            took < DROPPED_WITHIN,
            "a {what} TCP connection closed within {DROPPED_WITHIN:?}, took {took:?}"
        );
    }
    honest_round(&authority, &members[0], "After the bare sockets");
}
