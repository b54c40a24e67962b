//! Admitted inbound connections bounded per source address (an IPv4
//! address or an IPv6 /64, see [`Source`]).
//!
//! Connections still in their handshake are bounded by the transport
//! (`pending`: a fixed number of slots shared fairly between sources), so
//! this bound is for connections that passed admission, and so belong to
//! members. It is loose, since several members may sit behind one NAT; it
//! only keeps one address from holding every connection the node accepts.

use super::pending::Source;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    dummy, ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::convert::Infallible;
use std::task::{Context, Poll};

/// Admitted inbound connections from one source.
pub const MAX_ESTABLISHED_PER_IP: usize = 64;

/// Counts per address, the part of the behaviour that decides.
#[derive(Debug, Default)]
pub struct IpCounts {
    limit: usize,
    by_connection: HashMap<ConnectionId, Source>,
    by_ip: HashMap<Source, usize>,
}

impl IpCounts {
    pub fn new(limit: usize) -> Self {
        IpCounts {
            limit,
            ..Default::default()
        }
    }

    /// Takes a slot for `connection` from `ip`, or says no.
    pub fn acquire(&mut self, connection: ConnectionId, ip: Source) -> bool {
        let n = self.by_ip.entry(ip).or_default();
        if *n >= self.limit {
            return false;
        }
        *n += 1;
        self.by_connection.insert(connection, ip);
        true
    }

    /// Gives back the slot of `connection`, if it held one.
    pub fn release(&mut self, connection: ConnectionId) {
        if let Some(ip) = self.by_connection.remove(&connection) {
            if let Some(n) = self.by_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    self.by_ip.remove(&ip);
                }
            }
        }
    }

    /// Connections counted now.
    pub fn len(&self) -> usize {
        self.by_connection.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_connection.is_empty()
    }
}

/// Refused because one address has too many connections.
#[derive(Debug, thiserror::Error)]
#[error("{ip:?} already has {limit} admitted connections to this node")]
pub struct TooManyFromAddress {
    ip: Source,
    limit: usize,
}

/// The behaviour.
pub struct Behaviour {
    established: IpCounts,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            established: IpCounts::new(MAX_ESTABLISHED_PER_IP),
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        connection: ConnectionId,
        _peer: PeerId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        if let Some(ip) = Source::of_multiaddr(remote) {
            if !self.established.acquire(connection, ip) {
                return Err(ConnectionDenied::new(TooManyFromAddress {
                    ip,
                    limit: MAX_ESTABLISHED_PER_IP,
                }));
            }
        }
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) = event {
            self.established.release(connection_id);
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_every_slot() {
        let mut c = IpCounts::new(2);
        let a = Source::of("10.0.0.1".parse().unwrap());
        let b = Source::of("10.0.0.2".parse().unwrap());
        let ids: Vec<ConnectionId> = (0..4)
            .map(|_| ConnectionId::new_unchecked(rand_id()))
            .collect();
        assert!(c.acquire(ids[0], a));
        assert!(c.acquire(ids[1], a));
        assert!(!c.acquire(ids[2], a), "a third from one address is refused");
        assert!(c.acquire(ids[3], b), "another address still gets in");
        c.release(ids[0]);
        assert!(c.acquire(ids[2], a), "a released slot is free again");
        c.release(ids[1]);
        c.release(ids[2]);
        c.release(ids[3]);
        c.release(ids[3]);
        assert!(c.is_empty() && c.by_ip.is_empty(), "nothing is left behind");
    }

    fn rand_id() -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    #[test]
    fn addresses_are_read_from_multiaddrs() {
        let m: Multiaddr = "/ip4/127.0.0.2/tcp/4001".parse().unwrap();
        let ip: std::net::IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(Source::of_multiaddr(&m), Some(Source::of(ip)));
        let m: Multiaddr = "/ip6/::1/tcp/4001".parse().unwrap();
        let ip: std::net::IpAddr = "::1".parse().unwrap();
        assert_eq!(Source::of_multiaddr(&m), Some(Source::of(ip)));
    }
}
