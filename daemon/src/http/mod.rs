//! The daemon's HTTP stack, shared by every server a node runs (the TAXII
//! 2.1 server today; a web view, metrics and feeds can mount here too):
//! axum routers served by hyper's HTTP/1.1 on the node's tokio runtime.
//!
//! Rules every server gets from here rather than re-deciding them:
//! - loopback in plain HTTP, any other address only with TLS (rustls;
//!   [`tls`]), checked when the configuration is read;
//! - at most [`MAX_CONNECTIONS`] connections at once (the next waits in the
//!   kernel's backlog), request headers within [`HEADER_TIMEOUT`], idle
//!   keep-alive connections closed by the client or at shutdown;
//! - HTTP Basic credentials checked against SHA-256 digests of generated
//!   passwords ([`auth`]).

pub mod auth;
pub mod section;
pub mod tls;

pub use section::{ServerConfig, ServerSettings};

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tracing::{debug, info, warn};

/// Connections served at once per server.
pub const MAX_CONNECTIONS: usize = 64;
/// How long a client has to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a server listens, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// `127.0.0.1:7480`; anything but loopback needs `tls_certificate`
    /// and `tls_key`.
    pub listen: SocketAddr,
    /// PEM certificate chain, leaf first.
    pub tls_certificate: Option<PathBuf>,
    /// PEM private key of the leaf certificate (mode 0600).
    pub tls_key: Option<PathBuf>,
}

/// A listening address that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{what} would listen on {addr}, which is not loopback, without TLS: set tls_certificate and tls_key (or listen on 127.0.0.1)")]
    NeedsTls { what: String, addr: SocketAddr },
    #[error("{what}: give both tls_certificate and tls_key, or neither")]
    HalfTls { what: String },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{what} cannot listen on {addr}: {source}")]
    Bind {
        what: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl Listen {
    /// Checks the loopback-or-TLS rule and loads the TLS files.
    pub fn check(&self, what: &str) -> Result<Option<tokio_rustls::TlsAcceptor>, HttpError> {
        match (&self.tls_certificate, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(tls::acceptor(cert, key)?)),
            (None, None) if self.listen.ip().is_loopback() => Ok(None),
            (None, None) => Err(HttpError::NeedsTls {
                what: what.into(),
                addr: self.listen,
            }),
            _ => Err(HttpError::HalfTls { what: what.into() }),
        }
    }
}

/// A bound server, not yet serving.
pub struct Bound {
    what: String,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Bound {
    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Whether connections are TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

/// Binds `listen` (checked with [`Listen::check`]), so a taken port fails
/// the node's start rather than a task later.
pub async fn bind(what: &str, listen: &Listen) -> Result<Bound, HttpError> {
    let tls = listen.check(what)?;
    let listener = TcpListener::bind(listen.listen)
        .await
        .map_err(|source| HttpError::Bind {
            what: what.into(),
            addr: listen.listen,
            source,
        })?;
    Ok(Bound {
        what: what.into(),
        listener,
        tls,
    })
}

/// Serves `router` on `bound` until `shutdown` turns true.
pub async fn serve(bound: Bound, router: axum::Router, mut shutdown: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    if let Ok(addr) = bound.listener.local_addr() {
        let scheme = if bound.tls.is_some() { "https" } else { "http" };
        info!("{} listening on {scheme}://{addr}/", bound.what);
    }
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = tokio::select! {
            r = bound.listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    warn!("{}: accept failed: {e}", bound.what);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let router = router.clone();
        let tls = bound.tls.clone();
        let mut stop = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let served = async {
                match tls {
                    Some(acceptor) => {
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                        {
                            Ok(Ok(s)) => connection(s, router).await,
                            Ok(Err(e)) => debug!(%peer, "TLS handshake failed: {e}"),
                            Err(_) => debug!(%peer, "TLS handshake timed out"),
                        }
                    }
                    None => connection(stream, router).await,
                }
            };
            tokio::select! {
                _ = served => {}
                _ = stop.changed() => {}
            }
        });
    }
}

async fn connection<S>(stream: S, router: axum::Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = result {
        debug!("HTTP connection ended: {e}");
    }
}
