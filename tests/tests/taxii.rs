//! The TAXII 2.1 server of a live `cairnd`, driven by OASIS taxii2-client
//! (installed by tests/interop/setup.sh): discovery, API root, collections,
//! every page of objects and of the manifest with a small limit, an object
//! by id and its versions, added_after; every object exactly once, and the
//! same objects as `cairn export stix` at the user's maximum TLP, so a
//! GREEN user never sees AMBER or RED; the refusals (401, 403, 404, 406,
//! 413, 415); and add_objects, whose item reaches a second node.

use cairn_protocol::control::{AudienceRequest, ControlRequest, ControlResponse, PublishRequest};
use cairn_protocol::interop::stix::{marking_id, tlp_of_marking_id};
use cairn_protocol::{ItemKind, Tlp};
use cairn_tests::community::Community;
use cairn_tests::{control, expect, interop, NodeProc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// `cairn taxii user NAME …`: the generated password and the config lines.
fn user(node_dir: &Path, args: &[&str]) -> (String, String) {
    cairn_tests::http_user::generated("taxii", args, Some(node_dir))
}

fn client(args: &[&str]) -> Value {
    client_with(args, &[])
}

/// [`client`] with environment variables (a CA bundle for TLS).
fn client_with(args: &[&str], env: &[(&str, &Path)]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/taxii_client.py");
    let out = Command::new(interop::tool("python"))
        .arg(script)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, *v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "taxii_client.py {} failed: {}",
        args[0],
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

fn publish(node: &NodeProc, kind: ItemKind, tlp: Tlp, n: usize, to: Option<&str>) -> String {
    let request = PublishRequest {
        kind,
        tlp,
        title: format!("{kind} {} (TAXII test {n})", tlp.label()),
        body: format!("Item {n}"),
        payload: None,
        tags: match kind {
            ItemKind::IndicatorOfCompromise => vec![format!("ioc:ipv4=203.0.113.{n}")],
            ItemKind::Vulnerability => vec![format!("cve:CVE-2026-{:04}", 2000 + n)],
            _ => vec![],
        },
        audience: AudienceRequest {
            entities: to.map(|e| vec![e.to_string()]).unwrap_or_default(),
            ..Default::default()
        },
    };
    match control::request(&node.socket, &ControlRequest::Publish(request)) {
        Ok(ControlResponse::Published { id, .. }) => id.to_string(),
        other => panic!("publish failed: {other:?}"),
    }
}

/// The ids `cairn export stix --max-tlp T` writes on `node`.
fn exported_ids(node: &NodeProc, dir: &Path, max_tlp: &str) -> BTreeSet<String> {
    let file = dir.join(format!("export-{max_tlp}.json"));
    node.cli_ok([
        "export",
        "stix",
        "--max-tlp",
        max_tlp,
        "--out",
        file.to_str().unwrap(),
    ]);
    let bundle: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    ids(&bundle["objects"])
}

fn ids(objects: &Value) -> BTreeSet<String> {
    objects
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn markings(objects: &Value) -> BTreeSet<Tlp> {
    objects
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| {
            let own = o["object_marking_refs"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let id = (o["type"] == "marking-definition").then(|| o["id"].clone());
            own.into_iter().chain(id)
        })
        .map(|m| tlp_of_marking_id(m.as_str().unwrap()).expect("only official TLP markings"))
        .collect()
}

#[test]
fn taxii2_client_pages_through_a_live_node_and_pushes_an_item_to_the_community() {
    interop::tool("python");
    let c = Community::create(2);
    let spec = &c.members[0];
    let (reader_pw, reader_lines) = user(&spec.dir, &["reader"]);
    let (analyst_pw, analyst_lines) = user(
        &spec.dir,
        &["analyst", "--max-tlp", "amber+strict", "--write"],
    );

    let authority = c.start(&c.authority, &[]);
    c.write_config(spec, std::slice::from_ref(&authority.addr));
    let mut config = std::fs::read_to_string(&spec.config_file).unwrap();
    config.push_str(&format!(
        "\n[taxii]\nenabled = true\nlisten = \"127.0.0.1:0\"\nmax_content_length = 65536\n{reader_lines}{analyst_lines}"
    ));
    std::fs::write(&spec.config_file, config).unwrap();
    let taxii_node = NodeProc::start(&spec.name, &spec.dir, &spec.config_file);
    let other = c.start(
        &c.members[1],
        &[authority.addr.clone(), taxii_node.addr.clone()],
    );
    expect::all_admitted(&[&authority, &taxii_node, &other], DEADLINE);
    let url = taxii_node
        .status()
        .taxii
        .expect("the node reports its TAXII URL");
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/taxii2/"),
        "{url}"
    );

    // Every kind, and every marking: RED and some AMBER+STRICT sealed to
    // the other member (this node, the publisher, reads them all).
    let peer = c.members[1].entity_name.clone();
    let mut n = 0;
    for kind in ItemKind::ALL {
        for tlp in Tlp::ALL {
            n += 1;
            let to = (*tlp == Tlp::Red || (*tlp == Tlp::AmberStrict && n % 2 == 0))
                .then_some(peer.as_str());
            publish(&taxii_node, *kind, *tlp, n, to);
        }
    }

    let dir = c.path();
    for (name, pw, max) in [
        ("reader", &reader_pw, "GREEN"),
        ("analyst", &analyst_pw, "AMBER+STRICT"),
    ] {
        let seen = client(&["walk", &url, name, pw, "7"]);
        assert_eq!(seen["api_roots"].as_array().unwrap().len(), 1, "{seen}");
        assert_eq!(
            seen["api_root"]["versions"][0],
            "application/taxii+json;version=2.1"
        );
        assert_eq!(seen["collections"][0]["can_write"], name == "analyst");
        let objects = &seen["objects"];
        let list = objects.as_array().unwrap();
        let got = ids(objects);
        assert_eq!(got.len(), list.len(), "{name}: an object came twice");
        let pages: Vec<u64> = seen["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap())
            .collect();
        assert!(pages.len() > 3, "{name}: {pages:?}");
        assert!(
            pages[..pages.len() - 1].iter().all(|p| *p == 7),
            "{name}: {pages:?}"
        );
        assert_eq!(
            got,
            exported_ids(&taxii_node, dir, max),
            "{name} sees what an export at {max} holds"
        );
        let max_tlp = Tlp::parse_label(max).unwrap();
        assert!(
            markings(objects).iter().all(|t| *t <= max_tlp),
            "{name}: {:?}",
            markings(objects)
        );
        assert!(!markings(objects).contains(&Tlp::Red));
        let manifest: BTreeSet<String> = seen["manifest"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(manifest, got, "{name}: the manifest lists the same objects");
        let sample = &seen["by_id"]["objects"];
        assert_eq!(sample.as_array().unwrap().len(), 1, "{seen}");
        let last = list
            .iter()
            .rev()
            .find(|o| o["type"] != "marking-definition")
            .unwrap();
        assert_eq!(sample[0], *last);
        assert_eq!(seen["versions"]["versions"][0], last["modified"]);
        assert_eq!(
            seen["after_last"].get("objects"),
            None,
            "nothing after the last date_added"
        );
        assert!(ids(&seen["reports"]["objects"])
            .iter()
            .all(|i| i.starts_with("report--")));
    }

    let codes = client(&["codes", &url, "analyst", &analyst_pw, "reader", &reader_pw]);
    assert_eq!(codes["no_credentials"], 401, "{codes}");
    assert_eq!(codes["wrong_password"], 401, "{codes}");
    assert_eq!(codes["json_only"], 406, "{codes}");
    assert_eq!(codes["unknown_collection"], 404, "{codes}");
    assert_eq!(codes["unknown_object"], 404, "{codes}");
    assert_eq!(codes["bad_limit"], 400, "{codes}");
    assert_eq!(codes["post_json"], 415, "{codes}");
    assert_eq!(codes["post_too_large"], 413, "{codes}");
    assert_eq!(codes["post_as_reader"], 403, "{codes}");
    assert_eq!(codes["content_type"], "application/taxii+json;version=2.1");

    // add_objects: an indicator becomes an item of this node, which the
    // other member receives.
    let bundle = dir.join("push.json");
    let indicator = serde_json::json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
        "created": "2026-11-30T10:00:00.000Z", "modified": "2026-11-30T10:00:00.000Z",
        "name": "Pushed over TAXII: C2 at 192.0.2.77",
        "pattern": "[ipv4-addr:value = '192.0.2.77']", "pattern_type": "stix",
        "valid_from": "2026-11-30T10:00:00Z",
        "object_marking_refs": [marking_id(Tlp::Green)],
    });
    std::fs::write(
        &bundle,
        serde_json::json!({"type": "bundle", "id": "bundle--3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5c", "objects": [indicator]}).to_string(),
    )
    .unwrap();
    let pushed = client(&[
        "add",
        &url,
        "analyst",
        &analyst_pw,
        bundle.to_str().unwrap(),
    ]);
    let status = &pushed["status"];
    assert_eq!(status["status"], "complete", "{pushed}");
    assert_eq!(
        (
            status["success_count"].as_u64(),
            status["failure_count"].as_u64()
        ),
        (Some(1), Some(0)),
        "{pushed}"
    );
    other.wait("the pushed item arrives", DEADLINE, || {
        other
            .try_items()?
            .into_iter()
            .find(|i| i.title == "Pushed over TAXII: C2 at 192.0.2.77")
            .map(|i| {
                assert_eq!(
                    (i.kind, i.tlp),
                    (ItemKind::IndicatorOfCompromise, Tlp::Green)
                )
            })
            .ok_or_else(|| "not yet".to_string())
    });
    // And the reader sees it, with its original id.
    let seen = client(&["walk", &url, "reader", &reader_pw, "50"]);
    assert!(ids(&seen["objects"]).contains("indicator--3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"));
}

#[test]
fn taxii_off_loopback_needs_tls_and_is_served_over_it() {
    let c = Community::create(1);
    let spec = &c.members[0];
    let (pw, lines) = user(&spec.dir, &["reader"]);
    let authority = c.start(&c.authority, &[]);
    c.write_config(spec, std::slice::from_ref(&authority.addr));
    let base = std::fs::read_to_string(&spec.config_file).unwrap();

    // Any address but loopback without TLS: the node refuses to start.
    std::fs::write(
        &spec.config_file,
        format!("{base}\n[taxii]\nenabled = true\nlisten = \"0.0.0.0:0\"\n{lines}"),
    )
    .unwrap();
    let out = Command::new(cairn_tests::bins::cairnd())
        .args(["check", "--config"])
        .arg(&spec.config_file)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not loopback"),
        "{err}"
    );

    // With a certificate (made by openssl for 127.0.0.1), TLS is served.
    let (cert, key) = (spec.dir.join("taxii.crt"), spec.dir.join("taxii.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args([
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs (.ci/run installs it)");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::write(
        &spec.config_file,
        format!(
            "{base}\n[taxii]\nenabled = true\nlisten = \"127.0.0.1:0\"\ntls_certificate = \"taxii.crt\"\ntls_key = \"taxii.key\"\n{lines}"
        ),
    )
    .unwrap();
    let node = NodeProc::start(&spec.name, &spec.dir, &spec.config_file);
    publish(&node, ItemKind::NearMiss, Tlp::Green, 1, None);
    let url = node.status().taxii.unwrap();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let seen = client_with(
        &["walk", &url, "reader", &pw, "3"],
        &[("REQUESTS_CA_BUNDLE", &cert)],
    );
    let kinds: BTreeSet<&str> = seen["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("incident") && kinds.contains("report"),
        "{seen}"
    );
}
