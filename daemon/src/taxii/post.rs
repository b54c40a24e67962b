//! POSTed envelopes (users with `write`): the objects are imported as items
//! this node publishes (`stix_import`), and the status says, per object,
//! which item took it or why it failed.

use super::{error, json, Shared, Taxii};
use crate::config::TaxiiUser;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::interop::ids::uuid_from;
use cairn_protocol::interop::stix_import::{self, ImportOptions};
use cairn_protocol::interop::taxii::{self, version_of, StatusDetail};
use cairn_protocol::Timestamp;
use serde_json::Value;

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
