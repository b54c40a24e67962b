//! Dead-link detection: a connection that stops answering is closed within
//! about 5 s, so redial and catch-up take over as soon as the network heals.
//!
//! Two mechanisms, because each misses a case the other sees:
//! - **TCP_USER_TIMEOUT** on every socket ([`tune`]): pings keep a few bytes
//!   in flight every second, and the kernel aborts the socket when data
//!   stays unacknowledged for [`TCP_USER_TIMEOUT`]. This is what catches a
//!   cut cable, and it also bounds a graceful close: libp2p closes a
//!   connection by flushing the muxer, which on a dead link would otherwise
//!   wait out TCP's retransmissions (about 15 minutes), so "closing" a
//!   connection did not close it.
//! - **Silence since the last pong** ([`Liveness`]): the kernel still
//!   acknowledges data for a process that is stopped (SIGSTOP) or wedged.
//!   libp2p-ping keeps its first failure silent and then waits out a 10 s
//!   stream negotiation, so its own verdict comes after about 15-19 s; this
//!   tracker closes a connection that has not answered a ping for
//!   [`SILENT_AFTER`], whatever ping's handler is waiting for.

use libp2p::swarm::ConnectionId;
use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often each connection is probed.
pub const PING_INTERVAL: Duration = Duration::from_secs(1);
/// How long one probe may take.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// A connection silent this long (no pong since it opened or since its last
/// pong) is closed. Two missed probes plus slack for a loaded machine; with
/// the 1 s check of the network task the close comes 4-5 s after the last
/// sign of life.
pub const SILENT_AFTER: Duration = Duration::from_secs(4);
/// How long sent data may stay unacknowledged before the kernel aborts the
/// socket.
pub const TCP_USER_TIMEOUT: Duration = Duration::from_secs(3);
/// TCP keepalive: first probe after this much idleness, then one per
/// interval (the user timeout above ends it).
const KEEPALIVE_IDLE: Duration = Duration::from_secs(1);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);

/// Sets the dead-link options on a connected TCP socket. A failure only
/// loses fast detection on that connection (ping still works), so it is
/// logged, not fatal.
pub fn tune(stream: &tokio::net::TcpStream) {
    let socket = socket2::SockRef::from(stream);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL);
    let result = socket
        .set_tcp_user_timeout(Some(TCP_USER_TIMEOUT))
        .and_then(|()| socket.set_tcp_keepalive(&keepalive));
    if let Err(e) = result {
        tracing::debug!("cannot set TCP_USER_TIMEOUT/keepalive on a connection: {e}");
    }
}

#[derive(Debug)]
struct Conn {
    peer: PeerId,
    last_alive: Instant,
    /// Set once the connection was asked to close: it is not asked (or
    /// logged) again while libp2p finishes closing it.
    closing: bool,
}

/// When each open connection last showed it was alive.
#[derive(Debug, Default)]
pub struct Liveness {
    conns: HashMap<ConnectionId, Conn>,
}

impl Liveness {
    /// A connection opened: being established counts as a sign of life.
    pub fn opened(&mut self, peer: PeerId, id: ConnectionId, now: Instant) {
        self.conns.insert(
            id,
            Conn {
                peer,
                last_alive: now,
                closing: false,
            },
        );
    }

    /// A ping on `id` was answered.
    pub fn alive(&mut self, id: ConnectionId, now: Instant) {
        if let Some(c) = self.conns.get_mut(&id) {
            c.last_alive = now;
        }
    }

    pub fn closed(&mut self, id: ConnectionId) {
        self.conns.remove(&id);
    }

    /// Marks `id` as being closed for a reason found elsewhere (a ping
    /// failure); returns whether it was not already (so the caller logs
    /// and closes once).
    pub fn start_closing(&mut self, id: ConnectionId) -> bool {
        match self.conns.get_mut(&id) {
            Some(c) if !c.closing => {
                c.closing = true;
                true
            }
            _ => false,
        }
    }

    /// Connections silent for longer than [`SILENT_AFTER`] at `now`, not yet
    /// being closed, with how long they have been silent; they are marked
    /// as closing.
    pub fn silent(&mut self, now: Instant) -> Vec<(PeerId, ConnectionId, Duration)> {
        let mut out = Vec::new();
        for (id, c) in &mut self.conns {
            let quiet = now.saturating_duration_since(c.last_alive);
            if !c.closing && quiet > SILENT_AFTER {
                c.closing = true;
                out.push((c.peer, *id, quiet));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_silent_past_the_limit_is_closed_once() {
        let mut l = Liveness::default();
        let (p, c) = (PeerId::random(), ConnectionId::new_unchecked(1));
        let t0 = Instant::now();
        l.opened(p, c, t0);
        assert!(l.silent(t0 + SILENT_AFTER).is_empty(), "at the limit: kept");
        let late = t0 + SILENT_AFTER + Duration::from_millis(1);
        let silent = l.silent(late);
        assert_eq!(silent.len(), 1);
        assert_eq!((silent[0].0, silent[0].1), (p, c));
        assert!(l.silent(late + SILENT_AFTER).is_empty(), "asked once");
        assert!(!l.start_closing(c), "already closing");
    }

    #[test]
    fn pongs_keep_a_connection_open() {
        let mut l = Liveness::default();
        let (p, c) = (PeerId::random(), ConnectionId::new_unchecked(2));
        let t0 = Instant::now();
        l.opened(p, c, t0);
        for s in 1..20 {
            let t = t0 + Duration::from_secs(s);
            l.alive(c, t);
            assert!(l.silent(t + SILENT_AFTER).is_empty());
        }
        l.closed(c);
        assert!(l.silent(t0 + Duration::from_secs(100)).is_empty());
        assert!(
            !l.start_closing(c),
            "a closed connection is not closed again"
        );
    }

    #[test]
    fn a_ping_failure_closes_once() {
        let mut l = Liveness::default();
        let (p, c) = (PeerId::random(), ConnectionId::new_unchecked(3));
        let t0 = Instant::now();
        l.opened(p, c, t0);
        assert!(l.start_closing(c));
        assert!(!l.start_closing(c));
        assert!(
            l.silent(t0 + Duration::from_secs(60)).is_empty(),
            "a connection already closing is not reported as silent"
        );
    }
}
