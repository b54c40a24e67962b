//! Tests of [`Register`]: exactly-once registration, reopening, recovery.

use super::*;
use crate::testutil::{event, receipt, reveal};
use cairn_protocol::ParticipationKind::{Joined, WithdrawalEffective};
use std::io::Write;
use std::sync::Arc;

/// The authority's receipt-signing step, as the daemon would pass it.
fn signs(e: &SignedEvent) -> impl FnOnce(u64) -> Result<Receipt, StoreError> + '_ {
    move |index| Ok(receipt(e, index))
}

#[test]
fn an_event_is_registered_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::open(dir.path()).unwrap();
    assert!(register.is_empty());
    let e = event(1, Joined);
    let appended = register.append(&e, signs(&e)).unwrap();
    assert!(appended.new);
    let first = appended.entry;
    assert_eq!(first.index, 0);
    assert_eq!(first.participation().unwrap().1, &receipt(&e, 0));

    let again = register
        .append(&e, |_| -> Result<Receipt, StoreError> {
            panic!("a retry must not sign a new receipt")
        })
        .unwrap();
    assert!(!again.new, "a retry is not a new entry");
    assert_eq!(again.entry, first);
    assert_eq!(register.len(), 1);
}

#[test]
fn the_register_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (e1, e2) = (event(1, Joined), event(2, WithdrawalEffective));
    {
        let register = Register::open(dir.path()).unwrap();
        register.append(&e1, signs(&e1)).unwrap();
        register.append(&e2, signs(&e2)).unwrap();
    }
    let register = Register::open(dir.path()).unwrap();
    assert_eq!(register.len(), 2);
    let entries = register.entries(0);
    let event_of = |i: usize| entries[i].participation().unwrap().0;
    assert_eq!((entries[0].index, event_of(0)), (0, &e1));
    assert_eq!((entries[1].index, event_of(1)), (1, &e2));
    assert_eq!(register.entries(1), entries[1..].to_vec());
    assert!(register.entries(2).is_empty());
    assert!(register.entries(u64::MAX).is_empty());
    assert_eq!(register.get_by_event(&e2.id()), Some(entries[1].clone()));
    assert_eq!(register.get_by_event(&event(3, Joined).id()), None);
    // Still exactly-once after a restart.
    assert_eq!(register.append(&e1, signs(&e1)).unwrap().entry, entries[0]);
    assert_eq!(register.len(), 2);
}

#[test]
fn nothing_is_registered_when_signing_fails_or_the_receipt_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::open(dir.path()).unwrap();
    let e = event(1, Joined);
    let err = register
        .append(&e, |_| Err("the signing key is unavailable"))
        .unwrap_err();
    assert!(matches!(err, StoreError::ReceiptFailed { .. }), "{err}");
    assert!(
        err.to_string().contains("signing key is unavailable"),
        "{err}"
    );

    let err = register
        .append(&e, |_| Ok::<_, StoreError>(receipt(&e, 5)))
        .unwrap_err();
    assert!(matches!(err, StoreError::ReceiptMismatch { .. }), "{err}");
    let other = event(2, Joined);
    let err = register
        .append(&e, |i| Ok::<_, StoreError>(receipt(&other, i)))
        .unwrap_err();
    assert!(matches!(err, StoreError::ReceiptMismatch { .. }), "{err}");

    assert!(register.is_empty());
    assert_eq!(register.append(&e, signs(&e)).unwrap().entry.index, 0);
}

#[test]
fn concurrent_appends_get_distinct_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let register = Arc::new(Register::open(dir.path()).unwrap());
    let threads: Vec<_> = (1..=8)
        .map(|seq| {
            let register = Arc::clone(&register);
            std::thread::spawn(move || {
                // One member's events register in sequence order: each
                // thread waits for its predecessor's number.
                let e = event(seq, Joined);
                loop {
                    match register.append(&e, signs(&e)) {
                        Ok(a) => return a.entry.index,
                        Err(StoreError::RegisterSequence { .. }) => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let indexes: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(indexes, (0..8).collect::<Vec<_>>(), "in sequence order");
}

#[test]
fn sequence_numbers_are_neither_reused_nor_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::open(dir.path()).unwrap();
    let skip = event(2, Joined);
    let err = register.append(&skip, signs(&skip)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RegisterSequence {
                given: 2,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
    let first = event(1, Joined);
    let entry = register.append(&first, signs(&first)).unwrap().entry;
    // Another event under the same number: refused, never a second entry.
    let mut other = event(1, WithdrawalEffective);
    assert_ne!(other.id(), first.id());
    let err = register.append(&other, signs(&other)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::RegisterSequence {
                given: 1,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
    // The replayed original still gets its entry back, at any time.
    other = event(2, WithdrawalEffective);
    register.append(&other, signs(&other)).unwrap();
    assert_eq!(register.append(&first, signs(&first)).unwrap().entry, entry);
    assert_eq!(register.len(), 2);
    // The rule holds after reopening.
    drop(register);
    let register = Register::open(dir.path()).unwrap();
    let late = event(5, Joined);
    assert!(matches!(
        register.append(&late, signs(&late)),
        Err(StoreError::RegisterSequence { expected: 3, .. })
    ));
}

#[test]
fn a_torn_tail_loses_no_registered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let e1 = event(1, Joined);
    let entry = {
        let register = Register::open(dir.path()).unwrap();
        register.append(&e1, signs(&e1)).unwrap().entry
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join(REGISTER_FILE))
        .unwrap();
    f.write_all(&[0xff; 37]).unwrap();
    drop(f);

    let register = Register::open(dir.path()).unwrap();
    assert_eq!(register.entries(0), vec![entry]);
    let e2 = event(2, WithdrawalEffective);
    assert_eq!(register.append(&e2, signs(&e2)).unwrap().entry.index, 1);
    drop(register);
    assert_eq!(Register::open(dir.path()).unwrap().len(), 2);
}

#[test]
fn an_entry_out_of_place_is_reported_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let e = event(1, Joined);
    let entry = RegisterEntry {
        index: 3,
        record: RegisterRecord::Participation {
            event: e.clone(),
            receipt: receipt(&e, 3),
        },
    };
    let (mut log, _) = RecordLog::open(&dir.path().join(REGISTER_FILE)).unwrap();
    log.append(&encode(&entry).unwrap()).unwrap();
    drop(log);
    let err = Register::open(dir.path()).unwrap_err();
    assert!(
        matches!(err, StoreError::LogContent { record: 0, .. }),
        "{err}"
    );
}

#[test]
fn reveals_are_entries_of_their_own_between_events() {
    let dir = tempfile::tempdir().unwrap();
    let (e1, e2) = (event(1, Joined), event(2, WithdrawalEffective));
    {
        let register = Register::open(dir.path()).unwrap();
        register.append(&e1, signs(&e1)).unwrap();
        let first = register
            .append_reveal(|i| Ok::<_, StoreError>(reveal(i)))
            .unwrap();
        assert_eq!((first.index, first.reveal()), (1, Some(&reveal(1))));
        // The same reveal made again is a second act, a second entry.
        let again = register
            .append_reveal(|i| Ok::<_, StoreError>(reveal(i)))
            .unwrap();
        assert_eq!(again.index, 2);
        // The member's next event is still its number 2: reveals take no
        // part in members' sequences.
        assert_eq!(register.append(&e2, signs(&e2)).unwrap().entry.index, 3);
        assert_eq!(
            register.get_by_sequence(&e2.body.certificate.body.member_key, 2),
            Some(register.entries(3)[0].clone())
        );
    }
    let register = Register::open(dir.path()).unwrap();
    let entries = register.entries(0);
    assert_eq!(entries.len(), 4);
    assert!(entries[1].reveal().is_some() && entries[2].reveal().is_some());
    assert_eq!(register.get_by_event(&e2.id()), Some(entries[3].clone()));
    let late = event(4, Joined);
    assert!(matches!(
        register.append(&late, signs(&late)),
        Err(StoreError::RegisterSequence { expected: 3, .. })
    ));
}

#[test]
fn a_reveal_naming_another_index_or_left_unsigned_is_not_registered() {
    let dir = tempfile::tempdir().unwrap();
    let register = Register::open(dir.path()).unwrap();
    let err = register
        .append_reveal(|_| Ok::<_, StoreError>(reveal(7)))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::RevealMismatch { given: 7, index: 0 }),
        "{err}"
    );
    let err = register
        .append_reveal(|_| Err("the signing key is unavailable"))
        .unwrap_err();
    assert!(matches!(err, StoreError::RevealFailed { .. }), "{err}");
    assert!(register.is_empty());
}
