//! The bootstrap peers of the config and how dialling them goes: the last
//! success and the last failure of each, for `cairn status`, and failures
//! logged at WARN, at most once per peer every [`REPORT_EVERY`] (the node
//! redials every second, and an unreachable peer would fill the log).

use crate::log_limit::{held_back, LogLimiter};
use cairn_protocol::control::BootstrapView;
use cairn_protocol::Timestamp;
use libp2p::{Multiaddr, PeerId};
use std::time::{Duration, Instant};

/// How often the same bootstrap peer's dial failures are logged.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// Longest error kept per address (libp2p's can be long: one per address tried).
const MAX_ERROR: usize = 300;

struct Entry {
    peer: PeerId,
    addr: Multiaddr,
    last_success: Option<Timestamp>,
    last_error: Option<(Timestamp, String)>,
}

/// Dial outcomes per bootstrap address (bounded by the config's list).
pub struct Bootstrap {
    entries: Vec<Entry>,
    log: LogLimiter,
}

impl Bootstrap {
    pub fn new(list: &[(PeerId, Multiaddr)]) -> Self {
        Bootstrap {
            entries: list
                .iter()
                .map(|(peer, addr)| Entry {
                    peer: *peer,
                    addr: addr.clone(),
                    last_success: None,
                    last_error: None,
                })
                .collect(),
            log: LogLimiter::new(REPORT_EVERY),
        }
    }

    /// The configured peers and addresses.
    pub fn list(&self) -> impl Iterator<Item = (PeerId, &Multiaddr)> {
        self.entries.iter().map(|e| (e.peer, &e.addr))
    }

    /// A dial to `peer` failed with `error`. Returns the line to log at
    /// WARN, if it is a bootstrap peer and the log limit allows one now.
    pub fn dial_failed(&mut self, peer: &PeerId, error: &str, now: Instant) -> Option<String> {
        let at = Timestamp::now();
        let error = one_line(error);
        let mut addrs = Vec::new();
        for e in self.entries.iter_mut().filter(|e| e.peer == *peer) {
            e.last_error = Some((at, error.clone()));
            addrs.push(e.addr.to_string());
        }
        if addrs.is_empty() {
            return None;
        }
        let held = self.log.allow(&peer.to_string(), now)?;
        Some(format!(
            "cannot reach bootstrap peer {peer} at {}: {error}{}",
            addrs.join(", "),
            held_back(held)
        ))
    }

    /// This node dialled `peer` and the connection was admitted.
    pub fn dialled(&mut self, peer: &PeerId) {
        let at = Timestamp::now();
        for e in self.entries.iter_mut().filter(|e| e.peer == *peer) {
            e.last_success = Some(at);
        }
    }

    /// The view for `cairn status`; `connected` says whether a peer is.
    pub fn view(&self, connected: impl Fn(&PeerId) -> bool) -> Vec<BootstrapView> {
        self.entries
            .iter()
            .map(|e| BootstrapView {
                address: format!("{}/p2p/{}", e.addr, e.peer),
                connected: connected(&e.peer),
                last_success: e.last_success,
                last_error_at: e.last_error.as_ref().map(|(t, _)| *t),
                last_error: e.last_error.as_ref().map(|(_, m)| m.clone()),
            })
            .collect()
    }
}

/// `s` on one line, cut to [`MAX_ERROR`] characters.
fn one_line(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX_ERROR {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_ERROR - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_and_successes_are_kept_per_address_and_logged_sparingly() {
        let a = PeerId::random();
        let stranger = PeerId::random();
        let addr: Multiaddr = "/ip4/192.0.2.1/tcp/7400".parse().unwrap();
        let mut b = Bootstrap::new(&[(a, addr.clone())]);
        let t0 = Instant::now();
        let line = b.dial_failed(&a, "Connection refused\n (os error 111)", t0);
        let line = line.expect("the first failure is logged");
        assert!(
            line.contains(&a.to_string()) && line.contains("192.0.2.1"),
            "{line}"
        );
        assert!(
            line.ends_with("Connection refused (os error 111)"),
            "{line}"
        );
        // Redials every second: quiet until the interval has passed.
        for s in 1..10 {
            assert_eq!(
                b.dial_failed(&a, "refused", t0 + Duration::from_secs(s)),
                None
            );
        }
        let again = b.dial_failed(&a, "refused", t0 + REPORT_EVERY).unwrap();
        assert!(again.contains("9 more like this"), "{again}");
        assert_eq!(
            b.dial_failed(&stranger, "refused", t0),
            None,
            "not a bootstrap peer"
        );

        let v = b.view(|_| false);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].address, format!("{addr}/p2p/{a}"));
        assert_eq!(v[0].last_error.as_deref(), Some("refused"));
        assert!(v[0].last_error_at.is_some() && v[0].last_success.is_none());
        b.dialled(&a);
        let v = b.view(|p| *p == a);
        assert!(v[0].connected && v[0].last_success.is_some());
        assert_eq!(
            v[0].last_error.as_deref(),
            Some("refused"),
            "kept: when it last failed"
        );
    }

    #[test]
    fn long_errors_are_cut() {
        assert_eq!(one_line(&"x".repeat(1000)).chars().count(), MAX_ERROR);
    }
}
