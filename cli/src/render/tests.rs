//! Tests of how node answers are rendered for people.

use super::status::bootstrap;
use super::*;
use cairn_protocol::control::{
    ItemView, MemberView, ParticipationView, RegisterKind, RegisterView,
};
use cairn_protocol::{
    CertificateId, EntityType, EventId, ItemId, ItemKind, ParticipationKind, SecretKey, Sector,
    Timestamp, Tlp,
};

fn item_view(title: &str) -> ItemView {
    ItemView {
        id: ItemId([0xab; 32]),
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::AmberStrict,
        title: title.into(),
        body: "Beaconing every 60 s.".into(),
        tags: vec!["rsit:malicious-code".into()],
        created: Timestamp(1_764_080_856_000),
        publisher: CertificateId([0xcd; 32]),
        publisher_name: "St. Example Hospital".into(),
        publisher_sector: None,
        publisher_entity_type: None,
        publisher_revoked: None,
        payload_media_type: None,
        payload_size: 0,
        payload: None,
        verified: true,
        audience: None,
    }
}

pub fn register_view(index: u64, kind: ParticipationKind) -> RegisterView {
    RegisterView {
        index,
        kind: kind.into(),
        entity_name: "Stadtwerke Beispiel".into(),
        entity_type: Some(EntityType::Essential),
        sector: Some(Sector::Energy),
        member_state: Some("DE".parse().unwrap()),
        member_key: SecretKey::from_seed(&[1; 32]).public(),
        sequence: Some(1),
        effective: Timestamp(1_764_080_856_000),
        registered_at: Timestamp(1_764_080_857_000),
        event_id: Some(EventId([7; 32])),
        reveal: None,
    }
}

fn reveal_view(index: u64) -> RegisterView {
    RegisterView {
        kind: RegisterKind::Reveal,
        sequence: None,
        event_id: None,
        reveal: Some(cairn_protocol::control::RevealView {
            id: cairn_protocol::RevealId([8; 32]),
            item: ItemId([0xab; 32]),
            pseudonym: cairn_protocol::PseudonymId([0x5e; 8]),
            pseudonymous_certificate: CertificateId([0xcd; 32]),
            named_certificate: CertificateId([0xef; 32]),
            reason: "Case 2026/17 (NIS2 Art. 32)".into(),
        }),
        ..register_view(index, ParticipationKind::Joined)
    }
}

#[test]
fn reveals_show_whom_behind_which_pseudonym_and_why() {
    let entries = [register_view(0, ParticipationKind::Joined), reveal_view(1)];
    let out = register(&entries);
    let line = out.lines().nth(2).unwrap();
    assert!(
        line.contains("reveal")
            && line.contains("Stadtwerke Beispiel (pseudonym 5e5e5e5e5e5e5e5e, item abababababab)"),
        "{out}"
    );
    let out = reveal(&reveal_view(1));
    assert!(
        out.starts_with("entity             Stadtwerke Beispiel\n"),
        "{out}"
    );
    assert!(
        out.contains("reason             Case 2026/17 (NIS2 Art. 32)\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "named certificate  {}\n",
            CertificateId([0xef; 32])
        )),
        "{out}"
    );
    assert!(out.contains("registered         #1 at "), "{out}");
}

#[test]
fn item_lists_show_short_ids_rfc3339_and_tlp_labels_aligned() {
    let out = items(&[item_view("C2 domain"), item_view("Second")]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[1].starts_with("abababababab  2025-11-25T14:27:36Z  indicator-of-compromise  TLP:AMBER+STRICT  St. Example Hospital  C2 domain"), "{out}");
    let col = |l: &str| l.find("TLP").unwrap();
    assert_eq!(col(lines[0]), col(lines[1]));
    assert_eq!(items(&[]), "no items yet\n");
}

#[test]
fn an_item_shows_its_body_after_its_fields() {
    let out = item(&item_view("C2 domain"));
    assert!(out.contains("marking    TLP:AMBER+STRICT\n"), "{out}");
    assert!(out.contains("verified   yes"), "{out}");
    assert!(out.ends_with("\n\nBeaconing every 60 s.\n"), "{out}");
}

#[test]
fn register_lines_keep_their_columns_while_streaming() {
    let first = [register_view(1, ParticipationKind::Joined)];
    let widths = register_widths(&first);
    let header = register_header(&widths);
    let later = register_line(
        &register_view(2, ParticipationKind::WithdrawalEffective),
        &widths,
    );
    assert_eq!(header.find("EVENT"), later.find("withdrawal-effective"));
    assert_eq!(header.find("MS"), later.find("DE"));
    assert!(
        later.starts_with("2      2025-11-25T14:27:36Z  withdrawal-effective  Stadtwerke Beispiel"),
        "{later}"
    );
    assert!(register(&first).contains("joined"));
    // A later entity with a long name, type and sector keeps the columns.
    let mut long = register_view(3, ParticipationKind::Joined);
    long.entity_name = "Landesbetrieb für Informationstechnik und Finanzmarktinfrastruktur".into();
    long.sector = Some(Sector::FinancialMarketInfrastructures);
    long.entity_type = Some(EntityType::CompetentAuthority);
    let line = register_line(&long, &widths);
    let column = |text: &str, word: &str| text.find(word).map(|b| text[..b].chars().count());
    assert_eq!(column(&header, "MS"), column(&line, "DE"), "{header}{line}");
    assert!(line.contains('…'), "{line}");
}

#[test]
fn pending_receipts_are_spelled_out() {
    let e = ParticipationView {
        event_id: EventId([1; 32]),
        kind: ParticipationKind::Joined,
        sequence: 1,
        effective: Timestamp(0),
        register_index: None,
        registered_at: None,
        delivery: Some("queued: the authority is not connected".into()),
    };
    let text = participation(std::slice::from_ref(&e));
    assert!(text.contains("awaiting the authority's receipt"), "{text}");
    assert!(
        text.contains("#1: queued: the authority is not connected"),
        "{text}"
    );
    let done = ParticipationView {
        register_index: Some(4),
        registered_at: Some(Timestamp(1000)),
        delivery: None,
        ..e
    };
    assert!(participation(&[done]).contains("registered #4 at 1970-01-01T00:00:01Z"));
}

#[test]
fn an_item_outside_the_audience_shows_no_contents_and_says_why() {
    let mut i = item_view("");
    i.body = String::new();
    i.tags = vec![];
    i.tlp = Tlp::Red;
    i.audience = Some(cairn_protocol::control::AudienceView {
        selectors: vec!["Hospital A".into()],
        recipients: vec!["Hospital A".into(), "Grid Operator".into()],
        readable: false,
        unreadable_reason: Some("this node is not in the item's audience".into()),
        sealed_size: 321,
    });
    let shown = item(&i);
    assert!(shown.contains("not in the audience"), "{shown}");
    assert!(
        shown.contains("sealed to 2 recipient(s): Hospital A, Grid Operator"),
        "{shown}"
    );
    assert!(shown.contains("321 bytes sealed"), "{shown}");
    assert!(!shown.contains("payload"), "{shown}");
    let listed = items(&[i]);
    assert!(
        listed.contains("(not in the audience: sealed to Hospital A, Grid Operator)"),
        "{listed}"
    );
}

fn member_view(name: &str, from: &[&str]) -> MemberView {
    MemberView {
        entity_name: name.into(),
        entity_type: Some(EntityType::Essential),
        sector: Some(Sector::Health),
        member_state: Some("DE".parse().unwrap()),
        member_key: SecretKey::from_seed(&[3; 32]).public(),
        certificate: CertificateId([4; 32]),
        serial: 1,
        peer_id: "12D3KooWExample".into(),
        connected: true,
        not_after: Timestamp(1_800_000_000_000),
        revoked: None,
        key_in_use_from: from.iter().map(|s| s.to_string()).collect(),
        reached_at: None,
    }
}

#[test]
fn a_key_in_use_by_two_nodes_is_flagged_in_the_members_view() {
    let out = members(&[
        member_view("Grid Operator", &[]),
        member_view(
            "St. Example Hospital",
            &["/ip4/127.0.0.1/tcp/50001", "/ip4/10.0.0.9/tcp/7400"],
        ),
    ]);
    let row = out
        .lines()
        .find(|l| l.starts_with("St. Example Hospital"))
        .unwrap();
    assert!(row.contains("yes, 2 NODES"), "{out}");
    let grid = out
        .lines()
        .find(|l| l.starts_with("Grid Operator"))
        .unwrap();
    assert!(!grid.contains("NODES"), "{out}");
    assert!(
        out.contains("WARNING: the key of St. Example Hospital is in use by 2 nodes at once (from /ip4/127.0.0.1/tcp/50001 and /ip4/10.0.0.9/tcp/7400)"),
        "{out}"
    );
    assert!(!members(&[member_view("Grid Operator", &[])]).contains("WARNING"));
}

#[test]
fn bootstrap_addresses_show_their_last_success_and_error() {
    use cairn_protocol::control::BootstrapView;
    let up = BootstrapView {
        address: "/ip4/192.0.2.1/tcp/7400/p2p/12D3KooWA".into(),
        connected: true,
        last_success: Some(Timestamp(1_764_080_856_000)),
        last_error_at: None,
        last_error: None,
    };
    assert_eq!(
        bootstrap(&up),
        "/ip4/192.0.2.1/tcp/7400/p2p/12D3KooWA connected; last dial succeeded 2025-11-25T14:27:36Z"
    );
    let down = BootstrapView {
        address: "/ip4/192.0.2.2/tcp/7400/p2p/12D3KooWB".into(),
        connected: false,
        last_success: None,
        last_error_at: Some(Timestamp(1_764_080_857_000)),
        last_error: Some("Connection refused (os error 111)".into()),
    };
    assert_eq!(
        bootstrap(&down),
        "/ip4/192.0.2.2/tcp/7400/p2p/12D3KooWB NOT CONNECTED; no dial succeeded yet; last error 2025-11-25T14:27:37Z: Connection refused (os error 111)"
    );
}
