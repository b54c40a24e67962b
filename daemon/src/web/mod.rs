//! The read-only web view (`[web]` in cairn.toml, off unless enabled,
//! loopback by default): items with filters and their pages (payload
//! download), the members and their certificates, the participation
//! register on the authority's node (live, over Server-Sent Events), and
//! the node's health.
//!
//! - It shows what `cairn` shows and nothing more: every page asks the
//!   node's local API ([`Api::handle`]) exactly as the CLI does, so the TLP
//!   and audience rules are the CLI's; payload bytes leave through the
//!   API's one gate ([`crate::api::readable_payload`]).
//! - HTML is rendered on the server with maud, which escapes every value
//!   spliced into a page. Scripts and styles are files of their own, and
//!   every page forbids inline script (Content-Security-Policy), so a title
//!   that slipped through escaping still could not run.
//! - Login: HTTP Basic users of `[[web.users]]`; needed for anything beyond
//!   loopback (with TLS), and for every request once users are configured.
//!
//! One file per page: `items.rs` (list, item, payload), `members.rs`,
//! `register.rs`, `health.rs`; the list's filters in `filter.rs`.

mod filter;
mod health;
mod items;
mod members;
mod register;

use crate::api::Api;
use crate::context::Context;
use crate::http::ServerSettings;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};
use std::sync::Arc;

/// The web view's shared state.
pub struct Web {
    api: Api,
    ctx: Arc<Context>,
    settings: ServerSettings,
}

type Shared = axum::extract::State<Arc<Web>>;

/// The router of the web view.
pub fn router(api: Api, ctx: Arc<Context>, settings: ServerSettings) -> Router {
    let state = Arc::new(Web { api, ctx, settings });
    Router::new()
        .route("/", get(items::list))
        .route("/items/{id}", get(items::show))
        .route("/items/{id}/payload", get(items::payload))
        .route("/members", get(members::page))
        .route("/register", get(register::page))
        .route("/register/events", get(register::events))
        .route("/health", get(health::page))
        .route("/health/live", get(health::live))
        .route("/static/style.css", get(style))
        .route("/static/live.js", get(script))
        .fallback(not_found)
        .with_state(state)
}

/// A request whose credentials passed (or that needs none: loopback
/// without users).
pub struct Viewer;

impl FromRequestParts<Arc<Web>> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Arc<Web>) -> Result<Self, Response> {
        web.settings
            .authorize(&parts.headers, "Cairn web view")
            .map(|()| Viewer)
            .map_err(hardened)
    }
}

/// What every answer of the view carries: no inline script or style, no
/// framing, no type sniffing, no referrer.
fn hardened(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The pages of the navigation bar: path and name.
const NAV: &[(&str, &str)] = &[
    ("/", "Items"),
    ("/members", "Members"),
    ("/register", "Register"),
    ("/health", "Health"),
];

impl Web {
    /// A whole page: the frame around `content`.
    fn page(&self, status: StatusCode, title: &str, active: &str, content: Markup) -> Response {
        let cert = self.ctx.certificate();
        let markup = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Cairn" }
                    link rel="stylesheet" href="/static/style.css";
                    script src="/static/live.js" defer {}
                }
                body {
                    header {
                        span.brand { "Cairn" }
                        span.who {
                            (cert.body.subject.display_name()) " in " (self.ctx.community.name)
                        }
                        nav {
                            @for (path, name) in NAV {
                                @if *path == "/register" && self.ctx.authority.is_none() {
                                } @else {
                                    a href=(path) class=[(*path == active).then_some("active")] { (name) }
                                }
                            }
                        }
                    }
                    main { h1 { (title) } (content) }
                    footer { "Read-only view of this node. Nothing here is shown that `cairn` would not show." }
                }
            }
        };
        hardened((status, markup_response(markup)).into_response())
    }

    /// A page saying what went wrong.
    fn error(&self, status: StatusCode, message: &str) -> Response {
        let title = status.canonical_reason().unwrap_or("Error");
        self.page(status, title, "", html! { p.error { (message) } })
    }
}

/// Markup as an HTML response.
fn markup_response(m: Markup) -> Response {
    let mut r = m.into_string().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A short form of a long hex id, for tables (the full id is in links).
fn short(id: &impl std::fmt::Display) -> String {
    let s = id.to_string();
    s.chars().take(12).collect()
}

async fn not_found(_: Viewer, axum::extract::State(web): Shared) -> Response {
    web.error(
        StatusCode::NOT_FOUND,
        "There is no such page in the web view.",
    )
}

async fn style(_: Viewer) -> Response {
    static_file(include_str!("style.css"), "text/css; charset=utf-8")
}

async fn script(_: Viewer) -> Response {
    static_file(include_str!("live.js"), "text/javascript; charset=utf-8")
}

fn static_file(body: &'static str, media_type: &'static str) -> Response {
    let mut r = hardened(body.into_response());
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    r
}
