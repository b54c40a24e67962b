//! The TAXII 2.1 server (`[taxii]` in cairn.toml, off by default): one API
//! root (`/cairn/`) with one collection holding, as STIX 2.1, every item
//! this node may show to the asking user.
//!
//! - Every endpoint needs HTTP Basic credentials of a configured user
//!   (401 otherwise); an unreadable item is never served, and a user sees
//!   items up to its maximum TLP (never RED): the export rule of
//!   `cairn_protocol::interop`, applied to the node's views
//!   (`Api::item_view`), mapped by `interop::stix`.
//! - Discovery, API root, collections, objects (paged with `limit`/`next`
//!   on a stable cursor: the order this node stored items in; `added_after`;
//!   `match[id|type|version|spec_version]`), object by id, versions,
//!   manifest, status.
//! - POST of an envelope (users with `write`): the objects are imported as
//!   `cairn import stix` would and published as items signed by this node;
//!   answered 202 with a status resource, complete when it is sent.
//! - Answers are `application/taxii+json;version=2.1`; 406 for a client
//!   that accepts none of it, 415 for a POST of anything else, 413 over
//!   `max_content_length`, 403 for a write without the right, 404 for what
//!   does not exist.

mod listing;
mod objects;
mod post;

use crate::api::Api;
use crate::config::{TaxiiSettings, TaxiiUser};
use crate::context::Context;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cairn_protocol::interop::ids::uuid_from;
use cairn_protocol::interop::taxii::{
    self, ApiRoot, Collection, Collections, Discovery, Filter, MEDIA_TYPE, STIX_MEDIA_TYPE,
};
use cairn_protocol::Tlp;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The API root's path segment.
const API_ROOT: &str = "cairn";
/// Statuses of POSTs kept for `GET status/{id}`.
const STATUSES_KEPT: usize = 1000;

/// The server's shared state.
pub struct Taxii {
    api: Api,
    ctx: Arc<Context>,
    settings: TaxiiSettings,
    collection_id: String,
    tls: bool,
    statuses: Mutex<VecDeque<taxii::Status>>,
    posts: std::sync::atomic::AtomicU64,
}

type Shared = State<Arc<Taxii>>;
type Params = Query<Vec<(String, String)>>;

/// The router of the TAXII server.
pub fn router(api: Api, ctx: Arc<Context>, settings: TaxiiSettings, tls: bool) -> Router {
    let collection_id = uuid_from(&[b"cairn taxii collection", &[0], ctx.community.id.as_bytes()]);
    let state = Arc::new(Taxii {
        api,
        ctx,
        settings,
        collection_id,
        tls,
        statuses: Mutex::new(VecDeque::new()),
        posts: Default::default(),
    });
    let root = format!("/{API_ROOT}");
    Router::new()
        .route("/taxii2/", get(discovery))
        .route(&format!("{root}/"), get(api_root))
        .route(&format!("{root}/collections/"), get(collections))
        .route(&format!("{root}/collections/{{id}}/"), get(collection))
        .route(
            &format!("{root}/collections/{{id}}/objects/"),
            get(objects::get_objects).post(post::post_objects),
        )
        .route(
            &format!("{root}/collections/{{id}}/objects/{{object}}/"),
            get(objects::get_object),
        )
        .route(
            &format!("{root}/collections/{{id}}/objects/{{object}}/versions/"),
            get(objects::get_versions),
        )
        .route(
            &format!("{root}/collections/{{id}}/manifest/"),
            get(objects::get_manifest),
        )
        .route(&format!("{root}/status/{{id}}/"), get(status))
        .route(&format!("{root}/status/{{id}}"), get(status))
        .fallback(not_found)
        .with_state(state)
}

/// A refused request: its status and what the TAXII error body says.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    title: &'static str,
    description: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = taxii::Error {
            title: self.title.into(),
            description: Some(self.description),
            http_status: self.status.as_u16().to_string(),
        };
        let mut r = json(self.status, &body);
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Cairn TAXII\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

/// A refusal with a TAXII error body.
pub(crate) fn refuse(
    status: StatusCode,
    title: &'static str,
    description: impl Into<String>,
) -> Refusal {
    Refusal {
        status,
        title,
        description: description.into(),
    }
}

/// A TAXII error answer.
pub(crate) fn error(
    status: StatusCode,
    title: &'static str,
    description: impl Into<String>,
) -> Response {
    refuse(status, title, description).into_response()
}

/// A TAXII JSON answer.
pub(crate) fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).expect("TAXII resources serialise");
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    r
}

impl Taxii {
    /// The user the request's credentials name, and that the client takes
    /// TAXII answers; the error answer otherwise.
    pub(crate) fn guard(&self, headers: &HeaderMap) -> Result<&TaxiiUser, Refusal> {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let user = crate::http::auth::basic(given).and_then(|(name, password)| {
            self.settings
                .users
                .iter()
                .find(|u| u.name == name)
                .filter(|u| crate::http::auth::verify(&password, &u.password_sha256))
        });
        let Some(user) = user else {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "Authentication required",
                "give the user name and password of a [[taxii.users]] entry (HTTP Basic)",
            ));
        };
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        if !taxii::accepts_taxii(accept) {
            return Err(refuse(
                StatusCode::NOT_ACCEPTABLE,
                "Not acceptable",
                format!("this server answers {MEDIA_TYPE}"),
            ));
        }
        Ok(user)
    }

    /// The collection as `user` sees it, if `id` names it.
    pub(crate) fn collection_for(&self, id: &str, user: &TaxiiUser) -> Result<Collection, Refusal> {
        if id != self.collection_id {
            return Err(refuse(
                StatusCode::NOT_FOUND,
                "No such collection",
                format!("this API root has one collection, {}", self.collection_id),
            ));
        }
        Ok(Collection {
            id: self.collection_id.clone(),
            title: format!("{} (Cairn)", self.ctx.community.name),
            description: Some(format!(
                "The items this node holds and may show you, as STIX 2.1, up to {}",
                user.max_tlp.label()
            )),
            can_read: true,
            can_write: user.write,
            media_types: vec![STIX_MEDIA_TYPE.into()],
        })
    }

    /// The export policy of `user`.
    pub(crate) fn policy(user: &TaxiiUser) -> cairn_protocol::interop::ExportPolicy {
        cairn_protocol::interop::ExportPolicy {
            max_tlp: user.max_tlp.min(Tlp::AmberStrict),
        }
    }

    fn remember(&self, status: taxii::Status) {
        let mut s = self.statuses.lock().unwrap_or_else(|p| p.into_inner());
        s.push_back(status);
        while s.len() > STATUSES_KEPT {
            s.pop_front();
        }
    }

    fn url(&self, headers: &HeaderMap, path: &str) -> String {
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) => {
                let scheme = if self.tls { "https" } else { "http" };
                format!("{scheme}://{host}{path}")
            }
            None => path.to_string(),
        }
    }
}

async fn discovery(State(t): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = t.guard(&headers) {
        return r.into_response();
    }
    let root = t.url(&headers, &format!("/{API_ROOT}/"));
    json(
        StatusCode::OK,
        &Discovery {
            title: t.settings.title.clone(),
            description: Some(format!(
                "Cairn node of {} in {}",
                t.ctx.certificate().body.subject.display_name(),
                t.ctx.community.name
            )),
            contact: None,
            default: Some(root.clone()),
            api_roots: vec![root],
        },
    )
}

async fn api_root(State(t): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = t.guard(&headers) {
        return r.into_response();
    }
    json(
        StatusCode::OK,
        &ApiRoot {
            title: t.ctx.community.name.clone(),
            description: Some("Items of the community this node may show you".into()),
            versions: vec![MEDIA_TYPE.into()],
            max_content_length: t.settings.max_content_length as u64,
        },
    )
}

async fn collections(State(t): Shared, headers: HeaderMap) -> Response {
    let user = match t.guard(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    let c = t
        .collection_for(&t.collection_id, user)
        .expect("its own id");
    json(
        StatusCode::OK,
        &Collections {
            collections: vec![c],
        },
    )
}

async fn collection(State(t): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let user = match t.guard(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    match t.collection_for(&id, user) {
        Ok(c) => json(StatusCode::OK, &c),
        Err(r) => r.into_response(),
    }
}

async fn status(State(t): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = t.guard(&headers) {
        return r.into_response();
    }
    let found = t
        .statuses
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|s| s.id == id)
        .cloned();
    match found {
        Some(s) => json(StatusCode::OK, &s),
        None => error(
            StatusCode::NOT_FOUND,
            "No such status",
            format!("no POST with status {id} is remembered (the last {STATUSES_KEPT} are)"),
        ),
    }
}

async fn not_found(State(t): Shared, headers: HeaderMap) -> Response {
    if let Err(r) = t.guard(&headers) {
        return r.into_response();
    }
    error(
        StatusCode::NOT_FOUND,
        "Not found",
        format!("discovery is /taxii2/, the API root /{API_ROOT}/"),
    )
}

/// Reads the `match[…]` filters, answering 400 for a bad one.
pub(crate) fn filter(params: &[(String, String)]) -> Result<Filter, Refusal> {
    Filter::from_query(params).map_err(|e| refuse(StatusCode::BAD_REQUEST, "Bad filter", e))
}
