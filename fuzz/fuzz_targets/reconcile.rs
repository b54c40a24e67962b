#![no_main]
//! Negentropy reconciliation messages from peers, handled the way
//! `daemon/src/sync/reconcile.rs` handles them, over an in-memory item set.
//!
//! The daemon's functions are not called directly: linking cairn-daemon
//! would build libp2p with coverage instrumentation, several minutes of CI
//! for three calls. The calls and limits below mirror that file; keep them
//! in step.
//!
//! First byte 0: a message to the responder (stateless, as for any peer).
//! First byte 1: an answer to our opening message, as an initiator reads it.
//! First byte 2 or 3: a whole session against a second set derived from the
//! input, with the daemon's frame limit or the smallest negentropy allows
//! (which forces messages to be cut and resumed); it must find exactly the
//! difference in both directions within the daemon's round limit.

use cairn_fuzz::measure;
use cairn_fuzz::reconcile::{
    ours, storage, theirs, Entry, Ours, FRAME_LIMIT, MAX_ROUNDS, SMALLEST_LIMIT,
};
use cairn_protocol::codec;
use cairn_protocol::wire::Response;
use negentropy::Negentropy;
use std::collections::BTreeSet;

/// What handling one message may allocate: its output is capped by the
/// frame limit, and what it parses is at most the message.
fn bound(message: usize) -> usize {
    4 * FRAME_LIMIT as usize + 64 * message
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => respond(rest),
        1 => initiator_reads(rest),
        2 => session(rest, FRAME_LIMIT),
        3 => session(rest, SMALLEST_LIMIT),
        _ => {}
    }
});

fn respond(message: &[u8]) {
    let set = &ours().storage;
    let (answer, used) = measure(|| {
        let mut neg = Negentropy::borrowed(set, FRAME_LIMIT).expect("a valid limit");
        neg.reconcile(message)
    });
    used.assert_within(bound(message.len()), "reconcile::respond");
    if let Ok(answer) = answer {
        assert!(answer.len() as u64 <= FRAME_LIMIT, "answer over the limit");
        // The daemon sends it as a wire response: it must fit a frame.
        codec::encode(&Response::Reconcile { message: answer })
            .expect("a reconciliation answer fits a frame");
    }
}

fn initiator_reads(answer: &[u8]) {
    let Ours {
        entries, storage, ..
    } = ours();
    let mut neg = Negentropy::borrowed(storage, FRAME_LIMIT).expect("a valid limit");
    neg.initiate().expect("a first message");
    let mut have = Vec::new();
    let mut need = Vec::new();
    let (next, used) = measure(|| neg.reconcile_with_ids(answer, &mut have, &mut need));
    used.assert_within(bound(answer.len()), "Initiator::step");
    if let Ok(Some(next)) = next {
        assert!(
            next.len() as u64 <= FRAME_LIMIT,
            "next message over the limit"
        );
    }
    // What we "have and the peer lacks" is always our own.
    let our_ids: BTreeSet<[u8; 32]> = entries.iter().map(|(_, id)| *id).collect();
    for id in &have {
        assert!(our_ids.contains(&**id), "reported as ours but not held");
    }
}

fn session(input: &[u8], limit: u64) {
    let Ours {
        entries: our_entries,
        storage: our_set,
        ..
    } = ours();
    let their_entries = theirs(input);
    let their_set = storage(&their_entries);
    let ids = |s: &BTreeSet<Entry>| s.iter().map(|(_, id)| *id).collect::<BTreeSet<_>>();
    let (our_ids, their_ids) = (ids(our_entries), ids(&their_entries));

    let mut init = Negentropy::borrowed(our_set, limit).expect("a valid limit");
    let mut message = init.initiate().expect("a first message");
    let (mut have, mut need) = (Vec::new(), Vec::new());
    let mut rounds = 0;
    loop {
        assert!(
            message.len() as u64 <= limit,
            "initiator message over the limit"
        );
        let mut responder = Negentropy::borrowed(&their_set, limit).expect("a valid limit");
        let answer = responder
            .reconcile(&message)
            .expect("a well-formed message");
        assert!(answer.len() as u64 <= limit, "answer over the limit");
        rounds += 1;
        assert!(
            rounds <= MAX_ROUNDS,
            "no convergence in {MAX_ROUNDS} rounds"
        );
        match init
            .reconcile_with_ids(&answer, &mut have, &mut need)
            .expect("a well-formed answer")
        {
            Some(next) => message = next,
            None => break,
        }
    }
    let need: Vec<[u8; 32]> = need.iter().map(|id| **id).collect();
    let have: Vec<[u8; 32]> = have.iter().map(|id| **id).collect();
    let expected_need: Vec<[u8; 32]> = their_ids.difference(&our_ids).copied().collect();
    let expected_have: Vec<[u8; 32]> = our_ids.difference(&their_ids).copied().collect();
    let sorted = |mut v: Vec<[u8; 32]>| {
        v.sort_unstable();
        v
    };
    assert_eq!(sorted(need), expected_need, "wrong ids needed");
    assert_eq!(sorted(have), expected_have, "wrong ids offered");
}
