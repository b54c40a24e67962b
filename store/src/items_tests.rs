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
fn flushed_items_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<_> = (0..50)
        .map(|n| item_at(T0.plus_millis(n), n as u32))
        .collect();
    {
        let store = open(&dir);
        for item in &items {
            store.insert(item, &certificate()).unwrap();
        }
        store.flush().unwrap();
    }
    let store = open(&dir);
    assert_eq!(store.count(), 50);
    let latest = store.latest(1).unwrap();
    assert_eq!(latest[0].1, items[49]);
    assert!(store.get(&items[0].id()).unwrap().is_some());
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

#[test]
fn undecodable_records_are_errors_that_name_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let item = item_at(T0, 1);
    let id = item.id();
    store.insert(&item, &certificate()).unwrap();
    store
        .items
        .insert(id.as_bytes(), &b"\x01garbage"[..])
        .unwrap();

    let err = store.get(&id).unwrap_err();
    assert!(matches!(err, StoreError::ItemsDamaged { .. }), "{err}");
    assert!(err.to_string().contains(&id.to_string()), "{err}");
    assert!(store.latest(10).is_err(), "never skipped silently");
    assert!(store.after(None, 10).is_err(), "never skipped silently");
}

#[test]
fn batches_insert_once_and_the_index_is_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = ItemStore::open(dir.path()).unwrap();
    let cert = certificate();
    let a = item_at(Timestamp(2_000), 1);
    let b = item_at(Timestamp(1_000), 2);
    let new = store.insert_batch(&[(&a, &cert), (&b, &cert)]).unwrap();
    assert_eq!(new, vec![(a.id(), true), (b.id(), true)]);
    let again = store.insert_batch(&[(&b, &cert), (&a, &cert)]).unwrap();
    assert_eq!(again, vec![(b.id(), false), (a.id(), false)]);
    assert_eq!(store.count(), 2);
    assert_eq!(
        store.index().unwrap(),
        vec![(1_000, b.id()), (2_000, a.id())]
    );
}
