//! Tests of [`Store`]: the data directory, its lock, and what it opens.

use super::*;
use crate::testutil::{certificate, event, item_at, receipt, T0};
use cairn_protocol::ParticipationKind::Joined;

#[test]
fn a_missing_data_directory_is_created_private() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("node").join("data");
    let store = Store::open(&dir, false).unwrap();
    assert_eq!(store.dir(), dir);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert!(dir.join(ITEMS_DIR).is_dir());
    assert!(dir.join(outbox::OUTBOX_FILE).is_file());
    assert!(store.register.is_none());
    assert!(!dir.join(register::REGISTER_FILE).exists());
}

#[test]
fn a_second_store_on_the_same_directory_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open(dir.path(), true).unwrap();
    let err = Store::open(dir.path(), false).unwrap_err();
    assert!(matches!(err, StoreError::InUse { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("another cairnd is using {}", dir.path().display())),
        "{text}"
    );
    drop(first);
    Store::open(dir.path(), true).unwrap();
}

#[test]
fn the_directory_stays_locked_while_any_handle_lives() {
    let dir = tempfile::tempdir().unwrap();
    let locked = || matches!(Store::open(dir.path(), true), Err(StoreError::InUse { .. }));
    let store = Store::open(dir.path(), true).unwrap();
    let Store {
        items,
        outbox,
        register,
        revocations,
        ..
    } = store;
    assert!(locked());
    drop(items);
    assert!(locked());
    drop(outbox);
    assert!(locked());
    drop(register);
    assert!(locked());
    drop(revocations);
    Store::open(dir.path(), true).unwrap();
}

#[test]
fn everything_durable_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (item, e) = (item_at(T0, 1), event(1, Joined));
    {
        let store = Store::open(dir.path(), true).unwrap();
        store.items.insert(&item, &certificate()).unwrap();
        store.items.flush().unwrap();
        store.outbox.push(&e).unwrap();
        let register = store.register.as_ref().unwrap();
        register
            .append(&e, |i| Ok::<_, StoreError>(receipt(&e, i)))
            .unwrap();
    }
    let store = Store::open(dir.path(), true).unwrap();
    assert!(store.items.contains(&item.id()).unwrap());
    assert_eq!(store.outbox.pending(), vec![e.clone()]);
    assert_eq!(
        store
            .register
            .as_ref()
            .unwrap()
            .get_by_event(&e.id())
            .unwrap()
            .index,
        0
    );
}

#[test]
fn a_store_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Store>();
    shareable::<ItemStore>();
}
