//! The transport: TCP, noise, the admission handshake, yamux.
//!
//! Admission runs as part of the authentication upgrade, after noise proved
//! which key the peer holds and before the connection is multiplexed: a
//! peer that fails it never becomes a libp2p connection, so gossipsub never
//! announces the community's topic to it and no request reaches it. The
//! whole upgrade has a deadline, short for inbound connections, so a peer
//! that connects and says nothing holds its slot only briefly, and inbound
//! upgrades hold slots shared fairly between source addresses, so a flood
//! from some addresses cannot keep others out (`pending`).

use super::admission::{Admission, AdmissionError};
use super::pending::{self, FairInbound};
use futures::future::BoxFuture;
use futures::{AsyncRead, AsyncWrite, FutureExt};
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::timeout::TransportTimeout;
use libp2p::core::transport::{Boxed, Transport};
use libp2p::core::upgrade::{
    InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo, Version,
};
use libp2p::{identity::Keypair, noise, tcp, yamux, PeerId};
use std::sync::Arc;
use std::time::Duration;

/// Deadline for an inbound connection to finish noise and admission.
pub const INBOUND_HANDSHAKE: Duration = Duration::from_millis(1500);
/// Deadline for a dial: TCP connect, noise and admission.
pub const OUTBOUND_HANDSHAKE: Duration = Duration::from_secs(3);

/// Noise, then admission, as one authentication upgrade.
#[derive(Clone)]
pub struct AdmittingNoise {
    noise: noise::Config,
    /// None only for the benchmarks' plain-gossipsub baseline.
    admission: Option<Arc<Admission>>,
}

/// Why the authentication upgrade failed.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("noise handshake failed: {0}")]
    Noise(#[from] noise::Error),
    #[error(transparent)]
    Admission(#[from] AdmissionError),
}

impl UpgradeInfo for AdmittingNoise {
    type Info = &'static str;
    type InfoIter = std::iter::Once<Self::Info>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.noise.protocol_info()
    }
}

impl<T> InboundConnectionUpgrade<T> for AdmittingNoise
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = (PeerId, noise::Output<T>);
    type Error = UpgradeError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, socket: T, info: Self::Info) -> Self::Future {
        async move {
            let (peer, mut io) = self.noise.upgrade_inbound(socket, info).await?;
            if let Some(admission) = &self.admission {
                admission.accept(&mut io, peer).await?;
            }
            Ok((peer, io))
        }
        .boxed()
    }
}

impl<T> OutboundConnectionUpgrade<T> for AdmittingNoise
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Output = (PeerId, noise::Output<T>);
    type Error = UpgradeError;
    type Future = BoxFuture<'static, Result<Self::Output, Self::Error>>;

    fn upgrade_outbound(self, socket: T, info: Self::Info) -> Self::Future {
        async move {
            let (peer, mut io) = self.noise.upgrade_outbound(socket, info).await?;
            if let Some(admission) = &self.admission {
                admission.dial(&mut io, peer).await?;
            }
            Ok((peer, io))
        }
        .boxed()
    }
}

/// TCP (without port reuse, so a taken listen port is an error; dead links
/// detected by the kernel, `liveness`), noise with
/// admission, yamux, the deadlines above, and handshake slots shared fairly
/// between source addresses (`pending`).
pub fn build(
    keypair: &Keypair,
    admission: Option<Arc<Admission>>,
) -> Result<Boxed<(PeerId, StreamMuxerBox)>, noise::Error> {
    let upgrade = AdmittingNoise {
        noise: noise::Config::new(keypair)?,
        admission,
    };
    // Dead-link options on every socket, dialled or accepted (`liveness`).
    let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true))
        .map(|stream, _| {
            super::liveness::tune(&stream.0);
            stream
        })
        .upgrade(Version::V1)
        .authenticate(upgrade)
        .multiplex(yamux::Config::default())
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
    let timed = TransportTimeout::with_ingoing_timeout(
        TransportTimeout::with_outgoing_timeout(tcp, OUTBOUND_HANDSHAKE),
        INBOUND_HANDSHAKE,
    );
    Ok(FairInbound::new(timed.boxed(), pending::CAPACITY, pending::PER_SOURCE).boxed())
}
