//! How `cairn status` shows the member directory: each member's addresses
//! as it signed them, who passed them on, and whether and where this node
//! reached it.

use cairn_protocol::control::DirectoryView;

/// One line per member, this node's own record first.
pub fn lines(directory: &[DirectoryView]) -> Vec<String> {
    let mut sorted: Vec<&DirectoryView> = directory.iter().collect();
    sorted.sort_by_key(|d| (!d.own, d.entity_name.clone()));
    sorted.into_iter().map(line).collect()
}

fn line(d: &DirectoryView) -> String {
    let addresses = if d.addresses.is_empty() {
        "no addresses".to_string()
    } else {
        d.addresses.join(", ")
    };
    let signed = d.signed_at.to_rfc3339();
    if d.own {
        return format!("this node announces {addresses} (signed {signed})");
    }
    let state = match (&d.reached_at, d.connected, &d.last_dial_error) {
        (Some(at), _, _) => format!("connected, reached at {at}"),
        (None, true, _) => "connected".to_string(),
        (None, false, Some(e)) => format!("NOT CONNECTED, last dial failed: {e}"),
        (None, false, None) => "not connected".to_string(),
    };
    format!(
        "{}: {addresses} (signed {signed}, learned from {}); {state}",
        d.entity_name, d.learned_from
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::Timestamp;

    fn view(name: &str) -> DirectoryView {
        DirectoryView {
            entity_name: name.into(),
            peer_id: "12D3KooWExample".into(),
            addresses: vec![],
            signed_at: Timestamp(1_800_000_000_000),
            learned_from: "itself".into(),
            own: false,
            connected: false,
            reached_at: None,
            last_dial_error: None,
        }
    }

    #[test]
    fn each_member_shows_where_it_listens_and_how_it_was_reached() {
        let own = DirectoryView {
            entity_name: "Me".into(),
            addresses: vec!["/ip4/192.0.2.1/tcp/7400".into()],
            signed_at: Timestamp(1_800_000_000_000),
            learned_from: "itself".into(),
            own: true,
            connected: true,
            ..view("x")
        };
        let other = DirectoryView {
            entity_name: "Grid Operator".into(),
            addresses: vec!["/ip4/192.0.2.9/tcp/7400".into()],
            signed_at: Timestamp(1_800_000_000_000),
            learned_from: "Federal Office".into(),
            connected: true,
            reached_at: Some("/ip4/192.0.2.9/tcp/7400 (dialled)".into()),
            ..view("x")
        };
        let gone = DirectoryView {
            entity_name: "Hospital".into(),
            learned_from: "itself".into(),
            last_dial_error: Some("Connection refused".into()),
            ..view("x")
        };
        let l = lines(&[gone, other, own]);
        assert!(
            l[0].starts_with("this node announces /ip4/192.0.2.1/tcp/7400"),
            "{l:?}"
        );
        assert_eq!(
            l[1],
            "Grid Operator: /ip4/192.0.2.9/tcp/7400 (signed 2027-01-15T08:00:00Z, learned from Federal Office); connected, reached at /ip4/192.0.2.9/tcp/7400 (dialled)"
        );
        assert!(
            l[2].ends_with("NOT CONNECTED, last dial failed: Connection refused"),
            "{l:?}"
        );
    }
}
