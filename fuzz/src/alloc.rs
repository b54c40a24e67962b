//! A global allocator that counts, so targets can assert how much a decoder
//! may allocate for an input of a given size.
//!
//! libFuzzer's `-malloc_limit_mb` only sees single allocations, and only under
//! a sanitizer that hooks malloc; `-rss_limit_mb` sees only pages touched. A
//! forged length prefix that reserves a gigabyte with `calloc` touches no
//! pages, and ten nested 1 MiB reservations pass any per-allocation limit.
//! Counting here catches both, with the bound stated next to the decoder.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;

#[global_allocator]
static COUNTING: Counting = Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Relaxed) + size;
    PEAK.fetch_max(live, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LARGEST.fetch_max(layout.size(), Relaxed);
            grew(layout.size());
        }
        p
    }

    // Forwarded rather than left to the default (alloc, then zero every
    // byte): a huge zeroed reservation must stay as cheap as it is in the
    // real program, where calloc maps pages lazily.
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            LARGEST.fetch_max(layout.size(), Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LARGEST.fetch_max(new_size, Relaxed);
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

/// What a closure allocated while it ran.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Most bytes live at once beyond what was live before the call.
    pub peak: usize,
    /// The largest single allocation (or reallocation's new size).
    pub largest: usize,
}

impl Measured {
    /// Panics (a finding) if the call allocated more than `bound` bytes at
    /// once or in one piece; `what` names the decoder in the report.
    pub fn assert_within(&self, bound: usize, what: &str) {
        assert!(
            self.peak <= bound && self.largest <= bound,
            "{what} allocated {self:?}, over its bound of {bound} bytes"
        );
    }
}

/// Runs `f` and reports what it allocated. Targets are single-threaded, so
/// the global counters see only `f`.
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, Measured) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    LARGEST.store(0, Relaxed);
    let r = f();
    let m = Measured {
        peak: PEAK.load(Relaxed).saturating_sub(base),
        largest: LARGEST.load(Relaxed),
    };
    (r, m)
}
