//! `cairn-rogue`: a node that speaks Cairn's real wire protocol (the same
//! swarm, codec and topic as `cairnd`) but skips every check an honest node
//! makes, so tests can throw at honest nodes what an attacker would.
//!
//! It dials the bootstrap addresses through the real admission handshake,
//! presenting its certificate, subscribes to the community's items topic,
//! waits until every bootstrap peer has admitted or refused it and one is
//! subscribed (or a timeout), then publishes `--count` items:
//!
//! - `--mode valid`: properly signed items;
//! - `--mode forged`: even items with a flipped signature byte, odd items
//!   with the title changed after signing;
//! - `--mode red-to-all`: TLP:RED items to the whole community, which the
//!   marking rule forbids (signed by hand);
//! - `--mode relabelled`: TLP:AMBER+STRICT items sealed to the rogue, then
//!   altered as a relay would: even ones lowered to TLP:AMBER, odd ones with
//!   a recipient and a sector added to their audience (titles are sealed:
//!   tests look for their ids);
//! - `--mode flood --seconds S [--prepare P]`: properly signed items
//!   published one after another as fast as the rogue can for S seconds
//!   (publishing fails while every peer's send queue is full; those are
//!   counted), then `flooded published=N failed=M per-second=R`. With
//!   `--prepare`, it first signs and encodes items for P seconds (up to
//!   100,000), says `flooding prepared=N` and publishes those before it
//!   signs more: a real flooder signs on its own machine, not on the CPU
//!   of the nodes under attack;
//! - `--mode send-event --event FILE`: no items; sends the participation
//!   event in FILE (signed by someone else, say the member's own node) once
//!   to the authority and prints the answer, which goes no further: the
//!   receipt is lost to the event's signer;
//! - `--mode replay-event --event FILE`: no items; sends the participation
//!   event in FILE (a `Joined`, sequence 1, signed and written there first
//!   if FILE does not exist) `--count` times at once to the authority, then
//!   one other event under the same number and one that skips a number.
//!   Each answer is printed as `receipt-from PEER index=I digest=D` or
//!   `request-refused-by PEER: REASON`.
//!
//! With `--item-key FILE --item-cert FILE`, items are signed with that key
//! and carry that certificate (a pseudonymous one, say) while the rogue
//! connects with `--key` and `--cert`.
//!
//! With `--redial`, after lingering it dials every bootstrap peer that
//! disconnected it again and reports the outcome (a banned rogue sees
//! `refused-by PEER: ... banned ...`).
//!
//! Every title contains `ROGUE-<mode>-<i>` so tests can look for it. It
//! prints one line per thing it did or saw on stdout, lingers `--linger`
//! seconds so gossip can flow, and exits 0. A refusal line says how long
//! after the dial it came (`after-ms=`), since the refusal's speed is part of
//! what the tests assert. The key need not match the certificate: a rogue
//! presenting a stolen certificate signs with its own key.

use anyhow::{bail, Context as _};
use cairn_daemon::network::admission::Admission;
use cairn_daemon::network::behaviour::{build_swarm, Behaviour, BehaviourEvent};
use cairn_daemon::revocations::Revocations;
use cairn_protocol::codec;
use cairn_protocol::signing::{signing_input, DOMAIN_ITEM};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{
    Certificate, Community, Content, Contents, EncryptionSecretKey, EventBody, ItemBody, ItemKind,
    ParticipationKind, SecretKey, SignedEvent, SignedItem, Timestamp, Tlp,
};
use cairn_store::files;
use clap::{Parser, ValueEnum};
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, Message};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, Multiaddr, PeerId, Swarm};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long to wait for a subscribed peer that answered the Hello.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Valid,
    Forged,
    Flood,
    SendEvent,
    ReplayEvent,
    /// TLP:RED to the whole community (hand-signed past the marking rule).
    RedToAll,
    /// Sealed TLP:AMBER+STRICT items, then, as a relay would, even ones
    /// lowered to TLP:AMBER and odd ones with their audience widened.
    Relabelled,
}

impl Mode {
    fn as_str(self) -> &'static str {
        match self {
            Mode::Valid => "valid",
            Mode::Forged => "forged",
            Mode::Flood => "flood",
            Mode::SendEvent => "send-event",
            Mode::ReplayEvent => "replay-event",
            Mode::RedToAll => "red-to-all",
            Mode::Relabelled => "relabelled",
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "cairn-rogue",
    about = "A Cairn node that skips the honest checks"
)]
struct Args {
    /// The community file whose items topic to target
    #[arg(long, value_name = "FILE")]
    community: PathBuf,
    /// The rogue's secret key file (also its libp2p identity)
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The certificate to present and to name as publisher
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// A node to dial, ending in /p2p/<peer id> (repeatable)
    #[arg(long, value_name = "ADDR", required = true)]
    bootstrap: Vec<String>,
    #[arg(long, value_enum)]
    mode: Mode,
    /// How many items to publish
    #[arg(long, default_value_t = 3)]
    count: usize,
    /// Seconds to keep running after publishing
    #[arg(long, default_value_t = 2.0)]
    linger: f64,
    /// Claim this creation time (ms since the epoch) for every item, as a
    /// thief holding a leaked key would to back-date them
    #[arg(long, value_name = "MS")]
    created_ms: Option<u64>,
    /// The participation event to replay (replay-event mode)
    #[arg(long, value_name = "FILE")]
    event: Option<PathBuf>,
    /// Dial again every bootstrap peer that disconnected the rogue
    #[arg(long)]
    redial: bool,
    /// How long to flood (flood mode)
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds spent signing items before the flood (flood mode)
    #[arg(long, default_value_t = 0.0)]
    prepare: f64,
    /// Sign items with this key instead of --key
    #[arg(long, value_name = "FILE", requires = "item_cert")]
    item_key: Option<PathBuf>,
    /// Send items with this certificate instead of --cert
    #[arg(long, value_name = "FILE", requires = "item_key")]
    item_cert: Option<PathBuf>,
}

/// What the rogue has seen of its peers.
#[derive(Default)]
struct Seen {
    bootstrap: HashSet<PeerId>,
    /// When each bootstrap peer was dialled.
    dialled: HashMap<PeerId, Instant>,
    connected: HashSet<PeerId>,
    subscribed: HashSet<PeerId>,
    answered: HashSet<PeerId>,
    refused: HashSet<PeerId>,
    /// Answers to participation events (receipts and refusals).
    event_answers: usize,
}

impl Seen {
    /// Every bootstrap peer admitted or refused the rogue, and one admitted
    /// peer is subscribed (or every one refused it).
    fn ready(&self) -> bool {
        let all_answered = self.bootstrap.iter().all(|p| self.answered.contains(p));
        all_answered
            && (!self.subscribed.is_empty()
                || self.bootstrap.iter().all(|p| self.refused.contains(p)))
    }
}

struct Rogue {
    swarm: Swarm<Behaviour>,
    topic: IdentTopic,
    certificate: Certificate,
    /// The certificate items travel with.
    item_certificate: Certificate,
    seen: Seen,
}

fn say(line: String) {
    println!("{line}");
}

impl Rogue {
    /// Handles swarm events until `deadline` or until `stop` says so.
    async fn drive(&mut self, deadline: Instant, stop: impl Fn(&Seen) -> bool) {
        while !stop(&self.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            match tokio::time::timeout(left, self.swarm.select_next_some()).await {
                Ok(event) => self.on_event(event),
                Err(_) => return,
            }
        }
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. }
                if self.seen.connected.insert(peer_id) =>
            {
                // The handshake admitted it.
                self.seen.answered.insert(peer_id);
                say(format!("connected {peer_id}"));
                say(format!("welcomed-by {peer_id}"));
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                self.seen.connected.remove(&peer_id);
                self.seen.subscribed.remove(&peer_id);
                say(format!("disconnected {peer_id}"));
            }
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer),
                error,
                ..
            } if format!("{error:?}").contains("RefusedByPeer") => {
                self.seen.answered.insert(peer);
                let detail = format!("{error:?}");
                let after = self
                    .seen
                    .dialled
                    .get(&peer)
                    .map_or(u128::MAX, |t| t.elapsed().as_millis());
                if self.seen.refused.insert(peer) {
                    say(format!("refused-by {peer} after-ms={after}: {detail}"));
                }
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                if let Some(peer) = peer_id {
                    self.seen.answered.insert(peer);
                }
                say(format!("dial-failed {peer_id:?}: {error}"));
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(e)) => self.on_gossip(e),
            SwarmEvent::Behaviour(BehaviourEvent::Direct(e)) => self.on_direct(e),
            _ => {}
        }
    }

    fn on_gossip(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Subscribed { peer_id, topic } if topic == self.topic.hash() => {
                self.seen.subscribed.insert(peer_id);
                say(format!("subscribed {peer_id}"));
            }
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                ..
            } => {
                // Seen, never relayed: the rogue is not here to help.
                say(format!("received-gossip from {propagation_source}"));
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(
                        &message_id,
                        &propagation_source,
                        MessageAcceptance::Ignore,
                    );
            }
            _ => {}
        }
    }

    fn on_direct(&mut self, event: request_response::Event<Request, Response>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let response = Response::Refused {
                    reason: format!("a rogue answers nothing ({request:?})"),
                };
                say(format!("request-from {peer}"));
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .direct
                    .send_response(channel, response);
            }
            request_response::Event::Message {
                peer,
                message: Message::Response { response, .. },
                ..
            } => {
                self.seen.answered.insert(peer);
                match response {
                    Response::Refused { reason } => {
                        self.seen.event_answers += 1;
                        say(format!("request-refused-by {peer}: {reason}"))
                    }
                    Response::Receipt { receipt } => {
                        self.seen.event_answers += 1;
                        let bytes = codec::encode(&receipt).expect("a receipt encodes");
                        let digest = cairn_protocol::hash::sha256(&[&bytes]);
                        say(format!(
                            "receipt-from {peer} index={} digest={}",
                            receipt.body.register_index,
                            hex(&digest)
                        ))
                    }
                    _ => say(format!("other-response-from {peer}")),
                }
            }
            request_response::Event::OutboundFailure { peer, error, .. } => {
                self.seen.answered.insert(peer);
                self.seen.event_answers += 1;
                say(format!("request-failed {peer}: {error}"));
            }
            _ => {}
        }
    }

    /// Publishes one encoded gossip message and reports it.
    fn publish(&mut self, title: &str, item: SignedItem) {
        let id = item.id();
        match self.send(item) {
            Ok(()) => say(format!("published {title} id={id}")),
            Err(e) => say(format!("publish-failed {title}: {e}")),
        }
    }

    /// Hands one item to gossipsub.
    fn send(&mut self, item: SignedItem) -> Result<(), gossipsub::PublishError> {
        let data = self.encode(item);
        self.send_encoded(data)
    }

    fn encode(&self, item: SignedItem) -> Vec<u8> {
        let message = GossipMessage::Item {
            item,
            certificate: self.item_certificate.clone(),
        };
        codec::encode(&message).expect("a rogue item still encodes")
    }

    fn send_encoded(&mut self, data: Vec<u8>) -> Result<(), gossipsub::PublishError> {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), data)
            .map(|_| ())
    }

    /// Item `i` of a flood, signed and encoded.
    fn flood_item(&self, i: usize, community: &Community, key: &SecretKey) -> Vec<u8> {
        let (_, item) = item(
            i,
            Mode::Flood,
            Timestamp::now(),
            community,
            key,
            &self.certificate,
        )
        .expect("a flood item signs");
        self.encode(item)
    }

    /// Signs items for `prepare`, then publishes as fast as it can until
    /// `seconds` have passed, letting the swarm run between small batches
    /// so they leave.
    async fn flood(
        &mut self,
        prepare: Duration,
        seconds: Duration,
        c: &Community,
        key: &SecretKey,
    ) {
        const MOST_PREPARED: usize = 100_000;
        let ready = Instant::now() + prepare;
        let mut prepared = std::collections::VecDeque::new();
        while Instant::now() < ready && prepared.len() < MOST_PREPARED {
            prepared.push_back(self.flood_item(prepared.len(), c, key));
        }
        let mut i = prepared.len();
        say(format!("flooding prepared={i}"));
        let start = Instant::now();
        let end = start + seconds;
        let (mut published, mut failed) = (0u64, 0u64);
        while Instant::now() < end {
            for _ in 0..16 {
                let data = prepared.pop_front().unwrap_or_else(|| {
                    i += 1;
                    self.flood_item(i, c, key)
                });
                match self.send_encoded(data) {
                    Ok(()) => published += 1,
                    Err(_) => failed += 1,
                }
            }
            self.drive(Instant::now() + Duration::from_millis(1), |_| false)
                .await;
        }
        let secs = start.elapsed().as_secs_f64();
        say(format!(
            "flooded published={published} failed={failed} per-second={:.0}",
            published as f64 / secs
        ));
    }
}

/// Item `i` in `mode`: signed, then (forged) broken after signing.
fn item(
    i: usize,
    mode: Mode,
    created: Timestamp,
    community: &Community,
    key: &SecretKey,
    certificate: &Certificate,
) -> anyhow::Result<(String, SignedItem)> {
    let marker = format!("ROGUE-{}-{i}", mode.as_str());
    let body = ItemBody {
        community: community.id,
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Green,
        content: Content::Open(Contents {
            title: format!("{marker} C2 server at 198.51.100.{i}"),
            body: "Block this address at the perimeter.".into(),
            payload: None,
            tags: vec!["rsit:malicious-code".into()],
        }),
        created,
        publisher: certificate.id(),
    };
    let mut body = body;
    match mode {
        Mode::RedToAll => body.tlp = Tlp::Red,
        Mode::Relabelled => {
            body.tlp = Tlp::AmberStrict;
            let Content::Open(contents) = &body.content else {
                unreachable!("built open above")
            };
            let me = (key.public(), EncryptionSecretKey::derive_from(key).public());
            let envelope =
                cairn_protocol::envelope::seal(contents, &[me], vec![], body.seal_context())?;
            body.content = Content::Sealed(envelope);
        }
        _ => {}
    }
    let mut item = if certificate.body.member_key == key.public() && mode != Mode::RedToAll {
        SignedItem::sign(body, key, certificate).context("signing")?
    } else {
        // A stolen certificate, or a marking `SignedItem::sign` refuses:
        // signed by hand.
        let signature = key.sign(&signing_input(DOMAIN_ITEM, &body)?);
        SignedItem { body, signature }
    };
    if mode == Mode::Relabelled {
        if i & 1 == 0 {
            item.body.tlp = Tlp::Amber;
        } else if let Content::Sealed(e) = &mut item.body.content {
            let mut widened = e.recipients[0].clone();
            widened.member_key = SecretKey::from_seed(&[i as u8; 32]).public();
            e.recipients.push(widened);
            e.selectors.push(cairn_protocol::Selector::Sector(
                cairn_protocol::Sector::Energy,
            ));
        }
    }
    if mode == Mode::Forged {
        if i & 1 == 0 {
            item.signature.0[7] ^= 0x01;
        } else {
            if let Content::Open(c) = &mut item.body.content {
                c.title = format!("{marker} (altered after signing) C2 at 192.0.2.66");
            }
        }
    }
    let title = match &item.body.content {
        Content::Open(c) => c.title.clone(),
        Content::Sealed(_) => marker,
    };
    Ok((title, item))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A participation event of the rogue's own, signed with its key.
fn event(
    community: &Community,
    key: &SecretKey,
    certificate: &Certificate,
    kind: ParticipationKind,
    sequence: u64,
) -> anyhow::Result<SignedEvent> {
    let body = EventBody {
        community: community.id,
        kind,
        effective: Timestamp::now(),
        certificate: certificate.clone(),
        sequence,
    };
    SignedEvent::sign(body, key).context("signing the event")
}

/// Sends the event in `file` (made first if missing) `count` times at once
/// to the authority, then, once the first answer is back, a different event
/// under the same number and one that skips a number. (Sent together, the
/// authority could take a conflicting withdrawal first: registered, it
/// revokes the certificate and the test's second run could not connect.)
async fn replay_event(
    rogue: &mut Rogue,
    file: &std::path::Path,
    count: usize,
    community: &Community,
    key: &SecretKey,
) -> anyhow::Result<()> {
    let original = if file.exists() {
        codec::decode::<SignedEvent>(&std::fs::read(file)?).context("reading the event")?
    } else {
        let e = event(
            community,
            key,
            &rogue.certificate,
            ParticipationKind::Joined,
            1,
        )?;
        std::fs::write(file, codec::encode(&e)?)?;
        e
    };
    let authority = cairn_daemon::network::peers::peer_id_of(&community.authority);
    let sequence = original.body.sequence;
    let kind = ParticipationKind::WithdrawalEffective;
    let conflicting = vec![
        event(community, key, &rogue.certificate, kind, sequence)?,
        event(community, key, &rogue.certificate, kind, sequence + 2)?,
    ];
    let before = rogue.seen.event_answers;
    for e in vec![original; count] {
        send_event(rogue, &authority, e);
    }
    rogue
        .drive(Instant::now() + READY_TIMEOUT, |s| s.event_answers > before)
        .await;
    for e in conflicting {
        send_event(rogue, &authority, e);
    }
    Ok(())
}

fn send_event(rogue: &mut Rogue, authority: &PeerId, event: SignedEvent) {
    say(format!(
        "sent-event id={} sequence={}",
        event.id(),
        event.body.sequence
    ));
    rogue
        .swarm
        .behaviour_mut()
        .direct
        .send_request(authority, Request::Participation { event });
}

fn parse_bootstrap(s: &str) -> anyhow::Result<(PeerId, Multiaddr)> {
    let mut addr: Multiaddr = s.parse().with_context(|| format!("bad address {s}"))?;
    match addr.pop() {
        Some(Protocol::P2p(peer)) => Ok((peer, addr)),
        _ => bail!("bootstrap address {s} must end in /p2p/<peer id>"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let community = files::read_community(&args.community)?;
    let key = files::read_secret_key(&args.key)?;
    let certificate = files::read_certificate(&args.cert)?;
    let keypair = identity::Keypair::ed25519_from_bytes(key.to_seed().to_vec())?;
    let topic = IdentTopic::new(community.items_topic());
    // The real admission handshake, presenting the rogue's certificate
    // (its own checks of others are the honest ones: it wants in).
    let scratch = tempfile::tempdir()?;
    let (log, stored) = cairn_store::RevocationLog::open(scratch.path())?;
    let revocations = std::sync::Arc::new(Revocations::load(
        community.clone(),
        std::sync::Arc::new(log),
        stored,
        Timestamp::now(),
    ));
    let admission = Admission::new(community.clone(), certificate.clone(), revocations);
    let mut swarm = build_swarm(keypair, &topic, Some(std::sync::Arc::new(admission)))?;
    swarm.behaviour_mut().gossipsub.subscribe(&topic)?;
    say(format!(
        "rogue {} certificate {} mode {}",
        swarm.local_peer_id(),
        certificate.id(),
        args.mode.as_str()
    ));
    let mut seen = Seen::default();
    for b in &args.bootstrap {
        let (peer, addr) = parse_bootstrap(b)?;
        seen.dialled.insert(peer, Instant::now());
        swarm.dial(DialOpts::peer_id(peer).addresses(vec![addr]).build())?;
        seen.bootstrap.insert(peer);
    }
    let (item_key, item_certificate) = match (&args.item_key, &args.item_cert) {
        (Some(k), Some(c)) => (files::read_secret_key(k)?, files::read_certificate(c)?),
        _ => (key.clone(), certificate.clone()),
    };
    let mut rogue = Rogue {
        swarm,
        topic,
        certificate: certificate.clone(),
        item_certificate: item_certificate.clone(),
        seen,
    };

    rogue
        .drive(Instant::now() + READY_TIMEOUT, Seen::ready)
        .await;
    say(format!(
        "ready: {} connected, {} subscribed, {} answered",
        rogue.seen.connected.len(),
        rogue.seen.subscribed.len(),
        rogue.seen.answered.len()
    ));
    if args.mode == Mode::ReplayEvent {
        let file = args.event.as_deref().context("--event FILE is required")?;
        replay_event(&mut rogue, file, args.count, &community, &key).await?;
    } else if args.mode == Mode::SendEvent {
        let file = args.event.as_deref().context("--event FILE is required")?;
        let event =
            codec::decode::<SignedEvent>(&std::fs::read(file)?).context("reading the event")?;
        let authority = cairn_daemon::network::peers::peer_id_of(&community.authority);
        let before = rogue.seen.event_answers;
        send_event(&mut rogue, &authority, event);
        rogue
            .drive(Instant::now() + READY_TIMEOUT, |s| s.event_answers > before)
            .await;
    } else if args.mode == Mode::Flood {
        let prepare = Duration::from_secs_f64(args.prepare);
        let seconds = Duration::from_secs_f64(args.seconds);
        rogue.flood(prepare, seconds, &community, &key).await;
    } else {
        for i in 0..args.count {
            let created = args.created_ms.map_or_else(Timestamp::now, Timestamp);
            let (title, item) = item(
                i,
                args.mode,
                created,
                &community,
                &item_key,
                &item_certificate,
            )?;
            rogue.publish(&title, item);
            // Let the swarm send it before the next one.
            rogue
                .drive(Instant::now() + Duration::from_millis(50), |_| false)
                .await;
        }
    }
    rogue
        .drive(
            Instant::now() + Duration::from_secs_f64(args.linger),
            |_| false,
        )
        .await;
    if args.redial {
        let gone: Vec<PeerId> = rogue
            .seen
            .bootstrap
            .iter()
            .filter(|p| !rogue.seen.connected.contains(p))
            .copied()
            .collect();
        for b in &args.bootstrap {
            let (peer, addr) = parse_bootstrap(b)?;
            if gone.contains(&peer) {
                say(format!("redialling {peer}"));
                rogue.seen.answered.remove(&peer);
                rogue.seen.refused.remove(&peer);
                rogue
                    .swarm
                    .dial(DialOpts::peer_id(peer).addresses(vec![addr]).build())?;
            }
        }
        let wanted = gone.clone();
        rogue
            .drive(Instant::now() + READY_TIMEOUT, move |s| {
                wanted.iter().all(|p| s.answered.contains(p))
            })
            .await;
    }
    say("done".into());
    Ok(())
}
