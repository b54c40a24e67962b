//! Which addresses a node announces in its directory record, and which
//! addresses of a member's record it dials: plain functions over
//! multiaddrs (`network::directory` applies them).
//!
//! - announced: the `[directory] announce` addresses if the operator set
//!   them (NAT, a public name), else its listen addresses without
//!   unspecified IPs or port 0;
//! - dialled: TCP over an IP or DNS name, nothing else; loopback only when
//!   this node listens on loopback itself (one host), never an unspecified
//!   or multicast address.

use cairn_protocol::directory::MAX_ADDRESSES;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// The multiaddrs this node announces: `announce` when set, else `listen`
/// minus what no other host could dial (unspecified IPs, port 0); without
/// `/p2p/` and duplicates, at most [`MAX_ADDRESSES`].
pub fn announced_addresses(listen: &[Multiaddr], announce: Option<&[Multiaddr]>) -> Vec<String> {
    let source = announce.unwrap_or(listen);
    let mut out: Vec<String> = Vec::new();
    for a in source {
        let stripped: Multiaddr = a
            .iter()
            .filter(|p| !matches!(p, Protocol::P2p(_)))
            .collect();
        if announce.is_none() && !is_dialable(&stripped, true) {
            continue;
        }
        let text = stripped.to_string();
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out.truncate(MAX_ADDRESSES);
    out
}

/// The addresses of a record this node may dial: parsed, of the shape
/// [`is_dialable`] accepts; loopback ones only if `local_loopback` (this
/// node listens on loopback, so the member may be on the same host).
pub fn dialable(addresses: &[String], local_loopback: bool) -> Vec<Multiaddr> {
    addresses
        .iter()
        .filter_map(|a| a.parse::<Multiaddr>().ok())
        .filter(|a| is_dialable(a, local_loopback))
        .collect()
}

/// `/ip4|ip6|dns|dns4|dns6/HOST/tcp/PORT` and nothing more, port not 0,
/// IP not unspecified, not multicast, loopback only if allowed.
fn is_dialable(a: &Multiaddr, loopback_ok: bool) -> bool {
    let parts: Vec<Protocol> = a.iter().collect();
    let [host, Protocol::Tcp(port)] = parts.as_slice() else {
        return false;
    };
    if *port == 0 {
        return false;
    }
    match host {
        Protocol::Ip4(ip) => {
            !ip.is_unspecified()
                && !ip.is_multicast()
                && !ip.is_broadcast()
                && (loopback_ok || !ip.is_loopback())
        }
        Protocol::Ip6(ip) => {
            !ip.is_unspecified() && !ip.is_multicast() && (loopback_ok || !ip.is_loopback())
        }
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => {
            loopback_ok || h.as_ref() != "localhost"
        }
        _ => false,
    }
}

/// Whether any of `listen` is a loopback address.
pub fn listens_on_loopback(listen: &[Multiaddr]) -> bool {
    listen.iter().any(|a| {
        a.iter().any(|p| match p {
            Protocol::Ip4(ip) => ip.is_loopback(),
            Protocol::Ip6(ip) => ip.is_loopback(),
            _ => false,
        })
    })
}
