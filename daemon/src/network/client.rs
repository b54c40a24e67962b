//! The handle the rest of the node uses to ask the network task for things.

use cairn_protocol::wire::{Request, Response};
use cairn_protocol::Certificate;
use libp2p::request_response::ResponseChannel;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};

/// Capacity of the command channel: enough for bursts of publishes, small
/// enough that a stuck network task pushes back on callers instead of
/// growing memory.
pub const COMMAND_CAPACITY: usize = 1024;

/// What became of a publish request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Handed to gossipsub for the mesh.
    Sent,
    /// No subscribed member is reachable yet; kept and sent when one appears.
    Queued,
}

/// The network's state, for status and member listings.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub peer_id: PeerId,
    pub listen_addrs: Vec<Multiaddr>,
    pub members: Vec<(PeerId, Certificate)>,
    /// Certificates of members admitted since start, connected or not.
    pub seen: Vec<Certificate>,
    pub connected_peers: usize,
    /// The config's bootstrap addresses and how dialling them went.
    pub bootstrap: Vec<cairn_protocol::control::BootstrapView>,
    /// Members whose key more than one live node holds, and where from.
    pub duplicates: std::collections::HashMap<PeerId, Vec<String>>,
    /// The member directory, for `cairn status`.
    pub directory: Vec<cairn_protocol::control::DirectoryView>,
    /// Where each admitted member was reached (address, who dialled).
    pub reached: std::collections::HashMap<PeerId, String>,
}

/// Requests to the network task.
#[derive(Debug)]
pub enum Command {
    Publish {
        data: Vec<u8>,
        reply: oneshot::Sender<PublishOutcome>,
    },
    /// A direct request to an admitted member.
    Request {
        peer: PeerId,
        request: Box<Request>,
        reply: oneshot::Sender<Result<Response, String>>,
    },
    Respond {
        channel: ResponseChannel<Response>,
        response: Box<Response>,
    },
    Snapshot {
        reply: oneshot::Sender<Snapshot>,
    },
    /// Send this node's renewed certificate to every admitted member.
    PresentCertificate {
        certificate: Box<Certificate>,
    },
    Shutdown,
}

/// The network task has stopped; the node is shutting down.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the network task has stopped (the node is shutting down)")]
pub struct Stopped;

/// A cloneable sender of [`Command`]s.
#[derive(Clone, Debug)]
pub struct Client {
    tx: mpsc::Sender<Command>,
}

impl Client {
    /// A client and the receiving end for the event loop.
    pub fn new() -> (Self, mpsc::Receiver<Command>) {
        let (tx, rx) = mpsc::channel(COMMAND_CAPACITY);
        (Client { tx }, rx)
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Stopped> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).await.map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }

    /// Publishes an encoded gossip message.
    pub async fn publish(&self, data: Vec<u8>) -> Result<PublishOutcome, Stopped> {
        self.ask(|reply| Command::Publish { data, reply }).await
    }

    /// Sends a direct request to an admitted member and waits for its
    /// answer; the inner error says why there is none.
    pub async fn request(
        &self,
        peer: PeerId,
        request: Request,
    ) -> Result<Result<Response, String>, Stopped> {
        self.ask(|reply| Command::Request {
            peer,
            request: Box::new(request),
            reply,
        })
        .await
    }

    /// Answers an inbound request that was handled off the network task.
    pub async fn respond(
        &self,
        channel: ResponseChannel<Response>,
        response: Response,
    ) -> Result<(), Stopped> {
        self.tx
            .send(Command::Respond {
                channel,
                response: Box::new(response),
            })
            .await
            .map_err(|_| Stopped)
    }

    /// The network's current state.
    pub async fn snapshot(&self) -> Result<Snapshot, Stopped> {
        self.ask(|reply| Command::Snapshot { reply }).await
    }

    /// Sends a renewed certificate to every connected member.
    pub async fn present_certificate(&self, certificate: Certificate) -> Result<(), Stopped> {
        self.tx
            .send(Command::PresentCertificate {
                certificate: Box::new(certificate),
            })
            .await
            .map_err(|_| Stopped)
    }

    /// Asks the network task to close all connections and stop.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Command::Shutdown).await;
    }
}
