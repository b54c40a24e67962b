//! Loopback networking helpers: a fixed free port for a node that must come
//! back on the same address after a crash, and reproducible garbage bytes.

use std::net::TcpListener;

/// A TCP port on 127.0.0.1 that was free a moment ago: bound to port 0, read
/// and released. Another process could take it in between; on a test
/// machine that is rare enough, and the node then fails to start loudly.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

/// The listen multiaddr for `port` on loopback.
pub fn loopback(port: u16) -> String {
    format!("/ip4/127.0.0.1/tcp/{port}")
}

/// `len` pseudo-random bytes from `seed` (xorshift64*), the same every run.
pub fn garbage(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}
