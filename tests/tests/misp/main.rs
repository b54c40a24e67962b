//! MISP feeds with real nodes, judged by PyMISP and pytaxonomies
//! (tests/interop/misp_feed.py, venv by tests/interop/setup.sh): the feed
//! of every kind under every marking a feed may carry loads in PyMISP, and
//! PyMISP's generator writes exactly the same event files, manifest.json
//! and hashes.csv; its tags resolve in pytaxonomies; RED never leaves, nor
//! what this node cannot read; the feed cairnd serves over HTTP is the same
//! bytes and says nothing without credentials; a feed written by PyMISP
//! imports (from a directory and from a URL), and an event without exactly
//! one tlp: tag is refused by its uuid; taxonomy tags are checked at
//! publish (those two in `import.rs`).

mod import;

use cairn_protocol::control::{AudienceRequest, ControlRequest, ControlResponse, PublishRequest};
use cairn_protocol::{ItemKind, Tlp};
use cairn_tests::community::Community;
use cairn_tests::{control, interop, NodeProc};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// Runs tests/interop/misp_feed.py with the venv's Python; its JSON.
pub(crate) fn script(args: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/misp_feed.py");
    let out = Command::new(interop::tool("python"))
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "misp_feed.py {} failed: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// `cairn misp-feed user NAME …`: the password and the config lines.
fn user(args: &[&str]) -> (String, String) {
    cairn_tests::http_user::generated("misp-feed", args, None)
}

/// Tags that give each kind its attributes, and taxonomy tags.
fn tags(kind: ItemKind, tlp: Tlp, n: usize) -> Vec<String> {
    let mut t = match kind {
        ItemKind::Vulnerability => vec![format!("cve:CVE-2026-{:04}", 1000 + n)],
        ItemKind::IndicatorOfCompromise => vec![
            format!("ioc:ipv4=198.51.100.{n}"),
            format!("ioc:domain=c2-{n}.example"),
        ],
        _ => vec!["rsit:malicious-code=\"c2-server\"".into()],
    };
    t.push("nis2:nature-severity=\"high\"".into());
    if n.is_multiple_of(3) {
        // The item's own tlp: tag repeats its marking; the event still has one.
        t.push(format!("tlp:{}", tlp.as_str().to_ascii_lowercase()));
    }
    t
}

/// Publishes through the control API; the node's refusal as text.
pub(crate) fn publish(node: &NodeProc, request: PublishRequest) -> Result<String, String> {
    match control::request(&node.socket, &ControlRequest::Publish(request)) {
        Ok(ControlResponse::Published { id, .. }) => Ok(id.to_string()),
        Ok(ControlResponse::Error { message }) => Err(message),
        other => Err(format!("{other:?}")),
    }
}

/// `cairn export misp-feed`; its stderr.
fn export(node: &NodeProc, dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["export", "misp-feed", "--dir", dir.to_str().unwrap()];
    args.extend(extra);
    let out = node.cli(&args);
    assert!(
        out.status.success(),
        "export on {} failed: {}",
        node.name,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file of a feed directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// The feed at `url` as `user` sees it, fetched over HTTP into `dir` as
/// a MISP instance pulls it.
fn fetch(url: &str, user: &str, password: &str, dir: &Path) -> BTreeMap<String, Vec<u8>> {
    script(&["fetch", url, user, password, dir.to_str().unwrap()]);
    files(dir)
}

fn problems(summary: &Value) -> Vec<String> {
    summary["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_feed_is_what_pymisp_writes_obeys_markings_and_is_served_over_http() {
    interop::tool("python");
    let c = Community::create(2);
    let spec = &c.members[0];
    let (reader_pw, reader_lines) = user(&["reader"]);
    let (analyst_pw, analyst_lines) = user(&["analyst", "--max-tlp", "amber+strict"]);
    let authority = c.start(&c.authority, &[]);
    c.write_config(spec, std::slice::from_ref(&authority.addr));
    let mut config = std::fs::read_to_string(&spec.config_file).unwrap();
    config.push_str(&format!(
        "\n[misp_feed]\nenabled = true\nlisten = \"127.0.0.1:0\"\n{reader_lines}{analyst_lines}"
    ));
    std::fs::write(&spec.config_file, config).unwrap();
    let node = NodeProc::start(&spec.name, &spec.dir, &spec.config_file);
    let other = c.start(&c.members[1], &[authority.addr.clone(), node.addr.clone()]);
    cairn_tests::expect::all_admitted(&[&authority, &node, &other], DEADLINE);
    let url = node
        .status()
        .misp_feed
        .expect("the node reports its feed URL");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/misp-feed/"),
        "{url}"
    );

    // Nine kinds under five markings; AMBER+STRICT and RED sealed to the
    // other member (this node, the publisher, reads them all).
    let reader = c.members[1].entity_name.clone();
    let mut published: BTreeMap<String, (ItemKind, Tlp)> = BTreeMap::new();
    for (k, kind) in ItemKind::ALL.iter().enumerate() {
        for (t, tlp) in Tlp::ALL.iter().enumerate() {
            let n = k * 5 + t;
            let sealed = matches!(tlp, Tlp::Red | Tlp::AmberStrict);
            let request = PublishRequest {
                kind: *kind,
                tlp: *tlp,
                title: format!("{kind} under {} (MISP test {n}) – é", tlp.label()),
                body: format!("Body of item {n}.\nSecond line."),
                payload: None,
                tags: tags(*kind, *tlp, n),
                audience: AudienceRequest {
                    entities: if sealed { vec![reader.clone()] } else { vec![] },
                    ..Default::default()
                },
            };
            let id = publish(&node, request).unwrap_or_else(|e| panic!("item {n}: {e}"));
            published.insert(id, (*kind, *tlp));
        }
    }

    // Everything a feed may carry: CLEAR to AMBER+STRICT, never RED.
    let dir = c.path().join("feed");
    let notes = export(&node, &dir, &["--max-tlp", "amber+strict"]);
    assert!(
        notes.contains("9 item(s) not exported: marked above"),
        "{notes}"
    );
    let summary = script(&["check", dir.to_str().unwrap()]);
    assert_eq!(problems(&summary), Vec::<String>::new(), "PyMISP disagrees");
    let events = summary["events"].as_array().unwrap();
    assert_eq!(events.len(), 36);
    assert!(
        summary["tags_checked"].as_u64().unwrap() >= 36 * 3,
        "{summary}"
    );
    let sector = node.items()[0]
        .publisher_sector
        .expect("a named publisher's sector");
    let sector = format!(
        "nis2:impact-sectors-impacted=\"{}\"",
        cairn_protocol::taxonomy::nis2_sector(sector)
    );
    let mut seen = BTreeSet::new();
    for e in events {
        let tags: Vec<&str> = e["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        let tlp = tags.iter().find(|t| t.starts_with("tlp:")).unwrap();
        assert_ne!(*tlp, "tlp:red");
        let kind = tags
            .iter()
            .find_map(|t| t.strip_prefix("cairn-kind:"))
            .unwrap();
        seen.insert((kind.to_string(), tlp.to_string()));
        assert!(tags.contains(&sector.as_str()), "{tags:?}");
        assert_eq!(e["orgc"], c.members[0].entity_name.as_str());
        assert_eq!(e["reports"].as_array().unwrap().len(), 1);
        let attrs = e["attributes"].as_array().unwrap();
        match kind {
            "vulnerability" => assert_eq!(attrs[0][0], "vulnerability", "{e}"),
            "indicator-of-compromise" => {
                let types: BTreeSet<&str> = attrs.iter().map(|a| a[0].as_str().unwrap()).collect();
                assert_eq!(types, BTreeSet::from(["ip-dst", "domain"]), "{e}")
            }
            _ => assert!(attrs.is_empty(), "{e}"),
        }
    }
    assert_eq!(seen.len(), 36, "every kind under each of the four markings");

    // A second export writes the same bytes.
    let first = files(&dir);
    export(&node, &dir, &["--max-tlp", "amber+strict"]);
    assert_eq!(files(&dir), first);
    // --max-tlp RED is refused, and writes nothing.
    let red_dir = c.path().join("red");
    let out = node.cli([
        "export",
        "misp-feed",
        "--dir",
        red_dir.to_str().unwrap(),
        "--max-tlp",
        "red",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("RED") && err.contains("AMBER+STRICT"), "{err}");
    assert!(!red_dir.exists());
    // By default CLEAR and GREEN; events an earlier export left behind go.
    let notes = export(&node, &dir, &[]);
    assert!(
        notes.contains("27 item(s) not exported: marked above"),
        "{notes}"
    );
    let default = files(&dir);
    assert_eq!(default.len(), 18 + 2);
    assert!(problems(&script(&["check", dir.to_str().unwrap()])).is_empty());

    // Over HTTP: each user gets the feed of its marking, byte for byte.
    let pulled = c.path().join("pulled-reader");
    assert_eq!(fetch(&url, "reader", &reader_pw, &pulled), default);
    let pulled = c.path().join("pulled-analyst");
    assert_eq!(fetch(&url, "analyst", &analyst_pw, &pulled), first);
    // Without credentials, or with wrong ones, nothing: not even which
    // events exist.
    // An AMBER or AMBER+STRICT event: in the analyst's feed, not the reader's.
    let some_event = first
        .keys()
        .find(|k| k.len() == 41 && !default.contains_key(*k))
        .unwrap()
        .clone();
    for (name, creds) in [
        ("manifest.json", None),
        ("hashes.csv", None),
        (some_event.as_str(), None),
        ("manifest.json", Some(("reader", "wrong"))),
        ("manifest.json", Some(("nobody", reader_pw.as_str()))),
    ] {
        let target = format!("{url}{name}");
        let r = match creds {
            None => script(&["get", &target]),
            Some((u, p)) => script(&["get", &target, u, p]),
        };
        assert_eq!(r["status"], 401, "{name} {creds:?}: {r}");
        let body = r["body"].as_str().unwrap();
        assert!(
            !body.contains("MISP test") && !body.contains(&some_event[..36]),
            "{body}"
        );
    }
    let r = script(&["get", &format!("{url}{some_event}"), "reader", &reader_pw]);
    assert_eq!(
        r["status"], 404,
        "a GREEN reader asks for an AMBER event: {r}"
    );

    // The authority holds the sealed items but reads none: its feed leaves
    // them out, and says why.
    authority.wait("all 45 items arrive", DEADLINE, || {
        let n = authority.try_items()?.len();
        (n >= 45).then_some(()).ok_or(format!("{n} items"))
    });
    let theirs = c.path().join("authority-feed");
    let notes = export(&authority, &theirs, &["--max-tlp", "amber+strict"]);
    assert!(
        notes.contains("18 item(s) not exported: sealed to an audience"),
        "{notes}"
    );
    let summary = script(&["check", theirs.to_str().unwrap()]);
    assert!(problems(&summary).is_empty(), "{summary}");
    assert_eq!(summary["events"].as_array().unwrap().len(), 27);

    // The other member imports the GREEN feed from the URL.
    let before = other.items().len();
    let creds_url = url.replacen("http://", &format!("http://reader:{reader_pw}@"), 1);
    let out = other.cli_ok(["import", "misp-feed", &creds_url]);
    assert_eq!(out.lines().count(), 18, "{out}");
    other.wait("the imported items are stored", DEADLINE, || {
        let n = other.try_items()?.len();
        (n >= before + 18).then_some(()).ok_or(format!("{n} items"))
    });
    let out = other.cli(["import", "misp-feed", &url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    assert_eq!(published.len(), 45);
}
