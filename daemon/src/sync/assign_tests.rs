//! The assignment rules without a network: members split a missing set,
//! nothing goes to two members at once, and a member that fails gives its
//! share to the others.

use super::*;
use std::collections::HashSet;

fn id(n: u32) -> ItemId {
    ItemId(cairn_protocol::hash::sha256(&[&n.to_le_bytes()]))
}

fn ids(range: std::ops::Range<u32>) -> Vec<ItemId> {
    range.map(id).collect()
}

#[test]
fn three_holders_of_one_set_split_it_without_overlap() {
    let mut plan: Assignments<char> = Assignments::default();
    let set = ids(0..1000);
    for p in ['a', 'b', 'c'] {
        assert_eq!(plan.offer(p, set.clone()), Some(1000));
    }
    let mut seen = HashSet::new();
    let mut per_member = HashMap::new();
    // Members come back for more in turn until nothing waits.
    loop {
        let mut any = false;
        for p in ['a', 'b', 'c'] {
            let chunk = plan.take(p, 64);
            any |= !chunk.is_empty();
            for i in &chunk {
                assert!(seen.insert(*i), "{i:?} went to two members");
            }
            *per_member.entry(p).or_insert(0) += chunk.len();
            plan.done(p, &chunk);
        }
        if !any {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    for p in ['a', 'b', 'c'] {
        assert!(per_member[&p] >= 300, "{per_member:?}");
        assert!(!plan.has_open(p));
    }
}

#[test]
fn a_late_holder_takes_only_what_is_still_waiting() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..300));
    let first = plan.take('a', 100);
    plan.done('a', &first);
    let second = plan.take('a', 100);
    // b reconciled later: the first 100 are done, the next 100 in flight.
    assert_eq!(plan.offer('b', ids(0..300)), Some(200));
    let b = plan.take('b', 1000);
    assert_eq!(b, ids(200..300), "only the ids nobody fetches yet");
    assert!(plan.take('a', 1000).is_empty());
    // b is done with its share but a's chunk is still out: b waits on it.
    plan.done('b', &b);
    assert!(plan.has_open('b'));
    plan.done('a', &second);
    assert!(!plan.has_open('a') && !plan.has_open('b'));
}

#[test]
fn a_failed_member_gives_its_ids_in_flight_to_the_other_holders_first() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..10));
    plan.offer('b', ids(0..10));
    plan.offer('c', ids(0..5));
    let stuck = plan.take('a', 4);
    assert_eq!(stuck, ids(0..4));
    let b = plan.take('b', 2);
    assert_eq!(b, ids(4..6));
    plan.done('b', &b);
    // a's deadline passes.
    let left = plan.leave('a');
    assert_eq!(
        left,
        Left {
            reassigned: 4,
            orphaned: 0
        }
    );
    // c holds 0..5: it takes a's old share first, then id 4 is done already.
    let c: HashSet<ItemId> = plan.take('c', 10).into_iter().collect();
    assert_eq!(c, ids(0..4).into_iter().collect());
    assert!(plan.take('b', 10).iter().all(|i| !stuck.contains(i)));
    assert_eq!(plan.in_flight('a'), 0);
    assert!(plan.take('a', 10).is_empty(), "a left the plan");
}

#[test]
fn ids_a_member_did_not_send_go_to_another_holder_or_are_dropped() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..4));
    plan.offer('b', ids(2..4));
    let chunk = plan.take('a', 4);
    plan.done('a', &chunk[..1]);
    // a answered only the first: 1 nobody else holds, 2 and 3 b holds.
    let left = plan.not_held('a', &chunk[1..]);
    assert_eq!(
        left,
        Left {
            reassigned: 2,
            orphaned: 1
        }
    );
    assert!(!plan.has_open('a'));
    assert_eq!(plan.take('b', 10), ids(2..4));
    // The dropped id is not fetched again in this plan by a.
    assert!(plan.take('a', 10).is_empty());
}

#[test]
fn a_member_waits_while_another_has_its_ids_in_flight() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..3));
    plan.offer('b', ids(0..3));
    let a = plan.take('a', 3);
    assert!(plan.take('b', 3).is_empty());
    assert!(plan.has_open('b'), "a may still fail and give them back");
    assert!(!plan.has_open('a'), "a's own ids are all in flight with it");
    plan.not_held('a', &a[2..]);
    assert_eq!(plan.take('b', 3), ids(2..3));
    plan.done('a', &a[..2]);
    plan.done('b', &ids(2..3));
    assert!(!plan.has_open('b'));
}

#[test]
fn the_plan_is_forgotten_when_the_last_member_leaves() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..3));
    let chunk = plan.take('a', 3);
    plan.done('a', &chunk);
    // While a is in the plan, the done ids are not offered again...
    assert_eq!(plan.offer('b', ids(0..3)), Some(0));
    plan.leave('a');
    plan.leave('b');
    // ...afterwards a later session starts afresh (it reconciled again, so
    // what it offers is what is still missing).
    assert_eq!(plan.offer('c', ids(0..3)), Some(3));
}

#[test]
fn a_leaving_member_orphans_only_ids_nobody_else_holds() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..6));
    plan.offer('b', ids(3..6));
    let left = plan.leave('a');
    assert_eq!(
        left,
        Left {
            reassigned: 0,
            orphaned: 3
        }
    );
    assert_eq!(plan.take('b', 10), ids(3..6));
}

#[test]
fn the_plan_has_room_for_a_bounded_number_of_members() {
    let mut plan: Assignments<u32> = Assignments::default();
    for p in 0..MAX_HOLDERS as u32 {
        assert_eq!(plan.offer(p, ids(0..1)), Some(1));
    }
    assert_eq!(plan.offer(999, ids(0..1)), None);
    plan.leave(7);
    assert_eq!(
        plan.offer(999, ids(0..1)),
        Some(1),
        "a freed slot is reused"
    );
}

#[test]
fn ids_done_while_a_session_reconciled_are_not_fetched_again() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..4));
    // b's session starts and reconciles against the index as it is now.
    plan.join('b');
    let chunk = plan.take('a', 4);
    plan.done('a', &chunk);
    plan.leave('a');
    // b found the four missing (before a stored them) and offers them now.
    assert_eq!(plan.offer('b', ids(0..4)), Some(0));
    assert!(!plan.has_open('b'));
}

#[test]
fn done_ids_are_forgotten_once_every_session_joined_after_them() {
    let mut plan: Assignments<char> = Assignments::default();
    plan.offer('a', ids(0..4));
    plan.join('b');
    let chunk = plan.take('a', 4);
    plan.done('a', &chunk);
    plan.join('c');
    plan.leave('b');
    // a and c remain; a joined before the ids were done: kept.
    assert_eq!(plan.len(), 4);
    plan.leave('a');
    // c joined after: it reconciled against an index that has them.
    assert!(
        plan.is_empty(),
        "sessions overlapping without end keep no history"
    );
    assert!(!plan.has_open('c'));
}
