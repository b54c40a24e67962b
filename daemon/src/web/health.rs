//! The health page: connections, catch-up progress, the outbox of
//! participation notices, warnings. Its body is refreshed in place every
//! few seconds (`/health/live`, fetched by `live.js`).

use super::{hardened, markup_response, Shared, Viewer};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cairn_protocol::control::{ControlRequest, ControlResponse, NodeStatus};
use maud::{html, Markup};

pub async fn page(_: Viewer, axum::extract::State(web): Shared) -> Response {
    match status(&web).await {
        Ok(s) => web.page(
            StatusCode::OK,
            "Health",
            "/health",
            html! { div #health-live { (body(&s)) } },
        ),
        Err(e) => web.error(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// The page's body alone, for the live refresh.
pub async fn live(_: Viewer, axum::extract::State(web): Shared) -> Response {
    match status(&web).await {
        Ok(s) => hardened(markup_response(body(&s))),
        Err(e) => hardened((StatusCode::SERVICE_UNAVAILABLE, e).into_response()),
    }
}

async fn status(web: &super::Web) -> Result<NodeStatus, String> {
    match web.api.handle(ControlRequest::Status).await {
        ControlResponse::Status(s) => Ok(s),
        ControlResponse::Error { message } => Err(message),
        _ => Err("unexpected answer".into()),
    }
}

fn body(s: &NodeStatus) -> Markup {
    let sync = &s.sync;
    html! {
        @if !s.warnings.is_empty() {
            ul.warnings { @for w in &s.warnings { li.warn { (w) } } }
        }
        dl.health {
            dt { "Entity" } dd { (s.entity_name) }
            dt { "Peer id" } dd.mono { (s.peer_id) }
            dt { "Community" } dd { (s.community_name) }
            dt { "Listening on" } dd { @for a in &s.listen_addrs { span.mono { (a) } br; } }
            dt { "Connected members" } dd id="connected" { (s.connected_members) }
            dt { "Items stored" } dd id="items-stored" { (s.items) }
            dt { "Catch-up" } dd id="catchup" {
                @if sync.running {
                    "fetching from " (sync.peer_name.clone().or(sync.peer.clone()).unwrap_or_default())
                    ": " (sync.fetched) " of " (sync.needed) " items"
                } @else {
                    "idle; " (sync.sessions) " sessions completed"
                    @if let Some(t) = sync.last_completed { ", last at " (t) }
                }
                @if let Some(e) = &sync.last_error { br; span.warn { "last error: " (e) } }
            }
            dt { "Outbox" } dd id="outbox" {
                @if s.outbox_pending == 0 { "empty: every participation notice has its receipt" }
                @else { (s.outbox_pending) " notices wait for the authority's receipt" }
            }
            @if let Some(n) = s.register_entries {
                dt { "Register" } dd { (n) " entries (this node is the authority)" }
            }
            dt { "Certificate valid until" } dd { (s.certificate_not_after) }
            dt { "Rate limits and bans" } dd {
                (s.abuse.gossip_rate_limited) " gossip and " (s.abuse.requests_rate_limited)
                " requests rate limited, " (s.abuse.gossip_rejected) " gossip rejected, "
                (s.abuse.banned_now) " peers banned now"
            }
        }
        @if !s.bootstrap.is_empty() {
            h2 { "Bootstrap peers" }
            table.bootstrap {
                thead { tr { th { "Address" } th { "Connected" } th { "Last success" } th { "Last error" } } }
                tbody { @for b in &s.bootstrap { tr {
                    td.mono { (b.address) }
                    td { @if b.connected { "yes" } @else { "no" } }
                    td { @if let Some(t) = b.last_success { (t) } }
                    td { @if let Some(e) = &b.last_error {
                        (e) @if let Some(t) = b.last_error_at { " (" (t) ")" }
                    } }
                } } }
            }
        }
    }
}
