//! The query index written behind the store: what the indexer thread
//! writes and when, and queries answered while it is behind (the
//! unindexed tail joined with the postings).

use super::query_index;
use super::query_tests::{
    alike, index_all, page_through, postings_count, scan, store_with, varied,
};
use super::*;
use cairn_protocol::query::{Filter, Position};

#[test]
fn a_lost_query_index_is_built_again_behind_the_writes() {
    let specs = varied(30);
    let (dir, store, certs) = store_with(&specs);
    index_all(&store);
    let filter = Filter {
        tag_prefixes: vec!["rsit:".into()],
        words: vec!["vpn".into()],
        ..Filter::default()
    };
    let before = store.find(&filter, None, 100).unwrap().positions;
    assert!(!before.is_empty());
    let posted = postings_count(&store);
    let mut wipe = sled::Batch::default();
    for key in store.postings.scan_prefix([query_index::QUERY]).keys() {
        wipe.remove(key.unwrap());
    }
    store.postings.apply_batch(wipe).unwrap();
    store.flush_query_index().unwrap();
    drop(store);
    let store = ItemStore::open(&dir.path().join("items.sled")).unwrap();
    // Found at once, from the unindexed items; then from new postings.
    assert!(store.unindexed_chunks() > 0);
    assert_eq!(store.find(&filter, None, 100).unwrap().positions, before);
    index_all(&store);
    assert_eq!(postings_count(&store), posted);
    assert_eq!(store.find(&filter, None, 100).unwrap().positions, before);
    assert_eq!(scan(&store, &filter), before);
    let _ = certs;
}

#[test]
fn the_indexer_thread_writes_the_postings_and_stops_when_dropped() {
    let specs = varied(20);
    let (dir, store, _) = store_with(&specs);
    assert_eq!(postings_count(&store), 0, "nothing posted by the writes");
    let indexer = QueryIndexer::spawn(store.clone()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while store.unindexed_chunks() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the indexer never caught up"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(indexer);
    let posted = postings_count(&store);
    assert!(posted > 0);
    // The cursor survives a restart: nothing to index again.
    store.flush().unwrap();
    drop(store);
    let store = ItemStore::open(&dir.path().join("items.sled")).unwrap();
    assert_eq!(store.unindexed_chunks(), 0);
    assert_eq!(postings_count(&store), posted);
}

#[test]
fn a_tag_posts_its_namespaces_up_to_four() {
    let spaces: Vec<&str> = query_index::namespaces("ioc:ipv4-addr=10.0.0.1").collect();
    assert_eq!(spaces, ["ioc:", "ioc:ipv4-addr="]);
    assert_eq!(query_index::namespaces("plain").count(), 0);
    assert_eq!(query_index::namespaces("a:b:c:d:e:f").count(), 4);
}

#[test]
fn pages_of_a_store_without_postings_find_every_item() {
    let specs = alike(10);
    let (_dir, store, _) = store_with(&specs);
    assert!(store.unindexed_chunks() > 0);
    for filter in [
        Filter::default(),
        Filter {
            words: vec!["vpn".into()],
            ..Filter::default()
        },
    ] {
        let expected = scan(&store, &filter);
        assert_eq!(expected.len(), 10);
        for limit in [1, 3, 5, 10] {
            assert_eq!(
                page_through(&store, &filter, limit),
                expected,
                "limit {limit}"
            );
        }
    }
}

#[test]
fn a_page_joins_postings_and_unindexed_items_in_answer_order() {
    let at = |m: u64, b: u8| Position {
        created: m,
        id: cairn_protocol::ItemId([b; 32]),
    };
    // Answer order is newest first.
    let full = Found {
        positions: vec![at(9, 1), at(7, 1), at(5, 1)],
        more: true,
    };
    let joined = full.merged([at(8, 2), at(7, 1), at(1, 2)].into_iter(), 3);
    assert_eq!(joined.positions, vec![at(9, 1), at(8, 2), at(7, 1)]);
    assert!(joined.more);
    let last = Found {
        positions: vec![at(9, 1)],
        more: false,
    };
    let joined = last.merged([at(1, 2)].into_iter(), 3);
    assert_eq!(joined.positions, vec![at(9, 1), at(1, 2)]);
    assert!(!joined.more);
}
