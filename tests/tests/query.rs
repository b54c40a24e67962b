//! Finding items with `cairn items list` against real `cairnd` processes:
//! each filter (kind, TLP, tag, tag prefix, publisher, time range, text),
//! paging with the cursor the CLI prints, and the audience rule: a node
//! outside a sealed item's audience never finds it by a word of its title,
//! while a recipient does.

use cairn_protocol::control::ItemView;
use cairn_tests::honest::{Honest, DEADLINE};
use cairn_tests::{expect, NodeProc};
use std::collections::BTreeSet;

const SEALED_TITLE: &str = "Zanzibar-7741 loader in the radiology PACS";

/// `cairn items list --json ARGS`: the items, and the next cursor the CLI
/// printed on stderr.
fn list(node: &NodeProc, args: &[&str]) -> (Vec<ItemView>, Option<String>) {
    let mut all = vec!["items", "list", "--json"];
    all.extend_from_slice(args);
    let out = node.cli(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cairn {all:?}: {stderr}");
    let items: Vec<ItemView> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let next = stderr
        .lines()
        .find_map(|l| l.strip_prefix("next: "))
        .map(str::to_string);
    (items, next)
}

fn titles(items: &[ItemView]) -> Vec<String> {
    items.iter().map(|i| i.title.clone()).collect()
}

/// Publishes an item with tags; returns its id.
fn publish(
    node: &NodeProc,
    kind: &str,
    tlp: &str,
    title: &str,
    body: &str,
    tags: &[&str],
) -> String {
    let mut args = vec![
        "publish", "--kind", kind, "--tlp", tlp, "--title", title, "--body", body, "--json",
    ];
    for t in tags {
        args.extend(["--tag", t]);
    }
    let v: serde_json::Value = node.json(&args);
    v["id"].as_str().expect("an id").to_string()
}

#[test]
fn every_filter_pages_and_the_audience_rule_hold() {
    let h = Honest::start();
    let (a, b) = (&h.members[0], &h.members[1]);
    let mut ids = BTreeSet::new();
    ids.insert(publish(
        a,
        "vulnerability",
        "GREEN",
        "OpenSSL flaw in VPN gateways",
        "Patch the VPN appliance now",
        &["cve:CVE-2026-1111", "rsit:vulnerable"],
    ));
    ids.insert(publish(
        a,
        "indicator-of-compromise",
        "AMBER",
        "Beacon to 198.51.100.7",
        "LockBit loader beaconing",
        &["ioc:ipv4-addr=198.51.100.7", "rsit:malicious-code"],
    ));
    ids.insert(publish(
        b,
        "indicator-of-compromise",
        "GREEN",
        "Phishing domain",
        "evil.example.com sends LockBit lures",
        &["ioc:domain-name=evil.example.com"],
    ));
    ids.insert(publish(
        b,
        "near-miss",
        "CLEAR",
        "Near miss at a water plant",
        "Operator caught a rogue VPN login",
        &[],
    ));
    // Sealed to member b (and its publisher a): the authority is outside.
    let sealed: serde_json::Value = a.json(&[
        "publish",
        "--kind",
        "cyber-threat",
        "--tlp",
        "AMBER+STRICT",
        "--title",
        SEALED_TITLE,
        "--body",
        "Quokka-3318 persistence",
        "--tag",
        "ioc:file-name=pacs.exe",
        "--to",
        &h.c.members[1].entity_name,
        "--json",
    ]);
    let sealed_id = sealed["id"].as_str().unwrap().to_string();
    ids.insert(sealed_id.clone());
    let nodes = h.nodes();
    expect::items_everywhere(&nodes, &ids, DEADLINE);
    let auth = &h.authority;

    // Newest first, whatever the filter.
    let (all, next) = list(auth, &[]);
    assert_eq!(all.len(), 5);
    assert!(next.is_none());
    assert!(
        all.windows(2).all(|w| w[0].created >= w[1].created),
        "{:?}",
        titles(&all)
    );

    let (found, _) = list(auth, &["--kind", "indicator-of-compromise"]);
    assert_eq!(
        titles(&found),
        ["Phishing domain", "Beacon to 198.51.100.7"]
    );
    let (found, _) = list(
        auth,
        &["--kind", "indicator-of-compromise", "--tlp", "amber"],
    );
    assert_eq!(titles(&found), ["Beacon to 198.51.100.7"]);
    let (found, _) = list(auth, &["--tlp", "GREEN", "--tlp", "CLEAR"]);
    assert_eq!(found.len(), 3);
    let (found, _) = list(auth, &["--tag", "cve:CVE-2026-1111"]);
    assert_eq!(titles(&found), ["OpenSSL flaw in VPN gateways"]);
    let (found, _) = list(auth, &["--tag", "cve:"]);
    assert!(found.is_empty(), "a tag is matched exactly");
    let (found, _) = list(auth, &["--tag-prefix", "ioc:"]);
    assert_eq!(
        titles(&found),
        ["Phishing domain", "Beacon to 198.51.100.7"],
        "the sealed item's tag is not visible here"
    );
    let (found, _) = list(auth, &["--publisher", &h.c.members[1].entity_name]);
    assert_eq!(
        titles(&found),
        ["Near miss at a water plant", "Phishing domain"]
    );
    let (found, _) = list(auth, &["--publisher", "nobody known"]);
    assert!(found.is_empty());
    let (found, _) = list(auth, &["--text", "lockbit"]);
    assert_eq!(
        titles(&found),
        ["Phishing domain", "Beacon to 198.51.100.7"]
    );
    let (found, _) = list(auth, &["--text", "VPN openssl"]);
    assert_eq!(titles(&found), ["OpenSSL flaw in VPN gateways"]);
    let (found, _) = list(auth, &["--text", "198.51.100.7"]);
    assert_eq!(titles(&found), ["Beacon to 198.51.100.7"]);

    // A time range: from the second-oldest item's creation, before the newest's.
    let mut by_age = all.clone();
    by_age.sort_by_key(|i| i.created);
    let since = by_age[1].created.to_rfc3339_millis();
    let until = by_age[4].created.to_rfc3339_millis();
    let (found, _) = list(auth, &["--since", &since, "--until", &until]);
    let expected: Vec<_> = all
        .iter()
        .filter(|i| i.created >= by_age[1].created && i.created < by_age[4].created)
        .map(|i| i.id)
        .collect();
    assert_eq!(found.iter().map(|i| i.id).collect::<Vec<_>>(), expected);

    // Paging: every item once, in order, whatever the page size.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["--limit", "2"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let (page, next) = list(auth, &args);
        assert!(page.len() <= 2);
        paged.extend(page.iter().map(|i| i.id));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(paged, all.iter().map(|i| i.id).collect::<Vec<_>>());
    let human = auth.cli_ok(["items", "list", "--limit", "2"]);
    assert!(
        human
            .lines()
            .last()
            .unwrap()
            .starts_with("next page: --cursor "),
        "{human}"
    );
    let bad = auth.cli(["items", "list", "--cursor", "not-a-cursor"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a cursor"));

    // The audience rule: outside the audience, a word of the sealed title
    // finds nothing; its visible fields still do. A recipient finds it.
    for word in ["zanzibar-7741", "Zanzibar-7741 loader", "quokka-3318"] {
        let (found, _) = list(auth, &["--text", word]);
        assert!(
            found.is_empty(),
            "the authority found {:?} by {word}",
            titles(&found)
        );
    }
    let (found, _) = list(auth, &["--tag", "ioc:file-name=pacs.exe"]);
    assert!(found.is_empty());
    let (found, _) = list(auth, &["--kind", "cyber-threat", "--tlp", "AMBER+STRICT"]);
    assert_eq!(
        found.iter().map(|i| i.id.to_string()).collect::<Vec<_>>(),
        [sealed_id]
    );
    assert!(found[0].title.is_empty());
    for reader in [a, b] {
        let (found, _) = list(reader, &["--text", "zanzibar-7741"]);
        assert_eq!(titles(&found), [SEALED_TITLE], "{}", reader.name);
        let (found, _) = list(reader, &["--tag-prefix", "ioc:file"]);
        assert_eq!(titles(&found), [SEALED_TITLE], "{}", reader.name);
        let (found, _) = list(reader, &["--tag-prefix", "ioc:"]);
        assert_eq!(found.len(), 3, "{}: {:?}", reader.name, titles(&found));
    }
}
