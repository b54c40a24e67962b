//! The MISP feed over HTTP (`[misp_feed]` in cairn.toml, off by default):
//! `/<path>/manifest.json`, `/<path>/hashes.csv` and `/<path>/<uuid>.json`,
//! the same bytes `cairn export misp-feed` writes, so a MISP instance
//! subscribes to the node by URL (a feed of format "MISP Feed").
//!
//! - Every request needs HTTP Basic credentials of a `[[misp_feed.users]]`
//!   entry: without them the answer is 401 whatever the path, so an
//!   unauthenticated reader learns nothing, not even which events exist.
//! - A user's feed holds what the export rule lets out up to the user's
//!   `max_tlp` (never RED, never an item sealed to an audience this node is
//!   not in): the same pages of views as every export (`Api::export_page`),
//!   mapped by `cairn_protocol::interop::misp`.
//! - A feed is built once per marking and kept until the store holds
//!   another number of items, or for [`FEED_TTL`]: MISP fetches the
//!   manifest and then each new event, and each of those requests would
//!   otherwise rebuild the whole feed.

pub mod config;

use crate::api::Api;
use crate::context::Context;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use cairn_protocol::control::ExportQuery;
use cairn_protocol::interop::misp::{self, Feed};
use cairn_protocol::interop::ExportPolicy;
use cairn_protocol::Tlp;
use config::{FeedUser, MispFeedSettings};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// How long a built feed is served while the store's item count stays the
/// same (revocations and renewals change how items are shown, not their
/// number).
const FEED_TTL: Duration = Duration::from_secs(30);
/// Items asked for per export page.
const PAGE: usize = 500;

/// The server's shared state.
pub struct MispFeed {
    api: Api,
    ctx: Arc<Context>,
    settings: MispFeedSettings,
    /// One feed per marking. A tokio mutex: concurrent requests wait for
    /// one build.
    cache: tokio::sync::Mutex<HashMap<Tlp, Built>>,
}

/// A feed, with the store's item count and the time it was built at.
struct Built {
    items: u64,
    at: Instant,
    feed: Arc<Feed>,
}

type Shared = State<Arc<MispFeed>>;

/// The router of the feed server.
pub fn router(api: Api, ctx: Arc<Context>, settings: MispFeedSettings) -> Router {
    let route = format!("/{}/{{file}}", settings.path);
    let state = Arc::new(MispFeed {
        api,
        ctx,
        settings,
        cache: Default::default(),
    });
    Router::new()
        .route(&route, get(file))
        .fallback(not_found)
        .with_state(state)
}

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn unauthorized() -> Response {
    let mut r = answer(
        StatusCode::UNAUTHORIZED,
        "text/plain; charset=utf-8",
        "give the user name and password of a [[misp_feed.users]] entry (HTTP Basic)\n",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Cairn MISP feed\", charset=\"UTF-8\""),
    );
    r
}

impl MispFeed {
    /// The user the request's credentials name.
    fn user(&self, headers: &HeaderMap) -> Option<&FeedUser> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let (name, password) = crate::http::auth::basic(given)?;
        self.settings
            .users
            .iter()
            .find(|u| u.name == name)
            .filter(|u| crate::http::auth::verify(&password, &u.password_sha256))
    }

    /// The feed up to `max_tlp`, built anew when the store changed.
    async fn feed(&self, max_tlp: Tlp) -> Result<Arc<Feed>, String> {
        let mut cache = self.cache.lock().await;
        let items = self.ctx.items.count();
        if let Some(b) = cache.get(&max_tlp) {
            if b.items == items && b.at.elapsed() < FEED_TTL {
                return Ok(b.feed.clone());
            }
        }
        let policy = ExportPolicy { max_tlp };
        let mut query = ExportQuery {
            since: None,
            kinds: vec![],
            policy,
            after: None,
            limit: PAGE,
            item: None,
        };
        let mut views = Vec::new();
        loop {
            let page = self.api.export_page(&query).await?;
            views.extend(page.items);
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let feed = Arc::new(misp::feed(&views, &policy));
        info!(
            max_tlp = %max_tlp,
            events = feed.events.len(),
            withheld = feed.withheld.total(),
            "MISP feed built"
        );
        cache.insert(
            max_tlp,
            Built {
                items,
                at: Instant::now(),
                feed: feed.clone(),
            },
        );
        Ok(feed)
    }
}

async fn file(State(s): Shared, Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(user) = s.user(&headers) else {
        return unauthorized();
    };
    debug!(user = %user.name, file = %name, "MISP feed request");
    let feed = match s.feed(user.max_tlp).await {
        Ok(f) => f,
        Err(e) => {
            warn!("MISP feed: cannot read the store: {e}");
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "the node cannot read its store now; see its log\n",
            );
        }
    };
    match name.as_str() {
        "manifest.json" => answer(StatusCode::OK, "application/json", feed.manifest.clone()),
        "hashes.csv" => answer(
            StatusCode::OK,
            "text/csv; charset=utf-8",
            feed.hashes.clone(),
        ),
        other => match misp::event_file_uuid(other).and_then(|u| feed.event(u)) {
            Some(e) => answer(StatusCode::OK, "application/json", e.json.clone()),
            None => answer(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "no such event in this feed\n",
            ),
        },
    }
}

async fn not_found(State(s): Shared, headers: HeaderMap) -> Response {
    if s.user(&headers).is_none() {
        return unauthorized();
    }
    answer(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        format!("the feed is at /{}/manifest.json\n", s.settings.path),
    )
}
