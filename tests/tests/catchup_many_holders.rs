//! Catch-up from several members at once (issue 12): a node that was away
//! while three members received the same items fetches its share of them
//! from each (every id from one member, so nothing twice); and when one of
//! those members is paused (SIGSTOP) in the middle, what it was asked for
//! goes to the others on its deadline and the node still gets everything.
//!
//! Which member an item came from is read from the late node's log: each
//! session ends with `catch-up done … stored=N` (or, failed, `catch-up with
//! this peer stopped: … stored=N`) in a `sync{member=…}` span; an item
//! fetched twice would count twice.
//! Times are printed; the tests assert completeness, no time.

use cairn_tests::community::Community;
use cairn_tests::{control, expect, until, NodeProc};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Enough that each holder's share is several requests (256 ids each).
const ITEMS: usize = 3000;
/// For the pause: more than the three holders have in flight at first
/// (4 requests of 256 ids each), so the paused one is asked again after
/// its pause, while the node verifies what came first.
const MORE_ITEMS: usize = 8000;
/// Give-up bound for each wait (not the goal).
const GIVE_UP: Duration = Duration::from_secs(180);

/// An authority and three members holding `items` items the fourth member
/// (not started yet) lacks.
struct Holders {
    c: Community,
    authority: NodeProc,
    holders: Vec<NodeProc>,
    ids: BTreeSet<String>,
}

fn three_holders(items: usize) -> Holders {
    let c = Community::create(4);
    let authority = c.start(&c.authority, &[]);
    let holders: Vec<NodeProc> = (0..3)
        .map(|i| c.start(&c.members[i], std::slice::from_ref(&authority.addr)))
        .collect();
    let mut all: Vec<&NodeProc> = holders.iter().collect();
    all.push(&authority);
    expect::all_admitted(&all, GIVE_UP);
    let ids: BTreeSet<String> = control::publish_many(&holders[0].socket, "while-away", items, 8)
        .into_iter()
        .collect();
    assert_eq!(ids.len(), items, "every publish acknowledged");
    until("the three members hold every item", GIVE_UP, &all, || {
        expect::holding_all(&holders.iter().collect::<Vec<_>>(), &ids)
    });
    Holders {
        c,
        authority,
        holders,
        ids,
    }
}

impl Holders {
    /// The fourth member, back: it knows only the three holders.
    fn start_late(&self) -> NodeProc {
        let addrs: Vec<String> = self.holders.iter().map(|h| h.addr.clone()).collect();
        self.c.start(&self.c.members[3], &addrs)
    }

    fn nodes<'a>(&'a self, late: &'a NodeProc) -> Vec<&'a NodeProc> {
        let mut all: Vec<&NodeProc> = self.holders.iter().collect();
        all.push(&self.authority);
        all.push(late);
        all
    }
}

/// Items stored per member, summed over the sessions in `log` (those that
/// ended well and those that stopped).
fn stored_by_member(log: &str) -> BTreeMap<String, u64> {
    let mut by = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.contains("catch-up done") || l.contains("catch-up with this peer stopped"))
    {
        let Some(member) = line
            .split_once("member=")
            .and_then(|(_, rest)| rest.split_once(" peer="))
            .map(|(m, _)| m.to_string())
        else {
            continue;
        };
        let stored: u64 = line
            .split_once(" stored=")
            .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
            .and_then(|n: String| n.parse().ok())
            .unwrap_or(0);
        *by.entry(member).or_insert(0) += stored;
    }
    by
}

/// Waits until `late` counts `ids.len()` items (cheap to ask, so the time
/// printed is the catch-up's, not the listing's), then checks they are the
/// very items.
fn wait_holding_all(what: &str, late: &NodeProc, ids: &BTreeSet<String>, nodes: &[&NodeProc]) {
    until(what, GIVE_UP, nodes, || match late.try_status()?.items {
        n if n as usize >= ids.len() => Ok(()),
        n => Err(format!("{n} of {} items", ids.len())),
    });
}

fn assert_holds_all(late: &NodeProc, ids: &BTreeSet<String>) {
    if let Err(e) = expect::holding_all(&[late], ids) {
        panic!("{e}\n{}", late.log_tail(40));
    }
}

#[test]
fn a_node_back_online_fetches_from_the_three_members_that_hold_what_it_missed() {
    let h = three_holders(ITEMS);
    let started = Instant::now();
    let late = h.start_late();
    let nodes = h.nodes(&late);
    wait_holding_all("the late node holds every item", &late, &h.ids, &nodes);
    let took = started.elapsed();
    assert_holds_all(&late, &h.ids);
    let by = stored_by_member(&late.log_text());
    eprintln!(
        "many holders: {ITEMS} items caught up {:.1}s after the start, stored per member: {by:?}",
        took.as_secs_f64()
    );
    let total: u64 = by.values().sum();
    assert_eq!(
        total as usize,
        ITEMS,
        "every item stored once, by one session (nothing fetched twice): {by:?}\n{}",
        late.log_tail(40)
    );
    let helping = by.values().filter(|n| **n > 0).count();
    assert!(
        helping >= 2,
        "items came from one member only: {by:?}\n{}",
        late.log_tail(40)
    );
    assert!(late.items().iter().all(|i| i.verified));
}

#[test]
fn a_member_paused_mid_catch_up_leaves_its_share_to_the_others() {
    let h = three_holders(MORE_ITEMS);
    let started = Instant::now();
    let late = h.start_late();
    let nodes = h.nodes(&late);
    // The member to pause: the first whose session finds the items missing.
    let names: Vec<String> = h
        .holders
        .iter()
        .map(|n| n.status().entity_name.clone())
        .collect();
    let paused = until("the late node starts catching up", GIVE_UP, &nodes, || {
        let log = late.log_text();
        log.lines()
            .filter(|l| l.contains("catching up"))
            .find_map(|l| {
                names
                    .iter()
                    .position(|n| l.contains(&format!("member={n} ")))
            })
            .ok_or_else(|| "no session found items missing yet".to_string())
    });
    h.holders[paused].freeze();
    let frozen = Instant::now();
    let held_at_pause = late.status().items as usize;
    eprintln!(
        "paused holder: {} paused {:.1}s after the late node started, which held {held_at_pause} of {MORE_ITEMS}",
        names[paused],
        started.elapsed().as_secs_f64()
    );
    assert!(
        held_at_pause < MORE_ITEMS,
        "the catch-up was over before the pause: the test shows nothing"
    );
    wait_holding_all(
        "the late node holds every item while a holder is paused",
        &late,
        &h.ids,
        &nodes,
    );
    let after_pause = frozen.elapsed();
    let after_start = started.elapsed();
    assert_holds_all(&late, &h.ids);
    let log = late.log_text();
    let by = stored_by_member(&log);
    let reassigned = log
        .lines()
        .filter(|l| l.contains("go to the other members that hold them"))
        .count();
    eprintln!(
        "paused holder: every item held {:.1}s after the pause ({:.1}s after the start); \
         stored per member: {by:?}; {reassigned} share(s) handed on",
        after_pause.as_secs_f64(),
        after_start.as_secs_f64()
    );
    assert!(
        reassigned >= 1,
        "the paused member's session did not hand its ids on: {by:?}\n{}",
        late.log_tail(60)
    );
    assert_eq!(
        by.values().sum::<u64>() as usize,
        MORE_ITEMS,
        "every item stored once (nothing fetched twice), the paused member's \
         share by the others: {by:?}\n{}",
        late.log_tail(60)
    );
    h.holders[paused].thaw();
}
