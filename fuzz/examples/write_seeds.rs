//! Writes the seed corpora under `fuzz/corpus/` from real encodings: values
//! made with the fixture community and encoded by the protocol crate, log
//! files written by the store itself, and a few broken variants of each.
//! Everything is deterministic (fixed keys and instants), so running it
//! again changes no byte unless an encoding changed, which is then worth
//! seeing in review.
//!
//! Run from `fuzz/`: `cargo run --example write_seeds` (any toolchain).

use cairn_fuzz::daemon_reconcile::{respond, Initiator};
use cairn_fuzz::{fixtures, frame, reconcile};
use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::control::{
    AudienceRequest, AudienceView, ControlRequest, ControlResponse, ExportPage, ExportQuery,
    ItemView, NodeStatus, PayloadView, PublishRequest, RegisterView, SyncStatus,
};
use cairn_protocol::directory::{AddressRecord, DirectoryAnswer, DirectoryRequest};
use cairn_protocol::handshake::{Handshake, RevocationSummary};
use cairn_protocol::interop::{ExportPolicy, WithheldCounts};
use cairn_protocol::item::{ItemKind, Payload};
use cairn_protocol::query::{Cursor, ItemPage, ItemQuery, Position};
use cairn_protocol::revocation::{RevocationBody, RevokedCertificate};
use cairn_protocol::wire::{GossipMessage, Request, Response};
use cairn_protocol::{
    EncodedItem, ItemBytes, ParticipationKind, Revocation, RevocationReason, Tlp,
};
use cairn_store::item_data::ItemData;
use cairn_store::{files, Outbox, Register};
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    codec_seeds(&root.join("codec"));
    control_seeds(&root.join("control"));
    reconcile_seeds(&root.join("reconcile"));
    log_seeds(&root);
    item_data_seeds(&root.join("item_data"));
    file_seeds(&root.join("files"));
}

/// Replaces `dir`'s generated seeds with `seeds`. Files named `found-*`
/// are inputs a fuzzing run found (kept as regression seeds) and stay.
fn write(dir: &Path, seeds: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).expect("corpus directory");
    for entry in std::fs::read_dir(dir).expect("corpus directory") {
        let path = entry.expect("a directory entry").path();
        let found = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("found-"));
        if !found {
            std::fs::remove_file(&path).expect("an old seed removed");
        }
    }
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).expect("seed written");
    }
    println!("{}: {} seeds", dir.display(), seeds.len());
}

fn selector(name: &str) -> u8 {
    let i = cairn_fuzz::codec::TYPES
        .iter()
        .position(|row| row.name == name)
        .expect("a row of codec::TYPES");
    u8::try_from(i).expect("fewer than 256 types")
}

fn codec_seed<T: serde::Serialize>(row: &str, value: &T) -> Vec<u8> {
    let mut seed = vec![selector(row)];
    seed.extend(codec::encode(value).expect("encodes"));
    seed
}

fn codec_seeds(dir: &Path) {
    let cert = fixtures::certificate();
    let item = fixtures::item("Beaconing C2 seen at two hospitals", true);
    let plain = fixtures::item("Phishing wave", false);
    let event = fixtures::event(1, ParticipationKind::Joined);
    let receipt = fixtures::receipt(&event, 0);
    let entry = fixtures::register_entry(&event, 0);
    let (_, opening) = Initiator::start(&reconcile::ours().storage).expect("a first message");
    let revocation = Revocation::issue(
        RevocationBody {
            community: fixtures::community().id,
            issuer: fixtures::issuer().public(),
            certificates: vec![RevokedCertificate {
                id: cert.id(),
                serial: cert.body.serial,
                member_key: cert.body.member_key,
            }],
            reason: RevocationReason::KeyCompromise,
            effective: fixtures::now(),
            issued: fixtures::now(),
        },
        &fixtures::issuer(),
    )
    .expect("a well-formed revocation");
    let leaving = fixtures::event(2, ParticipationKind::WithdrawalEffective);
    let withdrawal = Revocation::from_withdrawal(leaving.clone(), fixtures::receipt(&leaving, 1));

    let mut seeds = vec![
        (
            "gossip-item",
            codec_seed(
                "gossip",
                &GossipMessage::Item {
                    item: item.clone(),
                    certificate: cert.clone(),
                },
            ),
        ),
        (
            "request-certificate",
            codec_seed(
                "request",
                &Request::Certificate {
                    certificate: cert.clone(),
                },
            ),
        ),
        (
            "request-participation",
            codec_seed(
                "request",
                &Request::Participation {
                    event: event.clone(),
                },
            ),
        ),
        (
            "request-reconcile",
            codec_seed(
                "request",
                &Request::Reconcile {
                    message: opening.clone(),
                },
            ),
        ),
        (
            "request-fetch",
            codec_seed(
                "request",
                &Request::Fetch {
                    ids: vec![item.id(), plain.id()],
                },
            ),
        ),
        (
            "response-revocations",
            codec_seed(
                "response",
                &Response::Revocations {
                    revocations: vec![revocation.clone(), withdrawal.clone()],
                },
            ),
        ),
        (
            "response-receipt",
            codec_seed(
                "response",
                &Response::Receipt {
                    receipt: receipt.clone(),
                },
            ),
        ),
        (
            "response-refused",
            codec_seed(
                "response",
                &Response::Refused {
                    reason: "at most 1024 ids per fetch".into(),
                },
            ),
        ),
        (
            "response-reconcile",
            codec_seed("response", &Response::Reconcile { message: opening }),
        ),
        (
            "response-items",
            codec_seed(
                "response",
                &Response::Items {
                    certificates: vec![cert.clone()],
                    items: vec![
                        ItemBytes::from(&EncodedItem::new(item.clone()).expect("encodes")),
                        ItemBytes::from(&EncodedItem::new(plain.clone()).expect("encodes")),
                    ],
                },
            ),
        ),
        ("item-payload", codec_seed("item", &item)),
        ("item-plain", codec_seed("item", &plain)),
        ("item-sealed", codec_seed("item", &fixtures::sealed_item())),
        (
            "gossip-item-sealed",
            codec_seed(
                "gossip",
                &GossipMessage::Item {
                    item: fixtures::sealed_item(),
                    certificate: cert.clone(),
                },
            ),
        ),
        ("certificate", codec_seed("certificate", &cert)),
        (
            "directory-request",
            codec_seed(
                "directory-request",
                &DirectoryRequest {
                    have: vec![(cert.body.member_key, fixtures::now())],
                    mine: None,
                },
            ),
        ),
        (
            "directory-answer",
            codec_seed(
                "directory-answer",
                &DirectoryAnswer {
                    records: vec![AddressRecord::sign(
                        &fixtures::member(),
                        cert.clone(),
                        vec!["/ip4/192.0.2.7/tcp/7400".into()],
                        fixtures::now(),
                    )
                    .expect("a well-formed record")],
                },
            ),
        ),
        ("event", codec_seed("event", &event)),
        ("receipt", codec_seed("receipt", &receipt)),
        ("register-entry", codec_seed("register-entry", &entry)),
        (
            "register-entry-reveal",
            codec_seed("register-entry", &fixtures::reveal_entry(1)),
        ),
        ("revocation-issued", codec_seed("revocation", &revocation)),
        (
            "revocation-withdrawal",
            codec_seed("revocation", &withdrawal),
        ),
        (
            "gossip-revocation",
            codec_seed(
                "gossip",
                &GossipMessage::Revocation {
                    revocation: revocation.clone(),
                },
            ),
        ),
        (
            "handshake-hello",
            codec_seed(
                "handshake",
                &Handshake::Hello {
                    certificate: cert.clone(),
                    revocations: RevocationSummary::of(&[revocation.id()]),
                },
            ),
        ),
        (
            "handshake-revocations",
            codec_seed(
                "handshake",
                &Handshake::Revocations {
                    revocations: vec![revocation.clone(), withdrawal.clone()],
                    more: false,
                },
            ),
        ),
        (
            "handshake-revoked",
            codec_seed(
                "handshake",
                &Handshake::Revoked {
                    reason: "certificate revoked (withdrawn)".into(),
                    revocation: withdrawal.clone(),
                },
            ),
        ),
    ];

    // Broken frames: each must be refused, and they start the fuzzer next
    // to the edges the codec guards.
    let mut truncated = codec_seed("item", &plain);
    truncated.truncate(truncated.len() - 10);
    let mut trailing = codec_seed("certificate", &cert);
    trailing.push(0);
    let mut wrong_version = codec_seed("receipt", &receipt);
    wrong_version[1] = VERSION + 1;
    // Fetch with two ids (each a 32-byte string), the count written as a
    // three-byte varint.
    let mut overlong = vec![selector("request"), VERSION, 3, 0xfb, 2, 0];
    for id in [item.id(), plain.id()] {
        overlong.push(32);
        overlong.extend(id.0);
    }
    // Items claiming 2^40 certificates in a few bytes.
    let mut forged = vec![selector("response"), VERSION, 4, 0xfd];
    forged.extend((1u64 << 40).to_le_bytes());
    seeds.extend([
        ("broken-item-truncated", truncated),
        ("broken-certificate-trailing-byte", trailing),
        ("broken-receipt-version", wrong_version),
        ("broken-fetch-overlong-count", overlong),
        ("broken-items-forged-count", forged),
    ]);
    write(dir, &seeds);
}

fn control_line<T: serde::Serialize>(side: u8, value: &T) -> Vec<u8> {
    let mut seed = vec![side];
    seed.extend(serde_json::to_vec(value).expect("serialises"));
    seed.push(b'\n');
    seed
}

fn control_seeds(dir: &Path) {
    let item = fixtures::item("Phishing wave", false);
    let cert = fixtures::certificate();
    let event = fixtures::event(1, ParticipationKind::Joined);
    let entry = fixtures::register_entry(&event, 0);
    let sync = SyncStatus {
        running: false,
        peer: Some("12D3KooWExample".into()),
        peer_name: Some("Member 1".into()),
        needed: 3,
        fetched: 3,
        sessions: 2,
        last_completed: Some(fixtures::now()),
        last_error: None,
    };
    let view = ItemView {
        id: item.id(),
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Amber,
        title: "Beaconing C2 seen at two hospitals".into(),
        body: "line one\nline \"two\"".into(),
        tags: vec!["rsit:phishing".into()],
        created: item.body.created,
        publisher: cert.id(),
        publisher_name: cert.body.subject.display_name(),
        publisher_sector: None,
        publisher_entity_type: None,
        publisher_revoked: None,
        payload_media_type: None,
        payload_size: 0,
        payload: None,
        verified: true,
        audience: None,
    };
    let sealed_view = ItemView {
        title: String::new(),
        body: String::new(),
        tags: vec![],
        tlp: Tlp::Red,
        audience: Some(AudienceView {
            selectors: vec!["St. Example Hospital".into()],
            recipients: vec!["St. Example Hospital".into(), "(member key 00)".into()],
            readable: false,
            unreadable_reason: Some("this node is not in the item's audience".into()),
            sealed_size: 200,
        }),
        ..view.clone()
    };
    let status = NodeStatus {
        entity_name: cert.body.subject.display_name(),
        peer_id: "12D3KooWExample".into(),
        member_key: cert.body.member_key,
        community_id: fixtures::community().id,
        community_name: fixtures::community().name,
        listen_addrs: vec!["/ip4/127.0.0.1/tcp/7400".into()],
        connected_members: 2,
        items: 40,
        outbox_pending: 0,
        query_index_behind: 2,
        is_authority: false,
        register_entries: None,
        certificate_not_after: cert.body.not_after,
        sync: sync.clone(),
        warnings: vec![],
        abuse: Default::default(),
        bootstrap: vec![],
        directory: vec![],
        taxii: None,
        misp_feed: None,
        undelivered: vec![],
        web: None,
        metrics: None,
    };
    let publish = ControlRequest::Publish(PublishRequest {
        kind: ItemKind::Vulnerability,
        tlp: Tlp::Clear,
        title: "CVE-2026-1234 in a PACS viewer".into(),
        body: "Patch to 4.2.1.".into(),
        payload: Some(Payload {
            media_type: "application/json".into(),
            bytes: b"{}".to_vec(),
        }),
        tags: vec!["cve:CVE-2026-1234".into()],
        audience: Default::default(),
    });
    let publish_to = ControlRequest::Publish(PublishRequest {
        kind: ItemKind::AdversarialTactic,
        tlp: Tlp::Red,
        title: "Spraying against OT jump hosts".into(),
        body: "Three attempts an hour per account.".into(),
        payload: None,
        tags: vec![],
        audience: AudienceRequest {
            entities: vec!["Rhein-Maas Grid Operator".into()],
            sectors: vec![],
            member_states: vec![],
        },
    });
    let seeds = vec![
        ("request-status", control_line(0, &ControlRequest::Status)),
        ("request-publish", control_line(0, &publish)),
        ("request-publish-to", control_line(0, &publish_to)),
        (
            "request-store-check",
            control_line(0, &ControlRequest::StoreCheck),
        ),
        (
            "response-store-checked",
            control_line(
                1,
                &ControlResponse::StoreChecked {
                    checked: 12,
                    dropped: vec![item.id()],
                },
            ),
        ),
        (
            "request-list-items",
            control_line(0, &ControlRequest::ListItems { limit: 20 }),
        ),
        (
            "request-show-item",
            control_line(0, &ControlRequest::ShowItem { id: item.id() }),
        ),
        (
            "request-item-payload",
            control_line(0, &ControlRequest::ItemPayload { id: item.id() }),
        ),
        ("request-sync", control_line(0, &ControlRequest::Sync)),
        (
            "request-query-items",
            control_line(
                0,
                &ControlRequest::QueryItems(ItemQuery {
                    kinds: vec![ItemKind::Vulnerability],
                    tlps: vec![Tlp::Amber],
                    tag_prefixes: vec!["cve:".into()],
                    publisher: Some("Example Hospital".into()),
                    text: Some("vpn gateway".into()),
                    cursor: Some(Cursor(Position::new(item.body.created, item.id()))),
                    limit: 50,
                    ..ItemQuery::default()
                }),
            ),
        ),
        (
            "request-export-items",
            control_line(
                0,
                &ControlRequest::ExportItems(ExportQuery {
                    since: Some(fixtures::now()),
                    kinds: vec![ItemKind::Vulnerability, ItemKind::NearMiss],
                    policy: ExportPolicy {
                        max_tlp: Tlp::AmberStrict,
                    },
                    after: Some((fixtures::now(), item.id())),
                    limit: 500,
                    item: None,
                }),
            ),
        ),
        (
            "request-export-one-item",
            control_line(
                0,
                &ControlRequest::ExportItems(ExportQuery {
                    since: None,
                    kinds: vec![],
                    policy: ExportPolicy::default(),
                    after: None,
                    limit: 1,
                    item: Some(item.id()),
                }),
            ),
        ),
        (
            "response-export-page",
            control_line(
                1,
                &ControlResponse::ExportPage(ExportPage {
                    items: vec![view.clone()],
                    withheld: WithheldCounts {
                        not_in_audience: 2,
                        above_max_tlp: 1,
                        red_not_recipient: 0,
                    },
                    next: Some((fixtures::now(), item.id())),
                }),
            ),
        ),
        (
            "request-reveal",
            control_line(
                0,
                &ControlRequest::Reveal {
                    item: item.id(),
                    reason: "Case 2026/17".into(),
                },
            ),
        ),
        (
            "broken-request-truncated",
            b"\x00{\"op\":\"publish\",\"kind\":\"vulnerability\",\"tl".to_vec(),
        ),
        (
            "response-status",
            control_line(1, &ControlResponse::Status(status)),
        ),
        (
            "response-items",
            control_line(
                1,
                &ControlResponse::Items {
                    items: vec![view.clone(), sealed_view],
                },
            ),
        ),
        (
            "response-item-page",
            control_line(
                1,
                &ControlResponse::ItemPage(ItemPage {
                    items: vec![view.clone()],
                    next: Some(Cursor(Position::new(item.body.created, item.id()))),
                }),
            ),
        ),
        (
            "response-register-entry",
            control_line(1, &ControlResponse::RegisterEntry(RegisterView::of(&entry))),
        ),
        (
            "response-item-payload",
            control_line(
                1,
                &ControlResponse::ItemPayload(PayloadView {
                    id: item.id(),
                    media_type: "application/json".into(),
                    bytes: b"{}".to_vec(),
                }),
            ),
        ),
        (
            "response-revealed",
            control_line(
                1,
                &ControlResponse::Revealed(RegisterView::of(&fixtures::reveal_entry(1))),
            ),
        ),
        (
            "response-sync-done",
            control_line(1, &ControlResponse::SyncDone(sync)),
        ),
        (
            "response-error",
            control_line(
                1,
                &ControlResponse::Error {
                    message: "no request line within 5 s".into(),
                },
            ),
        ),
    ];
    write(dir, &seeds);
}

fn reconcile_seeds(dir: &Path) {
    let reconcile::Ours {
        entries: ours,
        storage: our_set,
        ..
    } = reconcile::ours();
    // A peer lacking every 7th of our items and holding four of its own.
    let mut session = vec![0u8; reconcile::MASK_BYTES];
    for n in (0..reconcile::OURS).step_by(7) {
        session[n as usize / 8] |= 1 << (n % 8);
    }
    for k in 0..4u8 {
        session.extend([k * 50, k, 1, 2, 3, 4, 5, 6, 7]);
    }
    let their_entries = reconcile::theirs(&session);
    let their_set = reconcile::storage(&their_entries);

    // Their opening message, which our side answers as responder.
    let (_, their_opening) = Initiator::start(&their_set).expect("a first message");
    // Their answer to our opening, which our side reads as initiator.
    let (_, our_opening) = Initiator::start(our_set).expect("a first message");
    let their_answer = respond(&their_set, &our_opening).expect("an answer");
    // A message listing ids outright, as for a small range.
    let small: BTreeSet<_> = ours.iter().take(10).copied().collect();
    let small_set = reconcile::storage(&small);
    let (_, id_list) = Initiator::start(&small_set).expect("a first message");

    let with = |mode: u8, body: &[u8]| [&[mode][..], body].concat();
    let seeds = vec![
        ("respond-opening", with(0, &their_opening)),
        ("respond-id-list", with(0, &id_list)),
        ("initiator-answer", with(1, &their_answer)),
        ("session", with(2, &session)),
        ("session-small-frames", with(3, &session)),
        ("broken-respond-garbage", with(0, b"\x61garbage")),
        ("broken-respond-version", with(0, b"\x00")),
    ];
    write(dir, &seeds);
}

fn log_seeds(root: &Path) {
    // The framing alone: valid records, a torn tail, damage in the middle.
    let (a, b) = (frame(b"first record"), frame(b"second record"));
    let mut torn = [a.clone(), b.clone()].concat();
    torn.truncate(torn.len() - 5);
    let mut damaged = [a.clone(), b.clone(), a.clone()].concat();
    damaged[a.len() + 10] ^= 1;
    let zero_tail = [a.clone(), vec![0; 24]].concat();
    write(
        &root.join("record_log"),
        &[
            ("two-records", [a.clone(), b].concat()),
            ("torn-tail", torn),
            ("damaged-middle", damaged),
            ("zero-filled-tail", zero_tail),
        ],
    );

    // Real logs, written by the store.
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let dir = scratch.path();
    let joined = fixtures::event(1, ParticipationKind::Joined);
    let withdrew = fixtures::event(2, ParticipationKind::WithdrawalEffective);
    {
        let outbox = Outbox::open(dir).expect("outbox");
        outbox.push(&joined).expect("push");
        outbox
            .acknowledge(&joined.id(), &fixtures::receipt(&joined, 0))
            .expect("acknowledge");
        outbox.push(&withdrew).expect("push");
    }
    let outbox_log = std::fs::read(dir.join(cairn_store::outbox::OUTBOX_FILE)).expect("read");
    let first_push = frame_len(&outbox_log);
    write(
        &root.join("outbox_log"),
        &[
            ("pushed-acknowledged-pushed", outbox_log.clone()),
            ("pushed", outbox_log[..first_push].to_vec()),
        ],
    );

    {
        let register = Register::open(dir).expect("register");
        for event in [&joined, &withdrew] {
            register
                .append(event, |index| {
                    Ok::<_, Infallible>(fixtures::receipt(event, index))
                })
                .expect("append");
        }
        register
            .append_reveal(|index| Ok::<_, Infallible>(fixtures::reveal(index)))
            .expect("append a reveal");
    }
    let register_log = std::fs::read(dir.join(cairn_store::register::REGISTER_FILE)).expect("read");
    let first_entry = frame_len(&register_log);
    write(
        &root.join("register_log"),
        &[
            ("two-entries-and-a-reveal", register_log.clone()),
            ("one-entry", register_log[..first_entry].to_vec()),
        ],
    );
}

/// The size of the first frame of a log file.
fn frame_len(log: &[u8]) -> usize {
    8 + u32::from_le_bytes(log[..4].try_into().expect("4 bytes")) as usize
}

fn item_data_seeds(dir: &Path) {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let path = scratch.path().join("items.data");
    let items = [
        fixtures::item("Phishing wave", false),
        fixtures::item("Beaconing C2", true),
    ];
    let encoded: Vec<Vec<u8>> = items
        .iter()
        .map(|i| codec::encode(i).expect("encodes"))
        .collect();
    let locations = {
        let (mut data, _reader) = ItemData::open(&path).expect("data file");
        let payloads: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        let locations = data.append(&payloads).expect("append");
        data.sync().expect("sync");
        locations
    };
    let file = std::fs::read(&path).expect("read");
    let seed = |offset: u64, len: u32| {
        [&offset.to_le_bytes()[..], &len.to_le_bytes()[..], &file[..]].concat()
    };
    let (first, second) = (locations[0], locations[1]);
    write(
        dir,
        &[
            ("first", seed(first.offset, first.len)),
            ("second", seed(second.offset, second.len)),
            ("wrong-length", seed(second.offset, second.len - 1)),
            ("past-the-end", seed(second.end(), 16)),
            ("huge-length", seed(first.offset, u32::MAX)),
            // Found by this target: a walk from the last offsets overflowed.
            ("frame-offset-overflow", seed(u64::MAX - 3, 7)),
        ],
    );
}

fn file_seeds(dir: &Path) {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let read = |name: &str| std::fs::read(scratch.path().join(name)).expect("read");
    files::write_community(&scratch.path().join("community"), &fixtures::community())
        .expect("write");
    files::write_certificate(
        &scratch.path().join("certificate"),
        &fixtures::certificate(),
    )
    .expect("write");
    files::write_secret_key(&scratch.path().join("key"), &fixtures::member()).expect("write");
    let with = |kind: u8, body: &[u8]| [&[kind][..], body].concat();
    write(
        dir,
        &[
            ("community", with(0, &read("community"))),
            ("certificate", with(1, &read("certificate"))),
            ("key", with(2, &read("key"))),
            ("broken-certificate", with(1, b"{\"body\": 1}")),
            ("broken-key", with(2, b"zz\n")),
        ],
    );
}
