//! The items pages: the list with its filters, one item, and its payload.

use super::filter;
use super::{hardened, short, Shared, Viewer};
use crate::api::{PayloadRefusal, Unreadable};
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cairn_protocol::control::{ControlRequest, ControlResponse, ItemView};
use cairn_protocol::{ItemId, ItemKind, Tlp};
use maud::{html, Markup};

/// What a sealed item this node cannot open shows instead of its contents.
pub const NOT_IN_AUDIENCE: &str = "not in the audience";

fn readable(v: &ItemView) -> bool {
    v.audience.as_ref().is_none_or(|a| a.readable)
}

pub async fn list(
    _: Viewer,
    axum::extract::State(web): Shared,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    let query = match filter::query(&params) {
        Ok(q) => q,
        Err(e) => return web.error(StatusCode::BAD_REQUEST, &e.0),
    };
    let filtering = filter::is_filtering(&query);
    let (kind, tlp) = (query.kinds.first().copied(), query.tlps.first().copied());
    let page = match web.api.handle(ControlRequest::QueryItems(query)).await {
        ControlResponse::ItemPage(page) => page,
        ControlResponse::Error { message } => return web.error(StatusCode::BAD_REQUEST, &message),
        _ => return web.error(StatusCode::INTERNAL_SERVER_ERROR, "unexpected answer"),
    };
    let value = |k: &str| {
        params
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // The same filters, from where this page ended.
    let next = page.next.map(|cursor| {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "cursor")
            .cloned()
            .collect();
        pairs.push(("cursor".into(), cursor.to_string()));
        format!("/?{}", form_urlencoded(&pairs))
    });
    let content = html! {
        form.filters method="get" action="/" {
            label { "Kind " select name="kind" id="kind" {
                option value="" { "any" }
                @for k in ItemKind::ALL {
                    option value=(k.as_str()) selected[kind == Some(*k)] { (k.as_str()) }
                }
            } }
            label { "TLP " select name="tlp" id="tlp" {
                option value="" { "any" }
                @for t in Tlp::ALL {
                    option value=(t.as_str()) selected[tlp == Some(*t)] { (t.label()) }
                }
            } }
            label { "Tag " input name="tag" id="tag" placeholder="exact, or ioc:* for a prefix" value=(value("tag")); }
            label { "Publisher " input name="publisher" id="publisher" placeholder="legal name or key" value=(value("publisher")); }
            label { "From " input type="date" name="since" id="since" value=(value("since")); }
            label { "Until " input type="date" name="until" id="until" value=(value("until")); }
            label { "Words " input type="search" name="text" id="text" value=(value("text")); }
            button type="submit" id="apply" { "Filter" }
            " " a href="/" { "clear" }
        }
        p.summary id="summary" {
            (page.items.len()) @if filtering { " matching" } " items, newest first"
            @if value("cursor").is_empty() { "." } @else { " (a later page)." }
        }
        table.items id="items" {
            thead { tr { th { "Created" } th { "Kind" } th { "TLP" } th { "Title" } th { "Publisher" } th { "Tags" } } }
            tbody {
                @for v in &page.items {
                    tr data-id=(v.id) {
                        td.time { (v.created) }
                        td { (v.kind.as_str()) }
                        td { (tlp_badge(v.tlp)) }
                        td.title {
                            a href={ "/items/" (v.id) } {
                                @if readable(v) { (v.title) } @else { em { (NOT_IN_AUDIENCE) } }
                            }
                        }
                        td { (v.publisher_name) }
                        td { @for t in &v.tags { span.tag { (t) } " " } }
                    }
                }
            }
        }
        @if let Some(href) = next { p { a #next href=(href) { "Older items →" } } }
    };
    web.page(StatusCode::OK, "Items", "/", content)
}

/// `application/x-www-form-urlencoded` of `pairs`, for links.
fn form_urlencoded(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    out.push(b as char)
                }
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A TLP marking as a coloured label.
pub fn tlp_badge(t: Tlp) -> Markup {
    let class = match t {
        Tlp::Clear => "tlp tlp-clear",
        Tlp::Green => "tlp tlp-green",
        Tlp::Amber | Tlp::AmberStrict => "tlp tlp-amber",
        Tlp::Red => "tlp tlp-red",
    };
    html! { span class=(class) { (t.label()) } }
}

fn parse_id(id: &str) -> Result<ItemId, String> {
    id.parse()
        .map_err(|_| format!("{id:?} is not an item id (64 hex digits)"))
}

pub async fn show(
    _: Viewer,
    axum::extract::State(web): Shared,
    Path(id): Path<String>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return web.error(StatusCode::BAD_REQUEST, &e),
    };
    let v = match web.api.handle(ControlRequest::ShowItem { id }).await {
        ControlResponse::Item(v) => v,
        ControlResponse::Error { message } => return web.error(StatusCode::NOT_FOUND, &message),
        _ => return web.error(StatusCode::INTERNAL_SERVER_ERROR, "unexpected answer"),
    };
    let open = readable(&v);
    let title = if open {
        v.title.clone()
    } else {
        format!("Item {}", short(&v.id))
    };
    let content = html! {
        dl.item {
            dt { "Id" } dd.mono { (v.id) }
            dt { "Kind" } dd { (v.kind.as_str()) }
            dt { "Marking" } dd { (tlp_badge(v.tlp)) }
            dt { "Created" } dd { (v.created) }
            dt { "Publisher" } dd {
                (v.publisher_name)
                @if let Some(r) = &v.publisher_revoked {
                    " " span.warn { "certificate revoked (" (r.reason) ", effective " (r.effective) ")" }
                }
            }
            dt { "Verified" } dd { @if v.verified { "yes: signature and certificate checked now" } @else { span.warn { "no" } } }
            dt { "Audience" } dd {
                @match &v.audience {
                    None => "the whole community",
                    Some(a) => {
                        (a.selectors.join(", ")) " — recipients: " (a.recipients.join(", "))
                        @if !a.readable {
                            br; strong.warn id="sealed" { "This node is " (NOT_IN_AUDIENCE) ": its contents are for the recipients only." }
                        }
                    }
                }
            }
            @if open {
                dt { "Tags" } dd { @for t in &v.tags { span.tag { (t) } " " } }
                dt { "Payload" } dd {
                    @match &v.payload_media_type {
                        Some(m) => {
                            a id="payload" href={ "/items/" (v.id) "/payload" } download { "download" }
                            " (" (m) ", " (v.payload_size) " bytes)"
                        }
                        None => "none",
                    }
                }
            }
        }
        @if open {
            h2 { "Body" }
            pre.body id="body" { (v.body) }
        }
    };
    web.page(StatusCode::OK, &title, "/", content)
}

/// The payload as published, always as an attachment of a neutral type:
/// its declared media type is the publisher's claim, and serving it as
/// such (HTML, SVG) from this origin would run the publisher's script.
pub async fn payload(
    _: Viewer,
    axum::extract::State(web): Shared,
    Path(id): Path<String>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(e) => return web.error(StatusCode::BAD_REQUEST, &e),
    };
    let p = match web.api.payload(&id) {
        Ok(p) => p,
        Err(e) => {
            let status = match &e {
                PayloadRefusal::Unreadable(Unreadable::NotInAudience(..)) => StatusCode::FORBIDDEN,
                PayloadRefusal::Read(..) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::NOT_FOUND,
            };
            return web.error(status, &e.to_string());
        }
    };
    let mut r = hardened(Body::from(p.bytes).into_response());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.bin\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // The declared type, for a client that wants it; never interpreted here.
    if let Ok(v) = HeaderValue::from_str(&p.media_type) {
        h.insert("x-cairn-media-type", v);
    }
    r
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_carry_the_filters_encoded() {
        let pairs = vec![
            ("tlp".to_string(), "AMBER+STRICT".to_string()),
            ("text".to_string(), "a&b <c>".to_string()),
        ];
        assert_eq!(
            super::form_urlencoded(&pairs),
            "tlp=AMBER%2BSTRICT&text=a%26b%20%3Cc%3E"
        );
    }
}
