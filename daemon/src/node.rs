//! Starting and stopping a node: open the store, build the swarm, and spawn
//! the network task, the control socket and participation delivery.

use crate::api::Api;
use crate::authority::Authority;
use crate::config::Settings;
use crate::context::Context;
use crate::ingest::worker;
use crate::network::admission::Admission;
use crate::network::behaviour::{build_swarm, BuildError};
use crate::network::client::Client;
use crate::network::event_loop::EventLoop;
use crate::revocations::Revocations;
use crate::sync::index::SyncIndex;
use crate::sync::manager;
use crate::{control, participation};
use cairn_store::Store;
use libp2p::gossipsub::IdentTopic;
use libp2p::{identity, Multiaddr, PeerId};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch, Notify};
use tokio::task::JoinHandle;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store: {0}")]
    Store(#[from] cairn_store::StoreError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("cannot listen on {addr}: {detail}")]
    Listen { addr: Multiaddr, detail: String },
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error(transparent)]
    Http(#[from] crate::http::HttpError),
    #[error("cannot start the query indexer thread: {0}")]
    Indexer(std::io::Error),
}

/// A started node.
pub struct RunningNode {
    pub api: Api,
    pub peer_id: PeerId,
    pub control_socket: PathBuf,
    client: Client,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    ingest_task: JoinHandle<()>,
    items: cairn_store::ItemStore,
    /// Writes the query index behind the store (joined when dropped).
    indexer: cairn_store::QueryIndexer,
    ctx: Arc<Context>,
    stored: broadcast::Sender<cairn_protocol::ItemId>,
}

/// Announcements of newly stored items kept for slow watchers.
const STORED_FEED: usize = 65_536;

/// Starts a node from checked settings.
pub async fn start(settings: Settings) -> Result<RunningNode, StartError> {
    let store = Store::open(&settings.data_dir, settings.authority)?;
    let indexer =
        cairn_store::QueryIndexer::spawn(store.items.clone()).map_err(StartError::Indexer)?;
    let authority = store.register.clone().map(|register| {
        Arc::new(Authority::new(
            register,
            settings.community.clone(),
            settings.key.clone(),
        ))
    });
    let revocations = Arc::new(Revocations::load(
        settings.community.clone(),
        store.revocations.clone(),
        store.stored_revocations.clone(),
        cairn_protocol::Timestamp::now(),
    ));
    let admission = Arc::new(Admission::new(
        settings.community.clone(),
        settings.certificate.clone(),
        revocations.clone(),
    ));
    let index = Arc::new(SyncIndex::new(store.items.index()?));
    let (verdict_tx, verdicts) = mpsc::channel(worker::QUEUE);
    let (stored, _) = broadcast::channel(STORED_FEED);
    let counters = Arc::new(crate::rate_limit::Counters::default());
    let metrics = Arc::new(crate::metrics::Metrics::new(authority.is_some()));
    let stages = Arc::new(crate::stages::StageClock::default());
    let (ingest, ingest_task) = worker::spawn(
        settings.community.clone(),
        revocations.clone(),
        store.items.clone(),
        index.clone(),
        verdict_tx,
        stored.clone(),
        settings.limits.publisher(),
        counters.clone(),
        metrics.clone(),
        stages.clone(),
    );
    let (client, commands) = Client::new();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (sync, sync_task) = manager::spawn(
        client.clone(),
        index.clone(),
        ingest.clone(),
        revocations.clone(),
        shutdown_rx.clone(),
    );
    let ctx = Arc::new(Context {
        community: settings.community.clone(),
        key: settings.key.clone(),
        admission: admission.clone(),
        revocations: revocations.clone(),
        certificate_path: settings.certificate_path.clone(),
        items: store.items.clone(),
        outbox: store.outbox.clone(),
        authority,
        participation_wake: Arc::new(Notify::new()),
        notices: Default::default(),
        delivery: Default::default(),
        ingest,
        index,
        sync,
        limits: settings.limits.clone(),
        counters,
        pseudonym: settings.pseudonym.clone(),
        taxii_url: Default::default(),
        misp_feed_url: Default::default(),
        web_url: Default::default(),
        metrics_url: Default::default(),
        metrics,
        stages,
    });

    let keypair = identity::Keypair::ed25519_from_bytes(settings.key.to_seed().to_vec())
        .expect("a 32-byte seed is a valid ed25519 key");
    let peer_id = keypair.public().to_peer_id();
    let topic = IdentTopic::new(settings.community.items_topic());
    let mut swarm = build_swarm(keypair, &topic, Some(admission))?;
    for addr in &settings.listen {
        refuse_taken_port(addr)?;
        swarm
            .listen_on(addr.clone())
            .map_err(|e| StartError::Listen {
                addr: addr.clone(),
                detail: e.to_string(),
            })?;
    }

    let listener = control::bind(&settings.control_socket)?;
    let taxii = match &settings.taxii {
        Some(t) => Some((
            crate::http::bind("the TAXII server", &t.listen).await?,
            t.clone(),
        )),
        None => None,
    };
    let misp_feed = match &settings.misp_feed {
        Some(f) => Some((
            crate::http::bind("the MISP feed", &f.listen).await?,
            f.clone(),
        )),
        None => None,
    };
    let metrics_server = match &settings.metrics {
        Some(m) => Some((
            crate::http::bind("the metrics server", &m.listen).await?,
            m.clone(),
        )),
        None => None,
    };
    let web = match &settings.web {
        Some(w) => Some((
            crate::http::bind("the web view", &w.listen).await?,
            w.clone(),
        )),
        None => None,
    };
    let api = Api::new(ctx.clone(), client.clone());
    let event_loop = EventLoop::new(
        swarm,
        commands,
        client.clone(),
        ctx.clone(),
        settings.bootstrap,
        verdicts,
    )
    .with_directory(crate::network::event_loop::DirectoryState::load(
        &ctx,
        &settings.directory,
        settings.data_dir.clone(),
    ));
    let mut tasks = Vec::new();
    if let Some((bound, t)) = taxii {
        if let Ok(addr) = bound.local_addr() {
            let scheme = if bound.is_tls() { "https" } else { "http" };
            let _ = ctx.taxii_url.set(format!("{scheme}://{addr}/taxii2/"));
        }
        let router = crate::taxii::router(api.clone(), ctx.clone(), t, bound.is_tls());
        tasks.push(tokio::spawn(crate::http::serve(
            bound,
            router,
            shutdown_rx.clone(),
        )));
    }
    if let Some((bound, f)) = misp_feed {
        if let Ok(addr) = bound.local_addr() {
            let scheme = if bound.is_tls() { "https" } else { "http" };
            let _ = ctx
                .misp_feed_url
                .set(format!("{scheme}://{addr}/{}/", f.path));
        }
        let router = crate::misp_feed::router(api.clone(), ctx.clone(), f);
        tasks.push(tokio::spawn(crate::http::serve(
            bound,
            router,
            shutdown_rx.clone(),
        )));
    }
    if let Some((bound, m)) = metrics_server {
        let _ = ctx.metrics_url.set(format!("{}metrics", url_of(&bound)));
        let router = crate::metrics::router(ctx.clone(), client.clone(), m);
        tasks.push(tokio::spawn(crate::http::serve(
            bound,
            router,
            shutdown_rx.clone(),
        )));
    }
    if let Some((bound, w)) = web {
        let _ = ctx.web_url.set(url_of(&bound));
        let router = crate::web::router(api.clone(), ctx.clone(), w);
        tasks.push(tokio::spawn(crate::http::serve(
            bound,
            router,
            shutdown_rx.clone(),
        )));
    }
    tasks.extend([
        tokio::spawn(event_loop.run()),
        sync_task,
        tokio::spawn(control::serve(listener, api.clone(), shutdown_rx.clone())),
        tokio::spawn(crate::expiry::watch(ctx.clone(), shutdown_rx.clone())),
        tokio::spawn(crate::store_health::watch(ctx.clone(), shutdown_rx.clone())),
        tokio::spawn(participation::deliver(
            ctx.clone(),
            client.clone(),
            ctx.participation_wake.clone(),
            shutdown_rx,
        )),
    ]);
    Ok(RunningNode {
        api,
        peer_id,
        control_socket: settings.control_socket,
        client,
        shutdown,
        tasks,
        ingest_task,
        items: store.items.clone(),
        indexer,
        ctx,
        stored,
    })
}

/// `http://127.0.0.1:7482/` for a bound server (https with TLS).
fn url_of(bound: &crate::http::Bound) -> String {
    let scheme = if bound.is_tls() { "https" } else { "http" };
    match bound.local_addr() {
        Ok(addr) => format!("{scheme}://{addr}/"),
        Err(_) => String::new(),
    }
}

/// libp2p listens with SO_REUSEPORT, so a second node on a port already in
/// use would start silently beside the first. Binding the address once
/// without it first makes a taken port the error it should be.
fn refuse_taken_port(addr: &Multiaddr) -> Result<(), StartError> {
    use libp2p::multiaddr::Protocol;
    let mut ip = None;
    let mut port = None;
    for p in addr.iter() {
        match p {
            Protocol::Ip4(a) => ip = Some(std::net::IpAddr::V4(a)),
            Protocol::Ip6(a) => ip = Some(std::net::IpAddr::V6(a)),
            Protocol::Tcp(p) => port = Some(p),
            _ => {}
        }
    }
    match (ip, port) {
        (Some(ip), Some(port)) if port != 0 => std::net::TcpListener::bind((ip, port))
            .map(drop)
            .map_err(|e| StartError::Listen {
                addr: addr.clone(),
                detail: format!("{e}: is another cairnd (or another program) using this port?"),
            }),
        _ => Ok(()),
    }
}

impl RunningNode {
    /// The addresses the node listens on, each with `/p2p/<id>`; waits for
    /// the listeners to come up (port 0 is resolved by then).
    pub async fn listen_addrs(&self) -> Vec<Multiaddr> {
        for _ in 0..100 {
            if let Ok(snap) = self.client.snapshot().await {
                if !snap.listen_addrs.is_empty() {
                    return snap
                        .listen_addrs
                        .into_iter()
                        .map(|a| a.with(libp2p::multiaddr::Protocol::P2p(self.peer_id)))
                        .collect();
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Vec::new()
    }

    /// Ids of items as they are stored from now on.
    pub fn watch_stored(&self) -> broadcast::Receiver<cairn_protocol::ItemId> {
        self.stored.subscribe()
    }

    /// When each item reached each stage on this node (off until started;
    /// the propagation benchmark's per-hop breakdown).
    pub fn stages(&self) -> &crate::stages::StageClock {
        &self.ctx.stages
    }

    /// The node's ingest worker (every item goes through it).
    pub fn ingest(&self) -> &crate::ingest::worker::Ingest {
        &self.ctx.ingest
    }

    /// The node's item store (read access for tools and benchmarks).
    pub fn items(&self) -> &cairn_store::ItemStore {
        &self.items
    }

    /// Stops every task, flushes the store and removes the control socket.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        self.client.shutdown().await;
        for t in self.tasks {
            let _ = t.await;
        }
        // The ingest worker ends when the last handle (held by the context
        // and the API) is gone; what it stored is flushed here either way.
        drop(self.api);
        drop(self.ctx);
        self.ingest_task.abort();
        let _ = self.ingest_task.await;
        drop(self.indexer);
        if let Err(e) = self.items.flush() {
            tracing::error!("final flush failed: {e}");
        }
        let _ = std::fs::remove_file(&self.control_socket);
    }
}
