//! Confidential sharing with real `cairnd` processes: an item sealed to an
//! audience reaches every node, opens only on its recipients, and leaves no
//! readable trace anywhere else, through gossip and through catch-up; the
//! marking rule and the signed audience hold against the CLI and a rogue.

use cairn_protocol::control::ItemView;
use cairn_tests::community::Community;
use cairn_tests::honest::Honest;
use cairn_tests::{expect, NodeProc};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);
const TITLE: &str = "Zanzibar-7741 loader in the radiology PACS";
const BODY: &str = "Quokka-3318 persistence via a scheduled task named PacsSync";
const PAYLOAD: &str = "Wombat-5521 hashes of the loader";

/// Every file under `dir` (data files, logs, configuration) that contains
/// `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

fn find(node: &NodeProc, id: &str) -> Result<ItemView, String> {
    node.try_items()?
        .into_iter()
        .find(|i| i.id.to_string() == id)
        .ok_or_else(|| format!("{} does not hold {id} yet", node.name))
}

#[test]
fn an_amber_strict_item_to_two_of_four_members_opens_only_for_them() {
    // Our own code's logs at every level must stay free of the contents.
    std::env::set_var(
        "CAIRN_TEST_NODE_LOG",
        "info,cairn_daemon=trace,cairn_store=trace",
    );
    let c = Community::create(4);
    let (authority, mut members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }
    // Member 3 is away while the item is published: it gets it by catch-up.
    members[3].kill9();
    let recipient = &c.members[1].entity_name;
    let payload_file = c.path().join("sealed-payload.txt");
    std::fs::write(&payload_file, PAYLOAD).unwrap();
    let out = members[0].cli_ok([
        "publish",
        "--kind",
        "vulnerability",
        "--tlp",
        "AMBER+STRICT",
        "--title",
        TITLE,
        "--body",
        BODY,
        "--payload",
        payload_file.to_str().unwrap(),
        "--media-type",
        "text/plain",
        "--to",
        recipient,
        "--json",
    ]);
    std::fs::remove_file(&payload_file).unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).expect("publish --json");
    let id = v["id"].as_str().expect("an id").to_string();
    members[3].restart();

    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    for n in &all {
        let view = n.wait("the sealed item arrives", DEADLINE, || find(n, &id));
        assert!(view.verified, "{}: {view:?}", n.name);
        let audience = view.audience.as_ref().expect("an audience item");
        assert_eq!(audience.recipients.len(), 2, "{audience:?}");
        let reader = n.name == members[0].name || n.name == members[1].name;
        assert_eq!(audience.readable, reader, "{}: {audience:?}", n.name);
        let payload = n.cli(["items", "payload", &id]);
        if reader {
            assert_eq!((view.title.as_str(), view.body.as_str()), (TITLE, BODY));
            assert_eq!(payload.stdout, PAYLOAD.as_bytes(), "{}", n.name);
        } else {
            assert!(!payload.status.success(), "{}", n.name);
            let err = String::from_utf8_lossy(&payload.stderr);
            assert!(err.contains("recipients only"), "{err}");
            assert!(view.title.is_empty() && view.body.is_empty(), "{view:?}");
            let shown = n.cli_ok(["items", "show", &id]);
            assert!(shown.contains("not in the item's audience"), "{shown}");
            assert!(!shown.contains("Zanzibar"), "{shown}");
        }
    }
    // Stopped so nothing more is written while the files are read.
    drop(all);
    let mut nodes: Vec<NodeProc> = members;
    nodes.push(authority);
    for n in &mut nodes {
        n.kill9();
    }
    // Nothing readable at rest on any node: the item is kept sealed, even
    // by its recipients, and no log line carries its contents.
    for n in &nodes {
        // The search itself works: the node's log names its own entity.
        assert!(
            !files_containing(&n.dir, b"cairnd").is_empty(),
            "{}: the file search found nothing at all",
            n.name
        );
        for needle in ["Zanzibar-7741", "Quokka-3318", "Wombat-5521"] {
            let found = files_containing(&n.dir, needle.as_bytes());
            assert!(found.is_empty(), "{needle} found in {found:?}");
        }
    }
}

#[test]
fn tlp_red_needs_named_recipients_at_the_cli_and_on_every_node() {
    let h = Honest::start();
    let out = h.members[0].cli([
        "publish",
        "--kind",
        "near-miss",
        "--tlp",
        "RED",
        "--title",
        "t",
        "--body",
        "b",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLP:RED") && err.contains("--to"), "{err}");

    let (key, cert) = h.rogue_member("Rogue Marker", Default::default());
    let rogue = h.rogue("rogue-red", &key, &cert, "red-to-all", 3);
    h.honest_round("After the TLP:RED broadcast");
    h.assert_nothing_stored("ROGUE-red-to-all", &rogue);
    assert!(
        h.nodes()
            .iter()
            .any(|n| n.log_text().contains("TLP:RED is for named recipients")),
        "no node logged why it refused the item"
    );
}

#[test]
fn a_relay_that_lowers_the_marking_or_widens_the_audience_is_a_forger() {
    let h = Honest::start();
    let (key, cert) = h.rogue_member("Rogue Relay", Default::default());
    let rogue = h.rogue("rogue-relabel", &key, &cert, "relabelled", 4);
    h.honest_round("After the relabelled items");
    let sent: BTreeSet<String> = rogue
        .lines("published ")
        .iter()
        .filter_map(|l| l.split(" id=").nth(1).map(str::to_string))
        .collect();
    assert_eq!(sent.len(), 4, "{}", rogue.describe());
    for n in h.nodes() {
        let held: BTreeSet<String> = n.items().iter().map(|i| i.id.to_string()).collect();
        assert!(
            held.is_disjoint(&sent),
            "{} stored a relabelled item",
            n.name
        );
    }
    assert!(
        h.nodes()
            .iter()
            .any(|n| n.log_text().contains("signature does not verify")),
        "no node logged the forgery"
    );
}
