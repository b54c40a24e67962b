//! Tests of the directory's dial rules: what is announced, which
//! addresses and members are dialled, and the backoff.

use super::*;
use crate::network::peers::peer_id_of;
use crate::testutil::Fixture;
use cairn_protocol::directory::MAX_ADDRESSES;

fn ma(s: &str) -> Multiaddr {
    s.parse().unwrap()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_node_announces_what_others_can_dial() {
    let listen = [
        ma("/ip4/0.0.0.0/tcp/7400"),
        ma("/ip4/192.0.2.7/tcp/7400/p2p/12D3KooWLyB3R5mTAb5k6s7NUVyWBrgAbwuvSrMJbMtgPxDNMn3t"),
        ma("/ip4/192.0.2.7/tcp/7400"),
        ma("/ip4/127.0.0.1/tcp/0"),
        ma("/ip6/::1/tcp/7400"),
        ma("/ip4/192.0.2.7/udp/7400/quic-v1"),
    ];
    assert_eq!(
        announced_addresses(&listen, None),
        strs(&["/ip4/192.0.2.7/tcp/7400", "/ip6/::1/tcp/7400"])
    );
    // The operator's announce list is taken as written (NAT, a DNS name).
    let announce = [ma("/dns4/cairn.example.org/tcp/7400")];
    assert_eq!(
        announced_addresses(&listen, Some(&announce)),
        strs(&["/dns4/cairn.example.org/tcp/7400"])
    );
    let many: Vec<Multiaddr> = (1..20)
        .map(|i| ma(&format!("/ip4/192.0.2.{i}/tcp/7400")))
        .collect();
    assert_eq!(announced_addresses(&many, None).len(), MAX_ADDRESSES);
}

#[test]
fn only_plain_tcp_addresses_are_dialled_and_loopback_only_on_one_host() {
    let announced = strs(&[
        "/ip4/192.0.2.7/tcp/7400",
        "/ip4/127.0.0.1/tcp/7400",
        "/ip6/::1/tcp/7400",
        "/dns4/localhost/tcp/7400",
        "/dns4/cairn.example.org/tcp/7400",
        "/ip4/0.0.0.0/tcp/7400",
        "/ip4/224.0.0.1/tcp/7400",
        "/ip4/192.0.2.7/tcp/0",
        "/ip4/192.0.2.7/udp/7400",
        "/ip4/192.0.2.7/tcp/7400/ws",
        "not a multiaddr",
    ]);
    let far: Vec<String> = dialable(&announced, false)
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(
        far,
        strs(&[
            "/ip4/192.0.2.7/tcp/7400",
            "/dns4/cairn.example.org/tcp/7400"
        ])
    );
    let near = dialable(&announced, true);
    assert_eq!(near.len(), 5, "{near:?}");
    assert!(listens_on_loopback(&[ma("/ip4/127.0.0.1/tcp/7400")]));
    assert!(!listens_on_loopback(&[ma("/ip4/192.0.2.7/tcp/7400")]));
}

#[test]
fn backoff_doubles_to_its_maximum() {
    assert_eq!(backoff(1), Duration::from_secs(5));
    assert_eq!(backoff(2), Duration::from_secs(10));
    assert_eq!(backoff(4), Duration::from_secs(40));
    assert_eq!(backoff(5), Duration::from_secs(60));
    assert_eq!(backoff(30), BACKOFF_MAX);
    assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
}

struct World {
    f: Fixture,
    me: SecretKey,
    dir: MemberDirectory,
    now: Timestamp,
}

fn world(connections: usize) -> World {
    let f = Fixture::new();
    let (me, _) = f.certificate("Me");
    let now = Timestamp::now();
    let (dir, _) = MemberDirectory::new(
        me.public(),
        None,
        connections,
        vec![],
        &f.community,
        &RevocationSet::default(),
        now,
    );
    World { f, me, dir, now }
}

impl World {
    fn learn(&mut self, name: &str, addrs: &[&str]) -> PeerId {
        let (key, cert) = self.f.certificate(name);
        let r = AddressRecord::sign(&key, cert, strs(addrs), self.now).unwrap();
        let relay = self.f.certificate("Hub").0.public();
        self.dir
            .offer(
                r,
                relay,
                &self.f.community,
                &RevocationSet::default(),
                self.now,
            )
            .unwrap();
        peer_id_of(&key.public())
    }

    fn plan(
        &mut self,
        at: Instant,
        connected: &[PeerId],
        revocations: &RevocationSet,
    ) -> Vec<PeerId> {
        let listen = [ma("/ip4/127.0.0.1/tcp/7400")];
        self.dir
            .dial_plan(
                at,
                self.now,
                connected.len(),
                |p| connected.contains(p),
                |_| false,
                &listen,
                &self.f.community,
                revocations,
            )
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }
}

#[test]
fn members_are_dialled_up_to_the_bound_and_never_when_connected() {
    let mut w = world(3);
    let hub = w.learn("Hub", &["/ip4/127.0.0.1/tcp/1"]);
    let peers: Vec<PeerId> = (0..5)
        .map(|i| w.learn(&format!("Member {i}"), &["/ip4/127.0.0.1/tcp/2"]))
        .collect();
    let t = Instant::now();
    let none = RevocationSet::default();
    // Connected to the hub only: two more.
    let plan = w.plan(t, &[hub], &none);
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert!(plan.iter().all(|p| peers.contains(p)));
    // At the bound: nobody.
    assert!(w.plan(t, &[hub, plan[0], plan[1]], &none).is_empty());
    // The choice is stable for one node, and this node's own record is
    // never a candidate.
    assert_eq!(w.plan(t, &[hub], &none), plan);
    let own = peer_id_of(&w.me.public());
    let listen = [ma("/ip4/127.0.0.1/tcp/7400")];
    let cert = w.f.certificate("Me").1;
    assert!(w
        .dir
        .refresh_own(&w.me, &cert, &listen, &w.f.community, &none, w.now)
        .unwrap());
    assert!(!w.plan(t, &[], &none).contains(&own));
    assert!(
        !w.dir
            .refresh_own(&w.me, &cert, &listen, &w.f.community, &none, w.now)
            .unwrap(),
        "unchanged: not signed again"
    );
}

#[test]
fn failed_dials_back_off_and_a_connection_clears_them() {
    let mut w = world(8);
    let a = w.learn("Member A", &["/ip4/127.0.0.1/tcp/2"]);
    let none = RevocationSet::default();
    let t = Instant::now();
    assert_eq!(w.plan(t, &[], &none), vec![a]);
    w.dir.dialling(&a, t);
    assert!(w.plan(t, &[], &none).is_empty(), "a dial is under way");
    let line = w.dir.dial_failed(&a, "Connection refused", t).unwrap();
    assert!(
        line.contains("Member A") && line.contains("retrying in 5 s"),
        "{line}"
    );
    assert!(w.plan(t + Duration::from_secs(4), &[], &none).is_empty());
    assert_eq!(w.plan(t + Duration::from_secs(5), &[], &none), vec![a]);
    w.dir.dial_failed(&a, "Connection refused", t);
    assert!(w.plan(t + Duration::from_secs(9), &[], &none).is_empty());
    let v = w.dir.views(|_| false, |_| None);
    assert_eq!(v[0].last_dial_error.as_deref(), Some("Connection refused"));
    w.dir.connected(a, ma("/ip4/127.0.0.1/tcp/2"), true);
    assert_eq!(w.plan(t, &[], &none), vec![a], "the backoff is over");
    let hub = peer_id_of(&w.f.certificate("Hub").0.public());
    let v = w
        .dir
        .views(|p| *p == a, |p| (*p == hub).then(|| "Hub".to_string()));
    assert_eq!(
        v[0].reached_at.as_deref(),
        Some("/ip4/127.0.0.1/tcp/2 (dialled)")
    );
    assert_eq!(v[0].learned_from, "Hub");
}

#[test]
fn revoked_members_and_addresses_of_no_use_are_not_dialled() {
    let mut w = world(8);
    let revoked = w.learn("Revoked", &["/ip4/127.0.0.1/tcp/2"]);
    let far_only = w.learn("Far", &["/ip4/0.0.0.0/tcp/2"]);
    let ok = w.learn("Fine", &["/ip4/127.0.0.1/tcp/3"]);
    let (_, r) = w.f.revoked_member("Revoked");
    let mut set = RevocationSet::default();
    set.add(r.verify(&w.f.community, w.now).unwrap());
    let plan = w.plan(Instant::now(), &[], &set);
    assert_eq!(plan, vec![ok], "not {revoked} nor {far_only}");
}

#[test]
fn a_relay_cannot_replace_this_nodes_own_record() {
    let mut w = world(8);
    let none = RevocationSet::default();
    let cert = w.f.certificate("Me").1;
    let listen = [ma("/ip4/127.0.0.1/tcp/7400")];
    w.dir
        .refresh_own(&w.me, &cert, &listen, &w.f.community, &none, w.now)
        .unwrap();
    let later = AddressRecord::sign(
        &w.me,
        cert,
        strs(&["/ip4/203.0.113.66/tcp/1"]),
        w.now.plus_millis(10),
    )
    .unwrap();
    let relay = w.f.certificate("Hub").0.public();
    assert_eq!(
        w.dir.offer(later, relay, &w.f.community, &none, w.now),
        Ok(Offered::Stale)
    );
    let own = w.dir.views(|_| false, |_| None);
    assert_eq!(own[0].addresses, strs(&["/ip4/127.0.0.1/tcp/7400"]));
    assert!(own[0].own);
}
