//! The members page: every member this node knows, with its certificate,
//! validity, standing and connection.

use super::{short, Shared, Viewer};
use axum::http::StatusCode;
use axum::response::Response;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::Timestamp;
use maud::html;

pub async fn page(_: Viewer, axum::extract::State(web): Shared) -> Response {
    let members = match web.api.handle(ControlRequest::Members).await {
        ControlResponse::Members { members } => members,
        ControlResponse::Error { message } => {
            return web.error(StatusCode::SERVICE_UNAVAILABLE, &message)
        }
        _ => return web.error(StatusCode::INTERNAL_SERVER_ERROR, "unexpected answer"),
    };
    let now = Timestamp::now();
    let content = html! {
        @if members.is_empty() {
            p { "No other members known yet: they appear once admitted or once their items arrive." }
        } @else {
            table.members id="members" {
                thead { tr {
                    th { "Entity" } th { "Type" } th { "Sector" } th { "State" }
                    th { "Certificate" } th { "Serial" } th { "Valid until" } th { "Standing" } th { "Connected" }
                } }
                tbody {
                    @for m in &members {
                        tr {
                            td { (m.entity_name) }
                            td { @if let Some(t) = m.entity_type { (t) } }
                            td { @if let Some(s) = m.sector { (s) } }
                            td { @if let Some(s) = m.member_state { (s) } }
                            td.mono title=(m.certificate) { (short(&m.certificate)) }
                            td { (m.serial) }
                            td { (m.not_after) }
                            td {
                                @if let Some(r) = &m.revoked {
                                    span.warn { "revoked (" (r.reason) ", effective " (r.effective) ")" }
                                } @else if m.not_after <= now {
                                    span.warn { "expired" }
                                } @else {
                                    "valid"
                                }
                                @if !m.key_in_use_from.is_empty() {
                                    br; span.warn { "key in use by more than one node: " (m.key_in_use_from.join(", ")) }
                                }
                            }
                            td { @if m.connected { "yes" } @else { "no" } }
                        }
                    }
                }
            }
        }
    };
    web.page(StatusCode::OK, "Members", "/members", content)
}
