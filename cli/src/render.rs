//! Human output for what the node answers: aligned columns, RFC 3339 times,
//! TLP as `TLP:AMBER`. `--json` bypasses this module entirely.

use crate::table::{self, clean_line, clean_text, Table};
use cairn_protocol::control::{ItemView, MemberView, NodeStatus, ParticipationView, RegisterView};
use cairn_protocol::{EntityType, ParticipationKind, Sector};

/// Hex digits of an id shown in tables; `cairn items show` accepts them.
pub const SHORT_ID: usize = 12;

/// The first [`SHORT_ID`] hex digits of an id.
pub fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(SHORT_ID).collect()
}

/// Labelled lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {}\n", clean_line(v)))
        .collect()
}

pub fn status(s: &NodeStatus) -> String {
    let role = match (s.is_authority, s.register_entries) {
        (true, Some(n)) => format!("competent authority (register holds {n} entries)"),
        (true, None) => "competent authority".to_string(),
        (false, _) => "member".to_string(),
    };
    let listening = if s.listen_addrs.is_empty() {
        "(not listening)".to_string()
    } else {
        s.listen_addrs.join(", ")
    };
    let mut pairs = vec![
        ("entity", s.entity_name.clone()),
        (
            "community",
            format!("{} ({})", s.community_name, s.community_id),
        ),
        ("role", role),
        ("member key", s.member_key.to_string()),
        ("peer id", s.peer_id.clone()),
        ("listening on", listening),
        (
            "TAXII 2.1",
            s.taxii.clone().unwrap_or_else(|| "off".to_string()),
        ),
        (
            "MISP feed",
            s.misp_feed.clone().unwrap_or_else(|| "off".to_string()),
        ),
        (
            "web view",
            s.web.clone().unwrap_or_else(|| "off".to_string()),
        ),
        (
            "metrics",
            s.metrics.clone().unwrap_or_else(|| "off".to_string()),
        ),
        ("connected members", s.connected_members.to_string()),
        ("items stored", s.items.to_string()),
        ("outbox pending", s.outbox_pending.to_string()),
    ];
    for (i, u) in s.undelivered.iter().enumerate() {
        pairs.push((
            if i == 0 { "undelivered notices" } else { "" },
            format!(
                "{} #{}, {}s old: {}",
                kind_label(u.kind),
                u.sequence,
                u.age_secs,
                u.delivery.as_deref().unwrap_or("not tried yet")
            ),
        ));
    }
    pairs.extend([
        ("catch-up", sync_summary(&s.sync)),
        ("abuse fended off", abuse_summary(&s.abuse)),
        (
            "certificate valid until",
            s.certificate_not_after.to_rfc3339(),
        ),
    ]);
    for (i, b) in s.bootstrap.iter().enumerate() {
        pairs.push((if i == 0 { "bootstrap" } else { "" }, bootstrap(b)));
    }
    if s.bootstrap.is_empty() {
        pairs.push(("bootstrap", "none configured".to_string()));
    }
    for (i, line) in crate::directory::lines(&s.directory)
        .into_iter()
        .enumerate()
    {
        pairs.push((if i == 0 { "member directory" } else { "" }, line));
    }
    fields(&pairs)
        + &s.warnings
            .iter()
            .map(|w| format!("WARNING: {w}\n"))
            .collect::<String>()
}

/// One bootstrap address: connected or not, its last success and error.
pub fn bootstrap(b: &cairn_protocol::control::BootstrapView) -> String {
    let state = if b.connected {
        "connected"
    } else {
        "NOT CONNECTED"
    };
    let success = match b.last_success {
        Some(t) => format!("last dial succeeded {}", t.to_rfc3339()),
        None => "no dial succeeded yet".to_string(),
    };
    let error = match (&b.last_error, b.last_error_at) {
        (Some(e), Some(t)) => format!("; last error {}: {e}", t.to_rfc3339()),
        (Some(e), None) => format!("; last error: {e}"),
        _ => String::new(),
    };
    format!("{} {state}; {success}{error}", b.address)
}

fn abuse_summary(a: &cairn_protocol::control::AbuseStatus) -> String {
    if *a == Default::default() {
        return "none".to_string();
    }
    format!(
        "{} invalid gossip rejected, {} gossip and {} requests over per-peer limits, {} items over per-publisher limits, {} peers banned ({} now)",
        a.gossip_rejected,
        a.gossip_rate_limited,
        a.requests_rate_limited,
        a.publisher_rate_limited,
        a.peers_banned,
        a.banned_now
    )
}

/// Who a catch-up session is with: the entity name from its certificate,
/// or for older nodes that do not send it, the end of its PeerId.
pub fn sync_peer(s: &cairn_protocol::control::SyncStatus) -> Option<String> {
    match (&s.peer_name, &s.peer) {
        (Some(name), _) => Some(name.clone()),
        (None, Some(peer)) => Some(format!("peer …{}", &peer[peer.len().saturating_sub(8)..])),
        (None, None) => None,
    }
}

fn sync_summary(s: &cairn_protocol::control::SyncStatus) -> String {
    let with = sync_peer(s)
        .map(|p| format!(" with {p}"))
        .unwrap_or_default();
    match (s.running, &s.last_error, s.last_completed) {
        (true, _, _) if s.needed > 0 => {
            format!("fetching {}/{} items{with}", s.fetched, s.needed)
        }
        (true, _, _) => format!("reconciling{with}"),
        (false, Some(e), _) => format!("last session{with} stopped early: {e}"),
        (false, None, Some(t)) => format!("in sync as of {}", t.to_rfc3339()),
        (false, None, None) => "no session yet".to_string(),
    }
}

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

/// A field a pseudonym may leave undisclosed, as a table cell.
fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

pub fn members(members: &[MemberView]) -> String {
    if members.is_empty() {
        return "no other members known yet\n".to_string();
    }
    let mut t = Table::new(&[
        "ENTITY",
        "TYPE",
        "SECTOR",
        "MS",
        "CONNECTED",
        "REACHED AT",
        "VALID UNTIL",
        "STATUS",
        "KEY",
    ]);
    for m in members {
        let status = match &m.revoked {
            None => "valid".to_string(),
            Some(r) => format!("REVOKED ({}, {})", r.reason, r.effective.to_rfc3339()),
        };
        t.row(vec![
            m.entity_name.clone(),
            or_dash(m.entity_type),
            or_dash(m.sector),
            or_dash(m.member_state),
            match (m.connected, m.key_in_use_from.len()) {
                (true, n) if n > 1 => format!("yes, {n} NODES"),
                (true, _) => "yes".to_string(),
                (false, _) => "no".to_string(),
            },
            m.reached_at.clone().unwrap_or_else(|| "-".into()),
            m.not_after.to_rfc3339(),
            status,
            short(m.member_key),
        ]);
    }
    let warnings: String = members
        .iter()
        .filter(|m| m.key_in_use_from.len() > 1)
        .map(|m| {
            format!(
                "WARNING: the key of {} is in use by {} nodes at once (from {}): stop the extra node; if the key may have leaked, ask the issuer to revoke it (key-compromise)\n",
                m.entity_name,
                m.key_in_use_from.len(),
                m.key_in_use_from.join(" and ")
            )
        })
        .collect();
    t.render() + &warnings
}

pub fn participation(events: &[ParticipationView]) -> String {
    if events.is_empty() {
        return "no participation events yet: `cairn join` notifies the authority\n".to_string();
    }
    let mut t = Table::new(&["SEQ", "EVENT", "EFFECTIVE", "RECEIPT", "ID"]);
    for e in events {
        let receipt = match (e.register_index, e.registered_at) {
            (Some(i), Some(at)) => format!("registered #{i} at {}", at.to_rfc3339()),
            (Some(i), None) => format!("registered #{i}"),
            _ => "awaiting the authority's receipt".to_string(),
        };
        t.row(vec![
            e.sequence.to_string(),
            kind_label(e.kind).to_string(),
            e.effective.to_rfc3339(),
            receipt,
            short(e.event_id),
        ]);
    }
    let notes: String = events
        .iter()
        .filter_map(|e| Some(format!("#{}: {}\n", e.sequence, e.delivery.as_ref()?)))
        .collect();
    t.render() + &notes
}

/// The register's columns, shared by `register list` and `register watch`.
pub const REGISTER_HEADERS: [&str; 7] = [
    "INDEX",
    "EFFECTIVE",
    "EVENT",
    "ENTITY",
    "TYPE",
    "SECTOR",
    "MS",
];

/// Room left for entries that arrive after the widths were fixed: every
/// type and sector fits; longer entity names are shortened with "…".
fn register_min_widths() -> [usize; 7] {
    let longest =
        |words: &mut dyn Iterator<Item = &'static str>| words.map(str::len).max().unwrap_or(0);
    [
        5,
        20,
        20,
        32,
        longest(&mut EntityType::ALL.iter().map(|t| t.as_str())),
        longest(&mut Sector::ALL.iter().map(|t| t.as_str())),
        2,
    ]
}

pub fn register_row(v: &RegisterView) -> Vec<String> {
    // A reveal says whom it found behind which pseudonym, for which item.
    let entity = match &v.reveal {
        Some(r) => format!(
            "{} (pseudonym {}, item {})",
            v.entity_name,
            r.pseudonym,
            short(r.item)
        ),
        None => v.entity_name.clone(),
    };
    vec![
        v.index.to_string(),
        v.effective.to_rfc3339(),
        v.kind.as_str().to_string(),
        entity,
        or_dash(v.entity_type),
        or_dash(v.sector),
        or_dash(v.member_state),
    ]
}

/// Column widths fitting `entries` and typical later ones.
pub fn register_widths(entries: &[RegisterView]) -> Vec<usize> {
    let mut t = Table::new(&REGISTER_HEADERS);
    entries.iter().for_each(|e| t.row(register_row(e)));
    t.widths(&register_min_widths())
}

/// One register line padded to `widths`; a cell wider than its column is
/// shortened, so lines printed after the widths were fixed stay aligned.
pub fn register_line(v: &RegisterView, widths: &[usize]) -> String {
    let cells: Vec<String> = register_row(v)
        .iter()
        .zip(widths)
        .map(|(c, w)| fit(&clean_line(c), *w))
        .collect();
    table::line(&cells, widths)
}

/// `s` cut to `width` characters, ending in "…" when cut.
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width || width == 0 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// The header line for `widths`.
pub fn register_header(widths: &[usize]) -> String {
    let cells: Vec<String> = REGISTER_HEADERS.iter().map(|h| h.to_string()).collect();
    table::line(&cells, widths)
}

/// The whole register.
pub fn register(entries: &[RegisterView]) -> String {
    if entries.is_empty() {
        return "the register is empty\n".to_string();
    }
    let widths = register_widths(entries);
    let mut out = register_header(&widths);
    entries
        .iter()
        .for_each(|e| out.push_str(&register_line(e, &widths)));
    out
}

/// A reveal as `cairn reveal` prints it: the entity, then what and why.
pub fn reveal(v: &RegisterView) -> String {
    let Some(r) = &v.reveal else {
        return register(std::slice::from_ref(v));
    };
    fields(&[
        ("entity", v.entity_name.clone()),
        ("entity type", or_dash(v.entity_type)),
        ("sector", or_dash(v.sector)),
        ("member state", or_dash(v.member_state)),
        ("named certificate", r.named_certificate.to_string()),
        ("member key", v.member_key.to_string()),
        ("item", r.item.to_string()),
        ("pseudonym", r.pseudonym.to_string()),
        ("pseudonymous cert", r.pseudonymous_certificate.to_string()),
        ("reason", r.reason.clone()),
        (
            "registered",
            format!("#{} at {}", v.index, v.registered_at.to_rfc3339()),
        ),
    ])
}

/// How a participation event reads in a list.
pub fn kind_label(kind: ParticipationKind) -> &'static str {
    match kind {
        // The vocabulary's own words, as the demo, --json and the log use
        // them: one fact, one spelling.
        ParticipationKind::Joined => "joined",
        ParticipationKind::WithdrawalEffective => "withdrawal-effective",
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
pub(crate) mod tests;
