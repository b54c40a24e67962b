//! The item sets the `reconcile` target reconciles over, shared with the
//! seed generator so that seeds are messages about these very sets.

use cairn_protocol::hash::sha256;
use negentropy::{Id, NegentropyStorageVector};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// negentropy refuses a smaller frame limit; messages over our sets then
/// have to be cut and resumed, which the daemon's limit never forces here.
pub const SMALLEST_LIMIT: u64 = 4096;
/// Items in our side's set: enough for two levels of 16 buckets.
pub const OURS: u32 = 1_000;

/// (creation millis, item id), as the daemon's sync index holds them.
pub type Entry = (u64, [u8; 32]);

/// Our item number `n`; three items share each millisecond, as a burst does.
pub fn our_entry(n: u32) -> Entry {
    (1_000 + u64::from(n / 3), sha256(&[&n.to_le_bytes()]))
}

/// A sealed negentropy storage over `entries`, built as the daemon builds
/// its snapshots.
pub fn storage(entries: &BTreeSet<Entry>) -> NegentropyStorageVector {
    let mut s = NegentropyStorageVector::with_capacity(entries.len());
    for (t, id) in entries {
        s.insert(*t, Id::from_byte_array(*id))
            .expect("an unsealed storage accepts inserts");
    }
    s.seal().expect("a fresh storage seals once");
    s
}

/// Our side: its items by number, as a set, and as negentropy storage.
pub struct Ours {
    pub by_number: Vec<Entry>,
    pub entries: BTreeSet<Entry>,
    pub storage: NegentropyStorageVector,
}

/// Our side, built once per process.
pub fn ours() -> &'static Ours {
    static OURS_SET: OnceLock<Ours> = OnceLock::new();
    OURS_SET.get_or_init(|| {
        let by_number: Vec<Entry> = (0..OURS).map(our_entry).collect();
        let entries: BTreeSet<Entry> = by_number.iter().copied().collect();
        let storage = storage(&entries);
        Ours {
            by_number,
            entries,
            storage,
        }
    })
}

/// Bytes of a session input that say which of our items the peer lacks.
pub const MASK_BYTES: usize = (OURS as usize).div_ceil(8);

/// The peer's set for a session input: each of our items is dropped if its
/// bit in the first [`MASK_BYTES`] bytes is set, and every 9 further bytes
/// add one item (a time byte and eight bytes hashed into an id).
pub fn theirs(input: &[u8]) -> BTreeSet<Entry> {
    let (mask, extra) = input.split_at(MASK_BYTES.min(input.len()));
    let mut set: BTreeSet<Entry> = ours()
        .by_number
        .iter()
        .enumerate()
        .filter(|&(n, _)| {
            let byte = mask.get(n / 8).copied().unwrap_or(0);
            byte & (1 << (n % 8)) == 0
        })
        .map(|(_, e)| *e)
        .collect();
    for chunk in extra.chunks_exact(9) {
        set.insert((1_000 + u64::from(chunk[0]) * 2, sha256(&[b"theirs", chunk])));
    }
    set
}
