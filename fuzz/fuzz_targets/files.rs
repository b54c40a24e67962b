//! The files an operator hands a node, read as cairnd and the CLI read
//! them: a community (first byte 0), a certificate (1) or a secret key (2).
//!
//! A file that is accepted is a value the node can use: written back and
//! read again it is the same value, a certificate has an encoding (its id
//! and signature are computed over it), and a key file held exactly 64 hex
//! digits of seed.

#![no_main]

use cairn_fuzz::{measure, scratch};
use cairn_protocol::codec;
use cairn_store::files::{
    read_certificate, read_community, read_secret_key, write_certificate, write_community,
    write_secret_key,
};
use std::os::unix::fs::PermissionsExt;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&kind, contents)) = data.split_first() else {
        return;
    };
    let dir = scratch::dir();
    let path = dir.join("input");
    std::fs::write(&path, contents).expect("scratch is writable");
    // serde_json never preallocates from the input.
    let bound = 64 * 1024 + 16 * contents.len();
    let back = dir.join("written");
    match kind {
        0 => {
            let (read, used) = measure(|| read_community(&path));
            used.assert_within(bound, "read_community");
            let Ok(community) = read else { return };
            write_community(&back, &community).expect("writes");
            assert_eq!(read_community(&back).expect("reads back"), community);
        }
        1 => {
            let (read, used) = measure(|| read_certificate(&path));
            used.assert_within(bound, "read_certificate");
            let Ok(certificate) = read else { return };
            assert!(
                codec::encode(&certificate).is_ok(),
                "accepted a certificate that has no encoding, so no id"
            );
            let _ = certificate.id();
            write_certificate(&back, &certificate).expect("writes");
            assert_eq!(read_certificate(&back).expect("reads back"), certificate);
        }
        2 => {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            let Ok(key) = read_secret_key(&path) else {
                return;
            };
            let text = String::from_utf8_lossy(contents);
            let digits = text.trim();
            assert!(
                digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()),
                "accepted a key file that is not 64 hex digits"
            );
            assert_eq!(*key.to_seed(), decode_hex(digits), "the wrong seed");
            write_secret_key(&back, &key).expect("writes");
            assert_eq!(
                read_secret_key(&back).expect("reads back").public(),
                key.public()
            );
        }
        _ => {}
    }
});

fn decode_hex(digits: &str) -> [u8; 32] {
    let mut seed = [0; 32];
    for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).expect("ascii");
        seed[i] = u8::from_str_radix(pair, 16).expect("hex");
    }
    seed
}
