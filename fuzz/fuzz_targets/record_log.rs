//! The record log under the outbox and the register, read from a file of
//! arbitrary bytes (what a crash, a bad disk or another program may leave).
//!
//! Opening returns exactly the leading frames whose checksums hold (never a
//! damaged one), cuts off the rest only if no valid frame starts anywhere in
//! it (a torn tail), and otherwise refuses and leaves the file untouched.
//! After a successful open, an append lands right behind the valid records:
//! reopening reads them all, plus the new one.

#![no_main]

use cairn_fuzz::{frame_at, measure, scratch, valid_frames};
use cairn_store::log::RecordLog;
use cairn_store::StoreError;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let path = scratch::dir().join("records.log");
    std::fs::write(&path, data).expect("scratch is writable");
    let (expected, valid_len) = valid_frames(data);

    let (opened, used) = measure(|| RecordLog::open(&path));
    // The file is read whole, and each record copied out once.
    used.assert_within(64 * 1024 + 3 * data.len(), "RecordLog::open");
    let after = std::fs::read(&path).expect("scratch is readable");
    match opened {
        Ok((mut log, records)) => {
            assert_eq!(records, expected, "records other than the valid frames");
            assert_eq!(after, data[..valid_len], "cut anything but the torn tail");
            for pos in valid_len + 1..data.len() {
                assert!(
                    frame_at(data, pos).is_none(),
                    "cut off a valid record at byte {pos} as part of a torn tail"
                );
            }
            log.append(b"appended after open").expect("appendable");
            drop(log);
            let (_, again) = RecordLog::open(&path).expect("reopens");
            let mut want: Vec<&[u8]> = expected;
            want.push(b"appended after open");
            assert_eq!(again, want, "the append did not follow the valid records");
        }
        Err(StoreError::LogCorrupt { offset, .. }) => {
            assert_eq!(after, data, "a log reported as damaged was changed");
            assert_eq!(
                offset, valid_len as u64,
                "damage reported at the wrong byte"
            );
            assert!(
                (valid_len + 1..data.len()).any(|pos| frame_at(data, pos).is_some()),
                "refused a log whose damage is only a torn tail"
            );
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
});
