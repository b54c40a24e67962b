//! The outbox, replayed from an `outbox.log` of arbitrary records. The
//! input is a log file whose frame checksums the target repairs, so the
//! fuzzer explores record contents rather than crc32s (the `record_log`
//! target covers the framing).
//!
//! An outbox that opens holds events numbered 1, 2, 3... in order, each
//! receipt acknowledging its own event; it accepts the next event and a
//! receipt, and reopening shows exactly what was there plus those.

#![no_main]

use cairn_fuzz::{fixtures, measure, repair_checksums, scratch};
use cairn_protocol::ParticipationKind;
use cairn_store::outbox::OUTBOX_FILE;
use cairn_store::Outbox;
use std::collections::HashSet;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let dir = scratch::dir();
    let mut file = data.to_vec();
    repair_checksums(&mut file);
    std::fs::write(dir.join(OUTBOX_FILE), &file).expect("scratch is writable");

    let (opened, used) = measure(|| Outbox::open(dir));
    used.assert_within(4 * 1024 * 1024 + 16 * file.len(), "Outbox::open");
    let Ok(outbox) = opened else { return };

    let all = outbox.all();
    let mut ids = HashSet::new();
    for (n, (event, receipt)) in all.iter().enumerate() {
        assert_eq!(event.body.sequence, n as u64 + 1, "events out of sequence");
        assert!(ids.insert(event.id()), "an event held twice");
        if let Some(r) = receipt {
            assert_eq!(r.body.event, event.id(), "a receipt for another event");
        }
    }
    assert_eq!(outbox.next_sequence(), all.len() as u64 + 1);
    let pending: Vec<_> = all
        .iter()
        .filter(|(_, r)| r.is_none())
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(outbox.pending(), pending);
    assert_eq!(outbox.last_kind(), all.last().map(|(e, _)| e.body.kind));

    let next = fixtures::event(outbox.next_sequence(), ParticipationKind::Joined);
    assert!(outbox.push(&next).expect("the next event is accepted"));
    let first_pending = outbox.pending()[0].clone();
    let receipt = fixtures::receipt(&first_pending, 0);
    assert!(outbox
        .acknowledge(&first_pending.id(), &receipt)
        .expect("a receipt for a pending event is accepted"));
    let after = outbox.all();
    drop(outbox);

    let reopened = Outbox::open(dir).expect("an outbox this process wrote reopens");
    assert_eq!(
        reopened.all(),
        after,
        "replay differs from what was written"
    );
    assert_eq!(after.len(), all.len() + 1);
});
