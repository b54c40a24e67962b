//! Tests of [`ItemStore`]: storing, ordering, reopening, and reporting damage.

use super::*;
use crate::testutil::{certificate, certificate_for, item_at, item_by, member, T0};

fn open(dir: &tempfile::TempDir) -> ItemStore {
    ItemStore::open(&dir.path().join("items.sled")).unwrap()
}

#[test]
fn inserted_items_come_back_with_their_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let item = item_at(T0.plus_days(1), 1);
    let id = item.id();
    assert!(!store.contains(&id).unwrap());
    assert_eq!(store.get(&id).unwrap(), None);

    assert!(store.insert(&item, &certificate()).unwrap());
    assert!(store.contains(&id).unwrap());
    assert_eq!(store.get(&id).unwrap(), Some((item.clone(), certificate())));
    assert_eq!(
        store.certificate(&certificate().id()).unwrap(),
        Some(certificate())
    );
    assert_eq!(store.count(), 1);

    assert!(!store.insert(&item, &certificate()).unwrap(), "duplicate");
    assert_eq!(store.count(), 1);
}

#[test]
fn latest_is_newest_first_and_after_is_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    // Inserted out of order, two of them in the same millisecond.
    let times = [5, 1, 3, 3, 2, 4];
    let items: Vec<_> = times
        .iter()
        .enumerate()
        .map(|(n, t)| item_at(T0.plus_millis(*t), n as u32))
        .collect();
    for item in &items {
        store.insert(item, &certificate()).unwrap();
    }
    let created = |v: &[(ItemId, SignedItem)]| -> Vec<u64> {
        v.iter().map(|(_, i)| i.body.created.0 - T0.0).collect()
    };

    let latest = store.latest(4).unwrap();
    assert_eq!(created(&latest), vec![5, 4, 3, 3]);
    assert!(latest.iter().all(|(id, item)| *id == item.id()));
    assert_eq!(store.latest(100).unwrap().len(), 6);

    // Page through with a cursor, two at a time: every item exactly once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.after(cursor, 2).unwrap();
        let Some((id, last)) = page.last() else { break };
        cursor = Some((last.body.created, *id));
        seen.extend(page);
    }
    assert_eq!(created(&seen), vec![1, 2, 3, 3, 4, 5]);
    let mut ids: Vec<_> = seen.iter().map(|(id, _)| *id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 6);
}

#[test]
fn certificates_lists_every_publisher_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let second = certificate_for(&member(), 2);
    store.insert(&item_at(T0, 1), &certificate()).unwrap();
    store.insert(&item_at(T0, 2), &certificate()).unwrap();
    store.insert(&item_by(&second, T0, 3), &second).unwrap();
    let mut certs = store.certificates().unwrap();
    certs.sort_by_key(|c| c.body.serial);
    assert_eq!(certs, vec![certificate(), second]);
}

#[test]
fn certificates_read_before_a_new_one_arrives_do_not_hide_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let (second, third) = (certificate_for(&member(), 2), certificate_for(&member(), 3));
    store.insert(&item_at(T0, 1), &certificate()).unwrap();
    assert_eq!(store.certificates().unwrap(), vec![certificate()]);
    // A new publisher's certificate, then a newly admitted member's.
    store.insert(&item_by(&second, T0, 2), &second).unwrap();
    store.remember_certificate(&third).unwrap();
    let mut certs = store.certificates().unwrap();
    certs.sort_by_key(|c| c.body.serial);
    assert_eq!(certs, vec![certificate(), second, third]);
}

/// `n` items inserted into a store in `dir` and flushed; the store closed.
fn stored(dir: &tempfile::TempDir, n: u64) -> Vec<SignedItem> {
    let items: Vec<_> = (0..n)
        .map(|n| item_at(T0.plus_millis(n), n as u32))
        .collect();
    let store = open(dir);
    for item in &items {
        store.insert(item, &certificate()).unwrap();
    }
    store.flush().unwrap();
    items
}

#[test]
fn flushed_items_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let items = stored(&dir, 50);
    let store = open(&dir);
    assert_eq!(store.count(), 50);
    let latest = store.latest(1).unwrap();
    assert_eq!(latest[0].1, items[49]);
    assert!(store.get(&items[0].id()).unwrap().is_some());
    // What was stored before the reopen is known as held (the in-memory
    // filter is rebuilt from the index), and a new item is new.
    for item in &items {
        assert!(!store.insert(item, &certificate()).unwrap());
    }
    assert!(store.contains(&items[7].id()).unwrap());
    let new = item_at(T0.plus_millis(99), 99);
    assert!(!store.contains(&new.id()).unwrap());
    assert!(store.insert(&new, &certificate()).unwrap());
    assert!(store.contains(&new.id()).unwrap());
    assert_eq!(store.count(), 51);
}

#[test]
fn an_item_with_someone_elses_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let other = certificate_for(&member(), 2);
    let err = store.insert(&item_at(T0, 1), &other).unwrap_err();
    assert!(matches!(err, StoreError::NotItsPublisher { .. }), "{err}");
    assert_eq!(store.count(), 0);
}

/// Flips a byte near the end of the data file, as a failing disk might.
fn flip_last_frame(dir: &tempfile::TempDir) {
    let data = dir.path().join("items.data");
    let mut bytes = std::fs::read(&data).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x01;
    std::fs::write(&data, bytes).unwrap();
}

#[test]
fn a_refused_item_is_removed_for_good_and_the_others_stay() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let kept = item_at(T0, 1);
    let refused = item_at(T0.plus_millis(1), 2);
    store.insert(&kept, &certificate()).unwrap();
    store.insert(&refused, &certificate()).unwrap();
    let held = store.publishers().unwrap();
    assert_eq!(held.len(), 2);
    assert!(held.iter().all(|(_, _, p)| *p == certificate().id()));
    let removed = store
        .remove_refused(&[refused.id(), ItemId([7; 32])])
        .unwrap();
    assert_eq!(
        removed,
        vec![(T0.millis() + 1, refused.id())],
        "only held ones"
    );
    assert!(!store.contains(&refused.id()).unwrap());
    assert!(store.contains(&kept.id()).unwrap());
    assert_eq!(store.count(), 1);
    assert_eq!(store.index().unwrap(), vec![(T0.millis(), kept.id())]);
    assert!(store.take_dropped().is_empty(), "not fetched again");
    store.flush().unwrap();
    drop(store);
    let store = open(&dir);
    assert!(
        !store.contains(&refused.id()).unwrap(),
        "gone after a restart"
    );
    assert_eq!(store.count(), 1);
}

#[test]
fn a_damaged_item_is_taken_out_never_served_and_never_hides_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let good = item_at(T0, 1);
    let item = item_at(T0.plus_millis(1), 2);
    let id = item.id();
    store.insert(&good, &certificate()).unwrap();
    store.insert(&item, &certificate()).unwrap();
    store.flush().unwrap();
    flip_last_frame(&dir);

    let listed: Vec<ItemId> = store
        .latest(10)
        .unwrap()
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        listed,
        vec![good.id()],
        "the damaged one is skipped, the other listed"
    );
    assert_eq!(store.get(&id).unwrap(), None);
    assert_eq!(store.item_bytes(&id).unwrap(), None, "never served");
    assert!(!store.contains(&id).unwrap());
    assert_eq!(store.count(), 1);
    assert_eq!(store.index().unwrap(), vec![(T0.millis(), good.id())]);
    assert_eq!(store.take_dropped(), vec![(T0.millis() + 1, id)]);
    assert!(store.take_dropped().is_empty());
    // A member sends it again: stored anew, at the end of the file.
    assert!(store.insert(&item, &certificate()).unwrap());
    assert_eq!(store.get(&id).unwrap().unwrap().0, item);
}

#[test]
fn a_scrub_finds_damage_nobody_read_yet() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for n in 0..5 {
        store
            .insert(&item_at(T0.plus_millis(n), n as u32), &certificate())
            .unwrap();
    }
    store.flush().unwrap();
    flip_last_frame(&dir);
    let mut pauses = 0;
    let report = store.scrub(|| pauses += 1).unwrap();
    assert_eq!(report.checked, 5);
    assert_eq!(report.dropped, vec![item_at(T0.plus_millis(4), 4).id()]);
    assert!(pauses >= 1);
    assert_eq!(store.count(), 4);
    let again = store.scrub(|| {}).unwrap();
    assert_eq!((again.checked, again.dropped.len()), (4, 0));
}

#[test]
fn a_truncated_data_file_loses_its_tail_items_and_new_ones_overwrite_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let items = stored(&dir, 4);
    let data = dir.path().join("items.data");
    let len = std::fs::metadata(&data).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&data)
        .unwrap()
        .set_len(len - 5)
        .unwrap();
    let store = open(&dir);
    assert_eq!(store.count(), 3);
    assert!(!store.contains(&items[3].id()).unwrap());
    let newer = item_at(T0.plus_millis(10), 10);
    store.insert(&newer, &certificate()).unwrap();
    store.insert(&items[3], &certificate()).unwrap();
    store.flush().unwrap();
    for item in items.iter().chain([&newer]) {
        assert_eq!(&store.get(&item.id()).unwrap().unwrap().0, item);
    }
    assert!(store.scrub(|| {}).unwrap().dropped.is_empty());
}

#[test]
fn a_lost_index_is_rebuilt_from_the_data_file_with_its_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let items = stored(&dir, 6);
    std::fs::remove_dir_all(dir.path().join("items.sled")).unwrap();
    let store = open(&dir);
    assert_eq!(store.count(), 6);
    for item in &items {
        let (back, cert) = store.get(&item.id()).unwrap().unwrap();
        assert_eq!((&back, &cert), (item, &certificate()));
    }
    assert_eq!(store.index().unwrap().len(), 6);
    // And it keeps working: new items, reopening.
    let newer = item_at(T0.plus_millis(9), 9);
    assert!(store.insert(&newer, &certificate()).unwrap());
    store.flush().unwrap();
    drop(store);
    assert_eq!(open(&dir).count(), 7);
}

#[test]
fn item_bytes_are_the_items_encoding_and_name_its_publisher() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let item = item_at(T0, 1);
    store.insert(&item, &certificate()).unwrap();
    let (bytes, publisher) = store.item_bytes(&item.id()).unwrap().unwrap();
    assert_eq!(bytes.0, cairn_protocol::codec::encode(&item).unwrap());
    assert_eq!(publisher, certificate().id());
    assert_eq!(store.item_bytes(&item_at(T0, 2).id()).unwrap(), None);
}

/// What a power loss can leave: sled wrote index entries to disk, but the
/// item bytes they point to never reached it.
#[test]
fn entries_whose_bytes_were_lost_in_a_crash_are_dropped_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let durable: Vec<_> = (0..5)
        .map(|n| item_at(T0.plus_millis(n), n as u32))
        .collect();
    let unsynced: Vec<_> = (5..9)
        .map(|n| item_at(T0.plus_millis(n), n as u32))
        .collect();
    let synced_len;
    {
        let store = open(&dir);
        for item in &durable {
            store.insert(item, &certificate()).unwrap();
        }
        store.flush().unwrap();
        synced_len = std::fs::metadata(dir.path().join("items.data"))
            .unwrap()
            .len();
        for item in &unsynced {
            store.insert(item, &certificate()).unwrap();
        }
        // The index reaches the disk (sled flushes on its own too)...
        store.db.flush().unwrap();
    }
    // ...but of the unsynced bytes only part of one frame survived.
    let data = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.path().join("items.data"))
        .unwrap();
    data.set_len(synced_len + 20).unwrap();
    drop(data);

    let store = open(&dir);
    assert_eq!(store.count(), 5);
    assert_eq!(store.index().unwrap().len(), 5);
    for item in &durable {
        assert_eq!(store.get(&item.id()).unwrap().unwrap().0, *item);
    }
    for item in &unsynced {
        assert!(!store.contains(&item.id()).unwrap());
    }
    assert_eq!(store.latest(100).unwrap().len(), 5);
    // The lost items can be stored again (as catch-up would), and then read.
    assert!(store.insert(&unsynced[0], &certificate()).unwrap());
    store.flush().unwrap();
    drop(store);
    let store = open(&dir);
    assert_eq!(store.count(), 6);
    assert_eq!(
        store.get(&unsynced[0].id()).unwrap().unwrap().0,
        unsynced[0]
    );
}

#[test]
fn a_store_from_the_sled_only_layout_is_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sled");
    {
        let db = sled::open(&path).unwrap();
        db.open_tree("items").unwrap().insert(b"k", b"v").unwrap();
        db.flush().unwrap();
    }
    let err = ItemStore::open(&path).unwrap_err().to_string();
    assert!(err.contains("earlier development version"), "{err}");
    assert!(err.contains("move"), "{err}");
}

#[test]
fn batches_insert_once_and_the_index_is_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let cert = certificate();
    let a = EncodedItem::new(item_at(Timestamp(2_000), 1)).unwrap();
    let b = EncodedItem::new(item_at(Timestamp(1_000), 2)).unwrap();
    let new = store.insert_batch(&[(&a, &cert), (&b, &cert)]).unwrap();
    assert_eq!(new, vec![(a.id(), true), (b.id(), true)]);
    let again = store.insert_batch(&[(&b, &cert), (&a, &cert)]).unwrap();
    assert_eq!(again, vec![(b.id(), false), (a.id(), false)]);
    let c = EncodedItem::new(item_at(Timestamp(1_500), 3)).unwrap();
    let twice = store.insert_batch(&[(&c, &cert), (&c, &cert)]).unwrap();
    assert_eq!(twice, vec![(c.id(), true), (c.id(), false)]);
    assert_eq!(store.count(), 3);
    assert_eq!(
        store.index().unwrap(),
        vec![(1_000, b.id()), (1_500, c.id()), (2_000, a.id())]
    );
}

/// A stop without a final flush (kill -9) whose unsynced bytes all survived:
/// the check on open keeps every entry and recounts them.
#[test]
fn an_unclean_stop_with_intact_bytes_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = (0..6)
        .map(|n| item_at(T0.plus_millis(n), n as u32))
        .collect();
    {
        let store = open(&dir);
        for item in &items[..3] {
            store.insert(item, &certificate()).unwrap();
        }
        store.flush().unwrap();
        for item in &items[3..] {
            store.insert(item, &certificate()).unwrap();
        }
        store.db.flush().unwrap();
    }
    let store = open(&dir);
    assert_eq!(store.count(), 6);
    for item in &items {
        assert_eq!(store.get(&item.id()).unwrap().unwrap().0, *item);
    }
    drop(store);
    // Clean this time (open flushed after its check): the count is read back.
    assert_eq!(open(&dir).count(), 6);
}

const CRASH_CHILD: &str = "CAIRN_ITEMS_CRASH_CHILD";

/// A real process killed with SIGKILL while inserting: every item it
/// reported flushed is there after reopening, and everything indexed reads
/// back intact (nothing half-written is served).
#[test]
fn a_writer_killed_with_sigkill_loses_no_flushed_item() {
    use std::io::{BufRead, BufReader, Write};
    const NAME: &str = "items::tests::a_writer_killed_with_sigkill_loses_no_flushed_item";
    if let Some(path) = std::env::var_os(CRASH_CHILD) {
        // Child: batches of 50, flushed every other batch; reports each
        // flushed total on stdout, then keeps going until killed.
        let store = ItemStore::open(Path::new(&path)).unwrap();
        let mut next = store.count() as u32;
        let mut out = std::io::stdout();
        for batch in 0u32.. {
            for n in next..next + 50 {
                store
                    .insert(&item_at(T0.plus_millis(u64::from(n)), n), &certificate())
                    .unwrap();
            }
            next += 50;
            if batch % 2 == 1 {
                store.flush().unwrap();
                writeln!(out, "{next}").unwrap();
                out.flush().unwrap();
            }
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.sled");
    let mut flushed = 0u32;
    for round in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--test-threads=1", "--nocapture"])
            .env(CRASH_CHILD, &path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut reported = 0;
        // Kill somewhere after a few flushes, at a different point each round.
        for _ in 0..(4 + round * 3) {
            let line = lines.next().expect("the child stopped reporting").unwrap();
            match line.trim().parse::<u32>() {
                Ok(n) => reported = n,
                Err(_) => continue, // test-harness chatter
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(reported > flushed, "round {round}: no progress");
        flushed = reported;

        let store = ItemStore::open(&path).unwrap();
        for n in 0..flushed {
            let item = item_at(T0.plus_millis(u64::from(n)), n);
            let got = store.get(&item.id()).unwrap();
            assert_eq!(
                got.map(|(i, _)| i),
                Some(item),
                "round {round}: item {n} lost"
            );
        }
        let index = store.index().unwrap();
        assert_eq!(index.len() as u64, store.count(), "round {round}");
        for (_, id) in &index {
            assert!(
                store.get(id).unwrap().is_some(),
                "round {round}: {id} unreadable"
            );
        }
    }
}

#[test]
fn remembered_member_certificates_are_listed_and_publishers_still_reach_the_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let other = certificate_for(&member(), 2);
    {
        let store = open(&dir);
        store.remember_certificate(&certificate()).unwrap();
        store.remember_certificate(&other).unwrap();
        store.remember_certificate(&other).unwrap();
        let ids: Vec<_> = store
            .certificates()
            .unwrap()
            .iter()
            .map(|c| c.id())
            .collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&other.id()) && ids.contains(&certificate().id()));
        store.insert(&item_at(T0, 1), &certificate()).unwrap();
        store.flush().unwrap();
    }
    // The publisher's certificate went to the data file with its item: a
    // rebuilt index still serves the item.
    std::fs::remove_dir_all(dir.path().join("items.sled")).unwrap();
    let store = open(&dir);
    assert_eq!(
        store.get(&item_at(T0, 1).id()).unwrap().unwrap().1,
        certificate()
    );
}

#[test]
fn storage_order_and_stored_times_page_stably_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let before = Timestamp::now();
    // Created out of order, stored in three batches.
    let items: Vec<_> = [5, 1, 3, 2, 4]
        .iter()
        .enumerate()
        .map(|(n, t)| item_at(T0.plus_millis(*t), n as u32))
        .collect();
    let encoded: Vec<EncodedItem> = items
        .iter()
        .map(|i| EncodedItem::new(i.clone()).unwrap())
        .collect();
    let cert = certificate();
    for batch in [&encoded[..2], &encoded[2..3], &encoded[3..]] {
        let pairs: Vec<_> = batch.iter().map(|e| (e, &cert)).collect();
        store.insert_batch(&pairs).unwrap();
        // Batches in distinct milliseconds, so each has its own time.
        std::thread::sleep(std::time::Duration::from_millis(3));
    }
    let all = store.stored_from(StoredAt::default(), 100).unwrap();
    let ids: Vec<ItemId> = all.iter().map(|a| a.id).collect();
    assert_eq!(ids, items.iter().map(|i| i.id()).collect::<Vec<_>>());
    assert!(all
        .windows(2)
        .all(|w| w[0].at < w[1].at && w[0].added <= w[1].added));
    assert!(all[0].added >= before && all[4].added <= Timestamp::now());
    assert_eq!(
        all[2].at,
        StoredAt {
            chunk: all[2].at.chunk,
            index: 0
        }
    );

    // Pages of two from each last position onward: every item once.
    let mut seen = Vec::new();
    let mut from = StoredAt::default();
    loop {
        let page = store.stored_from(from, 2).unwrap();
        let Some(last) = page.last() else { break };
        from = StoredAt {
            chunk: last.at.chunk,
            index: last.at.index + 1,
        };
        seen.extend(page.iter().map(|a| a.id));
    }
    assert_eq!(seen, ids);

    assert_eq!(
        store.first_stored_after(Timestamp(0)).unwrap(),
        StoredAt::default()
    );
    let end = store.first_stored_after(all[4].added).unwrap();
    assert!(store.stored_from(end, 10).unwrap().is_empty());
    let from_third = store.first_stored_after(all[1].added).unwrap();
    let rest = store.stored_from(from_third, 10).unwrap();
    assert!(rest.iter().all(|a| a.added > all[1].added));
    assert_eq!(rest.last().map(|a| a.id), Some(ids[4]));

    // Reopened: the same positions and times.
    drop(store);
    let store = open(&dir);
    assert_eq!(store.stored_from(StoredAt::default(), 100).unwrap(), all);
}
