//! The network task's side of abuse resistance: per-peer rate limits on
//! gossip and direct requests, gossip verdicts that count against their
//! sender, and the ban that disconnects a misbehaving member and refuses it
//! at the handshake (`Admission::ban`) for `[limits] ban_secs`.
//!
//! The decisions themselves (buckets, strike windows, ban expiry) are plain
//! data structures in `crate::rate_limit`; this file only applies them.

use super::EventLoop;
use crate::ingest::worker::Verdict;
use crate::rate_limit::Counters;
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
    }
}

impl EventLoop {
    /// Reports a gossip verdict to gossipsub and counts a rejection the
    /// sender is to blame for.
    pub(super) fn on_verdict(&mut self, v: Verdict) {
        let known = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&v.message_id, &v.source, v.acceptance);
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
