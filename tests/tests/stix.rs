//! STIX 2.1 export and import with real nodes, judged by OASIS
//! stix2-validator (installed by tests/interop/setup.sh): 45 items, every
//! kind under every marking, export strictly valid with each kind's primary
//! object and the official TLP 2.0 markings, the same ids on a second
//! export, sealed items only where this node reads them; apt1.json (shipped
//! with the validator) imports and re-exports valid; an unmarked object is
//! refused by name.

use cairn_protocol::control::{AudienceRequest, ControlRequest, ControlResponse, PublishRequest};
use cairn_protocol::interop::stix::{marking_definition, marking_id, tlp_of_marking_id};
use cairn_protocol::{ItemKind, Tlp};
use cairn_tests::community::Community;
use cairn_tests::{control, expect, interop, NodeProc};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// The STIX type each kind must bring (`None`: the report alone).
fn primary(kind: ItemKind) -> Option<&'static str> {
    match kind {
        ItemKind::NearMiss => Some("incident"),
        ItemKind::Vulnerability => Some("vulnerability"),
        ItemKind::TechniqueAndProcedure | ItemKind::AdversarialTactic => Some("attack-pattern"),
        ItemKind::IndicatorOfCompromise => Some("indicator"),
        ItemKind::ThreatActorInformation => Some("threat-actor"),
        ItemKind::ConfigurationRecommendation => Some("course-of-action"),
        ItemKind::CyberThreat | ItemKind::CybersecurityAlert => None,
    }
}

/// Tags that give each kind what its primary object needs.
fn tags(kind: ItemKind, n: usize) -> Vec<String> {
    match kind {
        ItemKind::Vulnerability => vec![format!("cve:CVE-2026-{:04}", 1000 + n)],
        ItemKind::IndicatorOfCompromise => vec![
            format!("ioc:ipv4=198.51.100.{n}"),
            format!("ioc:domain=c2-{n}.example"),
        ],
        ItemKind::AdversarialTactic => vec!["attack-tactic:initial-access".into()],
        _ => vec!["rsit:malicious-code".into()],
    }
}

fn publish(node: &NodeProc, request: PublishRequest) -> String {
    match control::request(&node.socket, &ControlRequest::Publish(request.clone())) {
        Ok(ControlResponse::Published { id, .. }) => id.to_string(),
        other => panic!(
            "publishing {:?} on {} failed: {other:?}",
            request.title, node.name
        ),
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).expect("the export is JSON")
}

fn objects(bundle: &Value) -> &Vec<Value> {
    bundle["objects"].as_array().expect("a bundle with objects")
}

fn ids(bundle: &Value) -> BTreeSet<String> {
    objects(bundle)
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

/// The Cairn item id each report names.
fn reported_items(bundle: &Value) -> BTreeSet<String> {
    objects(bundle)
        .iter()
        .filter(|o| o["type"] == "report")
        .filter_map(|o| {
            o["external_references"][0]["external_id"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

fn export(node: &NodeProc, dir: &Path, name: &str, max_tlp: &str) -> (Value, String) {
    let file = dir.join(name);
    let out = node.cli([
        "export",
        "stix",
        "--max-tlp",
        max_tlp,
        "--out",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "export on {} failed: {}",
        node.name,
        String::from_utf8_lossy(&out.stderr)
    );
    (
        read_json(&file),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn forty_five_items_export_as_strictly_valid_stix_with_official_markings() {
    let validator = interop::tool("stix2_validator");
    let c = Community::create(2);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);
    let reader = &c.members[1].entity_name;

    // Nine kinds under five markings; RED and AMBER+STRICT are sealed to
    // member 2 (RED must be), the others go to the whole community.
    let mut published: BTreeMap<String, (ItemKind, Tlp)> = BTreeMap::new();
    let mut sealed = BTreeSet::new();
    for (k, kind) in ItemKind::ALL.iter().enumerate() {
        for (t, tlp) in Tlp::ALL.iter().enumerate() {
            let n = k * 5 + t;
            let restricted = matches!(tlp, Tlp::Red | Tlp::AmberStrict);
            let id = publish(
                &members[0],
                PublishRequest {
                    kind: *kind,
                    tlp: *tlp,
                    title: format!("{kind} under {} (STIX test {n})", tlp.label()),
                    body: format!("Body of item {n}.\nSecond line."),
                    payload: None,
                    tags: tags(*kind, n),
                    audience: AudienceRequest {
                        entities: if restricted {
                            vec![reader.clone()]
                        } else {
                            vec![]
                        },
                        ..Default::default()
                    },
                },
            );
            if restricted {
                sealed.insert(id.clone());
            }
            published.insert(id, (*kind, *tlp));
        }
    }
    assert_eq!(published.len(), 45);

    let dir = c.path();
    let (bundle, notes) = export(&members[0], dir, "all.json", "RED");
    assert!(notes.trim().is_empty(), "the export had notes: {notes}");
    let verdict = interop::stix2_validate(&dir.join("all.json"), true);
    assert!(
        verdict.valid,
        "{} --strict rejects the export:\n{}",
        validator.display(),
        verdict.report
    );
    assert_eq!(
        reported_items(&bundle),
        published.keys().cloned().collect::<BTreeSet<_>>(),
        "one report per item"
    );

    // Each kind's primary object, in its item's report.
    let by_id: BTreeMap<&str, &Value> = objects(&bundle)
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    for report in objects(&bundle).iter().filter(|o| o["type"] == "report") {
        let item = report["external_references"][0]["external_id"]
            .as_str()
            .unwrap();
        let (kind, tlp) = published[item];
        let types: BTreeSet<&str> = report["object_refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| by_id[r.as_str().unwrap()]["type"].as_str().unwrap())
            .collect();
        if let Some(t) = primary(kind) {
            assert!(
                types.contains(t),
                "{kind} item {item} has no {t}: {types:?}"
            );
        }
        let refs = report["object_refs"].as_array().unwrap().iter();
        for o in refs.map(|r| by_id[r.as_str().unwrap()]).chain([report]) {
            assert_eq!(
                o["object_marking_refs"],
                serde_json::json!([marking_id(tlp)]),
                "{} of a {} item",
                o["id"],
                tlp.label()
            );
        }
    }
    // Every marking resolves to an official TLP 2.0 definition, as OASIS
    // publishes it.
    let definitions: Vec<&Value> = objects(&bundle)
        .iter()
        .filter(|o| o["type"] == "marking-definition")
        .collect();
    assert_eq!(definitions.len(), 5);
    for d in &definitions {
        let tlp = tlp_of_marking_id(d["id"].as_str().unwrap()).expect("an official TLP id");
        assert_eq!(**d, marking_definition(tlp));
    }
    for o in objects(&bundle) {
        for m in o["object_marking_refs"].as_array().into_iter().flatten() {
            assert!(
                definitions.iter().any(|d| d["id"] == *m),
                "{} refers to {m}, not in the bundle",
                o["id"]
            );
        }
    }

    // A second export: the same ids (and the same bytes).
    let (again, _) = export(&members[0], dir, "again.json", "RED");
    assert_eq!(ids(&again), ids(&bundle));
    assert_eq!(
        std::fs::read(dir.join("again.json")).unwrap(),
        std::fs::read(dir.join("all.json")).unwrap()
    );

    // By default only CLEAR and GREEN leave.
    let (default, notes) = {
        let file = dir.join("default.json");
        let out = members[0].cli(["export", "stix", "--out", file.to_str().unwrap()]);
        assert!(out.status.success());
        (
            read_json(&file),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(reported_items(&default).len(), 18);
    assert!(
        notes.contains("27 item(s) not exported: marked above"),
        "{notes}"
    );

    // The authority holds every item but reads none of the sealed ones: its
    // export leaves them out, and not a word of them is in the file.
    authority.wait("all 45 items arrive", DEADLINE, || {
        let n = authority.try_items()?.len();
        (n >= 45).then_some(()).ok_or(format!("{n} items"))
    });
    let (theirs, notes) = export(&authority, dir, "authority.json", "RED");
    let expected: BTreeSet<String> = published
        .keys()
        .filter(|id| !sealed.contains(*id))
        .cloned()
        .collect();
    assert_eq!(reported_items(&theirs), expected);
    assert!(
        notes.contains("18 item(s) not exported: sealed to an audience"),
        "{notes}"
    );
    let text = std::fs::read_to_string(dir.join("authority.json")).unwrap();
    for (id, (kind, tlp)) in &published {
        if sealed.contains(id) {
            let title = format!("{kind} under {}", tlp.label());
            assert!(
                !text.contains(&title),
                "{title} leaked into the authority's export"
            );
        }
    }
    assert!(interop::stix2_validate(&dir.join("authority.json"), true).valid);
}

#[test]
fn apt1_imports_with_a_default_marking_and_re_exports_valid() {
    let apt1 = interop::package_file(
        "stix2validator",
        "schemas-2.1/examples/threat-reports/apt1.json",
    );
    let original = read_json(&apt1);
    let c = Community::create(1);
    let (_authority, members) = c.start_all();
    let node = &members[0];
    let dir = c.path();

    // Nothing in apt1.json is marked: refused without --tlp, naming the
    // first object, and nothing is published.
    let first = objects(&original)[0]["id"].as_str().unwrap().to_string();
    let out = node.cli(["import", "stix", apt1.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&first) && err.contains("no TLP marking") && err.contains("--tlp"),
        "{err}"
    );
    assert!(
        node.items().is_empty(),
        "a refused bundle published something"
    );

    // One marked object and one unmarked: the unmarked one is named.
    let mixed = dir.join("mixed.json");
    let mut objs = objects(&original).clone();
    objs[0]["object_marking_refs"] = serde_json::json!([marking_id(Tlp::Green)]);
    let unmarked = objs[1]["id"].as_str().unwrap().to_string();
    std::fs::write(
        &mixed,
        serde_json::json!({"type": "bundle", "id": original["id"], "objects": objs[..2]})
            .to_string(),
    )
    .unwrap();
    let out = node.cli(["import", "stix", mixed.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&unmarked), "{err}");
    assert!(node.items().is_empty());

    let out = node.cli_ok([
        "import",
        "stix",
        apt1.to_str().unwrap(),
        "--tlp",
        "green",
        "--json",
    ]);
    let imported: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!imported.is_empty(), "{out}");
    assert!(imported.iter().all(|i| i["tlp"] == "GREEN"), "{out}");

    let (bundle, _) = export(node, dir, "apt1-again.json", "GREEN");
    let before = ids(&original);
    let after = ids(&bundle);
    assert!(
        before.is_subset(&after),
        "ids lost on the way: {:?}",
        before.difference(&after).collect::<Vec<_>>()
    );
    let lax = interop::stix2_validate(&dir.join("apt1-again.json"), false);
    assert!(
        lax.valid,
        "the re-export is not valid STIX 2.1:\n{}",
        lax.report
    );
    // Strictly, the re-export may only repeat what the validator already
    // says of apt1.json itself (external references without hashes).
    let theirs: BTreeSet<String> = interop::stix2_validate(&apt1, true)
        .findings()
        .into_iter()
        .collect();
    let ours: BTreeSet<String> = interop::stix2_validate(&dir.join("apt1-again.json"), true)
        .findings()
        .into_iter()
        .collect();
    assert!(
        ours.is_subset(&theirs),
        "the re-export adds findings: {:?}",
        ours.difference(&theirs).collect::<Vec<_>>()
    );
    for o in objects(&bundle)
        .iter()
        .filter(|o| o["type"] != "marking-definition")
    {
        assert_eq!(
            o["object_marking_refs"],
            serde_json::json!([marking_id(Tlp::Green)])
        );
    }
}
