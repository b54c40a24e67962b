//! Which connected peers have proved membership.
//!
//! A connection is only a transport fact. A peer becomes a member of this
//! node's view when it presents a certificate that verifies for the key its
//! connection was authenticated with (noise proves possession of the key
//! behind the PeerId). Until then gossipsub ignores it; if that does not
//! happen within [`ADMISSION_TIMEOUT`] the node disconnects it.

use cairn_protocol::{Certificate, CertificateError, Community, PublicKey, Role, Timestamp};
use libp2p::identity;
use libp2p::PeerId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a connected peer has to present a valid certificate.
pub const ADMISSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The ed25519 key behind a PeerId, if it is an ed25519 identity.
pub fn peer_public_key(peer: &PeerId) -> Option<PublicKey> {
    let mh = peer.as_ref();
    // ed25519 PeerIds inline the public key (identity multihash, code 0).
    if mh.code() != 0 {
        return None;
    }
    let key = identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    let ed = key.try_into_ed25519().ok()?;
    Some(PublicKey(ed.to_bytes()))
}

/// The PeerId of the node holding `key`.
pub fn peer_id_of(key: &PublicKey) -> PeerId {
    let ed = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .expect("certified keys are valid ed25519 points");
    PeerId::from_public_key(&identity::PublicKey::from(ed))
}

/// Why a peer is not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error("peer {0} does not use an ed25519 identity")]
    NotEd25519(PeerId),
    #[error(transparent)]
    Certificate(#[from] CertificateError),
}

/// Checks a certificate presented by `peer` at `now`.
pub fn check_certificate(
    certificate: &Certificate,
    community: &Community,
    now: Timestamp,
    peer: &PeerId,
) -> Result<(), AdmissionError> {
    let key = peer_public_key(peer).ok_or(AdmissionError::NotEd25519(*peer))?;
    certificate.verify_for_peer(community, now, &key)?;
    Ok(())
}

/// The gossipsub application score that expresses a peer's standing:
/// unadmitted peers are graylisted; admitted peers without the receive role
/// stay out of the mesh and are not published to, but may still publish.
pub fn application_score(admitted: Option<&Certificate>) -> f64 {
    match admitted {
        None => super::behaviour::UNADMITTED_SCORE,
        Some(c) if c.has_role(Role::Receive) || c.has_role(Role::Authority) => 0.0,
        Some(_) => -60.0,
    }
}

#[derive(Debug)]
enum State {
    Pending { since: Instant },
    Admitted { certificate: Box<Certificate> },
}

/// Most certificates of former peers remembered for the members view.
const MAX_REMEMBERED: usize = 10_000;

/// Connected peers and their admission state, and the certificates of
/// every member admitted since the node started (so a member revoked and
/// disconnected can still be named).
#[derive(Debug, Default)]
pub struct Peers {
    peers: HashMap<PeerId, State>,
    seen: HashMap<cairn_protocol::CertificateId, Certificate>,
}

impl Peers {
    /// Records a new connection. Returns true for the first one to `peer`.
    pub fn connected(&mut self, peer: PeerId, now: Instant) -> bool {
        if self.peers.contains_key(&peer) {
            return false;
        }
        self.peers.insert(peer, State::Pending { since: now });
        true
    }

    /// Marks `peer` as a verified member. Returns true if it was pending.
    pub fn admit(&mut self, peer: PeerId, certificate: Certificate) -> bool {
        let was_pending = matches!(self.peers.get(&peer), Some(State::Pending { .. }));
        if self.peers.contains_key(&peer) {
            if self.seen.len() >= MAX_REMEMBERED {
                self.seen.clear();
            }
            self.seen.insert(certificate.id(), certificate.clone());
            self.peers.insert(
                peer,
                State::Admitted {
                    certificate: Box::new(certificate),
                },
            );
        }
        was_pending
    }

    /// Forgets `peer` once its last connection closed.
    pub fn disconnected(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
    }

    /// Peers still unadmitted after `timeout`.
    pub fn overdue(&self, now: Instant, timeout: Duration) -> Vec<PeerId> {
        self.peers
            .iter()
            .filter_map(|(p, s)| match s {
                State::Pending { since } if now.duration_since(*since) >= timeout => Some(*p),
                _ => None,
            })
            .collect()
    }

    /// The certificate of an admitted peer.
    pub fn certificate(&self, peer: &PeerId) -> Option<&Certificate> {
        match self.peers.get(peer) {
            Some(State::Admitted { certificate }) => Some(certificate),
            _ => None,
        }
    }

    /// Admitted peers and their certificates.
    pub fn admitted(&self) -> impl Iterator<Item = (&PeerId, &Certificate)> {
        self.peers.iter().filter_map(|(p, s)| match s {
            State::Admitted { certificate } => Some((p, certificate.as_ref())),
            _ => None,
        })
    }

    /// Certificates of every member admitted since start (bounded).
    pub fn seen(&self) -> impl Iterator<Item = &Certificate> {
        self.seen.values()
    }

    /// Whether any connection to `peer` is open.
    pub fn is_connected(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::SecretKey;

    #[test]
    fn peer_ids_carry_the_certified_key() {
        let k = SecretKey::from_seed(&[4; 32]).public();
        assert_eq!(peer_public_key(&peer_id_of(&k)), Some(k));
        // The protocol crate's own rendering (for the CLI) is libp2p's.
        for seed in 0..20u8 {
            let k = SecretKey::from_seed(&[seed; 32]).public();
            assert_eq!(k.peer_id(), peer_id_of(&k).to_string());
        }
        assert_eq!(peer_public_key(&PeerId::random()), None);
    }

    #[test]
    fn peers_are_pending_until_admitted_and_time_out() {
        let mut peers = Peers::default();
        let p = PeerId::random();
        let t0 = Instant::now();
        assert!(peers.connected(p, t0));
        assert!(!peers.connected(p, t0));
        assert!(peers.overdue(t0, ADMISSION_TIMEOUT).is_empty());
        assert_eq!(
            peers.overdue(t0 + ADMISSION_TIMEOUT, ADMISSION_TIMEOUT),
            vec![p]
        );
        assert!(peers.certificate(&p).is_none());
        peers.disconnected(&p);
        assert!(!peers.is_connected(&p));
    }

    #[test]
    fn admission_requires_a_live_connection() {
        let f = crate::testutil::Fixture::new();
        let (member, mut cert) = f.certificate("Grid Operator");
        cert.body.roles = vec![Role::Publish];
        let mut peers = Peers::default();
        let p = peer_id_of(&member.public());
        assert!(
            !peers.admit(p, cert.clone()),
            "not connected: nothing to admit"
        );
        assert_eq!(peers.admitted().count(), 0);
        peers.connected(p, Instant::now());
        assert!(peers.admit(p, cert.clone()));
        assert_eq!(peers.admitted().count(), 1);
        assert_eq!(application_score(Some(&cert)), -60.0);
        assert!(application_score(None) < -80.0);
    }
}
