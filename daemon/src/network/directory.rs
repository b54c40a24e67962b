//! The member directory on a node: this node's own signed record, the
//! records it learned (`cairn_protocol::directory`), and the rules that
//! turn them into dials, so that a community bootstrapped as a star around
//! one hub becomes a mesh and survives the hub going down.
//!
//! Rules, all plain functions or methods without I/O:
//! - what this node announces and which addresses of a record are dialled:
//!   [`super::directory_addresses`];
//! - whom to dial ([`MemberDirectory::dial_plan`]): members whose record
//!   verifies now (certificate valid, not revoked), not this node, not
//!   connected, not banned, not waiting out a failed dial's backoff, while
//!   fewer than `connections` members are connected; chosen by a hash of
//!   both keys, so every node picks a different, stable set and the
//!   connections spread over the community instead of piling on a few.
//!
//! Addresses are only ever taken from the member's own signature: a relay
//! that passes a record on cannot redirect anyone.

pub use super::directory_addresses::{announced_addresses, dialable, listens_on_loopback};
use crate::log_limit::LogLimiter;
use cairn_protocol::control::DirectoryView;
use cairn_protocol::directory::{
    AddressRecord, Directory, DirectoryAnswer, DirectoryError, DirectoryRequest, Offered,
};
use cairn_protocol::hash::sha256;
use cairn_protocol::{Certificate, Community, PublicKey, RevocationSet, SecretKey, Timestamp};
use libp2p::{Multiaddr, PeerId};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Members this node keeps connected to by default (`[directory]
/// connections`): above gossipsub's mesh degree (6), so every node has a
/// full mesh of its own, yet bounded however large the community grows.
pub const DEFAULT_CONNECTIONS: usize = 8;

/// How often the node asks the next admitted member in turn for records it
/// lacks (besides asking each member as it is admitted).
pub const PULL_EVERY: Duration = Duration::from_secs(10);

/// Backoff after a failed dial: doubled per failure, up to the maximum. A
/// minute at most: a member back after an outage or a healed partition is
/// found again soon, and a dial to one still away costs a SYN.
const BACKOFF_FIRST: Duration = Duration::from_secs(5);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// How often a member's failed dials are logged (at INFO: a member being
/// offline is normal).
const REPORT_EVERY: Duration = Duration::from_secs(600);

/// How long to wait before dialling a member again after `failures`
/// failed dials in a row.
pub fn backoff(failures: u32) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(16);
    (BACKOFF_FIRST * factor).min(BACKOFF_MAX)
}

/// The order in which `me` prefers members: a hash of both keys, so two
/// nodes rank the same members differently.
fn preference(me: &PublicKey, member: &PublicKey) -> [u8; 32] {
    sha256(&[me.as_bytes(), member.as_bytes()])
}

struct DialState {
    failures: u32,
    next: Instant,
    last_error: Option<String>,
}

/// The directory a node holds and its dialling state.
pub struct MemberDirectory {
    records: Directory,
    me: PublicKey,
    announce: Option<Vec<Multiaddr>>,
    connections: usize,
    dials: HashMap<PublicKey, DialState>,
    /// Where each connected member was reached: remote address, dialled.
    reached: HashMap<PeerId, (Multiaddr, bool)>,
    /// Changed since the last save.
    dirty: bool,
    last_pull: Option<Instant>,
    turn: usize,
    log: LogLimiter,
}

impl MemberDirectory {
    /// A directory starting from `saved` records (each verified now; those
    /// that no longer verify are dropped). Returns how many were kept.
    pub fn new(
        me: PublicKey,
        announce: Option<Vec<Multiaddr>>,
        connections: usize,
        saved: Vec<AddressRecord>,
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> (Self, usize) {
        let mut d = MemberDirectory {
            records: Directory::default(),
            me,
            announce,
            connections,
            dials: HashMap::new(),
            reached: HashMap::new(),
            dirty: false,
            last_pull: None,
            turn: 0,
            log: LogLimiter::new(REPORT_EVERY),
        };
        let mut kept = 0;
        for r in saved {
            let from = *r.key();
            if d.records
                .offer(r, from, community, revocations, now)
                .is_ok()
            {
                kept += 1;
            }
        }
        (d, kept)
    }

    /// Signs this node's record anew if its addresses or certificate
    /// changed. Returns whether it did.
    pub fn refresh_own(
        &mut self,
        key: &SecretKey,
        certificate: &Certificate,
        listen: &[Multiaddr],
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> Result<bool, DirectoryError> {
        let addresses = announced_addresses(listen, self.announce.as_deref());
        if let Some(e) = self.records.get(&self.me) {
            let held = &e.record;
            if held.body.addresses == addresses && &held.certificate == certificate {
                return Ok(false);
            }
        }
        // A version newer than any this node signed before (its clock may
        // have stepped back since the last one).
        let at = self
            .records
            .get(&self.me)
            .map_or(now, |e| now.max(e.record.body.signed_at.plus_millis(1)));
        let record = AddressRecord::sign(key, certificate.clone(), addresses, at)?;
        self.records
            .offer(record, self.me, community, revocations, now.max(at))?;
        self.dirty = true;
        Ok(true)
    }

    /// A record `from` sent. Returns whether it was new or newer.
    pub fn offer(
        &mut self,
        record: AddressRecord,
        from: PublicKey,
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> Result<Offered, DirectoryError> {
        if record.key() == &self.me {
            // Only this node signs its own record; an older one relayed
            // back is stale, a newer one is another node with this key.
            return Ok(Offered::Stale);
        }
        let outcome = self
            .records
            .offer(record, from, community, revocations, now)?;
        if outcome != Offered::Stale {
            self.dirty = true;
        }
        Ok(outcome)
    }

    /// Drops records of members that can no longer take part.
    pub fn prune(&mut self, community: &Community, revocations: &RevocationSet, now: Timestamp) {
        if self.records.prune(community, revocations, now) > 0 {
            self.dirty = true;
        }
        let records = &self.records;
        self.dials.retain(|k, _| records.get(k).is_some());
    }

    pub fn request(&self) -> DirectoryRequest {
        self.records.request(&self.me)
    }

    pub fn answer(&self, request: &DirectoryRequest) -> DirectoryAnswer {
        self.records.answer(request)
    }

    /// The member to ask for records now, if a pull is due: the next of
    /// `admitted` in turn, every [`PULL_EVERY`].
    pub fn due_pull(&mut self, now: Instant, admitted: &[PeerId]) -> Option<PeerId> {
        if admitted.is_empty() || self.last_pull.is_some_and(|t| now - t < PULL_EVERY) {
            return None;
        }
        self.last_pull = Some(now);
        self.turn = self.turn.wrapping_add(1);
        Some(admitted[self.turn % admitted.len()])
    }

    /// The members to dial now and at which addresses: see the module
    /// documentation. `connected` counts admitted members and says whether
    /// one is connected (or being dialled); `banned` whether it is banned.
    #[allow(clippy::too_many_arguments)]
    pub fn dial_plan(
        &mut self,
        now: Instant,
        at: Timestamp,
        connected_members: usize,
        is_connected: impl Fn(&PeerId) -> bool,
        banned: impl Fn(&PeerId) -> bool,
        local_listen: &[Multiaddr],
        community: &Community,
        revocations: &RevocationSet,
    ) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let slots = self.connections.saturating_sub(connected_members);
        if slots == 0 {
            return Vec::new();
        }
        let loopback = listens_on_loopback(local_listen);
        let mut candidates: Vec<([u8; 32], PeerId, &AddressRecord)> = self
            .records
            .entries()
            .map(|e| &e.record)
            .filter(|r| r.key() != &self.me)
            .filter(|r| self.dials.get(r.key()).is_none_or(|d| d.next <= now))
            .map(|r| {
                (
                    preference(&self.me, r.key()),
                    super::peers::peer_id_of(r.key()),
                    r,
                )
            })
            .filter(|(_, peer, _)| !is_connected(peer) && !banned(peer))
            .collect();
        candidates.sort_by_key(|a| a.0);
        let mut plan = Vec::new();
        for (_, peer, r) in candidates {
            if plan.len() == slots {
                break;
            }
            // Judged again now: certificates expire and revocations arrive
            // after a record was accepted (its signatures were checked then
            // and do not change).
            let cert = &r.certificate;
            if cert.check_validity(at).is_err()
                || revocations.check_peer(&cert.id(), cert, at).is_err()
                || cert.body.community != community.id
            {
                continue;
            }
            let addrs = dialable(&r.body.addresses, loopback);
            if !addrs.is_empty() {
                plan.push((peer, addrs));
            }
        }
        plan
    }

    /// A dial to `peer` was started: the next one waits for its outcome.
    pub fn dialling(&mut self, peer: &PeerId, now: Instant) {
        if let Some(key) = super::peers::peer_public_key(peer) {
            let d = self.dials.entry(key).or_insert(DialState {
                failures: 0,
                next: now,
                last_error: None,
            });
            d.next = now + backoff(d.failures + 1);
        }
    }

    /// A dial to `peer` failed. Returns a line to log, if it is a directory
    /// member and the log limit allows one now.
    pub fn dial_failed(&mut self, peer: &PeerId, error: &str, now: Instant) -> Option<String> {
        let key = super::peers::peer_public_key(peer)?;
        let entry = self.records.get(&key)?;
        let name = entry.record.certificate.body.subject.display_name();
        let d = self.dials.entry(key).or_insert(DialState {
            failures: 0,
            next: now,
            last_error: None,
        });
        d.failures = d.failures.saturating_add(1);
        d.next = now + backoff(d.failures);
        d.last_error = Some(error.chars().take(300).collect());
        let held = self.log.allow(&peer.to_string(), now)?;
        Some(format!(
            "cannot reach member {name} ({peer}) at the addresses it announced: {error}; retrying in {} s{}",
            backoff(d.failures).as_secs(),
            crate::log_limit::held_back(held)
        ))
    }

    /// A connection to `peer` was established at `remote`.
    pub fn connected(&mut self, peer: PeerId, remote: Multiaddr, dialled: bool) {
        if let Some(key) = super::peers::peer_public_key(&peer) {
            self.dials.remove(&key);
        }
        self.reached.insert(peer, (remote, dialled));
    }

    /// `peer`'s last connection closed.
    pub fn disconnected(&mut self, peer: &PeerId) {
        self.reached.remove(peer);
    }

    /// The saved directory differs from this one (records dropped at load).
    pub fn mark_changed(&mut self) {
        self.dirty = true;
    }

    /// The records to save, if any changed since the last call.
    pub fn take_changes(&mut self) -> Option<Vec<AddressRecord>> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        Some(self.records.entries().map(|e| e.record.clone()).collect())
    }

    /// The directory as `cairn status` shows it; `name` gives a connected
    /// member's entity name (a relay may have no record of its own yet).
    pub fn views(
        &self,
        is_connected: impl Fn(&PeerId) -> bool,
        name: impl Fn(&PeerId) -> Option<String>,
    ) -> Vec<DirectoryView> {
        let name_of = |key: &PublicKey| {
            let peer = super::peers::peer_id_of(key);
            name(&peer)
                .or_else(|| {
                    self.records
                        .get(key)
                        .map(|e| e.record.certificate.body.subject.display_name())
                })
                .unwrap_or_else(|| peer.to_string())
        };
        self.records
            .entries()
            .map(|e| {
                let key = e.record.key();
                let peer = super::peers::peer_id_of(key);
                DirectoryView {
                    entity_name: e.record.certificate.body.subject.display_name(),
                    peer_id: peer.to_string(),
                    addresses: e.record.body.addresses.clone(),
                    signed_at: e.record.body.signed_at,
                    learned_from: if &e.learned_from == key {
                        "itself".into()
                    } else {
                        name_of(&e.learned_from)
                    },
                    own: key == &self.me,
                    connected: is_connected(&peer),
                    reached_at: self.reached_at(&peer),
                    last_dial_error: self.dials.get(key).and_then(|d| d.last_error.clone()),
                }
            })
            .collect()
    }

    /// Where `peer` was reached, for the members view.
    pub fn reached_at(&self, peer: &PeerId) -> Option<String> {
        self.reached
            .get(peer)
            .map(|(a, dialled)| format!("{a} ({})", if *dialled { "dialled" } else { "inbound" }))
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
