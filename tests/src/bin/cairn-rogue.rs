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
//!
//! One file per concern, in `cairn-rogue/`: the node and what it sees
//! (`node.rs`), the items of the publishing modes (`items.rs`), the flood
//! (`flood.rs`) and the participation-event modes (`events.rs`).

#[path = "cairn-rogue/events.rs"]
mod events;
#[path = "cairn-rogue/flood.rs"]
mod flood;
#[path = "cairn-rogue/items.rs"]
mod items;
#[path = "cairn-rogue/node.rs"]
mod node;

use anyhow::{bail, Context as _};
use cairn_daemon::network::admission::Admission;
use cairn_daemon::network::behaviour::build_swarm;
use cairn_daemon::revocations::Revocations;
use cairn_protocol::codec;
use cairn_protocol::{SignedEvent, Timestamp};
use cairn_store::files;
use clap::{Parser, ValueEnum};
use events::{replay_event, send_event};
use items::item;
use libp2p::gossipsub::IdentTopic;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{identity, Multiaddr, PeerId};
use node::{Rogue, Seen, READY_TIMEOUT};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

fn say(line: String) {
    println!("{line}");
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
