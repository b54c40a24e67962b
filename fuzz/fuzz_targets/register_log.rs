//! The authority's register, replayed from a `register.log` of arbitrary
//! records. The input is a log file whose frame checksums the target
//! repairs, so the fuzzer explores record contents (the `record_log` target
//! covers the framing).
//!
//! A register that opens holds entry i at index i, each with a receipt for
//! its own event at that index, each event once; it registers a new event
//! at the next index, hands back the existing entry for a repeated one, and
//! reopening shows exactly what was there plus the new entry.

#![no_main]

use cairn_fuzz::{fixtures, measure, repair_checksums, scratch};
use cairn_protocol::ParticipationKind;
use cairn_store::register::REGISTER_FILE;
use cairn_store::Register;
use std::collections::HashSet;
use std::convert::Infallible;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = scratch::dir();
    let mut file = data.to_vec();
    repair_checksums(&mut file);
    std::fs::write(dir.join(REGISTER_FILE), &file).expect("scratch is writable");

    let (opened, used) = measure(|| Register::open(dir));
    used.assert_within(4 * 1024 * 1024 + 16 * file.len(), "Register::open");
    let Ok(register) = opened else { return };

    let entries = register.entries(0);
    assert_eq!(register.len(), entries.len() as u64);
    let mut ids = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let id = entry.event.id();
        assert_eq!(entry.index, i as u64, "an entry at the wrong index");
        assert_eq!(entry.receipt.body.register_index, i as u64);
        assert_eq!(entry.receipt.body.event, id, "a receipt for another event");
        assert!(ids.insert(id), "an event registered twice");
        assert_eq!(register.get_by_event(&id).as_ref(), Some(entry));
    }

    // The member's next sequence number: the register takes no other.
    let member = fixtures::member().public();
    let last = entries
        .iter()
        .filter(|e| e.event.body.certificate.body.member_key == member)
        .map(|e| e.event.body.sequence)
        .max()
        .unwrap_or(0);
    let Some(next) = last.checked_add(1) else {
        return;
    };
    let event = fixtures::event(next, ParticipationKind::Joined);
    let appended = register
        .append(&event, |index| {
            Ok::<_, Infallible>(fixtures::receipt(&event, index))
        })
        .expect("a new event is registered");
    assert!(appended.new);
    assert_eq!(appended.entry.index, entries.len() as u64);
    if let Some(first) = entries.first() {
        let again = register
            .append(&first.event, |_| -> Result<_, Infallible> {
                panic!("a registered event must not get a second receipt")
            })
            .expect("a repeated event gets its entry back");
        assert!(!again.new);
        assert_eq!(&again.entry, first);
    }
    drop(register);

    let reopened = Register::open(dir).expect("a register this process wrote reopens");
    let mut want = entries;
    want.push(appended.entry);
    assert_eq!(
        reopened.entries(0),
        want,
        "replay differs from what was written"
    );
});
