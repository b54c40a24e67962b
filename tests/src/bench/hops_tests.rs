//! The per-hop breakdown's rules, on hand-made stage times.

use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Publisher 0 -> 1 -> 2, and 0 -> 3; node 2 holds it last.
fn chain(t0: Instant) -> (Publish, Vec<NodeTimes>) {
    let at = |n: u64| Some(t0 + ms(n));
    let publish = Publish {
        node: 0,
        start: t0,
        sealing: None,
        signed: at(1),
    };
    let nodes = vec![
        NodeTimes {
            from: None,
            received: None,
            verified: at(2),
            passed_on: at(3),
            stored: at(9),
            visible: at(9),
        },
        NodeTimes {
            from: Some(0),
            received: at(5),
            verified: at(6),
            passed_on: at(7),
            stored: at(8),
            visible: at(8),
        },
        NodeTimes {
            from: Some(1),
            received: at(10),
            verified: at(12),
            passed_on: at(13),
            stored: at(15),
            visible: at(15),
        },
        NodeTimes {
            from: Some(0),
            received: at(4),
            verified: at(5),
            passed_on: at(6),
            stored: at(7),
            visible: at(7),
        },
    ];
    (publish, nodes)
}

#[test]
fn the_parts_add_up_to_the_latency_along_the_path() {
    let t0 = Instant::now();
    let (publish, nodes) = chain(t0);
    assert_eq!(critical_path(0, &nodes, &[0, 1, 2, 3]), Some(vec![0, 1, 2]));
    let b = breakdown(&publish, &nodes).expect("every node holds it");
    assert_eq!(b.hops, 2);
    assert_eq!(
        (b.sign, b.check, b.to_gossip),
        (ms(1), ms(1), ms(1)),
        "publisher"
    );
    assert_eq!(b.transit, ms(2) + ms(3), "0->1 and 1->2");
    assert_eq!(b.verify, ms(1) + ms(2));
    assert_eq!(
        b.relay,
        ms(1),
        "only the intermediate node relays on the path"
    );
    assert_eq!(b.store, ms(3));
    assert_eq!(b.total(), ms(15), "node 2 held it at +15 ms");
}

#[test]
fn a_publisher_slower_to_store_than_the_network_is_its_own_path() {
    let t0 = Instant::now();
    let (publish, mut nodes) = chain(t0);
    nodes[0].stored = Some(t0 + ms(19));
    nodes[0].visible = Some(t0 + ms(20));
    let b = breakdown(&publish, &nodes).expect("every node holds it");
    assert_eq!(b.hops, 0);
    assert_eq!(b.to_gossip, Duration::ZERO);
    assert_eq!((b.store, b.visible), (ms(17), ms(1)));
    assert_eq!(b.total(), ms(20));
}

#[test]
fn no_breakdown_when_a_node_misses_the_item_or_a_link_is_missing() {
    let t0 = Instant::now();
    let (publish, mut nodes) = chain(t0);
    nodes[3].visible = None;
    assert_eq!(breakdown(&publish, &nodes), None);
    let (publish, mut nodes) = chain(t0);
    nodes[1].from = None;
    assert_eq!(breakdown(&publish, &nodes), None);
    let (_, mut nodes) = chain(t0);
    nodes[1].from = Some(2);
    assert_eq!(
        critical_path(0, &nodes, &[0, 1, 2, 3]),
        None,
        "a cycle is refused"
    );
}

#[test]
fn the_summary_names_every_part_and_the_slowest_item() {
    let t0 = Instant::now();
    let (publish, nodes) = chain(t0);
    let b = breakdown(&publish, &nodes).expect("every node holds it");
    let s = Summary::new(vec![b], transits(&nodes));
    for part in Breakdown::PARTS {
        assert!(s.line().contains(part), "{part} in {}", s.line());
    }
    assert_eq!(s.transit(50.0), Some(2.0));
    assert_eq!(s.hops(50.0), Some(2.0));
    assert!(s.slowest_line().starts_with("15.00 ms over 2 hops"));
    assert_eq!(s.json()["critical_path_ms"]["to_gossip"]["p50"], 1.0);
}

#[test]
fn transits_cover_every_receiver() {
    let t0 = Instant::now();
    let (_, nodes) = chain(t0);
    let mut t = transits(&nodes);
    t.sort();
    assert_eq!(t, vec![ms(1), ms(2), ms(3)]);
}

#[test]
fn an_audience_item_is_split_to_the_last_recipient_through_a_relay() {
    let t0 = Instant::now();
    let (mut publish, mut nodes) = chain(t0);
    // Node 1 only relays; the audience is 0, 2 and 3. Sealing took the
    // first millisecond (0.25 resolving, 0.75 sealing), signing the next.
    publish.sealing = Some((t0 + Duration::from_micros(250), t0 + ms(1)));
    publish.signed = Some(t0 + ms(2));
    nodes[1].visible = None;
    nodes[1].stored = None;
    assert_eq!(breakdown(&publish, &nodes), None, "node 1 never stores it");
    let b = breakdown_among(&publish, &nodes, &[0, 2, 3]).expect("the audience holds it");
    assert_eq!(b.hops, 2, "through relay 1 to recipient 2");
    assert_eq!(b.resolve, Duration::from_micros(250));
    assert_eq!(b.seal, Duration::from_micros(750));
    assert_eq!(b.sign, ms(1));
    assert_eq!(
        b.check,
        Duration::ZERO,
        "checked at +2 ms, as it was signed"
    );
    assert_eq!(b.relay, ms(1), "relay 1 passed it on");
    assert_eq!(b.total(), ms(15), "recipient 2 held it at +15 ms");
}
