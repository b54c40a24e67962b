//! Catch-up: a node that was not there while items were published gets all
//! of them from its peers, verified, without anyone publishing again.

use cairn_protocol::control::ControlRequest;
use cairn_tests::community::Community;
use cairn_tests::{control, expect, until, NodeProc};
use std::collections::BTreeSet;
use std::time::Duration;

const ITEMS: usize = 2000;

#[test]
fn a_node_started_after_2000_items_catches_up_and_verifies_them_all() {
    let c = Community::create(2);
    let authority = c.start(&c.authority, &[]);
    let publisher = c.start(&c.members[0], std::slice::from_ref(&authority.addr));
    expect::all_admitted(&[&authority, &publisher], Duration::from_secs(20));

    let ids: BTreeSet<String> = control::publish_many(&publisher.socket, "before", ITEMS, 8)
        .into_iter()
        .collect();
    assert_eq!(
        ids.len(),
        ITEMS,
        "every publish acknowledged with a distinct id"
    );
    let held = |n: &NodeProc| n.try_status().map(|s| s.items);
    until(
        "the authority holds every item",
        Duration::from_secs(60),
        &[&authority],
        || match held(&authority)? {
            n if n as usize >= ITEMS => Ok(()),
            n => Err(format!("{n} items")),
        },
    );

    // The latecomer knows nothing; it only bootstraps to the publisher.
    let late = c.start(&c.members[1], std::slice::from_ref(&publisher.addr));
    until(
        "the latecomer holds every item",
        Duration::from_secs(60),
        &[&late, &publisher],
        || match held(&late)? {
            n if n as usize == ITEMS => Ok(()),
            n => Err(format!("{n} of {ITEMS} items")),
        },
    );
    // Every one of them is the published item and verifies.
    let items = late.items();
    let got: BTreeSet<String> = items.iter().map(|i| i.id.to_string()).collect();
    assert_eq!(got, ids);
    assert!(
        items.iter().all(|i| i.verified),
        "all items verify on the latecomer"
    );
    assert!(
        late.log_text().contains("catch-up done"),
        "the latecomer logs its catch-up:\n{}",
        late.log_tail(20)
    );

    // An explicit round reports completion and changes nothing.
    match control::request(&late.socket, &ControlRequest::Sync).unwrap() {
        cairn_protocol::control::ControlResponse::SyncDone(s)
        | cairn_protocol::control::ControlResponse::SyncProgress(s) => {
            assert!(s.sessions >= 1, "{s:?}")
        }
        other => panic!("sync answered {other:?}"),
    }
    let out = late.cli_ok(["sync"]);
    assert!(out.contains("in sync"), "{out}");
    assert_eq!(late.status().items as usize, ITEMS);
}
