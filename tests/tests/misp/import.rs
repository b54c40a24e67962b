//! Import: a feed written by PyMISP becomes items (from a directory; the
//! URL case is in `main.rs`), events without exactly one tlp: tag are
//! refused by uuid with nothing published, and taxonomy tags are checked
//! at publish (CLI and node) and at STIX import.

use super::{publish, script, DEADLINE};
use cairn_protocol::control::{AudienceRequest, PublishRequest};
use cairn_protocol::{ItemKind, Tlp};
use cairn_tests::community::Community;
use cairn_tests::interop;

#[test]
fn a_feed_written_by_pymisp_imports_and_markings_and_taxonomies_are_enforced() {
    interop::tool("python");
    let c = Community::create(1);
    let (_authority, members) = c.start_all();
    let node = &members[0];
    let dir = c.path();

    // An event without a tlp: tag, or with two: refused by uuid, nothing
    // published.
    for bad in ["no-tlp", "two-tlp"] {
        let feed = dir.join(bad);
        let written = script(&["generate", feed.to_str().unwrap(), bad]);
        let culprit = written.as_array().unwrap().last().unwrap()["uuid"]
            .as_str()
            .unwrap()
            .to_string();
        let out = node.cli(["import", "misp-feed", feed.to_str().unwrap()]);
        assert!(!out.status.success(), "{bad} imported");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&culprit) && err.contains("nothing was imported"),
            "{err}"
        );
        assert!(err.contains("tlp:"), "{err}");
        assert!(
            node.items().is_empty(),
            "a refused feed published something"
        );
    }

    let feed = dir.join("good");
    let written = script(&["generate", feed.to_str().unwrap()]);
    let written = written.as_array().unwrap();
    let out = node.cli_ok(["import", "misp-feed", feed.to_str().unwrap(), "--dry-run"]);
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("would publish"))
            .count(),
        4,
        "{out}"
    );
    assert!(node.items().is_empty(), "--dry-run published");
    let out = node.cli_ok(["import", "misp-feed", feed.to_str().unwrap()]);
    assert_eq!(out.lines().count(), 4, "{out}");
    node.wait("the four items are listed", DEADLINE, || {
        let n = node.try_items()?.len();
        (n == 4).then_some(()).ok_or(format!("{n} items"))
    });
    let items = node.items();
    for w in written {
        let item = items
            .iter()
            .find(|i| i.title == w["info"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{w} not imported: {items:?}"));
        assert_eq!(item.kind.to_string(), w["kind"].as_str().unwrap(), "{w}");
        assert_eq!(item.tlp.as_str(), w["tlp"].as_str().unwrap(), "{w}");
        assert!(
            !item.tags.iter().any(|t| t.starts_with("tlp:")),
            "{:?}",
            item.tags
        );
    }
    let phishing = items
        .iter()
        .find(|i| i.title.starts_with("Phishing"))
        .unwrap();
    for t in [
        "rsit:fraud=\"phishing\"",
        "workflow:state=\"complete\"",
        "ioc:domain=login-water.example",
        "ioc:ipv4=203.0.113.9",
        "ioc:filename=invoice.exe",
    ] {
        assert!(
            phishing.tags.contains(&t.to_string()),
            "{t} in {:?}",
            phishing.tags
        );
    }
    let vuln = items
        .iter()
        .find(|i| i.kind == ItemKind::Vulnerability)
        .unwrap();
    assert_eq!(vuln.body, "Patch the PACS server now.");
    assert!(vuln.tags.contains(&"cve:CVE-2026-7777".to_string()));
    let near = items.iter().find(|i| i.kind == ItemKind::NearMiss).unwrap();
    assert_eq!(near.body, "Caught by the night shift before any impact.");

    // Taxonomy tags at publish: the CLI refuses an unknown value with the
    // valid ones listed, and so does the node for any client.
    let out = node.cli([
        "publish",
        "--kind",
        "cyber-threat",
        "--tlp",
        "green",
        "--title",
        "t",
        "--body",
        "b",
        "--tag",
        "nis2:impact-sectors-impacted=\"bakery\"",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nis2:impact-sectors-impacted=\"health\"") && err.contains("bakery"),
        "{err}"
    );
    let request = |tags: &[&str], tlp: Tlp| PublishRequest {
        kind: ItemKind::CyberThreat,
        tlp,
        title: "taxonomy check".into(),
        body: "b".into(),
        payload: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        audience: AudienceRequest::default(),
    };
    let err = publish(node, request(&["rsit:fraud=\"bakery\""], Tlp::Green)).unwrap_err();
    assert!(err.contains("rsit:fraud=\"phishing\""), "{err}");
    let err = publish(node, request(&["tlp:clear"], Tlp::Amber)).unwrap_err();
    assert!(
        err.contains("contradicts") && err.contains("TLP:AMBER"),
        "{err}"
    );
    // A STIX import is checked the same way, all items before any is
    // published.
    let green = cairn_protocol::interop::stix::marking_id(Tlp::Green);
    let report = "report--6b1a2f0e-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
    let identity = "identity--1b1a2f0e-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
    let at = "2026-11-02T00:00:00.000Z";
    let bundle = serde_json::json!({"type": "bundle", "id": "bundle--0b1a2f0e-3c4d-4e5f-8a6b-7c8d9e0f1a2b", "objects": [
        {"type": "identity", "spec_version": "2.1", "id": identity, "created": at, "modified": at,
         "name": "CSIRT Example", "identity_class": "organization", "object_marking_refs": [green]},
        {"type": "report", "spec_version": "2.1", "id": report, "created": at, "modified": at,
         "name": "Severity out of the list", "published": at,
         "labels": ["nis2:nature-severity=\"extreme\""],
         "object_refs": [identity], "object_marking_refs": [green]},
    ]});
    let file = dir.join("bad-label.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let before = node.items().len();
    let out = node.cli(["import", "stix", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(report) && err.contains("nis2:nature-severity=\"high\""),
        "{err}"
    );
    assert_eq!(node.items().len(), before);
    publish(
        node,
        request(
            &[
                "tlp:amber",
                "cve:CVE-2026-1234",
                "nis2:nature-severity=\"low\"",
            ],
            Tlp::Amber,
        ),
    )
    .expect("valid and free tags pass");
}
