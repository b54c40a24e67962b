//! Every codec frame a peer or the store hands this node: gossip, requests,
//! responses, items, certificates, events, receipts and register entries.
//! The first byte selects the type (see `src/codec.rs`, where adding one is
//! two lines); a frame that decodes must be exactly its value's encoding,
//! decoding must stay within a stated allocation bound, and the checks the
//! daemon runs next (ids, verification) must not panic and must agree with
//! each other.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cairn_fuzz::codec::run(data));
