//! The control socket: a Unix socket only its owner can use.
//!
//! A Unix socket rather than loopback TCP with a token: file permissions
//! already say who may connect (the directory is 0700 and the socket 0600),
//! nothing listens on any network interface, and there is no token file to
//! leak or rotate. The protocol is one JSON request line, then response
//! lines (see `cairn_protocol::control`).

use crate::api::Api;
use cairn_protocol::control::{ControlRequest, ControlResponse, RegisterView, MAX_REQUEST_LINE};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, watch, Semaphore};
use tracing::{debug, warn};

/// Requests served at once; more wait for a slot, after they were read.
const MAX_CONNECTIONS: usize = 32;

/// Connections waiting for their request line at once. Past it the oldest
/// waiting one is closed: a real client writes its line at once, so idle
/// connections, however many, can never keep the owner's CLI out.
const MAX_WAITING: usize = 128;

/// How long a client has to send its request line. `cairn` sends it right
/// after connecting, but a node busy verifying a burst may not read it at
/// once, so this is generous: idle connections are bounded by
/// [`MAX_WAITING`], not by this.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Errors setting up the socket.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("another cairnd is already serving {0}: stop it first")]
    InUse(PathBuf),
    #[error("cannot create the control socket {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Binds the socket at `path` with mode 0600, replacing a stale one.
pub fn bind(path: &Path) -> Result<UnixListener, ControlError> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(ControlError::InUse(path.into()));
        }
        // Left behind by a node that was killed: nobody is listening.
        let _ = std::fs::remove_file(path);
    }
    let bind_err = |source| ControlError::Bind {
        path: path.into(),
        source,
    };
    let listener = UnixListener::bind(path).map_err(bind_err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(bind_err)?;
    Ok(listener)
}

/// Connections still waiting for their request line, oldest first; each
/// entry can close its connection.
#[derive(Default)]
struct Waiting {
    next: u64,
    queue: std::collections::VecDeque<(u64, tokio::sync::oneshot::Sender<()>)>,
}

impl Waiting {
    /// Registers a new waiting connection, evicting the oldest past
    /// [`MAX_WAITING`]; returns its id and the signal that evicts it.
    fn enter(&mut self) -> (u64, tokio::sync::oneshot::Receiver<()>) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = self.next;
        self.next += 1;
        self.queue.push_back((id, tx));
        while self.queue.len() > MAX_WAITING {
            if let Some((_, evict)) = self.queue.pop_front() {
                let _ = evict.send(());
            }
        }
        (id, rx)
    }

    fn leave(&mut self, id: u64) {
        self.queue.retain(|(i, _)| *i != id);
    }
}

/// Serves connections until `shutdown` turns true.
pub async fn serve(listener: UnixListener, api: Api, mut shutdown: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let waiting = Arc::new(std::sync::Mutex::new(Waiting::default()));
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    warn!("control socket accept failed: {e}");
                    // Out of descriptors, say: let waiting ones time out.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let (id, evicted) = waiting.lock().expect("waiting lock poisoned").enter();
        let (api, slots, waiting) = (api.clone(), slots.clone(), waiting.clone());
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            // Streams (watch, sync) last until the client leaves; a stopping
            // node ends them rather than keep its state alive for them.
            tokio::select! {
                r = connection(stream, api, evicted, id, &waiting, slots) => {
                    if let Err(e) = r {
                        debug!("control connection ended: {e}");
                    }
                }
                _ = stop.changed() => {}
            }
            waiting.lock().expect("waiting lock poisoned").leave(id);
        });
    }
}

async fn send(w: &mut (impl AsyncWriteExt + Unpin), r: &ControlResponse) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(r).expect("responses serialise");
    line.push(b'\n');
    w.write_all(&line).await
}

async fn connection(
    stream: UnixStream,
    api: Api,
    evicted: tokio::sync::oneshot::Receiver<()>,
    id: u64,
    waiting: &std::sync::Mutex<Waiting>,
    slots: Arc<Semaphore>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read.take(MAX_REQUEST_LINE as u64 + 1));
    let mut line = Vec::new();
    let arrived = tokio::select! {
        r = tokio::time::timeout(REQUEST_TIMEOUT, reader.read_until(b'\n', &mut line)) => r.is_ok(),
        _ = evicted => false,
    };
    waiting.lock().expect("waiting lock poisoned").leave(id);
    if !arrived {
        let r = ControlResponse::Error {
            message: format!("no request line within {} s", REQUEST_TIMEOUT.as_secs()),
        };
        return send(&mut write, &r).await;
    }
    let _permit = slots.acquire_owned().await.expect("semaphore never closed");
    if line.len() > MAX_REQUEST_LINE {
        let r = ControlResponse::Error {
            message: format!("request is over {MAX_REQUEST_LINE} bytes"),
        };
        return send(&mut write, &r).await;
    }
    let request: ControlRequest = match serde_json::from_slice(&line) {
        Ok(r) => r,
        Err(e) => {
            let r = ControlResponse::Error {
                message: format!("malformed request (is cairn the same version as cairnd?): {e}"),
            };
            return send(&mut write, &r).await;
        }
    };
    if request == ControlRequest::RegisterWatch {
        return watch_register(reader, write, api).await;
    }
    if request == ControlRequest::Sync {
        return sync(write, api).await;
    }
    let response = api.handle(request).await;
    send(&mut write, &response).await?;
    write.shutdown().await
}

/// Reconciles with every member, streaming progress twice a second.
async fn sync(mut write: impl AsyncWriteExt + Unpin, api: Api) -> std::io::Result<()> {
    let sync = api.sync().clone();
    let status = sync.status();
    let done = sync.all();
    tokio::pin!(done);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
    loop {
        tokio::select! {
            r = &mut done => {
                let last = status.borrow().clone();
                let response = match r {
                    Ok(()) => ControlResponse::SyncDone(last),
                    Err(e) => ControlResponse::Error { message: e.to_string() },
                };
                send(&mut write, &response).await?;
                return write.shutdown().await;
            }
            _ = tick.tick() => {
                let now = status.borrow().clone();
                send(&mut write, &ControlResponse::SyncProgress(now)).await?;
            }
        }
    }
}

/// Streams the register: every existing entry, then each new one. A watcher
/// that falls behind the live feed re-reads from the register, so it sees
/// every entry exactly once.
async fn watch_register(
    mut reader: impl AsyncBufReadExt + Unpin,
    mut write: impl AsyncWriteExt + Unpin,
    api: Api,
) -> std::io::Result<()> {
    let mut feed = match api.watch_register() {
        Ok(f) => f,
        Err(message) => {
            let r = ControlResponse::Error {
                message: message.into(),
            };
            return send(&mut write, &r).await;
        }
    };
    let existing = api.register_entries(0).unwrap_or_default();
    let mut next = existing.len() as u64;
    let entries = existing.iter().map(RegisterView::of).collect();
    send(&mut write, &ControlResponse::Register { entries }).await?;
    let mut sink = Vec::new();
    loop {
        tokio::select! {
            // The client never sends more: EOF or anything else ends the watch.
            _ = reader.read_until(b'\n', &mut sink) => return Ok(()),
            entry = feed.recv() => {
                let fresh = match entry {
                    Ok(e) if e.index < next => continue,
                    Ok(e) if e.index == next => vec![e],
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        api.register_entries(next).unwrap_or_default()
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                };
                for e in fresh {
                    next = e.index + 1;
                    send(&mut write, &ControlResponse::RegisterEntry(RegisterView::of(&e))).await?;
                }
            }
        }
    }
}
