//! Dialing a node the way any libp2p peer starts, with none of Cairn's
//! transport: TCP (from a chosen source address if asked), then
//! multistream-select for `/noise` and libp2p's noise handshake. Used by
//! `cairn-stranger` (one stranger) and `cairn-flood` (hundreds of them).

use anyhow::{bail, Context as _};
use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::core::upgrade::OutboundConnectionUpgrade;
use libp2p::multiaddr::Protocol;
use libp2p::{identity, noise, tcp, Multiaddr, PeerId};
use std::net::{IpAddr, SocketAddr};

/// multistream-select 1.0: varint-length-prefixed lines; the listener
/// echoes the header and the protocol it accepts.
pub const MULTISTREAM: &[u8] = b"\x13/multistream/1.0.0\n";
pub const NOISE: &[u8] = b"\x07/noise\n";
/// What a libp2p dialer proposes once noise is done.
pub const YAMUX: &[u8] = b"\x0d/yamux/1.0.0\n";

/// `/ip4/A/tcp/P` (any `/p2p/…` after it ignored) as a socket address.
pub fn socket_addr(addr: &Multiaddr) -> anyhow::Result<SocketAddr> {
    let mut parts = addr.iter();
    match (parts.next(), parts.next()) {
        (Some(Protocol::Ip4(ip)), Some(Protocol::Tcp(port))) => Ok((ip, port).into()),
        _ => bail!("expected /ip4/…/tcp/… in {addr}"),
    }
}

/// A TCP connection to `target`, from `source` if given (an address of
/// this host: the kernel picks the port).
pub async fn connect(
    target: SocketAddr,
    source: Option<IpAddr>,
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = match target {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    if let Some(ip) = source {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// multistream-select for `/noise`, then libp2p's noise handshake as the
/// dialer: the node proves its key, the stranger its own.
pub async fn secure(
    socket: tokio::net::TcpStream,
    keypair: &identity::Keypair,
) -> anyhow::Result<(PeerId, noise::Output<tcp::tokio::TcpStream>)> {
    let mut socket = tcp::tokio::TcpStream(socket);
    socket.write_all(&[MULTISTREAM, NOISE].concat()).await?;
    socket.flush().await?;
    let mut answer = vec![0u8; MULTISTREAM.len() + NOISE.len()];
    socket
        .read_exact(&mut answer)
        .await
        .context("reading the multistream-select answer")?;
    if answer != [MULTISTREAM, NOISE].concat() {
        bail!("the node did not accept /noise: {answer:?}");
    }
    let noise = noise::Config::new(keypair)?;
    let (peer, io) = noise.upgrade_outbound(socket, "/noise").await?;
    Ok((peer, io))
}
