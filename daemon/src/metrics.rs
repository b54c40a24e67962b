//! The node's Prometheus metrics: one registry, the handles the code paths
//! count with, and the `/metrics` server (`[metrics]` in cairn.toml, off
//! unless enabled, loopback by default) on the node's HTTP stack.
//!
//! Counters and histograms are updated where things happen (the ingest
//! worker, the network task, catch-up); what the node already keeps as
//! state (members, outbox, register, items held) is read when scraped, so
//! no second copy of it can drift.
//!
//! The exposition is OpenMetrics text (`prometheus-client`), which
//! Prometheus negotiates and scrapes as is.

use crate::context::Context;
use crate::http::ServerSettings;
use crate::network::client::Client;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cairn_protocol::{CertificateError, ItemError, Timestamp};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

/// One label, as every family here has.
type Label = [(&'static str, &'static str); 1];

/// Why an item was refused, as a bounded label value.
pub mod reason {
    pub const UNDECODABLE: &str = "undecodable";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const NOT_STORED: &str = "not_stored";
    pub const CERTIFICATE: &str = "certificate";
    pub const REVOKED: &str = "revoked";
    pub const SIGNATURE: &str = "signature";
    pub const FROM_THE_FUTURE: &str = "from_the_future";
    pub const OTHER_COMMUNITY: &str = "other_community";
    pub const NOT_PERMITTED: &str = "not_permitted";
    pub const MARKING: &str = "marking";
    pub const MALFORMED: &str = "malformed";
}

/// The label for an item that failed verification.
pub fn item_reason(e: &ItemError) -> &'static str {
    match e {
        ItemError::Malformed(_) | ItemError::Codec(_) => reason::MALFORMED,
        ItemError::OtherCommunity { .. } => reason::OTHER_COMMUNITY,
        ItemError::PublisherMismatch { .. } => reason::CERTIFICATE,
        ItemError::Certificate(c) => certificate_reason(c),
        ItemError::NotPermitted => reason::NOT_PERMITTED,
        ItemError::FromTheFuture { .. } => reason::FROM_THE_FUTURE,
        ItemError::BadSignature => reason::SIGNATURE,
        ItemError::Marking(_) => reason::MARKING,
    }
}

/// The label for an item whose publisher's certificate failed.
pub fn certificate_reason(e: &CertificateError) -> &'static str {
    match e {
        CertificateError::Revoked { .. } => reason::REVOKED,
        _ => reason::CERTIFICATE,
    }
}

/// Every metric the node exports.
pub struct Metrics {
    registry: Registry,
    pub items_stored: Counter,
    pub items_rejected: Family<Label, Counter>,
    /// `direction`: received or sent.
    pub gossip_messages: Family<Label, Counter>,
    pub gossip_bytes: Family<Label, Counter>,
    /// `direction`: fetched (this node asked) or served (a peer asked).
    pub catchup_items: Family<Label, Counter>,
    /// `direction`: received or sent (reconciliation and item batches).
    pub catchup_bytes: Family<Label, Counter>,
    pub verify_seconds: Histogram,
    pub store_seconds: Histogram,
    items_held: Gauge,
    members_connected: Gauge,
    members_admitted: Gauge,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge,
    register_entries: Option<Gauge>,
    catchup_sessions: Gauge,
    query_index_behind: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Batch durations from 100 µs to about 26 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 4.0, 10))
}

impl Metrics {
    /// The registry of a node; `authority`: it keeps the register.
    pub fn new(authority: bool) -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("cairn"),
            items_stored: Counter::default(),
            items_rejected: Family::default(),
            gossip_messages: Family::default(),
            gossip_bytes: Family::default(),
            catchup_items: Family::default(),
            catchup_bytes: Family::default(),
            verify_seconds: seconds_histogram(),
            store_seconds: seconds_histogram(),
            items_held: Gauge::default(),
            members_connected: Gauge::default(),
            members_admitted: Gauge::default(),
            outbox_pending: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            register_entries: authority.then(Gauge::default),
            catchup_sessions: Gauge::default(),
            query_index_behind: Gauge::default(),
        };
        let r = &mut m.registry;
        r.register(
            "items_stored",
            "Items newly stored, whatever their origin (gossip, catch-up, this node's publishes)",
            m.items_stored.clone(),
        );
        r.register(
            "items_rejected",
            "Items not stored, by reason (failed verification, publisher rate limit, store failure, undecodable gossip)",
            m.items_rejected.clone(),
        );
        r.register(
            "items_held",
            "Items in this node's store",
            m.items_held.clone(),
        );
        r.register(
            "gossip_messages",
            "Gossip messages on the community topic, received from and sent to members",
            m.gossip_messages.clone(),
        );
        r.register(
            "gossip_bytes",
            "Bytes of gossip messages on the community topic (message data, without framing)",
            m.gossip_bytes.clone(),
        );
        r.register(
            "catchup_items",
            "Items moved by catch-up: fetched from members, served to members",
            m.catchup_items.clone(),
        );
        r.register(
            "catchup_bytes",
            "Bytes of catch-up: reconciliation messages both ways, item batches received and sent",
            m.catchup_bytes.clone(),
        );
        r.register(
            "catchup_sessions",
            "Catch-up sessions completed since the node started",
            m.catchup_sessions.clone(),
        );
        r.register_with_unit(
            "ingest_verify",
            "Time to verify one ingest batch (signatures, certificates, revocations), on all cores",
            prometheus_client::registry::Unit::Seconds,
            m.verify_seconds.clone(),
        );
        r.register_with_unit(
            "ingest_store",
            "Time to store one ingest batch (append, index, and the flush when a caller waits on it)",
            prometheus_client::registry::Unit::Seconds,
            m.store_seconds.clone(),
        );
        r.register(
            "members_connected",
            "Admitted members connected now",
            m.members_connected.clone(),
        );
        r.register(
            "members_admitted",
            "Members admitted since the node started, connected or not",
            m.members_admitted.clone(),
        );
        r.register(
            "outbox_pending",
            "Participation notices waiting for the authority's receipt",
            m.outbox_pending.clone(),
        );
        r.register_with_unit(
            "outbox_oldest_age",
            "Age of the oldest participation notice without a receipt (0 when none waits)",
            prometheus_client::registry::Unit::Seconds,
            m.outbox_oldest_age.clone(),
        );
        r.register(
            "query_index_behind",
            "Store batches whose items have no query postings yet (queries read them directly meanwhile)",
            m.query_index_behind.clone(),
        );
        if let Some(g) = &m.register_entries {
            r.register(
                "register_entries",
                "Entries in the participation register (the authority's node only)",
                g.clone(),
            );
        }
        m
    }

    /// One refused item.
    pub fn rejected(&self, reason: &'static str) {
        self.items_rejected
            .get_or_create(&[("reason", reason)])
            .inc();
    }

    /// Gossip in one `direction` (`received`, `sent`).
    pub fn gossip(&self, direction: &'static str, bytes: usize) {
        let l = [("direction", direction)];
        self.gossip_messages.get_or_create(&l).inc();
        self.gossip_bytes.get_or_create(&l).inc_by(bytes as u64);
    }

    /// Catch-up bytes in one `direction` (`received`, `sent`).
    pub fn catchup_bytes(&self, direction: &'static str, bytes: usize) {
        self.catchup_bytes
            .get_or_create(&[("direction", direction)])
            .inc_by(bytes as u64);
    }

    /// Items moved by catch-up (`fetched`, `served`).
    pub fn catchup_items(&self, direction: &'static str, n: usize) {
        self.catchup_items
            .get_or_create(&[("direction", direction)])
            .inc_by(n as u64);
    }

    /// Reads the node's state into the gauges, then renders everything.
    fn render(&self, ctx: &Context, members: Option<(usize, usize)>) -> String {
        self.items_held.set(ctx.items.count() as i64);
        if let Some((connected, admitted)) = members {
            self.members_connected.set(connected as i64);
            self.members_admitted.set(admitted as i64);
        }
        let pending = ctx.outbox.pending();
        self.outbox_pending.set(pending.len() as i64);
        let now = Timestamp::now().millis();
        let oldest = pending
            .iter()
            .map(|e| e.body.effective.millis())
            .min()
            .map(|t| now.saturating_sub(t) / 1000)
            .unwrap_or(0);
        self.outbox_oldest_age.set(oldest as i64);
        if let (Some(g), Some(a)) = (&self.register_entries, &ctx.authority) {
            g.set(a.register.len() as i64);
        }
        self.catchup_sessions
            .set(ctx.sync.status().borrow().sessions as i64);
        self.query_index_behind
            .set(ctx.items.unindexed_chunks() as i64);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// How long a scrape waits for the network task's member count.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

struct Server {
    ctx: Arc<Context>,
    client: Client,
    settings: ServerSettings,
}

/// The router of the metrics server: `GET /metrics`.
pub fn router(ctx: Arc<Context>, client: Client, settings: ServerSettings) -> Router {
    let state = Arc::new(Server {
        ctx,
        client,
        settings,
    });
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

async fn scrape(State(s): State<Arc<Server>>, headers: HeaderMap) -> Response {
    if let Err(refused) = s.settings.authorize(&headers, "Cairn metrics") {
        return refused;
    }
    // The member counts come from the network task; a scrape while it is
    // busy still answers, with the gauges as last set.
    let members = match tokio::time::timeout(SNAPSHOT_WAIT, s.client.snapshot()).await {
        Ok(Ok(snap)) => Some((snap.members.len(), snap.seen.len())),
        _ => None,
    };
    let ctx = s.ctx.clone();
    let body = match tokio::task::spawn_blocking(move || {
        let m = ctx.metrics.clone();
        m.render(&ctx, members)
    })
    .await
    {
        Ok(b) => b,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("metrics failed: {e}"),
            )
                .into_response()
        }
    };
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_openmetrics_text() {
        let m = Metrics::new(true);
        m.items_stored.inc_by(3);
        m.rejected(reason::SIGNATURE);
        m.gossip("received", 100);
        m.verify_seconds.observe(0.002);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).unwrap();
        assert!(out.contains("cairn_items_stored_total 3"), "{out}");
        assert!(
            out.contains("cairn_items_rejected_total{reason=\"signature\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("cairn_gossip_bytes_total{direction=\"received\"} 100"),
            "{out}"
        );
        assert!(out.contains("cairn_ingest_verify_seconds_count 1"), "{out}");
        assert!(out.contains("# TYPE cairn_register_entries gauge"), "{out}");
        assert!(out.ends_with("# EOF\n"), "{out}");
        let mut member = String::new();
        prometheus_client::encoding::text::encode(&mut member, &Metrics::new(false).registry)
            .unwrap();
        assert!(!member.contains("register_entries"), "{member}");
    }

    #[test]
    fn refusal_reasons_are_a_small_fixed_set() {
        assert_eq!(item_reason(&ItemError::BadSignature), reason::SIGNATURE);
        assert_eq!(
            item_reason(&ItemError::Certificate(CertificateError::BadSignature)),
            reason::CERTIFICATE
        );
    }
}
