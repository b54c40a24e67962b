//! Items: the listing table, and one item in full (its audience, marking,
//! publisher and whether it verified).

use super::{fields, short};
use crate::table::{clean_text, Table};
use cairn_protocol::control::ItemView;

pub fn items(items: &[ItemView]) -> String {
    if items.is_empty() {
        return "no items yet\n".to_string();
    }
    let mut t = Table::new(&["ID", "CREATED", "KIND", "TLP", "PUBLISHER", "TITLE"]);
    for i in items {
        t.row(vec![
            short(i.id),
            i.created.to_rfc3339(),
            i.kind.to_string(),
            i.tlp.label(),
            i.publisher_name.clone(),
            shown_title(i),
        ]);
    }
    t.render()
}

/// The title, or what stands for it on a node outside the item's audience.
fn shown_title(i: &ItemView) -> String {
    match &i.audience {
        Some(a) if !a.readable => format!(
            "(not in the audience: sealed to {})",
            a.recipients.join(", ")
        ),
        _ => i.title.clone(),
    }
}

pub fn item(i: &ItemView) -> String {
    let payload = match &i.payload_media_type {
        Some(media) => format!("{media}, {} bytes", i.payload_size),
        None => "none".to_string(),
    };
    let verified = if i.verified {
        "yes (signature and publisher certificate)".to_string()
    } else {
        "NO: the signature or the publisher certificate does not verify".to_string()
    };
    let audience = match &i.audience {
        None => "the whole community".to_string(),
        Some(a) => {
            let chosen = if a.selectors.is_empty() {
                String::new()
            } else {
                format!(" (chosen as: {})", a.selectors.join(", "))
            };
            format!(
                "sealed to {} recipient(s): {}{chosen}; {} bytes sealed",
                a.recipients.len(),
                a.recipients.join(", "),
                a.sealed_size
            )
        }
    };
    let mut rows = vec![
        ("id", i.id.to_string()),
        ("title", shown_title(i)),
        ("kind", i.kind.to_string()),
        ("marking", i.tlp.label()),
        ("created", i.created.to_rfc3339()),
        (
            "publisher",
            match &i.publisher_revoked {
                None => format!("{} (certificate {})", i.publisher_name, short(i.publisher)),
                Some(r) => format!(
                    "{} (certificate {}) REVOKED: {} since {}; held from before the revocation",
                    i.publisher_name,
                    short(i.publisher),
                    r.reason,
                    r.effective.to_rfc3339()
                ),
            },
        ),
        ("audience", audience),
        ("tags", i.tags.join(", ")),
        ("payload", payload),
        ("verified", verified),
    ];
    let unreadable = i.audience.as_ref().filter(|a| !a.readable);
    if let Some(a) = unreadable {
        rows.retain(|(name, _)| !matches!(*name, "tags" | "payload"));
        rows.push((
            "contents",
            format!(
                "not shown: this node is not in the item's audience ({}); it holds and relays the sealed item",
                a.unreadable_reason.as_deref().unwrap_or("not a recipient")
            ),
        ));
    }
    let head = fields(&rows);
    if unreadable.is_some() {
        return head;
    }
    let mut body = clean_text(&i.body);
    if !body.ends_with('\n') {
        body.push('\n');
    }
    format!("{head}\n{body}")
}
