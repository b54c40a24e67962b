//! The authority's register, replayed from a `register.log` of arbitrary
//! records. The input is a log file whose frame checksums the target
//! repairs, so the fuzzer explores record contents (the `record_log` target
//! covers the framing).
//!
//! A register that opens holds entry i at index i: a participation entry
//! with a receipt for its own event at that index, each event once, or a
//! reveal naming that index; it registers a new event at the next index,
//! hands back the existing entry for a repeated one, records a reveal after
//! it, and reopening shows exactly what was there plus the new entries.

#![no_main]

use cairn_fuzz::{fixtures, measure, repair_checksums, scratch};
use cairn_protocol::{ParticipationKind, RegisterRecord};
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
        assert_eq!(entry.index, i as u64, "an entry at the wrong index");
        match &entry.record {
            RegisterRecord::Participation { event, receipt } => {
                let id = event.id();
                assert_eq!(receipt.body.register_index, i as u64);
                assert_eq!(receipt.body.event, id, "a receipt for another event");
                assert!(ids.insert(id), "an event registered twice");
                assert_eq!(register.get_by_event(&id).as_ref(), Some(entry));
            }
            RegisterRecord::Reveal(reveal) => {
                assert_eq!(reveal.body.register_index, i as u64, "a reveal elsewhere");
            }
        }
    }

    // The member's next sequence number: the register takes no other.
    let member = fixtures::member().public();
    let last = entries
        .iter()
        .filter_map(|e| e.participation())
        .filter(|(e, _)| e.body.certificate.body.member_key == member)
        .map(|(e, _)| e.body.sequence)
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
    if let Some((first, (event, _))) = entries
        .iter()
        .find_map(|e| e.participation().map(|p| (e, p)))
    {
        let again = register
            .append(event, |_| -> Result<_, Infallible> {
                panic!("a registered event must not get a second receipt")
            })
            .expect("a repeated event gets its entry back");
        assert!(!again.new);
        assert_eq!(&again.entry, first);
    }
    let revealed = register
        .append_reveal(|index| Ok::<_, Infallible>(fixtures::reveal(index)))
        .expect("a reveal is recorded");
    assert_eq!(revealed.index, entries.len() as u64 + 1);
    drop(register);

    let reopened = Register::open(dir).expect("a register this process wrote reopens");
    let mut want = entries;
    want.push(appended.entry);
    want.push(revealed);
    assert_eq!(
        reopened.entries(0),
        want,
        "replay differs from what was written"
    );
});
