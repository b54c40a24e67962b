//! One member key, two nodes: which node instance is behind each
//! connection, so a key that is in use by two running nodes at once (a
//! copied key file, a restored backup left running, a stolen key) is seen
//! and reported instead of admitted silently.
//!
//! Two connections to one PeerId are normal on their own: when two members
//! dial each other at the same moment both connections stay open. So the
//! connection count says nothing; what tells two nodes apart is the
//! instance each connection speaks for. Every node announces a random
//! instance id, drawn at start, in its identify agent string
//! ([`agent_version`]); connections of one PeerId that carry different ids
//! come from different processes. A node that restarted after a crash may
//! reconnect before the old connection is known to be dead, with a new id:
//! so a duplicate counts only once every instance has answered a ping
//! after the newest of their connections opened (dead connections never
//! answer, and are closed after the ping timeout).
//!
//! This is an operator's aid, not a defence: a thief who holds the key can
//! copy the victim's instance id too. Revocation is the defence.

use crate::log_limit::{held_back, LogLimiter};
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How often the same duplicate key is logged while it lasts.
pub const REPORT_EVERY: Duration = Duration::from_secs(60);

/// The identify agent string of this process: the version and a random
/// instance id drawn once per process.
pub fn agent_version() -> String {
    static AGENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    AGENT
        .get_or_init(|| {
            use std::hash::{BuildHasher, Hasher};
            // RandomState is seeded from the OS's randomness: enough to tell
            // two processes apart (it is no secret).
            let a = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish();
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(a);
            h.write_u32(std::process::id());
            format!(
                "cairnd/{} instance/{:016x}",
                env!("CARGO_PKG_VERSION"),
                h.finish()
            )
        })
        .clone()
}

struct Conn {
    id: ConnectionId,
    remote: Multiaddr,
    opened: Instant,
    /// The agent string the peer announced on this connection.
    instance: Option<String>,
    last_pong: Option<Instant>,
}

/// Open connections per peer, with the instance behind each.
pub struct Instances {
    conns: HashMap<PeerId, Vec<Conn>>,
    log: LogLimiter,
}

impl Default for Instances {
    fn default() -> Self {
        Instances {
            conns: HashMap::new(),
            log: LogLimiter::new(REPORT_EVERY),
        }
    }
}

impl Instances {
    /// A connection to `peer` was established (bounded: the swarm allows
    /// two per peer and a bounded number in all).
    pub fn opened(&mut self, peer: PeerId, id: ConnectionId, remote: Multiaddr, now: Instant) {
        self.conns.entry(peer).or_default().push(Conn {
            id,
            remote,
            opened: now,
            instance: None,
            last_pong: None,
        });
    }

    pub fn closed(&mut self, peer: &PeerId, id: ConnectionId) {
        if let Some(list) = self.conns.get_mut(peer) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                self.conns.remove(peer);
            }
        }
    }

    /// The peer announced `agent` on connection `id`.
    pub fn identified(&mut self, peer: &PeerId, id: ConnectionId, agent: String) {
        if let Some(c) = self.conn(peer, id) {
            c.instance = Some(agent);
        }
    }

    /// Connection `id` answered a ping.
    pub fn ponged(&mut self, peer: &PeerId, id: ConnectionId, now: Instant) {
        if let Some(c) = self.conn(peer, id) {
            c.last_pong = Some(now);
        }
    }

    fn conn(&mut self, peer: &PeerId, id: ConnectionId) -> Option<&mut Conn> {
        self.conns.get_mut(peer)?.iter_mut().find(|c| c.id == id)
    }

    /// Where `peer`'s key is in use from when more than one live node holds
    /// it: one remote address per instance. Empty otherwise.
    pub fn duplicate(&self, peer: &PeerId) -> Vec<String> {
        let Some(list) = self.conns.get(peer) else {
            return Vec::new();
        };
        let mut by_instance: BTreeMap<&str, Vec<&Conn>> = BTreeMap::new();
        for c in list {
            if let Some(i) = &c.instance {
                by_instance.entry(i).or_default().push(c);
            }
        }
        if by_instance.len() < 2 {
            return Vec::new();
        }
        let newest = by_instance
            .values()
            .flatten()
            .map(|c| c.opened)
            .max()
            .expect("two instances have connections");
        let all_alive = by_instance
            .values()
            .all(|cs| cs.iter().any(|c| c.last_pong.is_some_and(|t| t >= newest)));
        if !all_alive {
            return Vec::new();
        }
        by_instance
            .values()
            .map(|cs| cs.iter().max_by_key(|c| c.opened).expect("non-empty"))
            .map(|c| c.remote.to_string())
            .collect()
    }

    /// Every peer whose key is in use by several nodes now, with where from.
    pub fn duplicates(&self) -> HashMap<PeerId, Vec<String>> {
        self.conns
            .keys()
            .filter_map(|p| {
                let d = self.duplicate(p);
                (!d.is_empty()).then_some((*p, d))
            })
            .collect()
    }

    /// The WARN lines due now: one per duplicated key, at most once every
    /// [`REPORT_EVERY`]; `name` gives a peer's entity name.
    pub fn report(&self, now: Instant, name: impl Fn(&PeerId) -> String) -> Vec<String> {
        let mut lines = Vec::new();
        for (peer, from) in self.duplicates() {
            if let Some(held) = self.log.allow(&peer.to_string(), now) {
                lines.push(format!(
                    "the member key of {} ({peer}) is in use by {} nodes at once, from {}: two nodes run with one key (a copied key file, or a stolen key); stop the extra node, and if the key may have leaked ask the issuer to revoke it (reason key-compromise){}",
                    name(&peer),
                    from.len(),
                    from.join(" and "),
                    held_back(held)
                ));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> Multiaddr {
        format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap()
    }

    #[test]
    fn two_connections_of_one_node_are_not_a_duplicate() {
        // Both members dialled each other at once: two connections, one
        // instance on the other side.
        let mut i = Instances::default();
        let p = PeerId::random();
        let t0 = Instant::now();
        let (c1, c2) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        i.opened(p, c1, addr(7400), t0);
        i.opened(p, c2, addr(50_000), t0);
        for c in [c1, c2] {
            i.identified(&p, c, "cairnd/0.1.0 instance/a".into());
            i.ponged(&p, c, t0 + Duration::from_secs(1));
        }
        assert!(i.duplicate(&p).is_empty());
        assert!(i.report(t0, |_| "M".into()).is_empty());
    }

    #[test]
    fn two_live_instances_are_a_duplicate_reported_once_a_minute() {
        let mut i = Instances::default();
        let p = PeerId::random();
        let t0 = Instant::now();
        let (c1, c2) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        i.opened(p, c1, addr(50_001), t0);
        i.identified(&p, c1, "cairnd/0.1.0 instance/a".into());
        i.ponged(&p, c1, t0);
        let t1 = t0 + Duration::from_secs(30);
        i.opened(p, c2, addr(50_002), t1);
        i.identified(&p, c2, "cairnd/0.1.0 instance/b".into());
        i.ponged(&p, c2, t1);
        assert!(
            i.duplicate(&p).is_empty(),
            "the older connection has not answered since the newer one opened"
        );
        i.ponged(&p, c1, t1 + Duration::from_secs(2));
        let from = i.duplicate(&p);
        assert_eq!(from.len(), 2, "{from:?}");
        assert!(
            from.contains(&addr(50_001).to_string()) && from.contains(&addr(50_002).to_string())
        );
        let lines = i.report(t1, |_| "Member 1".into());
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0].contains("Member 1") && lines[0].contains("in use by 2 nodes"),
            "{}",
            lines[0]
        );
        assert!(i
            .report(t1 + Duration::from_secs(5), |_| "M".into())
            .is_empty());
        assert_eq!(i.report(t1 + REPORT_EVERY, |_| "M".into()).len(), 1);
        i.closed(&p, c2);
        assert!(i.duplicate(&p).is_empty());
        i.closed(&p, c1);
        assert!(i.conns.is_empty());
    }

    #[test]
    fn a_restart_behind_a_dead_connection_is_not_a_duplicate() {
        // The node crashed; its old connection is not yet known dead when
        // the restarted node (a new instance) reconnects. The old one never
        // answers a ping again.
        let mut i = Instances::default();
        let p = PeerId::random();
        let t0 = Instant::now();
        let (old, new) = (
            ConnectionId::new_unchecked(1),
            ConnectionId::new_unchecked(2),
        );
        i.opened(p, old, addr(50_001), t0);
        i.identified(&p, old, "cairnd/0.1.0 instance/a".into());
        i.ponged(&p, old, t0);
        let t1 = t0 + Duration::from_secs(3);
        i.opened(p, new, addr(50_003), t1);
        i.identified(&p, new, "cairnd/0.1.0 instance/b".into());
        i.ponged(&p, new, t1 + Duration::from_secs(2));
        assert!(i.duplicate(&p).is_empty());
    }

    #[test]
    fn the_agent_string_is_stable_in_a_process() {
        assert_eq!(agent_version(), agent_version());
        assert!(agent_version().starts_with("cairnd/"));
    }
}
