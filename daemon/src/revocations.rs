//! The node's revocations: verified, durable, and consulted on every
//! connection and every item.
//!
//! A revocation is acted on only after it verified and was fsynced, so a
//! restart never forgets one the node already enforced. Readers take the
//! current [`RevocationSet`] as an `Arc` snapshot (the ingest worker takes
//! one per batch); a change bumps a watch counter that the network task
//! follows to disconnect members who are now revoked.

use cairn_protocol::handshake::RevocationSummary;
use cairn_protocol::revocation::{RevocationError, MAX_REVOCATIONS};
use cairn_protocol::{
    Certificate, CertificateId, Community, EventId, Receipt, Revocation, RevocationId,
    RevocationSet, Timestamp,
};
use cairn_store::RevocationLog;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;
use tracing::{info, warn};

/// Why a revocation was not taken.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error(transparent)]
    Invalid(#[from] RevocationError),
    #[error(
        "this node already holds {MAX_REVOCATIONS} revocations, the most a community may have"
    )]
    Full,
    #[error("cannot store the revocation: {0}")]
    Store(#[from] cairn_store::StoreError),
}

struct State {
    set: Arc<RevocationSet>,
    all: BTreeMap<RevocationId, Revocation>,
}

/// Every revocation this node knows.
pub struct Revocations {
    community: Community,
    log: Arc<RevocationLog>,
    state: RwLock<State>,
    changed: watch::Sender<u64>,
}

impl Revocations {
    /// Loads what the store holds, verifying each again (a revocation that
    /// no longer verifies, say after the community file changed, is logged
    /// and not enforced).
    pub fn load(
        community: Community,
        log: Arc<RevocationLog>,
        stored: Vec<Revocation>,
        now: Timestamp,
    ) -> Self {
        let mut set = RevocationSet::default();
        let mut all = BTreeMap::new();
        for r in stored {
            match r.verify(&community, now) {
                Ok(effects) => {
                    set.add(effects);
                    all.insert(r.id(), r);
                }
                Err(e) => warn!(revocation = %r.id(), "stored revocation not enforced: {e}"),
            }
        }
        if !all.is_empty() {
            info!(count = all.len(), "revocations loaded");
        }
        Revocations {
            community,
            log,
            state: RwLock::new(State {
                set: Arc::new(set),
                all,
            }),
            changed: watch::channel(0).0,
        }
    }

    /// Verifies, stores (fsync) and enforces `revocation`. Returns false if
    /// it was already known. Blocks on the fsync: call it off the runtime's
    /// worker threads (`spawn_blocking`).
    pub fn add(&self, revocation: Revocation, now: Timestamp) -> Result<bool, AddError> {
        let id = revocation.id();
        if self.read().all.contains_key(&id) {
            return Ok(false);
        }
        let effects = revocation.verify(&self.community, now)?;
        if self.read().all.len() >= MAX_REVOCATIONS {
            return Err(AddError::Full);
        }
        self.log.append(&revocation)?;
        let mut state = self.state.write().expect("revocations lock poisoned");
        if state.all.contains_key(&id) {
            return Ok(false);
        }
        let mut set = (*state.set).clone();
        set.add(effects);
        state.set = Arc::new(set);
        info!(revocation = %id, reason = %revocation.reason(), "revocation enforced");
        state.all.insert(id, revocation);
        drop(state);
        self.changed.send_modify(|n| *n += 1);
        Ok(true)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().expect("revocations lock poisoned")
    }

    /// The current set, to check certificates and items against.
    pub fn set(&self) -> Arc<RevocationSet> {
        self.read().set.clone()
    }

    /// Whether `certificate` may serve a connection now.
    pub fn check_peer(
        &self,
        certificate: &Certificate,
        now: Timestamp,
    ) -> Result<(), cairn_protocol::CertificateError> {
        self.set().check_peer(&certificate.id(), certificate, now)
    }

    /// The effect reaching a certificate, for display.
    pub fn status(
        &self,
        id: &CertificateId,
        certificate: &Certificate,
    ) -> Option<cairn_protocol::revocation::Effect> {
        self.set().status(id, certificate).cloned()
    }

    /// A revocation that keeps `certificate` from connecting at `now`, to
    /// hand to its holder with the refusal: the registered withdrawal if
    /// there is one (it carries the holder's receipt), else any.
    pub fn revoking(&self, certificate: &Certificate, now: Timestamp) -> Option<Revocation> {
        let id = certificate.id();
        let state = self.read();
        let reaching: Vec<&Revocation> = state
            .all
            .values()
            .filter(|r| {
                r.claimed_effects()
                    .iter()
                    .any(|e| e.in_force(now) && e.reaches(&id, certificate))
            })
            .collect();
        reaching
            .iter()
            .find(|r| r.withdrawal().is_some())
            .or(reaching.first())
            .map(|r| (*r).clone())
    }

    /// The authority's receipt for participation event `event`, if a
    /// registered withdrawal this node holds is that event.
    pub fn withdrawal_receipt(&self, event: &EventId) -> Option<Receipt> {
        self.read().all.values().find_map(|r| {
            let (e, receipt) = r.withdrawal()?;
            (receipt.body.event == *event && e.id() == *event).then(|| receipt.clone())
        })
    }

    /// Summary for the handshake and anti-entropy.
    pub fn summary(&self) -> RevocationSummary {
        RevocationSummary::of(&self.ids())
    }

    /// Every id, sorted.
    pub fn ids(&self) -> Vec<RevocationId> {
        self.read().all.keys().copied().collect()
    }

    /// The revocations whose ids are not in `theirs`.
    pub fn lacking_in(&self, theirs: &[RevocationId]) -> Vec<Revocation> {
        let theirs: std::collections::HashSet<_> = theirs.iter().collect();
        self.read()
            .all
            .iter()
            .filter(|(id, _)| !theirs.contains(id))
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// The ids in `theirs` this node does not hold.
    pub fn unknown(&self, theirs: &[RevocationId]) -> Vec<RevocationId> {
        let state = self.read();
        theirs
            .iter()
            .filter(|id| !state.all.contains_key(id))
            .copied()
            .collect()
    }

    /// The revocations with these ids that this node holds.
    pub fn get(&self, ids: &[RevocationId]) -> Vec<Revocation> {
        let state = self.read();
        ids.iter()
            .filter_map(|id| state.all.get(id).cloned())
            .collect()
    }

    /// Every revocation, for display.
    pub fn all(&self) -> Vec<Revocation> {
        self.read().all.values().cloned().collect()
    }

    /// Ticks whenever a revocation is added.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Adds each of `revocations` (from a peer), logging those refused.
    /// Returns how many were new.
    pub fn add_all(&self, revocations: Vec<Revocation>, now: Timestamp) -> usize {
        let mut new = 0;
        for r in revocations {
            let id = r.id();
            match self.add(r, now) {
                Ok(true) => new += 1,
                Ok(false) => {}
                Err(e) => warn!(revocation = %id, "revocation from a member refused: {e}"),
            }
        }
        new
    }
}

/// Enforces `revocation` on this node (verify, fsync) and hands it to
/// gossip. Returns whether it was new here. Spread even when known: it may
/// have come in a handshake, which does not gossip.
pub async fn enforce_and_spread(
    ctx: &Arc<crate::context::Context>,
    client: &crate::network::client::Client,
    revocation: Revocation,
) -> Result<bool, AddError> {
    let revocations = ctx.revocations.clone();
    let r = revocation.clone();
    let new = tokio::task::spawn_blocking(move || revocations.add(r, Timestamp::now()))
        .await
        .map_err(|e| {
            AddError::Store(cairn_store::StoreError::Encode {
                what: "a revocation (the worker failed)",
                source: cairn_protocol::codec::CodecError::Encode(e.to_string()),
            })
        })??;
    let message = cairn_protocol::wire::GossipMessage::Revocation { revocation };
    if let Ok(data) = cairn_protocol::codec::encode(&message) {
        let _ = client.publish(data).await;
    }
    Ok(new)
}

/// Every certificate a known revocation reaches that this node can name:
/// from the revocation itself (a withdrawal carries the member's
/// certificate), from the members admitted since start (`seen`), or from the
/// publisher certificates it stores. Revoked certificates it has never seen
/// are returned by id in the second list.
pub fn revoked_certificates(
    ctx: &crate::context::Context,
    seen: &[Certificate],
) -> (
    Vec<Certificate>,
    Vec<cairn_protocol::revocation::RevokedCertificate>,
) {
    let mut out: Vec<Certificate> = Vec::new();
    let mut unnamed = Vec::new();
    let set = ctx.revocations.set();
    for r in ctx.revocations.all() {
        match r {
            Revocation::Withdrawal { event, .. } => out.push(event.body.certificate),
            Revocation::Issued { body, .. } => {
                for c in body.certificates {
                    let known = seen
                        .iter()
                        .find(|s| s.id() == c.id)
                        .cloned()
                        .or_else(|| ctx.items.certificate(&c.id).ok().flatten());
                    match known {
                        Some(cert) => out.push(cert),
                        None => unnamed.push(c),
                    }
                }
            }
        }
    }
    // A key revocation also reaches the key's other certificates.
    for cert in seen {
        if set.status(&cert.id(), cert).is_some() {
            out.push(cert.clone());
        }
    }
    out.sort_by_key(|c| c.id());
    out.dedup_by_key(|c| c.id());
    unnamed.retain(|u| out.iter().all(|c| c.id() != u.id));
    (out, unnamed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[test]
    fn a_revocation_is_enforced_at_once_and_after_a_restart() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let (cert, revocation) = f.revoked_member("hospital");
        let now = Timestamp::now();
        {
            let (log, stored) = RevocationLog::open(dir.path()).unwrap();
            let r = Revocations::load(f.community.clone(), Arc::new(log), stored, now);
            let mut watch = r.watch();
            assert!(r.check_peer(&cert, now).is_ok());
            assert!(r.add(revocation.clone(), now).unwrap());
            assert!(!r.add(revocation.clone(), now).unwrap());
            assert!(watch.has_changed().unwrap());
            watch.mark_unchanged();
            assert!(r.check_peer(&cert, now).is_err());
            assert_eq!(r.summary().count, 1);
        }
        let (log, stored) = RevocationLog::open(dir.path()).unwrap();
        let r = Revocations::load(f.community.clone(), Arc::new(log), stored, now);
        assert!(
            r.check_peer(&cert, now).is_err(),
            "still enforced after a restart"
        );
        assert_eq!(r.lacking_in(&[]).len(), 1);
        assert!(r.lacking_in(&r.ids()).is_empty());
        assert_eq!(
            r.unknown(&[RevocationId([9; 32])]),
            vec![RevocationId([9; 32])]
        );
    }

    #[test]
    fn a_forged_revocation_is_refused_and_not_stored() {
        let f = Fixture::new();
        let dir = tempfile::tempdir().unwrap();
        let (log, stored) = RevocationLog::open(dir.path()).unwrap();
        let log = Arc::new(log);
        let r = Revocations::load(f.community.clone(), log.clone(), stored, Timestamp::now());
        let (_, forged) = f.self_revoked("hospital");
        assert!(matches!(
            r.add(forged, Timestamp::now()),
            Err(AddError::Invalid(_))
        ));
        assert!(log.is_empty());
    }
}
