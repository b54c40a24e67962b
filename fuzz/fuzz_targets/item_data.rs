//! The item data file read at a location the sled index gives, where both
//! the file and the index entry may be damaged: the input is the location
//! (offset as u64 LE, length as u32 LE) and then the file.
//!
//! A read returns a payload only if a frame of exactly that length, with a
//! checksum that holds, sits at that offset; anything else is reported as
//! damage (never as an I/O error, which would stop the store from opening
//! instead of dropping the entry), and a damaged length never makes it
//! allocate more than the largest record. The same for the walk a
//! rebuild makes without an index ([`DataReader::frame`]).

#![no_main]

use cairn_fuzz::{crc32, measure, scratch};
use cairn_store::item_data::{ItemData, Location, ReadError};
use cairn_store::log::MAX_RECORD;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, file) = data.split_at(12);
    let at = Location {
        offset: u64::from_le_bytes(head[..8].try_into().expect("8 bytes")),
        len: u32::from_le_bytes(head[8..].try_into().expect("4 bytes")),
    };
    // The store compares a location's end with the synced length when it
    // recovers from a crash, for every entry the index holds.
    assert!(at.end() >= at.offset, "a location ends before it starts");
    let path = scratch::dir().join("items.data");
    std::fs::write(&path, file).expect("scratch is writable");
    let (_data, reader) = ItemData::open(&path).expect("opens");

    let (read, used) = measure(|| reader.read(at));
    used.assert_within(2 * (8 + MAX_RECORD) + 16 * 1024, "DataReader::read");
    match read {
        Ok(payload) => {
            assert_eq!(payload.len(), at.len as usize);
            let start = usize::try_from(at.offset).expect("inside the file");
            assert!(at.end() <= file.len() as u64, "read past the end");
            let header = &file[start..start + 8];
            assert_eq!(header[..4], at.len.to_le_bytes());
            assert_eq!(header[4..], crc32(&payload).to_le_bytes());
            assert_eq!(file[start + 8..start + 8 + payload.len()], payload[..]);
        }
        Err(ReadError::Damaged(_)) => {}
        Err(ReadError::Io(e)) => panic!("damage reported as an I/O error: {e}"),
    }
    // The rebuild's walk: a frame found at any offset is one that holds.
    let (found, used) = measure(|| reader.frame(at.offset, file.len() as u64));
    used.assert_within(2 * (8 + MAX_RECORD) + 16 * 1024, "DataReader::frame");
    if let Some(payload) = found {
        let start = usize::try_from(at.offset).expect("inside the file");
        let header = &file[start..start + 8];
        assert_eq!(header[..4], (payload.len() as u32).to_le_bytes());
        assert_eq!(header[4..], crc32(&payload).to_le_bytes());
    }
});
