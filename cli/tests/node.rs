//! Node commands through the real binary: local validation before anything
//! is sent, a missing node, and a fake node answering canned lines.

mod common;

use cairn_protocol::control::{
    ControlRequest, ControlResponse, ItemView, NodeStatus, RegisterView,
};
use cairn_protocol::query::{Cursor, ItemPage, ItemQuery, Position};
use cairn_protocol::{
    CertificateId, CommunityId, EntityType, EventId, ItemId, ItemKind, ParticipationKind,
    SecretKey, Sector, Timestamp, Tlp,
};
use common::{arg, cairn, cairn_env, ok, one_line_error};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// A node at `dir/cairnd.sock` that takes one connection, answers `lines`
/// and returns the request it received.
fn fake_node(dir: &Path, lines: Vec<ControlResponse>) -> (PathBuf, JoinHandle<ControlRequest>) {
    let path = dir.join("cairnd.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let node = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request = String::new();
        reader.read_line(&mut request).unwrap();
        let mut stream = reader.into_inner();
        for l in lines {
            writeln!(stream, "{}", serde_json::to_string(&l).unwrap()).unwrap();
        }
        serde_json::from_str(&request).unwrap()
    });
    (path, node)
}

fn status() -> NodeStatus {
    NodeStatus {
        entity_name: "St. Example Hospital".into(),
        peer_id: "12D3KooWExample".into(),
        member_key: SecretKey::from_seed(&[2; 32]).public(),
        community_id: CommunityId([9; 16]),
        community_name: "Health ISAC DE".into(),
        listen_addrs: vec!["/ip4/0.0.0.0/tcp/7400".into()],
        connected_members: 3,
        items: 42,
        outbox_pending: 1,
        query_index_behind: 3,
        is_authority: false,
        register_entries: None,
        certificate_not_after: Timestamp(1_800_000_000_000),
        sync: Default::default(),
        warnings: vec![],
        abuse: Default::default(),
        bootstrap: vec![],
        directory: vec![],
        taxii: None,
        misp_feed: None,
        undelivered: vec![],
        web: None,
        metrics: None,
    }
}

fn item(n: u8, title: &str) -> ItemView {
    ItemView {
        id: ItemId([n; 32]),
        kind: ItemKind::Vulnerability,
        tlp: Tlp::Amber,
        title: title.into(),
        body: "Patch now.".into(),
        tags: vec![],
        created: Timestamp(1_764_080_856_000),
        publisher: CertificateId([1; 32]),
        publisher_name: "CSIRT Nord".into(),
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

fn entry(index: u64, kind: ParticipationKind) -> RegisterView {
    RegisterView {
        index,
        kind: kind.into(),
        entity_name: "Stadtwerke Beispiel".into(),
        entity_type: Some(EntityType::Essential),
        sector: Some(Sector::Energy),
        member_state: Some("DE".parse().unwrap()),
        member_key: SecretKey::from_seed(&[3; 32]).public(),
        sequence: Some(1),
        effective: Timestamp(1_764_080_856_000),
        registered_at: Timestamp(1_764_080_857_000),
        event_id: Some(EventId([5; 32])),
        reveal: None,
    }
}

#[test]
fn status_renders_for_people_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, node) = fake_node(dir.path(), vec![ControlResponse::Status(status())]);
    let out = ok(&["status", "--socket", sock.to_str().unwrap()]);
    assert_eq!(node.join().unwrap(), ControlRequest::Status);
    assert!(
        out.contains("entity                   St. Example Hospital\n"),
        "{out}"
    );
    assert!(
        out.contains("community                Health ISAC DE (09090909"),
        "{out}"
    );
    assert!(
        out.contains("certificate valid until  2027-01-15T08:00:00Z\n"),
        "{out}"
    );
    assert!(
        out.contains("query index              3 store batches behind"),
        "{out}"
    );

    std::fs::remove_file(&sock).unwrap();
    let (_, node) = fake_node(dir.path(), vec![ControlResponse::Status(status())]);
    let json = ok(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "status",
        "--json",
    ]);
    node.join().unwrap();
    assert_eq!(serde_json::from_str::<NodeStatus>(&json).unwrap(), status());
}

#[test]
fn the_node_is_found_from_its_config_by_flag_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cairn.toml");
    // As cairnd reads it: data_dir relative to the file's directory.
    std::fs::write(
        &config,
        "data_dir = \".\"\nkey_file = \"node.key\"\n[limits]\nban_secs = 60\n",
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let (_, node) = fake_node(dir.path(), vec![ControlResponse::Status(status())]);
    let out = ok(&["status", "--config", c]);
    assert_eq!(node.join().unwrap(), ControlRequest::Status);
    assert!(out.contains("St. Example Hospital"), "{out}");
    std::fs::remove_file(dir.path().join("cairnd.sock")).unwrap();
    let (_, node) = fake_node(dir.path(), vec![ControlResponse::Status(status())]);
    let out = cairn_env(&["status"], &[("CAIRN_CONFIG", c)]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(node.join().unwrap(), ControlRequest::Status);

    // The config is read, but nothing listens where it points.
    std::fs::remove_file(dir.path().join("cairnd.sock")).unwrap();
    let out = cairn_env(&["members"], &[("CAIRN_CONFIG", c)]);
    let line = one_line_error(&out, "no cairnd is listening on ");
    assert!(
        line.contains(&format!("in data_dir of {c} (given by CAIRN_CONFIG)")),
        "{line}"
    );
    // A flag beats the environment, and says which config was meant.
    let missing = arg(dir.path(), "absent.toml");
    let out = cairn_env(&["members", "--config", &missing], &[("CAIRN_CONFIG", c)]);
    one_line_error(
        &out,
        &format!("cannot read config {missing} (given by --config): "),
    );
    std::fs::write(&config, "key_file = \"node.key\"\n").unwrap();
    let out = cairn(&["members", "--config", c]);
    one_line_error(&out, "sets neither data_dir nor control_socket");
    // Offline commands never need a node, or its config.
    let out = cairn(&[
        "key",
        "gen",
        "--out",
        &arg(dir.path(), "k"),
        "--config",
        &missing,
    ]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn items_list_as_table_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let items = vec![item(0xaa, "OpenSSL flaw"), item(0xbb, "VPN appliance RCE")];
    let (sock, node) = fake_node(
        dir.path(),
        vec![ControlResponse::ItemPage(ItemPage {
            items: items.clone(),
            next: None,
        })],
    );
    let json = ok(&[
        "items",
        "list",
        "--limit",
        "2",
        "--json",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert_eq!(
        node.join().unwrap(),
        ControlRequest::QueryItems(ItemQuery {
            limit: 2,
            ..ItemQuery::default()
        })
    );
    assert_eq!(serde_json::from_str::<Vec<ItemView>>(&json).unwrap(), items);

    std::fs::remove_file(&sock).unwrap();
    let next = Cursor(Position::new(items[1].created, items[1].id));
    let page = ItemPage {
        items,
        next: Some(next),
    };
    let (sock, node) = fake_node(dir.path(), vec![ControlResponse::ItemPage(page)]);
    let table = ok(&[
        "items",
        "list",
        "--kind",
        "vulnerability",
        "--tlp",
        "TLP:AMBER",
        "--tag-prefix",
        "ioc:",
        "--since",
        "2026-01-01",
        "--text",
        "OpenSSL",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert_eq!(
        node.join().unwrap(),
        ControlRequest::QueryItems(ItemQuery {
            kinds: vec![ItemKind::Vulnerability],
            tlps: vec![Tlp::Amber],
            tag_prefixes: vec!["ioc:".into()],
            since: Some(Timestamp(1_767_225_600_000)),
            text: Some("OpenSSL".into()),
            limit: 50,
            ..ItemQuery::default()
        })
    );
    assert!(
        table.ends_with(&format!("next page: --cursor {next}\n")),
        "{table}"
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ID            CREATED"), "{table}");
    assert!(lines[1].starts_with("aaaaaaaaaaaa  2025-11-25T14:27:36Z  vulnerability  TLP:AMBER  CSIRT Nord  OpenSSL flaw"), "{table}");
}

#[test]
fn node_errors_are_one_line_with_the_nodes_message() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, node) = fake_node(
        dir.path(),
        vec![ControlResponse::Error {
            message: "this node is not the competent authority".into(),
        }],
    );
    let out = cairn(&["register", "list", "--socket", sock.to_str().unwrap()]);
    assert_eq!(node.join().unwrap(), ControlRequest::RegisterList);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: this node is not the competent authority\n"
    );
}

#[test]
fn publishing_with_no_member_reachable_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let id = ItemId([0x43; 32]);
    let why = "no member is connected: the item is stored here".to_string();
    let (sock, _node) = fake_node(
        dir.path(),
        vec![ControlResponse::Published {
            id,
            stored: true,
            queued: Some(why.clone()),
        }],
    );
    let out = cairn(&[
        "publish",
        "--kind",
        "near-miss",
        "--tlp",
        "green",
        "--title",
        "Alone",
        "--body",
        "x",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{id}\n"));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&why));
}

#[test]
fn publish_sends_the_item_and_prints_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("advisory.txt");
    std::fs::write(&body, "Exploited in the wild.\n").unwrap();
    let id = ItemId([0x42; 32]);
    let (sock, node) = fake_node(
        dir.path(),
        vec![ControlResponse::Published {
            id,
            stored: true,
            queued: None,
        }],
    );
    let out = ok(&[
        "publish",
        "--kind",
        "cybersecurity-alert",
        "--tlp",
        "tlp:green",
        "--title",
        "VPN RCE",
        "--file",
        body.to_str().unwrap(),
        "--tag",
        "cve:CVE-2026-1234",
        "--socket",
        sock.to_str().unwrap(),
    ]);
    assert_eq!(out, format!("{id}\n"));
    let ControlRequest::Publish(p) = node.join().unwrap() else {
        panic!("not a publish request")
    };
    assert_eq!((p.kind, p.tlp), (ItemKind::CybersecurityAlert, Tlp::Green));
    assert_eq!(
        (p.title.as_str(), p.body.as_str()),
        ("VPN RCE", "Exploited in the wild.\n")
    );
    assert_eq!(p.tags, ["cve:CVE-2026-1234"]);
}

#[test]
fn register_watch_streams_one_line_per_entry() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, node) = fake_node(
        dir.path(),
        vec![
            ControlResponse::Register {
                entries: vec![entry(1, ParticipationKind::Joined)],
            },
            ControlResponse::RegisterEntry(entry(2, ParticipationKind::WithdrawalEffective)),
        ],
    );
    let out = cairn(&["register", "watch", "--socket", sock.to_str().unwrap()]);
    assert_eq!(node.join().unwrap(), ControlRequest::RegisterWatch);
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[1]
            .starts_with("1      2025-11-25T14:27:36Z  joined                Stadtwerke Beispiel"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("withdrawal-effective  Stadtwerke Beispiel "),
        "{stdout}"
    );
    // Columns line up with the header, whatever arrives later.
    assert_eq!(lines[0].find("MS"), lines[2].find("DE"), "{stdout}");
    // The node closing a watch is reported, once the entries are out.
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: cairnd at "));
}

#[test]
fn no_node_is_one_line_naming_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = arg(dir.path(), "missing.sock");
    let line = one_line_error(
        &cairn(&["status", "--socket", &sock]),
        "no cairnd is listening on",
    );
    assert!(
        line.contains(&sock) && line.contains("cairnd run --config") && line.contains("--socket"),
        "{line}"
    );
    let out = cairn(&["--data-dir", dir.path().to_str().unwrap(), "members"]);
    one_line_error(&out, &arg(dir.path(), "cairnd.sock"));

    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    one_line_error(
        &cairn(&["participation", "--socket", stale.to_str().unwrap()]),
        "no cairnd is listening on",
    );
}

#[test]
fn publish_input_is_checked_before_any_node_is_asked() {
    let dir = tempfile::tempdir().unwrap();
    let sock = arg(dir.path(), "missing.sock");
    let publish = |extra: &[&str]| {
        let mut args = vec!["publish", "--title", "t", "--socket", &sock];
        args.extend_from_slice(extra);
        cairn(&args)
    };
    one_line_error(
        &publish(&["--kind", "rumour", "--tlp", "AMBER", "--body", "x"]),
        "unknown item kind 'rumour': expected one of cyber-threat, near-miss",
    );
    one_line_error(
        &publish(&["--kind", "near-miss", "--tlp", "TLP:WHITE", "--body", "x"]),
        "expected one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED",
    );
    let missing = arg(dir.path(), "nope.txt");
    one_line_error(
        &publish(&["--kind", "near-miss", "--tlp", "AMBER", "--file", &missing]),
        &format!("cannot read {missing}"),
    );

    let big = dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat(70_000)).unwrap();
    let line = one_line_error(
        &publish(&[
            "--kind",
            "near-miss",
            "--tlp",
            "AMBER",
            "--file",
            big.to_str().unwrap(),
        ]),
        "is 70000 bytes, over the 65536-byte limit",
    );
    assert!(line.contains("--payload"), "{line}");

    let bin = dir.path().join("dump.bin");
    std::fs::write(&bin, [0xde, 0xad, 0xbe, 0xef]).unwrap();
    one_line_error(
        &publish(&[
            "--kind",
            "near-miss",
            "--tlp",
            "AMBER",
            "--file",
            bin.to_str().unwrap(),
        ]),
        "is not UTF-8 text",
    );

    let usage = publish(&["--kind", "near-miss", "--tlp", "AMBER"]);
    assert_eq!(usage.status.code(), Some(2));
    one_line_error(&usage, "--body");
}
