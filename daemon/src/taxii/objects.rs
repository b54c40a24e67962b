//! The objects of the collection: listing (objects and manifest, paged),
//! one object, its versions, and POSTed envelopes.
//!
//! The collection's order: first the TLP 2.0 marking definitions the user
//! may see (their `date_added` is the date OASIS created them), then every
//! item in the order this node stored it (`date_added`: when it stored the
//! item), each item's STIX objects in the order the exporter gives them.
//! Items are only appended, so a position never moves: a `next` token is
//! that position (entry, object), and paging from it gives every object
//! exactly once even while items arrive.

use super::{error, filter, json, refuse, Params, Refusal, Shared, Taxii};
use crate::config::TaxiiUser;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::interop::stix::{self, marking_definition};
use cairn_protocol::interop::stix_import::{self, ImportOptions};
use cairn_protocol::interop::taxii::{
    self, version_of, Cursor, Envelope, Filter, Manifest, ManifestRecord, StatusDetail, Versions,
    STIX_MEDIA_TYPE,
};
use cairn_protocol::interop::{check_export, ids::uuid_from};
use cairn_protocol::{Timestamp, Tlp};
use cairn_store::items::StoredAt;
use serde_json::Value;

/// Objects per page unless the client asks for fewer.
const DEFAULT_LIMIT: usize = 100;
/// Most objects per page.
const MAX_LIMIT: usize = 1000;
/// Items looked at per listing request at most; a page may come back short
/// (with `more`) when filters skip many.
const SCAN_BUDGET: usize = 5000;
/// Items read from the store at a time.
const BATCH: usize = 256;
/// Entries below this are the marking definitions; items are above.
const ITEMS_FROM: u64 = 1 << 24;
/// When OASIS created the TLP 2.0 marking definitions.
const MARKINGS_ADDED: Timestamp = Timestamp(1_664_582_400_000);

fn entry_of(at: StoredAt) -> u64 {
    ((at.chunk + 1) << 24) | u64::from(at.index)
}

fn stored_at(entry: u64) -> StoredAt {
    if entry < ITEMS_FROM {
        return StoredAt::default();
    }
    StoredAt {
        chunk: (entry >> 24) - 1,
        index: (entry & (ITEMS_FROM - 1)) as u32,
    }
}

/// Where a listing starts.
#[derive(Clone, Copy, Debug)]
enum Start {
    At(Cursor),
    AddedAfter(Timestamp),
}

/// One object found, with its date_added.
struct Found {
    object: Value,
    added: Timestamp,
}

/// A listing's result.
struct Listing {
    found: Vec<Found>,
    /// Where the next page starts, if there is more.
    next: Option<Cursor>,
}

impl Taxii {
    /// The objects of one entry as `user` may see them (none for an item it
    /// may not).
    async fn entry_objects(
        &self,
        entry: u64,
        id: Option<cairn_protocol::ItemId>,
        user: &TaxiiUser,
        names: &crate::audience::Names,
    ) -> Result<Vec<Value>, String> {
        if entry < ITEMS_FROM {
            let tlp = Tlp::ALL.get(entry as usize).copied();
            return Ok(tlp
                .filter(|t| *t <= Taxii::policy(user).max_tlp)
                .map(marking_definition)
                .into_iter()
                .collect());
        }
        let Some(id) = id else { return Ok(vec![]) };
        let item = match self.ctx.items.get(&id) {
            Ok(Some((item, _))) => item,
            Ok(None) => return Ok(vec![]),
            Err(e) => return Err(format!("cannot read item {id}: {e}")),
        };
        let view = self.api.item_view(id, &item, names, true);
        if check_export(&view, &Taxii::policy(user)).is_err() {
            return Ok(vec![]);
        }
        Ok(stix::item_objects(&view).objects)
    }

    /// Objects from `start` on that pass `filter`, at most `limit`, looking
    /// at no more than `budget` items.
    async fn list(
        &self,
        user: &TaxiiUser,
        start: Start,
        filter: &Filter,
        limit: usize,
        budget: usize,
    ) -> Result<Listing, String> {
        let names = self.api.names().await;
        let (mut entry, mut skip) = match start {
            Start::At(c) => (c.entry, c.object),
            Start::AddedAfter(t) if t < MARKINGS_ADDED => (0, 0),
            Start::AddedAfter(t) => {
                let at = self
                    .ctx
                    .items
                    .first_stored_after(t)
                    .map_err(|e| e.to_string())?;
                (entry_of(at), 0)
            }
        };
        let mut found = Vec::new();
        let mut scanned = 0;
        // One object past the page tells whether there is more.
        let take = |objects: Vec<Value>,
                    added: Timestamp,
                    entry: u64,
                    skip: u32,
                    found: &mut Vec<Found>|
         -> Option<Cursor> {
            for (i, o) in objects.into_iter().enumerate().skip(skip as usize) {
                let v = version_of(&o, &added.to_rfc3339_millis());
                if !filter.matches_object(&o) || !filter.matches_version(&v, &v, &v) {
                    continue;
                }
                let at = Cursor {
                    entry,
                    object: i as u32,
                };
                if found.len() == limit {
                    return Some(at);
                }
                found.push(Found { object: o, added });
            }
            None
        };
        while entry < Tlp::ALL.len() as u64 {
            let objects = self.entry_objects(entry, None, user, &names).await?;
            if let Some(next) = take(objects, MARKINGS_ADDED, entry, skip, &mut found) {
                return Ok(Listing {
                    found,
                    next: Some(next),
                });
            }
            entry += 1;
            skip = 0;
        }
        let mut from = stored_at(entry.max(ITEMS_FROM));
        loop {
            let batch = self
                .ctx
                .items
                .stored_from(from, BATCH)
                .map_err(|e| e.to_string())?;
            let Some(last) = batch.last() else {
                return Ok(Listing { found, next: None });
            };
            from = StoredAt {
                chunk: last.at.chunk,
                index: last.at.index + 1,
            };
            for a in batch {
                let e = entry_of(a.at);
                let first_skip = if e == entry { skip } else { 0 };
                if scanned >= budget {
                    return Ok(Listing {
                        found,
                        next: Some(Cursor {
                            entry: e,
                            object: first_skip,
                        }),
                    });
                }
                scanned += 1;
                let objects = self.entry_objects(e, Some(a.id), user, &names).await?;
                if let Some(next) = take(objects, a.added, e, first_skip, &mut found) {
                    return Ok(Listing {
                        found,
                        next: Some(next),
                    });
                }
            }
        }
    }
}

/// `limit`, `next` and `added_after` of a listing.
fn paging(params: &[(String, String)]) -> Result<(usize, Start), Refusal> {
    let bad = |m: String| refuse(StatusCode::BAD_REQUEST, "Bad request", m);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let limit = match get("limit") {
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n > 0 => n.min(MAX_LIMIT),
            _ => return Err(bad(format!("limit {l:?} is not a positive number"))),
        },
        None => DEFAULT_LIMIT,
    };
    let start = match (get("next"), get("added_after")) {
        (Some(n), _) if !n.is_empty() => match Cursor::parse(n) {
            Some(c) => Start::At(c),
            None => return Err(bad(format!("next {n:?} is not a token this server gave"))),
        },
        (_, Some(t)) => match Timestamp::parse_rfc3339(t) {
            Ok(t) => Start::AddedAfter(t),
            Err(e) => return Err(bad(format!("added_after: {e}"))),
        },
        _ => Start::At(Cursor {
            entry: 0,
            object: 0,
        }),
    };
    Ok((limit, start))
}

/// The `X-TAXII-Date-Added-First`/`-Last` headers of a page.
fn date_headers(mut r: Response, found: &[Found]) -> Response {
    if let (Some(first), Some(last)) = (found.first(), found.last()) {
        for (name, t) in [
            ("x-taxii-date-added-first", first.added),
            ("x-taxii-date-added-last", last.added),
        ] {
            if let Ok(v) = HeaderValue::from_str(&t.to_rfc3339_millis()) {
                r.headers_mut().insert(name, v);
            }
        }
    }
    r
}

fn internal(e: String) -> Response {
    tracing::warn!("TAXII request failed: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", e)
}

/// A page of the collection `id` for an objects or manifest request, after
/// the checks both make (credentials, media type, collection, parameters).
async fn listing(
    t: &Taxii,
    headers: &HeaderMap,
    id: &str,
    params: &[(String, String)],
) -> Result<Listing, Response> {
    let user = t.guard(headers).map_err(IntoResponse::into_response)?;
    t.collection_for(id, user)
        .map_err(IntoResponse::into_response)?;
    let (limit, start) = paging(params).map_err(IntoResponse::into_response)?;
    let f = filter(params).map_err(IntoResponse::into_response)?;
    t.list(user, start, &f, limit, SCAN_BUDGET)
        .await
        .map_err(internal)
}

pub(super) async fn get_objects(
    axum::extract::State(t): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(params): Params,
) -> Response {
    let listing = match listing(&t, &headers, &id, &params).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let envelope = Envelope {
        more: listing.next.is_some(),
        next: listing.next.map(Cursor::token),
        objects: listing.found.iter().map(|f| f.object.clone()).collect(),
    };
    date_headers(json(StatusCode::OK, &envelope), &listing.found)
}

pub(super) async fn get_manifest(
    axum::extract::State(t): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::Query(params): Params,
) -> Response {
    let listing = match listing(&t, &headers, &id, &params).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let manifest = Manifest {
        more: listing.next.is_some(),
        next: listing.next.map(Cursor::token),
        objects: listing
            .found
            .iter()
            .map(|f| {
                let added = f.added.to_rfc3339_millis();
                ManifestRecord {
                    id: f.object["id"].as_str().unwrap_or("").to_string(),
                    version: version_of(&f.object, &added),
                    date_added: added,
                    media_type: STIX_MEDIA_TYPE.into(),
                }
            })
            .collect(),
    };
    date_headers(json(StatusCode::OK, &manifest), &listing.found)
}

/// Every occurrence of `object` in the collection that `params` lets
/// through (the whole collection is searched).
async fn occurrences(
    t: &Taxii,
    user: &TaxiiUser,
    object: &str,
    params: &[(String, String)],
    versions: bool,
) -> Result<Vec<Found>, Refusal> {
    let mut f = filter(params)?;
    f.ids = vec![object.to_string()];
    if versions {
        f.versions.all = true;
    }
    let start = Start::At(Cursor {
        entry: 0,
        object: 0,
    });
    t.list(user, start, &f, usize::MAX, usize::MAX)
        .await
        .map(|l| l.found)
        .map_err(|e| {
            tracing::warn!("TAXII request failed: {e}");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", e)
        })
}

pub(super) async fn get_object(
    axum::extract::State(t): Shared,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    axum::extract::Query(params): Params,
) -> Response {
    let user = match t.guard(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = t.collection_for(&id, user) {
        return r.into_response();
    }
    let limit = match paging(&params) {
        Ok((l, _)) => l,
        Err(r) => return r.into_response(),
    };
    let mut found = match occurrences(&t, user, &object, &params, false).await {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    if found.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "No such object",
            format!("{object} is not in this collection for you"),
        );
    }
    found.truncate(limit);
    let envelope = Envelope {
        more: false,
        next: None,
        objects: found.iter().map(|f| f.object.clone()).collect(),
    };
    date_headers(json(StatusCode::OK, &envelope), &found)
}

pub(super) async fn get_versions(
    axum::extract::State(t): Shared,
    headers: HeaderMap,
    Path((id, object)): Path<(String, String)>,
    axum::extract::Query(params): Params,
) -> Response {
    let user = match t.guard(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = t.collection_for(&id, user) {
        return r.into_response();
    }
    let found = match occurrences(&t, user, &object, &params, true).await {
        Ok(f) => f,
        Err(r) => return r.into_response(),
    };
    if found.is_empty() {
        return error(
            StatusCode::NOT_FOUND,
            "No such object",
            format!("{object} is not in this collection for you"),
        );
    }
    let mut versions: Vec<String> = Vec::new();
    for f in &found {
        let v = version_of(&f.object, &f.added.to_rfc3339_millis());
        if !versions.contains(&v) {
            versions.push(v);
        }
    }
    let body = Versions {
        more: false,
        next: None,
        versions,
    };
    date_headers(json(StatusCode::OK, &body), &found)
}

pub(super) async fn post_objects(
    axum::extract::State(t): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Body,
) -> Response {
    let user = match t.guard(&headers) {
        Ok(u) => u,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = t.collection_for(&id, user) {
        return r.into_response();
    }
    if !user.write {
        return error(
            StatusCode::FORBIDDEN,
            "Not allowed to write",
            format!(
                "user {} may read only (write = true in its [[taxii.users]] entry)",
                user.name
            ),
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if !taxii::is_taxii_content(content_type) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("POST an envelope as {}", taxii::MEDIA_TYPE),
        );
    }
    let max = t.settings.max_content_length;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            format!("this API root takes at most {max} bytes (max_content_length)"),
        )
    };
    if declared.is_some_and(|n| n > max) {
        return too_large();
    }
    let bytes: Bytes = match axum::body::to_bytes(body, max).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    /// What a POST carries: an envelope, of which only the objects count.
    #[derive(serde::Deserialize)]
    struct Posted {
        #[serde(default)]
        objects: Vec<Value>,
    }
    let envelope: Posted = match serde_json::from_slice(&bytes) {
        Ok(e) => e,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Not an envelope",
                format!("the body is not a TAXII envelope: {e}"),
            )
        }
    };
    let status = t.add(user, envelope.objects).await;
    t.remember(status.clone());
    json(StatusCode::ACCEPTED, &status)
}

impl Taxii {
    /// Imports `objects` as items this node publishes; every object
    /// succeeds with its item or fails with the reason.
    async fn add(&self, user: &TaxiiUser, objects: Vec<Value>) -> taxii::Status {
        let now = Timestamp::now();
        let n = self
            .posts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let status_id = uuid_from(&[
            b"cairn taxii status",
            &now.millis().to_be_bytes(),
            &n.to_be_bytes(),
        ]);
        let detail = |o: &Value, message: Option<String>| StatusDetail {
            id: o["id"].as_str().unwrap_or("").to_string(),
            version: version_of(o, &now.to_rfc3339_millis()),
            message,
        };
        let mut successes = Vec::new();
        let mut failures = Vec::new();
        let total = objects.len() as u64;
        let bundle = serde_json::json!({
            "type": "bundle",
            "id": format!("bundle--{status_id}"),
            "objects": objects,
        });
        let options = ImportOptions {
            default_tlp: None,
            named_recipients: false,
        };
        match stix_import::import(&bundle.to_string(), &options) {
            Err(e) => {
                let message = e.to_string();
                failures.extend(
                    objects_of(&bundle)
                        .iter()
                        .map(|o| detail(o, Some(message.clone()))),
                );
            }
            Ok(plan) => {
                for item in plan.items {
                    let members = payload_objects(&item.request);
                    if item.request.tlp > Taxii::policy(user).max_tlp {
                        let why = format!(
                            "marked {}, above {}, the most user {} may handle",
                            item.request.tlp.label(),
                            Taxii::policy(user).max_tlp.label(),
                            user.name
                        );
                        failures.extend(members.iter().map(|o| detail(o, Some(why.clone()))));
                        continue;
                    }
                    match self.api.handle(ControlRequest::Publish(item.request)).await {
                        ControlResponse::Published { id, .. } => {
                            let m = format!("published as item {id}");
                            successes.extend(members.iter().map(|o| detail(o, Some(m.clone()))));
                        }
                        ControlResponse::Error { message } => {
                            failures
                                .extend(members.iter().map(|o| detail(o, Some(message.clone()))));
                        }
                        other => {
                            let m = format!("unexpected answer {other:?}");
                            failures.extend(members.iter().map(|o| detail(o, Some(m.clone()))));
                        }
                    }
                }
                // Objects no item took are neither: reported as failures.
                let taken: std::collections::HashSet<String> = successes
                    .iter()
                    .chain(&failures)
                    .map(|d: &StatusDetail| d.id.clone())
                    .collect();
                for o in objects_of(&bundle) {
                    let oid = o["id"].as_str().unwrap_or("");
                    if !taken.contains(oid) && o["type"] != "marking-definition" {
                        failures.push(detail(o, Some("no item refers to this object".into())));
                    } else if o["type"] == "marking-definition" && !taken.contains(oid) {
                        successes.push(detail(o, Some("marking definition".into())));
                    }
                }
            }
        }
        taxii::Status {
            id: status_id,
            status: "complete".into(),
            request_timestamp: now.to_rfc3339_millis(),
            total_count: total,
            success_count: successes.len() as u64,
            successes,
            failure_count: failures.len() as u64,
            failures,
            pending_count: 0,
            pendings: vec![],
        }
    }
}

fn objects_of(bundle: &Value) -> &[Value] {
    bundle["objects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The STIX objects an import put into an item's payload.
fn payload_objects(request: &cairn_protocol::control::PublishRequest) -> Vec<Value> {
    request
        .payload
        .as_ref()
        .and_then(|p| serde_json::from_slice::<Value>(&p.bytes).ok())
        .and_then(|v| v["objects"].as_array().cloned())
        .unwrap_or_default()
}
