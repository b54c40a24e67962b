//! `cairn-stranger`: a peer with no certificate, built from plain
//! rust-libp2p and none of Cairn's transport, so tests can show what a
//! stranger gets from a `cairnd` it dials: nothing.
//!
//! - `--mode swarm`: a Swarm with TCP, noise, yamux and gossipsub subscribed
//!   to the community's topic, the way any libp2p node would join; it
//!   reports whether a connection is ever established and any gossipsub
//!   event it sees. Its transport negotiates yamux with multistream-select
//!   V1, which waits for the listener to accept, so "established" means the
//!   node took the connection.
//! - `--mode swarm-lazy`: the same with `SwarmBuilder::with_tcp`'s default,
//!   V1Lazy, under which the dialer assumes yamux was accepted and reports
//!   a connection established on its side before the node has said
//!   anything; the node then hangs up.
//! - `--mode silent`: noise only, then it sends nothing and reads until the
//!   node hangs up.
//! - `--mode garbage`: noise, then random bytes where the handshake belongs,
//!   and reads until the node hangs up.
//!
//! It prints one line per thing it saw on stdout, each with the
//! milliseconds since the dial began (`after-ms=`), since how fast the node
//! drops a stranger is what the tests assert, and exits 0.

use anyhow::bail;
use cairn_tests::raw;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::core::upgrade::Version;
use libp2p::gossipsub::{self, IdentTopic, MessageAuthenticity};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{identity, noise, tcp, yamux, Multiaddr, Swarm, Transport};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Swarm,
    SwarmLazy,
    Silent,
    Garbage,
}

#[derive(Debug, clap::Parser)]
#[command(name = "cairn-stranger", about = "A libp2p peer without a certificate")]
struct Args {
    /// The node to dial, ending in /p2p/<peer id>
    #[arg(long, value_name = "ADDR")]
    addr: Multiaddr,
    /// The gossipsub topic to subscribe to (swarm mode)
    #[arg(long, default_value = "cairn")]
    topic: String,
    #[arg(long, value_enum)]
    mode: Mode,
    /// Seconds to watch for anything more once the node has answered
    #[arg(long, default_value_t = 3.0)]
    watch: f64,
}

/// Gives up waiting for the node to hang up after this long.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

fn say(start: Instant, what: String) {
    println!("{what} after-ms={}", start.elapsed().as_millis());
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let keypair = identity::Keypair::generate_ed25519();
    println!("stranger {}", keypair.public().to_peer_id());
    match args.mode {
        Mode::Swarm => {
            let noise = noise::Config::new(&keypair)?;
            let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
                .with_tokio()
                .with_other_transport(|_| {
                    tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
                        .upgrade(Version::V1)
                        .authenticate(noise)
                        .multiplex(yamux::Config::default())
                })?
                .with_behaviour(gossip)?
                .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE))
                .build();
            watch(args, swarm).await
        }
        Mode::SwarmLazy => {
            let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
                .with_tokio()
                .with_tcp(
                    tcp::Config::default().nodelay(true),
                    noise::Config::new,
                    yamux::Config::default,
                )?
                .with_behaviour(gossip)?
                .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE))
                .build();
            watch(args, swarm).await
        }
        Mode::Silent | Mode::Garbage => noise_only(args, keypair).await,
    }
}

/// Keeps a connection open long enough to see what the node would say.
const IDLE: Duration = Duration::from_secs(30);

/// Plain gossipsub, as any libp2p application would configure it.
fn gossip(key: &identity::Keypair) -> gossipsub::Behaviour {
    gossipsub::Behaviour::new(
        MessageAuthenticity::Signed(key.clone()),
        gossipsub::Config::default(),
    )
    .expect("the default gossipsub config is valid")
}

/// Subscribes, dials and reports what happens.
async fn watch(args: Args, mut swarm: Swarm<gossipsub::Behaviour>) -> anyhow::Result<()> {
    swarm
        .behaviour_mut()
        .subscribe(&IdentTopic::new(args.topic.clone()))?;
    let start = Instant::now();
    swarm.dial(args.addr.clone())?;
    say(start, format!("dialing {}", args.addr));
    let mut watch_until = start + READ_TIMEOUT;
    loop {
        let left = watch_until.saturating_duration_since(Instant::now());
        let Ok(event) = tokio::time::timeout(left, swarm.select_next_some()).await else {
            break;
        };
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                say(start, format!("established {peer_id}"));
            }
            SwarmEvent::ConnectionClosed { peer_id, cause, .. } => {
                say(start, format!("closed {peer_id}: {cause:?}"));
            }
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                say(start, format!("dial-failed: {error}"));
                // Keep watching: nothing more may come.
                watch_until = Instant::now() + Duration::from_secs_f64(args.watch);
            }
            SwarmEvent::Behaviour(gossipsub::Event::Subscribed { peer_id, topic }) => {
                say(start, format!("subscribed {peer_id} {topic}"));
            }
            SwarmEvent::Behaviour(e) => say(start, format!("gossipsub-event {e:?}")),
            _ => {}
        }
    }
    say(start, "done".into());
    Ok(())
}

/// Completes noise (the node proves its key, the stranger its own), then
/// stays silent or sends garbage, and waits for the node to hang up.
async fn noise_only(args: Args, keypair: identity::Keypair) -> anyhow::Result<()> {
    let mut addr = args.addr.clone();
    if !matches!(addr.pop(), Some(Protocol::P2p(_))) {
        bail!("the address must end in /p2p/<peer id>");
    }
    let target = raw::socket_addr(&addr)?;
    let start = Instant::now();
    let secured = match raw::connect(target, None).await {
        Ok(socket) => raw::secure(socket, &keypair).await,
        Err(e) => Err(e.into()),
    };
    let (peer, mut io) = match secured {
        Ok(ok) => ok,
        Err(e) => {
            say(start, format!("noise-failed: {e:#}"));
            return Ok(());
        }
    };
    say(start, format!("noise-ok {peer}"));
    if args.mode == Mode::Garbage {
        let junk: Vec<u8> = (0u32..4096)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        match io.write_all(&junk).await {
            Ok(()) => {
                let _ = io.flush().await;
                say(start, format!("sent-garbage {}", junk.len()));
            }
            Err(e) => say(start, format!("send-failed: {e}")),
        }
    }
    // Whatever the node sends before hanging up would be something a
    // stranger learnt; it should be nothing.
    let mut received = Vec::new();
    match tokio::time::timeout(READ_TIMEOUT, io.read_to_end(&mut received)).await {
        Ok(Ok(_)) => say(start, format!("eof received-bytes={}", received.len())),
        Ok(Err(e)) => say(
            start,
            format!("read-error received-bytes={}: {e}", received.len()),
        ),
        Err(_) => say(
            start,
            format!("still-open received-bytes={}", received.len()),
        ),
    }
    say(start, "done".into());
    Ok(())
}
