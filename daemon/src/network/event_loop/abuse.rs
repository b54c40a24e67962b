//! The network task's side of abuse resistance: per-peer rate limits on
//! gossip and direct requests, gossip verdicts that count against their
//! sender, and the ban that disconnects a misbehaving member and refuses it
//! at the handshake (`Admission::ban`) for `[limits] ban_secs`.
//!
//! It also gives each peer a fair share of the ingest queue: at most
//! [`MAX_IN_INGEST_PER_PEER`] of its gossip messages wait for verification
//! at once. The queue is first in, first out, so without a share a member
//! flooding within its rate (valid items, which only the publisher limit
//! after verification refuses) would put thousands of items ahead of every
//! other member's; with it, another member's item waits behind at most one
//! share per connected peer. What is over the share is dropped unread
//! (Ignore: a relay of a busy community is not at fault, so it is no strike
//! either), counted as rate limited, and fetched later by catch-up: the
//! share is a rate limit that adapts to how fast this node verifies.
//!
//! The decisions themselves (buckets, strike windows, ban expiry) are plain
//! data structures in `crate::rate_limit`; this file only applies them.

use super::EventLoop;
use crate::ingest::worker::Verdict;
use crate::rate_limit::Counters;
use crate::stages::Stage;
use cairn_protocol::wire::Request;
use libp2p::gossipsub::MessageAcceptance;
use libp2p::PeerId;
use std::time::Instant;
use tracing::{debug, warn};

/// The kind of a request, for its own bucket: a catch-up session's many
/// fetches must not use up the budget of the participation event the same
/// peer sends. (Buckets are not forgotten when a peer disconnects, so
/// reconnecting does not refill them; the limiter's cap bounds the map.)
pub(super) fn request_kind(request: &Request) -> u8 {
    match request {
        Request::Certificate { .. } => 0,
        Request::Participation { .. } => 1,
        Request::Reconcile { .. } => 2,
        Request::Fetch { .. } => 3,
        Request::Revocations { .. } => 4,
        Request::FetchRevocations { .. } => 5,
        Request::Notice { .. } => 6,
        Request::SyncHint { .. } => 7,
    }
}

/// Gossip messages of one peer waiting for verification at once: about a
/// tenth of a second of a loaded node's work, many times what an honest
/// publisher sends in that time. (256 left the publish-flood test's p99 at
/// 0.7-1.6 s on a loaded machine, 128 at 0.4-1.2 s.)
pub const MAX_IN_INGEST_PER_PEER: usize = 128;

impl EventLoop {
    /// Whether `peer`'s share of the ingest queue is taken; counts the
    /// message it would have added if so.
    pub(super) fn ingest_share_taken(&mut self, peer: &PeerId) -> bool {
        let taken = self.in_ingest.get(peer).copied().unwrap_or(0) >= MAX_IN_INGEST_PER_PEER;
        if taken {
            Counters::add(&self.ctx.counters.gossip_rate_limited);
        }
        taken
    }

    /// A message of `peer` went to the ingest queue.
    pub(super) fn queued_for_ingest(&mut self, peer: PeerId) {
        *self.in_ingest.entry(peer).or_default() += 1;
    }

    /// Reports a gossip verdict to gossipsub and counts a rejection the
    /// sender is to blame for.
    pub(super) fn on_verdict(&mut self, v: Verdict) {
        if v.queued {
            if let Some(n) = self.in_ingest.get_mut(&v.source) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.in_ingest.remove(&v.source);
                }
            }
        }
        let known = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&v.message_id, &v.source, v.acceptance);
        if known && v.acceptance == MessageAcceptance::Accept {
            self.ctx.stages.message(&v.message_id, Stage::Relayed, None);
        }
        if !known {
            // Left the cache before its verdict: not relayed from here;
            // catch-up still spreads it.
            debug!(peer = %v.source, "late verdict for an expired gossip message");
        }
        if v.acceptance == MessageAcceptance::Reject {
            Counters::add(&self.ctx.counters.gossip_rejected);
            if v.strike {
                let n = self.invalid.strike(&v.source, Instant::now());
                if n > self.ctx.limits.invalid_before_ban {
                    let why = format!(
                        "{n} invalid gossip messages within {} s",
                        self.ctx.limits.invalid_window_secs
                    );
                    self.ban(v.source, why);
                }
            }
        }
    }

    /// Whether gossip from `peer` is within its rate; counts it if not.
    pub(super) fn gossip_allowed(&mut self, peer: &PeerId) -> bool {
        if self.gossip_limit.allow(peer, Instant::now()) {
            return true;
        }
        Counters::add(&self.ctx.counters.gossip_rate_limited);
        self.excess_strike(*peer);
        false
    }

    /// Whether a request from `peer` is within its kind's rate; counts it
    /// if not.
    pub(super) fn request_allowed(&mut self, peer: &PeerId, request: &Request) -> bool {
        let key = (*peer, request_kind(request));
        if self.request_limit.allow(&key, Instant::now()) {
            return true;
        }
        Counters::add(&self.ctx.counters.requests_rate_limited);
        self.excess_strike(*peer);
        false
    }

    /// A rate-limited message or request: a sustained flood bans its sender.
    fn excess_strike(&mut self, peer: PeerId) {
        let n = self.excess.strike(&peer, Instant::now());
        if n == 1 {
            debug!(%peer, "peer over its rate limit: the excess is dropped");
        }
        if n > self.ctx.limits.excess_before_ban {
            let why = format!(
                "{n} messages and requests over its rate limits within {} s",
                self.ctx.limits.invalid_window_secs
            );
            self.ban(peer, why);
        }
    }

    /// Disconnects `peer` and refuses it at the handshake for the ban time.
    pub(super) fn ban(&mut self, peer: PeerId, why: String) {
        let ban = self.ctx.limits.ban();
        let entity = self
            .peers
            .certificate(&peer)
            .map(|c| c.body.subject.display_name())
            .unwrap_or_default();
        warn!(
            %peer,
            %entity,
            "peer banned for {} s: {why}; disconnecting it and refusing it at the handshake",
            ban.as_secs()
        );
        Counters::add(&self.ctx.counters.peers_banned);
        self.ctx.admission.ban(peer, ban, why);
        self.invalid.clear(&peer);
        self.excess.clear(&peer);
        self.cut_off(peer);
    }
}
