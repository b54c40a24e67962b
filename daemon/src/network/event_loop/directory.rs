//! The member directory in the network task: this node's record kept
//! current, records exchanged with each member as it is admitted and with
//! one member in turn every few seconds, members dialled from the
//! directory while fewer than `[directory] connections` are connected, and
//! the directory saved to the data directory (off this task) when it
//! changed. The rules are in `network::directory`.

use super::EventLoop;
use crate::context::Context;
use crate::network::directory::MemberDirectory;
use crate::network::directory_config::DirectorySettings;
use crate::network::peers::peer_public_key;
use cairn_protocol::directory::{AddressRecord, DirectoryAnswer, DirectoryRequest, Offered};
use cairn_protocol::Timestamp;
use libp2p::request_response::{self, ResponseChannel};
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tracing::{debug, info, info_span, warn};

/// Past this many records in one answer, new members are logged as one line.
const QUIET_FROM: usize = 3;

/// How often records of members that can no longer take part are dropped
/// (dials check each member again anyway).
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The rate-limit bucket of directory requests (beside the direct
/// requests' kinds, `abuse::request_kind`).
const REQUEST_KIND: u8 = 100;

/// The directory and where it is saved.
pub struct DirectoryState {
    members: MemberDirectory,
    save_to: Option<PathBuf>,
    last_prune: Option<Instant>,
    /// A save is under way (one at a time; changes meanwhile wait for the
    /// next tick).
    saving: Arc<AtomicBool>,
}

impl DirectoryState {
    /// The directory of a node with these settings, starting from the
    /// records saved in `data_dir` (each verified again; a damaged file is
    /// logged and costs only what it lost). Saved there when it changes.
    pub fn load(ctx: &Context, settings: &DirectorySettings, data_dir: PathBuf) -> Self {
        let saved = match cairn_store::directory::load(&data_dir) {
            Ok(l) => {
                if let Some(d) = l.damaged {
                    warn!("the saved member directory is damaged ({d}); members send their records again");
                }
                l.records
            }
            Err(e) => {
                warn!("{e}; starting with an empty member directory");
                Vec::new()
            }
        };
        let held = saved.len();
        let (mut state, kept) = Self::new(ctx, settings, saved, Some(data_dir));
        if held > 0 {
            info!(
                "member directory: {kept} of {held} saved records usable (the rest expired or were revoked)"
            );
        }
        if kept != held {
            state.members.mark_changed();
        }
        state
    }

    /// A directory of `saved` records, saved to `save_to` if given.
    pub fn new(
        ctx: &Context,
        settings: &DirectorySettings,
        saved: Vec<AddressRecord>,
        save_to: Option<PathBuf>,
    ) -> (Self, usize) {
        let (members, kept) = MemberDirectory::new(
            ctx.key.public(),
            settings.announce.clone(),
            settings.connections,
            saved,
            &ctx.community,
            &ctx.revocations.set(),
            Timestamp::now(),
        );
        let state = DirectoryState {
            members,
            save_to,
            saving: Arc::new(AtomicBool::new(false)),
            last_prune: None,
        };
        (state, kept)
    }

    /// Where `peer` was reached, for the members view.
    pub fn reached_at(&self, peer: &PeerId) -> Option<String> {
        self.members.reached_at(peer)
    }

    /// The directory for `cairn status`.
    pub fn views(
        &self,
        is_connected: impl Fn(&PeerId) -> bool,
        name: impl Fn(&PeerId) -> Option<String>,
    ) -> Vec<cairn_protocol::control::DirectoryView> {
        self.members.views(is_connected, name)
    }
}

impl EventLoop {
    /// Uses `directory` instead of the empty one the loop starts with.
    pub fn with_directory(mut self, directory: DirectoryState) -> Self {
        self.directory = directory;
        self
    }

    /// Signs this node's record anew if its addresses or certificate
    /// changed, and then sends it to every admitted member at once (with a
    /// pull, which carries it).
    pub(super) fn directory_refresh_own(&mut self) {
        let listen: Vec<Multiaddr> = self.swarm.listeners().cloned().collect();
        if listen.is_empty() {
            return;
        }
        match self.directory.members.refresh_own(
            &self.ctx.key,
            &self.ctx.certificate(),
            &listen,
            &self.ctx.community,
            &self.ctx.revocations.set(),
            Timestamp::now(),
        ) {
            Ok(true) => {
                info!("member directory: this node's addresses signed anew");
                let admitted: Vec<PeerId> = self.peers.admitted().map(|(p, _)| *p).collect();
                for peer in admitted {
                    self.directory_pull(peer);
                }
            }
            Ok(false) => {}
            // A revoked or expired node: `cairn status` and the log say so
            // elsewhere; this would repeat it every second.
            Err(e) => debug!("this node's directory record not signed: {e}"),
        }
    }

    /// Once a second: the own record, a pull, dials, a save.
    pub(super) fn directory_tick(&mut self) {
        let now = Instant::now();
        let at = Timestamp::now();
        self.directory_refresh_own();
        let revocations = self.ctx.revocations.set();
        let listen: Vec<Multiaddr> = self.swarm.listeners().cloned().collect();
        if self
            .directory
            .last_prune
            .is_none_or(|t| now.duration_since(t) >= PRUNE_EVERY)
        {
            self.directory.last_prune = Some(now);
            self.directory
                .members
                .prune(&self.ctx.community, &revocations, at);
        }

        let admitted: Vec<PeerId> = self.peers.admitted().map(|(p, _)| *p).collect();
        if let Some(peer) = self.directory.members.due_pull(now, &admitted) {
            self.directory_pull(peer);
        }

        let peers = &self.peers;
        let admission = &self.ctx.admission;
        let plan = self.directory.members.dial_plan(
            now,
            at,
            admitted.len(),
            |p| peers.is_connected(p),
            |p| admission.banned(p).is_some(),
            &listen,
            &self.ctx.community,
            &revocations,
        );
        for (peer, addrs) in plan {
            debug!(%peer, ?addrs, "dialling a member from the directory");
            let opts = DialOpts::peer_id(peer)
                .addresses(addrs)
                .condition(PeerCondition::DisconnectedAndNotDialing)
                .build();
            match self.swarm.dial(opts) {
                Ok(()) => self.directory.members.dialling(&peer, now),
                Err(e) => debug!(%peer, "dial not started: {e}"),
            }
        }
        self.directory_save();
    }

    /// Writes the directory file off this task if it changed: at once, so
    /// a node stopped right after learning a member still knows it.
    fn directory_save(&mut self) {
        let Some(dir) = self.directory.save_to.clone() else {
            return;
        };
        if self.directory.saving.load(Ordering::Acquire) {
            return;
        }
        let Some(records) = self.directory.members.take_changes() else {
            return;
        };
        self.directory.saving.store(true, Ordering::Release);
        let saving = self.directory.saving.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cairn_store::directory::save(&dir, &records) {
                warn!("{e}");
            }
            saving.store(false, Ordering::Release);
        });
    }

    /// Asks `peer` for the records this node lacks (on admission, and in
    /// turn).
    pub(super) fn directory_pull(&mut self, peer: PeerId) {
        let request = self.directory.members.request();
        self.swarm
            .behaviour_mut()
            .directory
            .send_request(&peer, request);
    }

    pub(super) fn on_directory(
        &mut self,
        event: request_response::Event<DirectoryRequest, DirectoryAnswer>,
    ) {
        use request_response::{Event, Message};
        match event {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.directory_answer(peer, request, channel),
            Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => self.directory_learn(peer, response),
            Event::OutboundFailure { peer, error, .. } => {
                debug!(%peer, "directory request failed: {error}");
            }
            Event::InboundFailure { peer, error, .. } => {
                debug!(%peer, "directory request not answered: {error}");
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn directory_answer(
        &mut self,
        peer: PeerId,
        request: DirectoryRequest,
        channel: ResponseChannel<DirectoryAnswer>,
    ) {
        // Members only (admission is in the transport; this guards the
        // moment between a connection and its admission), within rate.
        if self.peers.certificate(&peer).is_none()
            || !self
                .request_limit
                .allow(&(peer, REQUEST_KIND), Instant::now())
        {
            debug!(%peer, "directory request dropped");
            return;
        }
        if let Some(record) = request.mine.clone() {
            // The asker's own record: taken like any other it could have
            // sent, and only as its own (a relay answers, it does not ask).
            if crate::network::peers::peer_id_of(record.key()) == peer {
                self.directory_take(peer, vec![record]);
            }
        }
        let answer = self.directory.members.answer(&request);
        if self
            .swarm
            .behaviour_mut()
            .directory
            .send_response(channel, answer)
            .is_err()
        {
            debug!(%peer, "directory answer not sent: the requester went away");
        }
    }

    fn directory_learn(&mut self, peer: PeerId, answer: DirectoryAnswer) {
        self.directory_take(peer, answer.records);
    }

    /// Records `peer` sent: kept if they verify and are newer.
    fn directory_take(&mut self, peer: PeerId, records: Vec<AddressRecord>) {
        let span = info_span!("directory", %peer);
        let _g = span.enter();
        let Some(from) = peer_public_key(&peer) else {
            return;
        };
        let from_name = super::member_name(&self.peers, &peer);
        let revocations = self.ctx.revocations.set();
        let now = Timestamp::now();
        // One line per member when a few arrive; a node joining a large
        // community learns hundreds at once, and gets one line for them.
        let quiet = records.len() > QUIET_FROM;
        let mut learned = 0;
        for record in records {
            let member = record.certificate.body.subject.display_name();
            let member_peer = crate::network::peers::peer_id_of(record.key());
            let addresses = record.body.addresses.join(", ");
            let certificate = record.certificate.clone();
            let outcome =
                self.directory
                    .members
                    .offer(record, from, &self.ctx.community, &revocations, now);
            if matches!(outcome, Ok(Offered::New | Offered::Newer)) {
                // Its certificate lets this node seal audience items to a
                // member it has never met (an index write, not synced).
                if let Err(e) = self.ctx.items.remember_certificate(&certificate) {
                    warn!(%member, "cannot remember the member's certificate: {e}");
                }
            }
            match outcome {
                Ok(Offered::New) if quiet => {
                    learned += 1;
                    debug!(%member, member_peer = %member_peer, %addresses, "member directory: learned");
                }
                Ok(Offered::New) => info!(
                    %member, member_peer = %member_peer, %addresses,
                    "member directory: learned where {member} listens, from {from_name}"
                ),
                Ok(Offered::Newer) => debug!(%member, %addresses, "member directory: newer record"),
                Ok(Offered::Stale) => {}
                // A record can fail for reasons that are nobody's fault (a
                // revocation the sender has not learned yet), so no strike.
                Err(e) => debug!(%member, "directory record refused: {e}"),
            }
        }
        if learned > 0 {
            info!("member directory: learned where {learned} members listen, from {from_name}");
        }
        self.directory_save();
    }

    /// Connection bookkeeping for the directory: where members were
    /// reached, and how dials to them went.
    pub(super) fn directory_track(&mut self, event: &SwarmEvent<super::BehaviourEvent>) {
        match event {
            // Port 0 is resolved now: sign the real address before any
            // member asks for it.
            SwarmEvent::NewListenAddr { .. } | SwarmEvent::ExpiredListenAddr { .. } => {
                self.directory_refresh_own()
            }
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => self.directory.members.connected(
                *peer_id,
                endpoint.get_remote_address().clone(),
                endpoint.is_dialer(),
            ),
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => self.directory.members.disconnected(peer_id),
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } => {
                let why = super::dial_error_text(error);
                if let Some(line) = self
                    .directory
                    .members
                    .dial_failed(peer, &why, Instant::now())
                {
                    info!("{line}");
                }
            }
            _ => {}
        }
    }
}
