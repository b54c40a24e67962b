//! The control socket's JSON lines: requests as cairnd reads them
//! (`daemon/src/control.rs`, first byte 0) and responses as the CLI reads
//! them (`cli/src/client.rs`, first byte 1). Whatever parses must serialise
//! to one line (a raw newline would split the stream) that parses back to
//! the same value, and parsing must stay within an allocation bound.

#![no_main]

use cairn_fuzz::measure;
use cairn_protocol::control::{ControlRequest, ControlResponse, MAX_REQUEST_LINE};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&side, rest)) = data.split_first() else {
        return;
    };
    match side {
        0 => request(rest),
        1 => response(rest),
        _ => {}
    }
});

/// What parsing one line may allocate: serde_json never preallocates from
/// the input, so values are at most a few times the line.
fn bound(len: usize) -> usize {
    64 * 1024 + 16 * len
}

fn request(bytes: &[u8]) {
    // cairnd reads up to and including the first newline, and refuses a
    // line longer than the limit before parsing.
    let line = match bytes.iter().position(|&b| b == b'\n') {
        Some(end) => &bytes[..=end],
        None => bytes,
    };
    if line.len() > MAX_REQUEST_LINE {
        return;
    }
    let (parsed, used) = measure(|| serde_json::from_slice::<ControlRequest>(line));
    used.assert_within(bound(line.len()), "ControlRequest");
    if let Ok(request) = parsed {
        one_line_round_trip(&request);
    }
}

fn response(bytes: &[u8]) {
    // The CLI reads a line as UTF-8 and trims its end before parsing.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let line = match text.find('\n') {
        Some(end) => &text[..=end],
        None => text,
    };
    let (parsed, used) = measure(|| serde_json::from_str::<ControlResponse>(line.trim_end()));
    used.assert_within(bound(line.len()), "ControlResponse");
    if let Ok(response) = parsed {
        one_line_round_trip(&response);
    }
}

fn one_line_round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let line = serde_json::to_vec(value).expect("control messages serialise");
    assert!(
        !line.contains(&b'\n'),
        "a serialised control message spans lines"
    );
    let back: T = serde_json::from_slice(&line).expect("a serialised message parses");
    assert_eq!(&back, value);
    assert_eq!(serde_json::to_vec(&back).expect("serialises"), line);
}
