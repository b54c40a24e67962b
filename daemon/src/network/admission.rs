//! Admission: the certificate and revocation exchange that runs on every
//! connection right after noise, before the connection reaches gossipsub or
//! the direct requests (see `cairn_protocol::handshake` for the messages).
//!
//! A peer that cannot show a valid, unrevoked membership certificate for the
//! key noise authenticated never becomes a libp2p connection: the Swarm, and
//! so every behaviour, never hears of it, and it learns nothing about the
//! community. The listener shows its own certificate only after the
//! dialer's verified. A member the network task banned for misbehaviour
//! (`rate_limit::BanList`) is refused here, whatever its certificate, until
//! the ban ends.

use super::peers::check_certificate;
use crate::log_limit::{held_back, LogLimiter};
use crate::rate_limit::BanList;
use crate::revocations::Revocations;
use cairn_protocol::codec::{self, CodecError};
use cairn_protocol::handshake::{batches, Handshake, Step};
use cairn_protocol::{Certificate, Community, Revocation, Timestamp};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::PeerId;
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// How long a certificate verified in the handshake waits for the Swarm to
/// report the connection before it is forgotten.
const ADMITTED_TTL: Duration = Duration::from_secs(30);

/// Why a connection was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    #[error("handshake connection failed: {0}")]
    Io(#[from] io::Error),
    #[error("peer sent an undecodable handshake frame: {0}")]
    Decode(#[from] CodecError),
    #[error("peer sent a {size}-byte handshake frame where at most {limit} bytes belong")]
    TooLarge { size: usize, limit: usize },
    #[error("peer sent {0} out of turn")]
    OutOfTurn(&'static str),
    #[error("certificate refused: {0}")]
    Refused(String),
    #[error("the peer refused this node's certificate: {0}")]
    RefusedByPeer(String),
}

/// Why a certificate was refused, and the message that tells its holder.
struct Refusal {
    why: String,
    message: Box<Handshake>,
}

impl Refusal {
    fn plain(why: String) -> Self {
        let message = Box::new(Handshake::refused(&why));
        Refusal { why, message }
    }
}

/// What a node needs to admit and be admitted.
pub struct Admission {
    community: Community,
    certificate: RwLock<Certificate>,
    revocations: Arc<Revocations>,
    /// Peers whose certificate verified, until the network task takes them.
    admitted: Mutex<HashMap<PeerId, (Certificate, Instant)>>,
    refusals: LogLimiter,
    /// Peers refused for a while, whatever they present (with why).
    bans: Mutex<(BanList<PeerId>, HashMap<PeerId, String>)>,
}

impl Admission {
    pub fn new(
        community: Community,
        certificate: Certificate,
        revocations: Arc<Revocations>,
    ) -> Self {
        Admission {
            community,
            certificate: RwLock::new(certificate),
            revocations,
            admitted: Mutex::new(HashMap::new()),
            refusals: LogLimiter::new(Duration::from_secs(30)),
            bans: Mutex::new((BanList::default(), HashMap::new())),
        }
    }

    /// Refuses `peer` at the handshake for `duration` because of `why`.
    pub fn ban(&self, peer: PeerId, duration: Duration, why: String) {
        let now = Instant::now();
        let mut bans = self.bans.lock().expect("ban lock poisoned");
        let (list, reasons) = &mut *bans;
        list.ban(peer, now + duration, now);
        // Reasons only for live bans: the list is bounded, so is this.
        reasons.retain(|p, _| list.remaining(p, now).is_some() || *p == peer);
        reasons.insert(peer, why);
    }

    /// Why and for how much longer `peer` is banned, if it is.
    pub fn banned(&self, peer: &PeerId) -> Option<(Duration, String)> {
        let bans = self.bans.lock().expect("ban lock poisoned");
        let left = bans.0.remaining(peer, Instant::now())?;
        Some((left, bans.1.get(peer).cloned().unwrap_or_default()))
    }

    /// Peers banned now.
    pub fn bans_active(&self) -> usize {
        let bans = self.bans.lock().expect("ban lock poisoned");
        bans.0.active(Instant::now())
    }

    /// This node's certificate as it presents it now.
    pub fn certificate(&self) -> Certificate {
        self.certificate
            .read()
            .expect("certificate lock poisoned")
            .clone()
    }

    /// Presents `certificate` from now on (a renewal).
    pub fn set_certificate(&self, certificate: Certificate) {
        *self.certificate.write().expect("certificate lock poisoned") = certificate;
    }

    /// The certificate `peer` showed in its handshake, taken once by the
    /// network task when the connection is established.
    pub fn take_admitted(&self, peer: &PeerId) -> Option<Certificate> {
        let mut admitted = self.admitted.lock().expect("admitted lock poisoned");
        let now = Instant::now();
        admitted.retain(|_, (_, at)| now.duration_since(*at) < ADMITTED_TTL);
        admitted.remove(peer).map(|(c, _)| c)
    }

    fn record(&self, peer: PeerId, certificate: Certificate) {
        self.admitted
            .lock()
            .expect("admitted lock poisoned")
            .insert(peer, (certificate, Instant::now()));
    }

    /// Checks the certificate `peer` presents, against the community and the
    /// revocations known now; on refusal, the message that tells the peer.
    fn check(&self, peer: &PeerId, certificate: &Certificate) -> Result<(), Refusal> {
        if let Some((left, why)) = self.banned(peer) {
            return Err(Refusal::plain(format!(
                "banned for misbehaviour ({why}) for another {} s",
                left.as_secs().max(1)
            )));
        }
        let now = Timestamp::now();
        check_certificate(certificate, &self.community, now, peer)
            .map_err(|e| Refusal::plain(e.to_string()))?;
        self.revocations.check_peer(certificate, now).map_err(|e| {
            // The holder of the key (noise proved it) gets the revocation:
            // it can never connect again to learn it otherwise.
            let why = e.to_string();
            let message = match self.revocations.revoking(certificate, now) {
                Some(revocation) => Handshake::revoked(&why, revocation),
                None => Handshake::refused(&why),
            };
            Refusal {
                why,
                message: Box::new(message),
            }
        })
    }

    /// A refusal's revocation, if it revokes this node's own certificate:
    /// stored and enforced like any other (`Revocations::add` verifies it),
    /// so a withdrawn node records the receipt it carries
    /// (`participation::deliver`). One that does not concern this node is
    /// ignored: a refusal is no channel for spreading revocations.
    async fn learn_own_revocation(&self, peer: &PeerId, revocation: Revocation) {
        let mine = self.certificate();
        let id = mine.id();
        if !revocation
            .claimed_effects()
            .iter()
            .any(|e| e.reaches(&id, &mine))
        {
            debug!(%peer, "a refusal carried a revocation of another certificate: ignored");
            return;
        }
        let revocations = self.revocations.clone();
        let added = tokio::task::spawn_blocking(move || {
            revocations.add_all(vec![revocation], Timestamp::now())
        })
        .await;
        if matches!(added, Ok(1)) {
            warn!(%peer, "this node's own certificate is revoked: it learnt why from a refusal");
        }
    }

    /// Logs a refusal on this node, at most once per peer and reason every
    /// 30 s.
    fn log_refusal(&self, peer: &PeerId, why: &str) {
        if let Some(n) = self
            .refusals
            .allow(&format!("{peer} {why}"), Instant::now())
        {
            warn!(%peer, "connection refused: {why}{}", held_back(n));
        }
    }

    /// The dialer's side.
    pub async fn dial<S>(&self, io: &mut S, peer: PeerId) -> Result<Certificate, AdmissionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mine = self.revocations.summary();
        send(
            io,
            &Handshake::Hello {
                certificate: self.certificate(),
                revocations: mine,
            },
        )
        .await?;
        let (theirs, summary) = match recv(io, Step::Certificate).await? {
            Handshake::Welcome {
                certificate,
                revocations,
            } => (certificate, revocations),
            Handshake::Refused { reason } => return Err(self.refused_by(&peer, reason)),
            Handshake::Revoked { reason, revocation } => {
                self.learn_own_revocation(&peer, revocation).await;
                return Err(self.refused_by(&peer, reason));
            }
            _ => return Err(AdmissionError::OutOfTurn("a message other than Welcome")),
        };
        if let Err(refusal) = self.check(&peer, &theirs) {
            return Err(self.refuse(io, &peer, refusal).await);
        }
        if summary == mine {
            send(io, &Handshake::Done).await?;
        } else {
            send(
                io,
                &Handshake::RevocationIds {
                    ids: self.revocations.ids(),
                },
            )
            .await?;
            self.learn(io).await?;
            let wanted = match recv(io, Step::Ids).await? {
                Handshake::RevocationIds { ids } => ids,
                _ => return Err(AdmissionError::OutOfTurn("a message other than ids")),
            };
            self.teach(io, self.revocations.get(&wanted)).await?;
        }
        self.finish(peer, theirs)
    }

    /// The listener's side.
    pub async fn accept<S>(&self, io: &mut S, peer: PeerId) -> Result<Certificate, AdmissionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let theirs = match recv(io, Step::Certificate).await? {
            Handshake::Hello { certificate, .. } => certificate,
            _ => return Err(AdmissionError::OutOfTurn("a message other than Hello")),
        };
        if let Err(refusal) = self.check(&peer, &theirs) {
            return Err(self.refuse(io, &peer, refusal).await);
        }
        send(
            io,
            &Handshake::Welcome {
                certificate: self.certificate(),
                revocations: self.revocations.summary(),
            },
        )
        .await?;
        match recv(io, Step::Ids).await? {
            Handshake::Done => {}
            Handshake::Refused { reason } => return Err(self.refused_by(&peer, reason)),
            Handshake::Revoked { reason, revocation } => {
                self.learn_own_revocation(&peer, revocation).await;
                return Err(self.refused_by(&peer, reason));
            }
            Handshake::RevocationIds { ids } => {
                self.teach(io, self.revocations.lacking_in(&ids)).await?;
                let wanted = self.revocations.unknown(&ids);
                send(io, &Handshake::RevocationIds { ids: wanted }).await?;
                self.learn(io).await?;
            }
            _ => {
                return Err(AdmissionError::OutOfTurn(
                    "a message other than Done or ids",
                ))
            }
        }
        self.finish(peer, theirs)
    }

    /// Logs `refusal` and tells the peer.
    async fn refuse<S>(&self, io: &mut S, peer: &PeerId, refusal: Refusal) -> AdmissionError
    where
        S: AsyncWrite + Unpin,
    {
        self.log_refusal(peer, &refusal.why);
        let _ = send(io, &refusal.message).await;
        AdmissionError::Refused(refusal.why)
    }

    /// The peer refused this node's certificate.
    fn refused_by(&self, peer: &PeerId, reason: String) -> AdmissionError {
        self.log_refusal(
            peer,
            &format!("it refused this node's certificate: {reason}"),
        );
        AdmissionError::RefusedByPeer(reason)
    }

    /// Admits `peer` unless what was just learned revokes it.
    fn finish(&self, peer: PeerId, theirs: Certificate) -> Result<Certificate, AdmissionError> {
        if let Err(e) = self.revocations.check_peer(&theirs, Timestamp::now()) {
            let why = e.to_string();
            self.log_refusal(&peer, &why);
            return Err(AdmissionError::Refused(why));
        }
        debug!(%peer, "admitted by handshake");
        self.record(peer, theirs.clone());
        Ok(theirs)
    }

    async fn teach<S>(&self, io: &mut S, revocations: Vec<Revocation>) -> Result<(), AdmissionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut frames = batches(revocations);
        if frames.is_empty() {
            frames.push(Vec::new());
        }
        let last = frames.len() - 1;
        for (i, revocations) in frames.into_iter().enumerate() {
            send(
                io,
                &Handshake::Revocations {
                    revocations,
                    more: i < last,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn learn<S>(&self, io: &mut S) -> Result<(), AdmissionError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut received = Vec::new();
        loop {
            match recv(io, Step::Revocations).await? {
                Handshake::Revocations { revocations, more } => {
                    received.extend(revocations);
                    if received.len() > cairn_protocol::revocation::MAX_REVOCATIONS {
                        return Err(AdmissionError::OutOfTurn(
                            "more revocations than a community may hold",
                        ));
                    }
                    if !more {
                        break;
                    }
                }
                _ => {
                    return Err(AdmissionError::OutOfTurn(
                        "a message other than revocations",
                    ))
                }
            }
        }
        if received.is_empty() {
            return Ok(());
        }
        // Verifying is quick; storing fsyncs, which must not stall the
        // runtime's threads.
        let revocations = self.revocations.clone();
        tokio::task::spawn_blocking(move || revocations.add_all(received, Timestamp::now()))
            .await
            .map_err(|e| AdmissionError::Io(io::Error::other(e.to_string())))?;
        Ok(())
    }
}

async fn send<S>(io: &mut S, message: &Handshake) -> Result<(), AdmissionError>
where
    S: AsyncWrite + Unpin,
{
    let frame = codec::encode(message)?;
    io.write_all(&(frame.len() as u32).to_be_bytes()).await?;
    io.write_all(&frame).await?;
    io.flush().await?;
    Ok(())
}

async fn recv<S>(io: &mut S, step: Step) -> Result<Handshake, AdmissionError>
where
    S: AsyncRead + Unpin,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let size = u32::from_be_bytes(len) as usize;
    let limit = Handshake::limit(step);
    if size > limit {
        return Err(AdmissionError::TooLarge { size, limit });
    }
    let mut frame = vec![0u8; size];
    io.read_exact(&mut frame).await?;
    Ok(codec::decode(&frame)?)
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
