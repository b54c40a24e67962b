//! A store that heals itself, with real processes: a stopped member's data
//! file is damaged (bytes flipped in the middle, the file truncated, the
//! index deleted); restarted, the node says what it found, never lets one
//! bad item hide the others, and ends holding every item again, fetched
//! from its members where its own copy was lost.

use cairn_tests::community::Community;
use cairn_tests::{expect, NodeProc};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const ITEMS: usize = 12;

fn ids(node: &NodeProc) -> Result<BTreeSet<String>, String> {
    Ok(node
        .try_items()?
        .into_iter()
        .map(|i| i.id.to_string())
        .collect())
}

fn data_file(node: &NodeProc) -> PathBuf {
    node.dir.join("data").join("items.data")
}

/// A community of the authority and two members holding [`ITEMS`] items
/// published by member 0; member 1 is the one damaged.
fn community() -> (Community, NodeProc, Vec<NodeProc>, BTreeSet<String>) {
    let c = Community::create(2);
    let (authority, members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }
    let published: BTreeSet<String> = (0..ITEMS)
        .map(|i| {
            members[0].publish(
                "indicator-of-compromise",
                "AMBER",
                &format!("heal item {i}"),
                "x",
            )
        })
        .collect();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::items_everywhere(&all, &published, DEADLINE);
    // A check also syncs the store: what follows damages durable state.
    // The query index must have caught up too (it is durable once it says
    // so): otherwise the indexer reads every item again after the restart
    // and finds the damage before the test looks for it.
    for m in &members {
        assert!(m.cli(["store", "check"]).status.success());
        m.wait("the query index caught up", DEADLINE, || {
            match m.status().query_index_behind {
                0 => Ok(()),
                n => Err(format!("{n} store batches not indexed yet")),
            }
        });
    }
    (c, authority, members, published)
}

/// Restarts `node` and waits until it holds `want` again.
fn restart_and_heal(node: &mut NodeProc, want: &BTreeSet<String>) {
    node.restart();
    node.wait("every item is back", DEADLINE, || {
        let have = ids(node)?;
        if &have == want {
            Ok(())
        } else {
            Err(format!("{} of {}", have.len(), want.len()))
        }
    });
    let check = node.cli(["store", "check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn flipped_bytes_in_the_middle_are_found_and_the_item_fetched_again() {
    let (_c, _authority, mut members, published) = community();
    let node = &mut members[1];
    node.kill9();
    let path = data_file(node);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 4] {
        *b ^= 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
    node.restart();
    // Listing reads every item: the damaged one is taken out and the others
    // are listed; then a member sends it again.
    let listed = node.wait("the node lists its items", DEADLINE, || ids(node));
    // Four bytes can straddle two frames.
    assert!(listed.len() >= ITEMS - 2, "{listed:?}");
    restart_and_heal(node, &published);
    assert!(
        node.log_text()
            .contains("damaged item taken out of the store"),
        "{}",
        node.log_tail(30)
    );
}

#[test]
fn a_truncated_data_file_loses_only_its_tail_and_heals() {
    let (_c, _authority, mut members, published) = community();
    let node = &mut members[1];
    node.kill9();
    let path = data_file(node);
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    restart_and_heal(node, &published);
    // Found at start: the index entry reaching past the new end is dropped.
    let log = node.log_text();
    assert!(
        log.contains("shorter than recorded") && log.contains("dropping index entries"),
        "{}",
        node.log_tail(30)
    );
    // Nothing stored since overwrote what the index points to.
    let more = members[0].publish("near-miss", "GREEN", "after the heal", "y");
    let mut want = published.clone();
    want.insert(more);
    let node = &members[1];
    node.wait("the new item arrives too", DEADLINE, || {
        if ids(node)? == want {
            Ok(())
        } else {
            Err("not yet".into())
        }
    });
    assert!(node.cli(["store", "check"]).status.success());
}

#[test]
fn a_deleted_index_is_rebuilt_from_the_data_file() {
    let (_c, _authority, mut members, published) = community();
    let node = &mut members[1];
    node.kill9();
    std::fs::remove_dir_all(node.dir.join("data").join("items.sled")).unwrap();
    restart_and_heal(node, &published);
    assert!(
        node.log_text().contains("rebuilt it from the data file"),
        "{}",
        node.log_tail(30)
    );
}

#[test]
fn store_check_reports_damage_and_fails_until_healed() {
    let (_c, _authority, mut members, published) = community();
    // Its store was synced by the check above, so the start-up check (which
    // reads only what a crash may have left unsynced) leaves the damage to
    // `store check`.
    let node = &mut members[1];
    node.kill9();
    let path = data_file(node);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    node.restart();
    let out = node.wait("the node answers", DEADLINE, || {
        let o = node.cli(["store", "check"]);
        if String::from_utf8_lossy(&o.stdout).contains("checked") {
            Ok(o)
        } else {
            Err(String::from_utf8_lossy(&o.stderr).into_owned())
        }
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("1 damaged"), "{text}");
    restart_and_heal(node, &published);
}
