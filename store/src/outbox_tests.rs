//! Tests of [`Outbox`]: pushing, acknowledging, sequencing, and recovery.

use super::*;
use crate::testutil::{event, receipt};
use cairn_protocol::ParticipationKind::{Joined, WithdrawalEffective};
use std::io::Write;

#[test]
fn pushes_and_receipts_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (e1, e2) = (event(1, Joined), event(2, WithdrawalEffective));
    {
        let outbox = Outbox::open(dir.path()).unwrap();
        assert_eq!(outbox.next_sequence(), 1);
        assert_eq!(outbox.last_kind(), None);
        assert!(outbox.push(&e1).unwrap());
        assert!(outbox.push(&e2).unwrap());
        assert_eq!(outbox.pending(), vec![e1.clone(), e2.clone()]);
        assert!(outbox.acknowledge(&e1.id(), &receipt(&e1, 0)).unwrap());
        assert_eq!(outbox.pending(), vec![e2.clone()]);
    }
    let outbox = Outbox::open(dir.path()).unwrap();
    assert_eq!(outbox.pending(), vec![e2.clone()]);
    assert_eq!(
        outbox.all(),
        vec![(e1.clone(), Some(receipt(&e1, 0))), (e2, None)]
    );
    assert_eq!(outbox.next_sequence(), 3);
    assert_eq!(outbox.last_kind(), Some(WithdrawalEffective));
}

#[test]
fn repeated_pushes_and_acknowledgements_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let e1 = event(1, Joined);
    assert!(outbox.push(&e1).unwrap());
    assert!(!outbox.push(&e1).unwrap());
    assert!(outbox.acknowledge(&e1.id(), &receipt(&e1, 0)).unwrap());
    assert!(!outbox.acknowledge(&e1.id(), &receipt(&e1, 0)).unwrap());
    assert!(!outbox.acknowledge(&e1.id(), &receipt(&e1, 7)).unwrap());
    drop(outbox);
    let outbox = Outbox::open(dir.path()).unwrap();
    assert_eq!(outbox.all(), vec![(e1.clone(), Some(receipt(&e1, 0)))]);
}

#[test]
fn events_must_carry_the_next_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let err = outbox.push(&event(2, Joined)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::OutOfSequence {
                given: 2,
                expected: 1
            }
        ),
        "{err}"
    );
    outbox.push(&event(1, Joined)).unwrap();
    // Same number, different event: the node would have signed two events #1.
    let err = outbox.push(&event(1, WithdrawalEffective)).unwrap_err();
    assert!(err.to_string().contains("sequence 2"), "{err}");
    assert_eq!(outbox.all().len(), 1);
}

#[test]
fn only_pushed_events_can_be_acknowledged_with_their_own_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(dir.path()).unwrap();
    let (e1, e2) = (event(1, Joined), event(2, WithdrawalEffective));
    let err = outbox.acknowledge(&e1.id(), &receipt(&e1, 0)).unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownEvent(id) if id == e1.id()),
        "{err}"
    );
    outbox.push(&e1).unwrap();
    let err = outbox.acknowledge(&e1.id(), &receipt(&e2, 0)).unwrap_err();
    assert!(matches!(err, StoreError::ReceiptMismatch { .. }), "{err}");
    assert_eq!(outbox.pending(), vec![e1]);
}

#[test]
fn a_torn_tail_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let e1 = event(1, Joined);
    {
        let outbox = Outbox::open(dir.path()).unwrap();
        outbox.push(&e1).unwrap();
        outbox.acknowledge(&e1.id(), &receipt(&e1, 0)).unwrap();
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join(OUTBOX_FILE))
        .unwrap();
    f.write_all(b"\x40\x00\x00\x00\x12\x34half a record")
        .unwrap();
    drop(f);

    let outbox = Outbox::open(dir.path()).unwrap();
    assert_eq!(outbox.all(), vec![(e1.clone(), Some(receipt(&e1, 0)))]);
    let e2 = event(2, WithdrawalEffective);
    outbox.push(&e2).unwrap();
    drop(outbox);
    assert_eq!(Outbox::open(dir.path()).unwrap().pending(), vec![e2]);
}

#[test]
fn an_acknowledgement_without_its_push_is_reported_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let e1 = event(1, Joined);
    let record = Record::Acknowledged {
        event: e1.id(),
        receipt: receipt(&e1, 0),
    };
    let (mut log, _) = RecordLog::open(&dir.path().join(OUTBOX_FILE)).unwrap();
    log.append(&encode(&record).unwrap()).unwrap();
    drop(log);
    let err = Outbox::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::LogContent { record: 0, .. }),
        "{err}"
    );
}
