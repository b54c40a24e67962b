//! Handshake slots for inbound connections, shared fairly between source
//! addresses.
//!
//! Every inbound connection holds a slot from the moment it is accepted
//! until its handshake (multistream-select, noise, admission) ends, at most
//! `transport::INBOUND_HANDSHAKE`. Slots bound the memory strangers can
//! make the node spend: [`CAPACITY`] at once, [`PER_SOURCE`] per source.
//!
//! A fixed first-come bound is not enough: strangers from a few dozen
//! addresses can keep every slot taken, reconnecting the moment one frees,
//! and a new member's dial, arriving at a random moment, then always finds
//! the node full (the issue measured 1 admission in 10 under 200 slow-byte
//! sockets). So when the slots are full, a connection from a source holding
//! fewer slots than the busiest source takes the oldest slot of that source,
//! whose handshake is aborted. Sources thus converge to equal shares, and a
//! connection from a source with nothing pending always gets a slot unless
//! [`CAPACITY`] sources each hold exactly one. The oldest is the one
//! evicted because an honest handshake takes milliseconds: a connection
//! that has waited longest is the likeliest to be stalling.
//!
//! A source is an IPv4 address or an IPv6 /64 (one host usually holds a
//! whole /64, so its addresses are no more independent than ports).

use futures::future::BoxFuture;
use futures::FutureExt;
use libp2p::core::transport::{DialOpts, ListenerId, Transport, TransportError, TransportEvent};
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// Inbound connections in their handshake at once: enough for a large
/// community joining at once (a handshake takes milliseconds), bounded so
/// strangers cannot exhaust the node's memory.
pub const CAPACITY: usize = 128;
/// Of those, from one source at once (several members may share an
/// address behind NAT; their handshakes are short).
pub const PER_SOURCE: usize = 8;

/// Where connections come from, for fairness: an IPv4 address, or an IPv6
/// address's /64 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(_) => Source(ip),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Source(IpAddr::V6(prefix.into()))
                }
            },
        }
    }

    /// The source of a remote multiaddr, if it names an IP address.
    pub fn of_multiaddr(addr: &Multiaddr) -> Option<Self> {
        addr.iter().find_map(|p| match p {
            Protocol::Ip4(ip) => Some(Source::of(IpAddr::V4(ip))),
            Protocol::Ip6(ip) => Some(Source::of(IpAddr::V6(ip))),
            _ => None,
        })
    }
}

/// What the slots decided for a new connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// It holds slot `id`; `evicted` lost its slot to make room.
    Admitted { id: u64, evicted: Option<u64> },
    /// No slot for it: its source holds its share already.
    Refused,
}

/// The slots as plain data: who holds which, oldest first per source.
#[derive(Debug)]
pub struct Slots {
    capacity: usize,
    per_source: usize,
    next_id: u64,
    held: usize,
    by_source: HashMap<Source, VecDeque<u64>>,
}

impl Slots {
    pub fn new(capacity: usize, per_source: usize) -> Self {
        Slots {
            capacity,
            per_source,
            next_id: 0,
            held: 0,
            by_source: HashMap::new(),
        }
    }

    fn count(&self, source: &Source) -> usize {
        self.by_source.get(source).map_or(0, VecDeque::len)
    }

    /// A slot for a new connection from `source`, evicting the busiest
    /// source's oldest connection if the slots are full and that source
    /// holds at least two more than `source` would.
    pub fn acquire(&mut self, source: Source) -> Decision {
        let mine = self.count(&source);
        if mine >= self.per_source {
            return Decision::Refused;
        }
        let mut evicted = None;
        if self.held >= self.capacity {
            let busiest = self
                .by_source
                .iter()
                .max_by_key(|(_, held)| held.len())
                .map(|(s, held)| (*s, held.len()));
            match busiest {
                Some((busiest, n)) if n > mine + 1 => {
                    evicted = self.take_oldest(&busiest);
                }
                _ => return Decision::Refused,
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.by_source.entry(source).or_default().push_back(id);
        self.held += 1;
        Decision::Admitted { id, evicted }
    }

    fn take_oldest(&mut self, source: &Source) -> Option<u64> {
        let held = self.by_source.get_mut(source)?;
        let id = held.pop_front()?;
        if held.is_empty() {
            self.by_source.remove(source);
        }
        self.held -= 1;
        Some(id)
    }

    /// Gives back slot `id` of `source`, if it still holds it.
    pub fn release(&mut self, source: &Source, id: u64) {
        if let Some(held) = self.by_source.get_mut(source) {
            if let Some(i) = held.iter().position(|h| *h == id) {
                held.remove(i);
                self.held -= 1;
                if held.is_empty() {
                    self.by_source.remove(source);
                }
            }
        }
    }

    /// Slots held now.
    pub fn held(&self) -> usize {
        self.held
    }
}

/// The slots shared between the transport and the handshakes it runs,
/// with a way to abort a handshake whose slot was taken.
struct Shared {
    slots: Slots,
    /// Dropping a sender aborts that handshake.
    aborts: HashMap<u64, futures::channel::oneshot::Sender<()>>,
}

/// Wraps a transport so every inbound upgrade holds a slot.
pub struct FairInbound<T> {
    inner: T,
    shared: Arc<Mutex<Shared>>,
}

type Upgrade<O> = BoxFuture<'static, io::Result<O>>;

impl<T> FairInbound<T> {
    pub fn new(inner: T, capacity: usize, per_source: usize) -> Self {
        let shared = Shared {
            slots: Slots::new(capacity, per_source),
            aborts: HashMap::new(),
        };
        FairInbound {
            inner,
            shared: Arc::new(Mutex::new(shared)),
        }
    }

    /// `upgrade` holding a slot, or failing at once without one.
    fn hold<O: Send + 'static>(
        &self,
        remote: &Multiaddr,
        upgrade: impl std::future::Future<Output = io::Result<O>> + Send + 'static,
    ) -> Upgrade<O> {
        let Some(source) = Source::of_multiaddr(remote) else {
            return upgrade.boxed();
        };
        let mut shared = self.shared.lock().expect("slots lock poisoned");
        let Decision::Admitted { id, evicted } = shared.slots.acquire(source) else {
            return async {
                Err(io::Error::other(
                    "too many handshakes from this address at once",
                ))
            }
            .boxed();
        };
        if let Some(evicted) = evicted {
            // Its handshake future sees the sender gone and ends.
            shared.aborts.remove(&evicted);
        }
        let (abort, aborted) = futures::channel::oneshot::channel();
        shared.aborts.insert(id, abort);
        drop(shared);
        let guard = SlotGuard {
            shared: self.shared.clone(),
            source,
            id,
        };
        async move {
            let _guard = guard;
            futures::select! {
                result = upgrade.fuse() => result,
                _ = aborted.fuse() => Err(io::Error::other(
                    "handshake aborted: its slot went to a connection from a less busy address",
                )),
            }
        }
        .boxed()
    }
}

/// Gives the slot back however the handshake ends (done, failed, timed
/// out, aborted, or dropped by the Swarm).
struct SlotGuard {
    shared: Arc<Mutex<Shared>>,
    source: Source,
    id: u64,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.aborts.remove(&self.id);
            shared.slots.release(&self.source, self.id);
        }
    }
}

impl<T, O> Transport for FairInbound<T>
where
    T: Transport<Output = O, Error = io::Error, ListenerUpgrade = Upgrade<O>> + Unpin,
    O: Send + 'static,
{
    type Output = O;
    type Error = io::Error;
    type ListenerUpgrade = Upgrade<O>;
    type Dial = T::Dial;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.inner.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.inner.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        self.inner.dial(addr, opts)
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(TransportEvent::Incoming {
                listener_id,
                upgrade,
                local_addr,
                send_back_addr,
            }) => {
                let upgrade = self.hold(&send_back_addr, upgrade);
                Poll::Ready(TransportEvent::Incoming {
                    listener_id,
                    upgrade,
                    local_addr,
                    send_back_addr,
                })
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(s: &str) -> Source {
        Source::of(s.parse().unwrap())
    }

    fn admitted(d: Decision) -> (u64, Option<u64>) {
        match d {
            Decision::Admitted { id, evicted } => (id, evicted),
            Decision::Refused => panic!("refused"),
        }
    }

    #[test]
    fn one_source_is_bounded_and_released_slots_are_free_again() {
        let mut s = Slots::new(10, 2);
        let a = src("10.0.0.1");
        let (x, _) = admitted(s.acquire(a));
        admitted(s.acquire(a));
        assert_eq!(s.acquire(a), Decision::Refused);
        s.release(&a, x);
        s.release(&a, x);
        admitted(s.acquire(a));
        assert_eq!(s.held(), 2);
    }

    #[test]
    fn a_new_source_takes_the_oldest_slot_of_the_busiest_when_full() {
        let mut s = Slots::new(4, 4);
        let flood = src("10.0.0.1");
        let ids: Vec<u64> = (0..4).map(|_| admitted(s.acquire(flood)).0).collect();
        let member = src("10.0.0.2");
        let (_, evicted) = admitted(s.acquire(member));
        assert_eq!(evicted, Some(ids[0]), "the oldest of the busiest");
        assert_eq!(s.held(), 4);
        // The flood cannot take it back: it holds 3, the member 1.
        assert_eq!(s.acquire(flood), Decision::Refused);
        // A second fresh source still gets in, at the flood's expense.
        assert_eq!(admitted(s.acquire(src("10.0.0.3"))).1, Some(ids[1]));
    }

    #[test]
    fn shares_converge_and_a_fresh_source_always_gets_in() {
        // 32 flooding sources want far more than the 128 slots.
        let mut s = Slots::new(128, 8);
        let flood: Vec<Source> = (10..42).map(|h| src(&format!("10.0.0.{h}"))).collect();
        for _ in 0..20 {
            for f in &flood {
                let _ = s.acquire(*f);
            }
        }
        assert_eq!(s.held(), 128);
        let busiest = s.by_source.values().map(VecDeque::len).max().unwrap();
        assert!(busiest <= 8);
        assert!(matches!(
            s.acquire(src("10.0.0.2")),
            Decision::Admitted {
                evicted: Some(_),
                ..
            }
        ));
        // Sources that already hold as much as everyone else are refused.
        assert_eq!(s.acquire(flood[0]), Decision::Refused);
    }

    #[test]
    fn ipv6_sources_are_slash_64s_and_mapped_ipv4_is_ipv4() {
        assert_eq!(src("2001:db8:1:2::1"), src("2001:db8:1:2:ffff::9"));
        assert_ne!(src("2001:db8:1:2::1"), src("2001:db8:1:3::1"));
        assert_eq!(src("::ffff:10.0.0.1"), src("10.0.0.1"));
    }
}
