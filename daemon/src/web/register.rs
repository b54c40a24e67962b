//! The participation register (the authority's node only), live: the page
//! lists the entries, then `live.js` follows `/register/events`, a stream
//! of Server-Sent Events fed by the same register watch as `cairn register
//! watch`. Each event carries its entry's index as its id, so a browser
//! that reconnects resumes after the last row it has.

use super::{hardened, Shared, Viewer};
use crate::api::Api;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use cairn_protocol::control::{RegisterKind, RegisterView};
use cairn_protocol::RegisterEntry;
use futures::stream::{self, Stream};
use maud::{html, Markup};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;

/// A comment is sent when nothing happened for this long, so proxies and
/// browsers keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// One register row.
fn row(v: &RegisterView) -> Markup {
    let kind = match v.kind {
        RegisterKind::Joined => "joined",
        RegisterKind::WithdrawalEffective => "withdrawal-effective",
        RegisterKind::Reveal => "reveal",
    };
    html! {
        tr data-index=(v.index) {
            td { (v.index) }
            td { (kind) }
            td.entity { (v.entity_name) }
            td { @if let Some(t) = v.entity_type { (t) } }
            td { @if let Some(s) = v.sector { (s) } }
            td { @if let Some(m) = v.member_state { (m) } }
            td { @if let Some(n) = v.sequence { (n) } }
            td { (v.effective) }
            td { (v.registered_at) }
            td { @if let Some(r) = &v.reveal { "item " (r.item) ": " (r.reason) } }
        }
    }
}

pub async fn page(_: Viewer, axum::extract::State(web): Shared) -> Response {
    let entries = match web.api.register_entries(0) {
        Ok(e) => e,
        Err(message) => return web.error(StatusCode::NOT_FOUND, message),
    };
    let content = html! {
        p { "Art. 29(4) participation events, each registered with a signed receipt. "
            span #live-status { "connecting…" } }
        table.register {
            thead { tr {
                th { "#" } th { "Kind" } th { "Entity" } th { "Type" } th { "Sector" } th { "State" }
                th { "Seq." } th { "Effective" } th { "Registered" } th { "Reveal" }
            } }
            tbody #register-rows data-next=(entries.len()) {
                @for e in &entries { (row(&RegisterView::of(e))) }
            }
        }
    };
    web.page(
        StatusCode::OK,
        "Participation register",
        "/register",
        content,
    )
}

#[derive(serde::Deserialize)]
pub struct From {
    from: Option<u64>,
}

struct Feed {
    api: Api,
    feed: broadcast::Receiver<RegisterEntry>,
    next: u64,
    queue: VecDeque<RegisterEntry>,
}

pub async fn events(
    _: Viewer,
    axum::extract::State(web): Shared,
    Query(q): Query<From>,
    headers: HeaderMap,
) -> Response {
    // Subscribed before the backlog is read, so nothing falls between.
    let feed = match web.api.watch_register() {
        Ok(f) => f,
        Err(message) => return hardened((StatusCode::NOT_FOUND, message).into_response()),
    };
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|i| i + 1);
    let next = q.from.unwrap_or(0).max(resumed.unwrap_or(0));
    let queue = web.api.register_entries(next).unwrap_or_default().into();
    let state = Feed {
        api: web.api.clone(),
        feed,
        next,
        queue,
    };
    hardened(Sse::new(entries(state)).into_response())
}

fn entries(state: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(state, |mut s| async move {
        loop {
            if let Some(e) = s.queue.pop_front() {
                if e.index < s.next {
                    continue;
                }
                s.next = e.index + 1;
                let html = row(&RegisterView::of(&e)).into_string();
                let event = Event::default()
                    .event("entry")
                    .id(e.index.to_string())
                    .data(html);
                return Some((Ok(event), s));
            }
            match tokio::time::timeout(KEEP_ALIVE, s.feed.recv()).await {
                Err(_) => return Some((Ok(Event::default().comment("keep-alive")), s)),
                Ok(Ok(e)) if e.index < s.next => {}
                Ok(Ok(e)) if e.index == s.next => s.queue.push_back(e),
                // A gap or a lagging receiver: read what is missing from the register.
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    s.queue = s.api.register_entries(s.next).unwrap_or_default().into();
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => return None,
            }
        }
    })
}
