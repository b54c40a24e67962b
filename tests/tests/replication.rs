//! Replication between real `cairnd` processes: members join through the
//! authority's register, publish through `cairn publish`, every node ends
//! up holding every item verified, and a withdrawal is registered.

use cairn_protocol::control::ItemView;
use cairn_protocol::ParticipationKind;
use cairn_tests::community::Community;
use cairn_tests::{expect, net, NodeProc};
use std::collections::BTreeSet;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

/// (kind, TLP) of each member's two items; all kinds and markings differ
/// within a member.
const ITEMS: [[(&str, &str); 2]; 4] = [
    [("indicator-of-compromise", "AMBER"), ("near-miss", "GREEN")],
    [
        ("vulnerability", "AMBER+STRICT"),
        // TLP:RED needs named recipients (tests/tests/audience.rs); every
        // node here must read every item.
        ("adversarial-tactic", "AMBER"),
    ],
    [
        ("configuration-recommendation", "CLEAR"),
        ("cybersecurity-alert", "GREEN"),
    ],
    [
        ("cyber-threat", "AMBER"),
        ("technique-and-procedure", "CLEAR"),
    ],
];

#[test]
fn four_members_join_publish_replicate_and_one_withdraws() {
    let c = Community::create(4);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);

    // Art. 29(4): every member notifies the authority and gets a receipt.
    for m in &members {
        m.cli_ok(["join", "--json"]);
    }
    let member_keys: BTreeSet<String> = c.members.iter().map(|m| m.public_key.clone()).collect();
    let register = authority.wait("the register holds 4 joined entries", DEADLINE, || {
        let r = authority.try_register()?;
        if r.len() == 4 {
            Ok(r)
        } else {
            Err(format!("{} entries", r.len()))
        }
    });
    assert!(register.iter().all(|e| e.kind == ParticipationKind::Joined));
    let registered: BTreeSet<String> = register.iter().map(|e| e.member_key.to_string()).collect();
    assert_eq!(registered, member_keys, "one entry per member");
    for m in &members {
        let events = m.wait("the join has a receipt", DEADLINE, || {
            let p = m.try_participation()?;
            match p.as_slice() {
                [e] if e.register_index.is_some() => Ok(p),
                _ => Err(format!("{p:?}")),
            }
        });
        let e = &events[0];
        assert_eq!(e.kind, ParticipationKind::Joined);
        let entry = &register[e.register_index.unwrap() as usize];
        assert_eq!(
            entry.event_id,
            Some(e.event_id),
            "{}: receipt names its entry",
            m.name
        );
    }

    // Each member shares two items of different kinds and markings.
    let mut ids = BTreeSet::new();
    let mut in_order = Vec::new();
    for (i, m) in members.iter().enumerate() {
        for (j, (kind, tlp)) in ITEMS[i].iter().enumerate() {
            let title = format!("{} item {j}: {kind} under TLP:{tlp}", m.name);
            let id = m.publish(kind, tlp, &title, "Details for the community.");
            ids.insert(id.clone());
            in_order.push(id);
        }
    }
    assert_eq!(ids.len(), 8);
    expect::items_everywhere(&all, &ids, DEADLINE);
    // Every node lists the newest items first.
    let newest: Vec<String> = in_order.iter().rev().take(3).cloned().collect();
    for n in &all {
        let listed: Vec<ItemView> = n.json(&["items", "list", "--json", "--limit", "3"]);
        let listed: Vec<String> = listed.iter().map(|i| i.id.to_string()).collect();
        assert_eq!(listed, newest, "{}: newest first", n.name);
    }
    let items = authority.items();
    let kinds: BTreeSet<String> = items.iter().map(|i| i.kind.to_string()).collect();
    assert_eq!(kinds.len(), 8, "eight different kinds arrived: {kinds:?}");
    for i in &items {
        let publisher = c.members.iter().find(|m| i.title.starts_with(&m.name));
        assert_eq!(
            Some(&i.publisher_name),
            publisher.map(|m| &m.entity_name),
            "{}",
            i.title
        );
    }

    // One member withdraws; the register records it.
    let leaving = &members[2];
    leaving.cli_ok(["withdraw", "--json"]);
    let key = c.members[2].public_key.clone();
    authority.wait("the register shows the withdrawal", DEADLINE, || {
        let r = authority.try_register()?;
        let w: Vec<_> = r
            .iter()
            .filter(|e| e.kind == ParticipationKind::WithdrawalEffective)
            .collect();
        match w.as_slice() {
            [e] if e.member_key.to_string() == key && r.len() == 5 => Ok(()),
            _ => Err(format!("{r:?}")),
        }
    });
    leaving.wait("the withdrawal has a receipt", DEADLINE, || {
        let p = leaving.try_participation()?;
        match p.as_slice() {
            [_, w]
                if w.kind == ParticipationKind::WithdrawalEffective
                    && w.register_index == Some(4) =>
            {
                Ok(())
            }
            _ => Err(format!("{p:?}")),
        }
    });
}

/// `cairn publish` answers "stored; sent when a member is reachable" when
/// no peer is connected. The item must then reach members that come back.
#[test]
fn an_item_published_while_alone_arrives_when_peers_return() {
    let mut c = Community::create(1);
    c.authority.listen = net::loopback(net::free_port());
    let (mut authority, members) = c.start_all();
    let member = &members[0];
    expect::all_admitted(&[&authority, member], DEADLINE);

    authority.kill9();
    member.wait("the authority is gone", DEADLINE, || {
        let n = member.try_members()?.len();
        if n == 0 {
            Ok(())
        } else {
            Err(format!("{n} members"))
        }
    });
    let id = member.publish(
        "vulnerability",
        "AMBER",
        "Published while alone",
        "Nobody is connected yet.",
    );
    authority.restart();
    expect::all_admitted(&[&authority, member], DEADLINE);
    expect::items_everywhere(&[&authority, member], &BTreeSet::from([id]), DEADLINE);
}
