//! `cairn-flood`: a connection flood against one node, from many source
//! addresses at once, for the connection-flood test (`tests/floods.rs`).
//! Nothing of Cairn's: plain TCP and, where asked, libp2p's noise.
//!
//! Three kinds of attacker, each a task that reconnects as soon as the node
//! lets go, for `--seconds`:
//!
//! - `--strangers N`: certificate-less libp2p peers, each with its own
//!   PeerId: TCP, multistream-select, noise, then what a libp2p dialer
//!   sends next (a proposal for yamux); then it waits for the node to hang
//!   up, pauses up to `--pause-ms` and dials again;
//! - `--slow N`: slow-byte attackers: TCP, then one byte of a
//!   multistream-select header every `--dribble-ms`, never a whole line;
//! - `--stall N`: noise completed, then silence.
//!
//! Attacker `i` binds to source address `i mod len(--source)`. At the end it
//! prints one JSON line per kind: connections made, failed connects, and how
//! long the node held each connection (from TCP connect to its hang-up).

use cairn_tests::raw;
use clap::Parser;
use futures::AsyncReadExt;
use libp2p::identity;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[derive(Debug, Parser)]
#[command(name = "cairn-flood", about = "A connection flood against one node")]
struct Args {
    /// The node's TCP address (IP:PORT)
    #[arg(long)]
    target: SocketAddr,
    /// Source addresses to dial from (repeatable; none: the kernel's choice)
    #[arg(long = "source")]
    sources: Vec<IpAddr>,
    #[arg(long, default_value_t = 0)]
    strangers: usize,
    #[arg(long, default_value_t = 0)]
    slow: usize,
    #[arg(long, default_value_t = 0)]
    stall: usize,
    /// How long the flood lasts
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Longest pause of a stranger between a hang-up and its next dial
    #[arg(long, default_value_t = 500)]
    pause_ms: u64,
    /// Interval between the slow attackers' bytes
    #[arg(long, default_value_t = 300)]
    dribble_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stranger,
    Slow,
    Stall,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Stranger => "stranger",
            Kind::Slow => "slow",
            Kind::Stall => "stall",
        }
    }
}

/// What one kind of attacker saw.
#[derive(Default)]
struct Tally {
    connections: u64,
    failed_connects: u64,
    /// Milliseconds each connection was held, in the order they ended.
    held_ms: Vec<u64>,
}

type Tallies = Arc<Mutex<[Tally; 3]>>;

fn record(tallies: &Tallies, kind: Kind, f: impl FnOnce(&mut Tally)) {
    f(&mut tallies.lock().expect("tally lock")[kind as usize]);
}

/// A pause in `[0, max)` from a cheap per-task sequence.
fn pause(seed: &mut u64, max_ms: u64) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    Duration::from_millis(*seed % max_ms.max(1))
}

/// One attacker: connects, does its kind's thing until the node hangs up,
/// and starts again, until `end`.
async fn attacker(
    args: Arc<Args>,
    kind: Kind,
    i: usize,
    end: Instant,
    tallies: Tallies,
) -> anyhow::Result<()> {
    let source = (!args.sources.is_empty()).then(|| args.sources[i % args.sources.len()]);
    let keypair = identity::Keypair::generate_ed25519();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1);
    while Instant::now() < end {
        let socket = match raw::connect(args.target, source).await {
            Ok(s) => s,
            Err(_) => {
                record(&tallies, kind, |t| t.failed_connects += 1);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let connected = Instant::now();
        record(&tallies, kind, |t| t.connections += 1);
        match kind {
            Kind::Stranger => stranger(socket, &keypair).await,
            Kind::Slow => slow(socket, args.dribble_ms).await,
            Kind::Stall => stall(socket, &keypair).await,
        }
        let held = connected.elapsed().as_millis() as u64;
        record(&tallies, kind, |t| t.held_ms.push(held));
        if kind == Kind::Stranger {
            tokio::time::sleep(pause(&mut seed, args.pause_ms)).await;
        }
    }
    Ok(())
}

/// Noise, a yamux proposal, then whatever the node does until it hangs up.
async fn stranger(socket: tokio::net::TcpStream, keypair: &identity::Keypair) {
    let Ok((_, mut io)) = raw::secure(socket, keypair).await else {
        return;
    };
    let proposal = [raw::MULTISTREAM, raw::YAMUX].concat();
    if futures::AsyncWriteExt::write_all(&mut io, &proposal)
        .await
        .is_err()
    {
        return;
    }
    let _ = futures::AsyncWriteExt::flush(&mut io).await;
    let mut sink = Vec::new();
    let _ = io.read_to_end(&mut sink).await;
}

/// One byte at a time, never completing a line.
async fn slow(socket: tokio::net::TcpStream, dribble_ms: u64) {
    let (mut read, mut write) = socket.into_split();
    let mut byte = 0usize;
    let mut buf = [0u8; 256];
    loop {
        tokio::select! {
            r = read.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = tokio::time::sleep(Duration::from_millis(dribble_ms)) => {
                // Cycle within the header's first bytes: the length byte
                // promises 19, and fewer ever arrive in a row.
                let b = raw::MULTISTREAM[byte % (raw::MULTISTREAM.len() - 1)];
                byte += 1;
                if write.write_all(&[b]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Noise, then nothing until the node hangs up.
async fn stall(socket: tokio::net::TcpStream, keypair: &identity::Keypair) {
    let Ok((_, mut io)) = raw::secure(socket, keypair).await else {
        return;
    };
    let mut sink = Vec::new();
    let _ = io.read_to_end(&mut sink).await;
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(args.seconds);
    let tallies: Tallies = Arc::default();
    let mut tasks = Vec::new();
    let kinds = [
        (Kind::Stranger, args.strangers),
        (Kind::Slow, args.slow),
        (Kind::Stall, args.stall),
    ];
    let mut i = 0;
    for (kind, n) in kinds {
        for _ in 0..n {
            let (args, tallies) = (args.clone(), tallies.clone());
            tasks.push(tokio::spawn(attacker(args, kind, i, end, tallies)));
            i += 1;
        }
    }
    println!(
        "flooding {} with {i} attackers from {} addresses",
        args.target,
        args.sources.len()
    );
    // Connections still open at the end are simply dropped.
    tokio::time::sleep_until(end.into()).await;
    for t in &tasks {
        t.abort();
    }
    let tallies = tallies.lock().expect("tally lock");
    for (kind, n) in kinds {
        let t = &tallies[kind as usize];
        let mut held = t.held_ms.clone();
        held.sort_unstable();
        let line = serde_json::json!({
            "kind": kind.name(),
            "attackers": n,
            "connections": t.connections,
            "failed_connects": t.failed_connects,
            "ended": held.len(),
            "held_ms_p50": percentile(&held, 0.5),
            "held_ms_p99": percentile(&held, 0.99),
            "held_ms_max": held.last().copied().unwrap_or(0),
        });
        println!("{line}");
    }
    Ok(())
}
