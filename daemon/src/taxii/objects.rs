//! The objects of the collection as a client reads them: the objects and
//! manifest listings (paged), one object, and its versions. The order and
//! paging they share are in `listing.rs`; POSTed envelopes in `post.rs`.

use super::listing::{paging, Found, Listing, Start, SCAN_BUDGET};
use super::{error, filter, json, refuse, Params, Refusal, Shared, Taxii};
use crate::config::TaxiiUser;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use cairn_protocol::interop::taxii::{
    version_of, Cursor, Envelope, Manifest, ManifestRecord, Versions, STIX_MEDIA_TYPE,
};

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
