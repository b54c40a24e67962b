//! `cairn status`: the node's identity, community, connections, catch-up
//! progress, bootstrap dials and the abuse it fended off.

use super::fields;
use super::participation::kind_label;
use cairn_protocol::control::NodeStatus;

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
    if s.query_index_behind > 0 {
        pairs.push((
            "query index",
            format!(
                "{} store batches behind (being written; searches read those items directly)",
                s.query_index_behind
            ),
        ));
    }
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
