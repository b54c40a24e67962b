//! The task that owns the Swarm: one `select!` over swarm events, commands
//! and a housekeeping tick. Decisions are delegated to plain functions
//! ([`crate::ingest`], [`super::peers`], [`crate::authority`]); this file only
//! routes events to them and their results back to the network.
//!
//! It also enforces the per-peer limits (`[limits]` in cairn.toml): gossip
//! and direct requests over a peer's rate are dropped unprocessed and
//! counted, and a peer that sends invalid gossip or floods is disconnected
//! and banned at the handshake for a while (`abuse.rs`).

use super::behaviour::{Behaviour, BehaviourEvent, UNADMITTED_SCORE};
use super::bootstrap::Bootstrap;
use super::client::{Client, Command, PublishOutcome, Snapshot};
use super::instances::Instances;
use super::liveness::Liveness;
use super::peers::{application_score, Peers};
use crate::context::Context;
use crate::ingest::worker::Verdict;
use crate::rate_limit::{KeyedLimiter, Strikes};
use crate::stages::Stage;
use cairn_protocol::wire::{self, Request, Response};
use cairn_protocol::Timestamp;
pub use directory::DirectoryState;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance, PublishError};
use libp2p::request_response::{OutboundRequestId, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};
use tracing::{debug, info, info_span, warn};

/// Most encoded items kept while no member is reachable. Each is already in
/// the store, so overflow only delays delivery to catch-up; it loses nothing.
const MAX_QUEUED_PUBLISHES: usize = 10_000;

/// How often bootstrap peers are redialled and admission deadlines checked.
const TICK: Duration = Duration::from_secs(1);

/// Catch-up requests answered at once; more are refused as busy and retried
/// by the asking node's next session.
const MAX_RESPONDERS: usize = 8;

mod abuse;
mod direct;
mod directory;
mod revocation;

/// State owned by the network task.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    client: Client,
    ctx: Arc<Context>,
    topic: IdentTopic,
    peers: Peers,
    /// The config's bootstrap peers and how dialling them goes.
    bootstrap: Bootstrap,
    /// Which node instance is behind each connection (one key, two nodes).
    instances: Instances,
    /// When each connection last answered a ping (dead links, `liveness`).
    liveness: Liveness,
    queued_publishes: VecDeque<Vec<u8>>,
    pending: HashMap<OutboundRequestId, oneshot::Sender<Result<Response, String>>>,
    verdicts: mpsc::Receiver<Verdict>,
    /// Bounds concurrent answers to catch-up requests (each reads the store).
    responders: Arc<Semaphore>,
    /// Ticks when a revocation is added: admitted peers are checked again.
    revocations_changed: tokio::sync::watch::Receiver<u64>,
    /// Gossip messages per peer.
    gossip_limit: KeyedLimiter<PeerId>,
    /// Direct requests per peer and request kind.
    request_limit: KeyedLimiter<(PeerId, u8)>,
    /// Invalid gossip per peer, and rate-limited messages per peer, within
    /// the ban window.
    invalid: Strikes<PeerId>,
    excess: Strikes<PeerId>,
    /// Gossip messages per connected peer waiting in the ingest queue.
    in_ingest: HashMap<PeerId, usize>,
    /// Members' signed addresses and the dials they lead to.
    directory: DirectoryState,
}

impl EventLoop {
    /// Wires the loop; call [`EventLoop::run`] on a task.
    pub fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        client: Client,
        ctx: Arc<Context>,
        bootstrap: Vec<(PeerId, Multiaddr)>,
        verdicts: mpsc::Receiver<Verdict>,
    ) -> Self {
        let topic = IdentTopic::new(ctx.community.items_topic());
        let revocations_changed = ctx.revocations.watch();
        let limits = ctx.limits.clone();
        EventLoop {
            gossip_limit: KeyedLimiter::new(limits.gossip()),
            request_limit: KeyedLimiter::new(limits.requests()),
            invalid: Strikes::new(limits.window()),
            excess: Strikes::new(limits.window()),
            swarm,
            commands,
            client,
            topic,
            peers: Peers::default(),
            bootstrap: Bootstrap::new(&bootstrap),
            instances: Instances::default(),
            liveness: Liveness::default(),
            queued_publishes: VecDeque::new(),
            pending: HashMap::new(),
            verdicts,
            in_ingest: HashMap::new(),
            responders: Arc::new(Semaphore::new(MAX_RESPONDERS)),
            revocations_changed,
            // Not saved and with the default settings until the node hands
            // over its own (`with_directory`).
            directory: DirectoryState::new(&ctx, &Default::default(), Vec::new(), None).0,
            ctx,
        }
    }

    /// Runs until a shutdown command or until every client is dropped.
    pub async fn run(mut self) {
        if let Err(e) = self.swarm.behaviour_mut().gossipsub.subscribe(&self.topic) {
            warn!("cannot subscribe to the items topic: {e}");
        }
        let list: Vec<(PeerId, Multiaddr)> =
            self.bootstrap.list().map(|(p, a)| (p, a.clone())).collect();
        for (peer, addr) in list {
            self.swarm.add_peer_address(peer, addr);
        }
        self.redial();
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(c) => self.on_command(c),
                },
                Some(v) = self.verdicts.recv() => self.on_verdict(v),
                Ok(()) = self.revocations_changed.changed() => self.drop_members_no_longer_valid(),
                _ = tick.tick() => self.on_tick(),
            }
        }
        info!("network task stopped");
    }

    fn on_tick(&mut self) {
        // Certificates expire while connections stay open: re-check them.
        self.drop_members_no_longer_valid();
        self.close_silent_connections();
        self.redial();
        self.directory_tick();
        let peers = &self.peers;
        for line in self
            .instances
            .report(Instant::now(), |p| member_name(peers, p))
        {
            warn!("{line}");
        }
    }

    /// Closes connections that have not answered a ping for a while: the
    /// link is dead or the peer is stopped (`liveness`).
    fn close_silent_connections(&mut self) {
        for (peer, connection, quiet) in self.liveness.silent(Instant::now()) {
            let member = member_name(&self.peers, &peer);
            warn!(%peer, %member, "no answer to pings for {:.1}s: closing the connection", quiet.as_secs_f64());
            self.swarm.close_connection(connection);
        }
    }

    /// Disconnects admitted peers whose certificate expired or was revoked.
    fn drop_members_no_longer_valid(&mut self) {
        let at = Timestamp::now();
        let revocations = self.ctx.revocations.clone();
        let invalid: Vec<(PeerId, String)> = self
            .peers
            .admitted()
            .filter_map(|(p, c)| {
                c.check_validity(at)
                    .and_then(|()| revocations.check_peer(c, at))
                    .err()
                    .map(|e| (*p, e.to_string()))
            })
            .collect();
        for (peer, why) in invalid {
            warn!(%peer, "member certificate no longer serves ({why}): disconnecting");
            self.cut_off(peer);
        }
    }

    /// Stops serving `peer` at once: gossipsub ignores it until its
    /// connections are closed, and they are closed now.
    fn cut_off(&mut self, peer: PeerId) {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(&peer, UNADMITTED_SCORE);
        self.peers.disconnected(&peer);
        let _ = self.swarm.disconnect_peer_id(peer);
    }

    fn redial(&mut self) {
        for (peer, addr) in self.bootstrap.list() {
            if self.peers.is_connected(&peer) || self.ctx.admission.banned(&peer).is_some() {
                continue;
            }
            let opts = DialOpts::peer_id(peer)
                .addresses(vec![addr.clone()])
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            if let Err(e) = self.swarm.dial(opts) {
                debug!(%peer, "dial not started: {e}");
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { data, reply } => {
                let outcome = self.publish(data);
                let _ = reply.send(outcome);
            }
            Command::Request {
                peer,
                request,
                reply,
            } => {
                if self.peers.certificate(&peer).is_none() {
                    let _ = reply.send(Err(format!("{peer} is not a connected member")));
                    return;
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .direct
                    .send_request(&peer, *request);
                self.pending.insert(id, reply);
            }
            Command::Respond { channel, response } => self.respond(channel, *response),
            Command::PresentCertificate { certificate } => {
                let peers: Vec<PeerId> = self.peers.admitted().map(|(p, _)| *p).collect();
                for peer in peers {
                    self.swarm.behaviour_mut().direct.send_request(
                        &peer,
                        Request::Certificate {
                            certificate: (*certificate).clone(),
                        },
                    );
                }
            }
            Command::Snapshot { reply } => {
                let _ = reply.send(Snapshot {
                    peer_id: *self.swarm.local_peer_id(),
                    listen_addrs: self.swarm.listeners().cloned().collect(),
                    members: self
                        .peers
                        .admitted()
                        .map(|(p, c)| (*p, c.clone()))
                        .collect(),
                    seen: self.peers.seen().cloned().collect(),
                    connected_peers: self.swarm.connected_peers().count(),
                    bootstrap: self.bootstrap.view(|p| self.peers.is_connected(p)),
                    duplicates: self.instances.duplicates(),
                    directory: self.directory.views(
                        |p| self.peers.is_connected(p),
                        |p| {
                            self.peers
                                .certificate(p)
                                .map(|c| c.body.subject.display_name())
                        },
                    ),
                    reached: self
                        .peers
                        .admitted()
                        .filter_map(|(p, _)| Some((*p, self.directory.reached_at(p)?)))
                        .collect(),
                });
            }
            Command::Shutdown => {}
        }
    }

    fn publish(&mut self, data: Vec<u8>) -> PublishOutcome {
        match self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data.clone())
        {
            Ok(message_id) => {
                self.ctx.metrics.gossip("sent", data.len());
                self.ctx.stages.message(&message_id, Stage::Gossiped, None);
                PublishOutcome::Sent
            }
            Err(PublishError::Duplicate) => PublishOutcome::Sent,
            Err(e) => {
                debug!("publish deferred: {e}");
                if self.queued_publishes.len() >= MAX_QUEUED_PUBLISHES {
                    self.queued_publishes.pop_front();
                    warn!("publish queue full: the oldest queued item waits for catch-up instead");
                }
                self.queued_publishes.push_back(data);
                PublishOutcome::Queued
            }
        }
    }

    fn flush_queued_publishes(&mut self) {
        while let Some(data) = self.queued_publishes.pop_front() {
            let result = self
                .swarm
                .behaviour_mut()
                .gossipsub
                .publish(self.topic.clone(), data.clone());
            match result {
                Ok(message_id) => {
                    self.ctx.metrics.gossip("sent", data.len());
                    self.ctx.stages.message(&message_id, Stage::Gossiped, None)
                }
                Err(PublishError::Duplicate) => {}
                Err(e) => {
                    debug!("queued publish still deferred: {e}");
                    self.queued_publishes.push_front(data);
                    break;
                }
            }
        }
    }

    fn respond(&mut self, channel: ResponseChannel<Response>, response: Response) {
        if self
            .swarm
            .behaviour_mut()
            .direct
            .send_response(channel, response)
            .is_err()
        {
            debug!("response not sent: the requester went away");
        }
    }

    fn set_score(&mut self, peer: &PeerId) {
        let score = application_score(self.peers.certificate(peer));
        self.swarm
            .behaviour_mut()
            .gossipsub
            .set_application_score(peer, score);
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        self.track_connections(&event);
        self.directory_track(&event);
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                let me = *self.swarm.local_peer_id();
                info!("listening on {address}/p2p/{me}");
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                num_established,
                ..
            } if num_established.get() == 1 && self.peers.connected(peer_id, Instant::now()) => {
                self.on_connected(peer_id)
            }
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                // A further connection to a member: its handshake result is
                // not needed, the first connection's certificate stands.
                let _ = self.ctx.admission.take_admitted(&peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                if self.peers.certificate(&peer_id).is_some() {
                    let member = member_name(&self.peers, &peer_id);
                    info!(peer = %peer_id, %member, "member disconnected");
                }
                self.peers.disconnected(&peer_id);
                self.in_ingest.remove(&peer_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Direct(e)) => self.on_direct(e),
            SwarmEvent::Behaviour(BehaviourEvent::Directory(e)) => self.on_directory(e),
            SwarmEvent::Behaviour(BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                connection,
                result: Err(e),
            })) => {
                // ping no longer closes connections itself; a connection that
                // cannot answer a probe is dead for our purposes. Logged and
                // closed once: ping may report again while it closes.
                if self.liveness.start_closing(connection) {
                    warn!(%peer, "connection unresponsive ({e}): closing it");
                    self.swarm.close_connection(connection);
                } else {
                    debug!(%peer, "connection unresponsive ({e}), already closing");
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                let why = dial_error_text(&error);
                debug!(peer = ?peer_id, "dial failed: {why}");
                if let Some(peer) = peer_id {
                    if let Some(line) = self.bootstrap.dial_failed(&peer, &why, Instant::now()) {
                        warn!("{line}");
                    }
                }
            }
            _ => {}
        }
    }

    /// Keeps the connection bookkeeping that does not decide anything:
    /// which node instance is behind each connection (`instances.rs`) and
    /// how dials to bootstrap peers went.
    fn track_connections(&mut self, event: &SwarmEvent<BehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                let remote = endpoint.get_remote_address().clone();
                self.instances.opened(*peer_id, *connection_id, remote, now);
                self.liveness.opened(*peer_id, *connection_id, now);
                if endpoint.is_dialer() {
                    self.bootstrap.dialled(peer_id);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                connection_id,
                ..
            } => {
                self.instances.closed(peer_id, *connection_id);
                self.liveness.closed(*connection_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                libp2p::identify::Event::Received {
                    connection_id,
                    peer_id,
                    info,
                },
            )) => {
                self.instances
                    .identified(peer_id, *connection_id, info.agent_version.clone());
            }
            SwarmEvent::Behaviour(BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                connection,
                result: Ok(_),
            })) => {
                self.instances.ponged(peer, *connection, now);
                self.liveness.alive(*connection, now);
            }
            _ => {}
        }
    }

    /// A new connection: its certificate was verified in the handshake,
    /// before the swarm heard of it.
    fn on_connected(&mut self, peer: PeerId) {
        let span = info_span!("connect", %peer);
        let _g = span.enter();
        match self.ctx.admission.take_admitted(&peer) {
            Some(certificate) => self.admit(peer, certificate),
            None => {
                // Cannot happen with the admitting transport; refuse rather
                // than serve a peer whose certificate nobody checked.
                warn!("connection without a verified certificate: closing it");
                self.peers.disconnected(&peer);
                let _ = self.swarm.disconnect_peer_id(peer);
            }
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        if let gossipsub::Event::Message { message, .. } = &event {
            self.ctx.metrics.gossip("received", message.data.len());
        }
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            } if self.peers.certificate(&propagation_source).is_none() => {
                warn!(peer = %propagation_source, "gossip from an unadmitted peer rejected");
                self.report(&message_id, &propagation_source, MessageAcceptance::Reject);
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            } if !self.gossip_allowed(&propagation_source) => {
                // Over its rate: dropped before any decoding, without a
                // gossipsub penalty (a relay of a busy community is not
                // forging); sustained excess bans it (`gossip_allowed`).
                self.report(&message_id, &propagation_source, MessageAcceptance::Ignore);
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } if wire::gossip_kind(&message.data).is_none() => {
                self.on_verdict(Verdict {
                    message_id,
                    source: propagation_source,
                    acceptance: MessageAcceptance::Reject,
                    strike: true,
                    queued: false,
                });
                warn!(
                    peer = %propagation_source,
                    size = message.data.len(),
                    "gossip rejected: not a known kind, or over its kind's size limit"
                );
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } if wire::gossip_kind(&message.data) == Some(wire::GossipKind::Revocation) => {
                self.on_gossip_revocation(propagation_source, message_id, message.data)
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => {
                self.ctx
                    .stages
                    .message(&message_id, Stage::Received, Some(propagation_source));
                let acceptance = if self.ingest_share_taken(&propagation_source) {
                    // Counted; catch-up fetches it later (`abuse.rs`).
                    self.ctx.sync.want_session(propagation_source);
                    MessageAcceptance::Ignore
                } else if self.ctx.ingest.try_gossip(
                    message.data,
                    message_id.clone(),
                    propagation_source,
                ) {
                    // The ingest worker reports the verdict when it has one.
                    self.queued_for_ingest(propagation_source);
                    return;
                } else {
                    // Overloaded: drop without penalty and fetch it soon from
                    // the peer that sent it.
                    debug!("ingest queue full: gossip left to catch-up");
                    self.ctx.sync.want_session(propagation_source);
                    MessageAcceptance::Ignore
                };
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
            }
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.topic.hash() => {
                debug!(peer = %peer_id, "member subscribed");
                self.flush_queued_publishes();
            }
            _ => {}
        }
    }
}

/// An admitted peer's entity name (from its certificate), or its PeerId.
pub(crate) fn member_name(peers: &Peers, peer: &PeerId) -> String {
    peers
        .certificate(peer)
        .map(|c| c.body.subject.display_name())
        .unwrap_or_else(|| peer.to_string())
}

/// A dial error on one line with its causes (libp2p's own rendering hides
/// them: "Failed to negotiate transport protocol(s)").
fn dial_error_text(e: &libp2p::swarm::DialError) -> String {
    fn chain(e: &dyn std::error::Error) -> String {
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            let t = c.to_string();
            if text.trim().is_empty() {
                text = t;
            } else if !text.contains(&t) {
                text.push_str(": ");
                text.push_str(&t);
            }
            cause = c.source();
        }
        text
    }
    match e {
        libp2p::swarm::DialError::Transport(errors) => errors
            .iter()
            .map(|(addr, e)| format!("{addr}: {}", chain(e)))
            .collect::<Vec<_>>()
            .join("; "),
        other => chain(other),
    }
}
