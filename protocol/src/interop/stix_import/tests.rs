//! STIX import tests: what becomes an item, markings (refused, defaulted,
//! TLP 1.0 mapped), and a round trip through the exporter keeping ids.

use super::*;
use crate::interop::stix::tests::view as view_of;
use crate::interop::stix::{export, marking_id};
use crate::interop::ExportPolicy;
use crate::item::ItemKind;
use serde_json::json;

const TLP1_WHITE: &str = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";

fn uuid(n: u32) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn obj(ty: &str, n: u32, extra: Value) -> Value {
    let mut o = json!({
        "type": ty, "spec_version": "2.1", "id": format!("{ty}--{}", uuid(n)),
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
    });
    for (k, v) in extra.as_object().unwrap() {
        o[k] = v.clone();
    }
    o
}

fn bundle(objects: Vec<Value>) -> String {
    json!({"type": "bundle", "id": format!("bundle--{}", uuid(0)), "objects": objects}).to_string()
}

fn green() -> Value {
    json!([marking_id(Tlp::Green)])
}

fn no_default() -> ImportOptions {
    ImportOptions::default()
}

fn payload_ids(item: &ImportedItem) -> Vec<String> {
    let p: Value = serde_json::from_slice(&item.request.payload.as_ref().unwrap().bytes).unwrap();
    p["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_unmarked_object_is_refused_by_name_unless_a_default_is_given() {
    let text = bundle(vec![
        obj(
            "indicator",
            1,
            json!({"name": "C2 host", "pattern": "[ipv4-addr:value = '203.0.113.9']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": green()}),
        ),
        obj("malware", 2, json!({"name": "Loader", "is_family": true})),
    ]);
    let err = import(&text, &no_default()).unwrap_err();
    assert_eq!(
        err,
        ImportError::Unmarked {
            object: format!("malware--{} (\"Loader\")", uuid(2))
        }
    );
    assert!(err.to_string().contains("--tlp"), "{err}");
    let plan = import(
        &text,
        &ImportOptions {
            default_tlp: Some(Tlp::Amber),
            named_recipients: false,
        },
    )
    .unwrap();
    let tlps: Vec<Tlp> = plan.items.iter().map(|i| i.request.tlp).collect();
    assert_eq!(tlps, [Tlp::Green, Tlp::Amber]);
    let kinds: Vec<ItemKind> = plan.items.iter().map(|i| i.request.kind).collect();
    assert_eq!(
        kinds,
        [
            ItemKind::IndicatorOfCompromise,
            ItemKind::TechniqueAndProcedure
        ]
    );
}

#[test]
fn tlp_1_markings_are_read_white_as_clear() {
    let text = bundle(vec![
        obj(
            "vulnerability",
            1,
            json!({"name": "CVE-2026-0001", "object_marking_refs": [TLP1_WHITE],
            "external_references": [{"source_name": "cve", "external_id": "CVE-2026-0001"}]}),
        ),
        obj(
            "course-of-action",
            2,
            json!({"name": "Patch", "object_marking_refs": ["marking-definition--00000009-0000-4000-8000-000000000000"]}),
        ),
        json!({"type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--00000009-0000-4000-8000-000000000000",
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp", "definition": {"tlp": "amber"}}),
    ]);
    let plan = import(&text, &no_default()).unwrap();
    assert_eq!(plan.items.len(), 2);
    let v = &plan.items[0].request;
    assert_eq!((v.kind, v.tlp), (ItemKind::Vulnerability, Tlp::Clear));
    assert_eq!(v.tags, ["cve:CVE-2026-0001"]);
    let p: Value = serde_json::from_slice(&v.payload.as_ref().unwrap().bytes).unwrap();
    assert_eq!(
        p["objects"][0]["object_marking_refs"],
        json!([marking_id(Tlp::Clear)])
    );
    let c = &plan.items[1].request;
    assert_eq!(
        (c.kind, c.tlp),
        (ItemKind::ConfigurationRecommendation, Tlp::Amber)
    );
    assert_eq!(
        payload_ids(&plan.items[1]),
        [format!("course-of-action--{}", uuid(2))],
        "the bundle's TLP definition is not carried along"
    );
}

#[test]
fn a_report_takes_what_it_refers_to_and_relationships_join_their_source() {
    let rel = obj(
        "relationship",
        10,
        json!({"relationship_type": "indicates",
        "source_ref": format!("indicator--{}", uuid(3)), "target_ref": format!("malware--{}", uuid(4))}),
    );
    let text = bundle(vec![
        obj(
            "identity",
            1,
            json!({"name": "Vendor", "identity_class": "organization"}),
        ),
        obj(
            "report",
            2,
            json!({"name": "Campaign X", "description": "What we saw",
            "published": "2026-01-01T00:00:00Z", "report_types": ["threat-actor"],
            "labels": ["campaign x"], "created_by_ref": format!("identity--{}", uuid(1)),
            "object_refs": [format!("threat-actor--{}", uuid(5))]}),
        ),
        obj(
            "indicator",
            3,
            json!({"name": "C2", "pattern": "[domain-name:value = 'c2.example']",
            "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z"}),
        ),
        obj("malware", 4, json!({"name": "Loader", "is_family": true})),
        obj("threat-actor", 5, json!({"name": "Actor"})),
        rel,
        obj("location", 6, json!({"region": "europe"})),
    ]);
    let plan = import(
        &text,
        &ImportOptions {
            default_tlp: Some(Tlp::Green),
            named_recipients: false,
        },
    )
    .unwrap();
    let roots: Vec<(&str, ItemKind)> = plan
        .items
        .iter()
        .map(|i| (i.root.as_str(), i.request.kind))
        .collect();
    assert_eq!(roots.len(), 3, "{roots:?}");
    assert_eq!(roots[0].1, ItemKind::ThreatActorInformation);
    assert_eq!(plan.items[0].request.title, "Campaign X");
    assert_eq!(plan.items[0].request.tags, ["campaign-x"]);
    assert_eq!(
        payload_ids(&plan.items[0]),
        [
            format!("report--{}", uuid(2)),
            format!("identity--{}", uuid(1)),
            format!("threat-actor--{}", uuid(5))
        ]
    );
    assert_eq!(
        payload_ids(&plan.items[1]),
        [
            format!("indicator--{}", uuid(3)),
            format!("relationship--{}", uuid(10))
        ]
    );
    assert_eq!(
        payload_ids(&plan.items[2]),
        [format!("malware--{}", uuid(4))]
    );
    assert_eq!(
        plan.notes,
        ["not imported, as no item refers to them: 1 location"]
    );
}

#[test]
fn red_needs_named_recipients_and_an_item_takes_its_highest_marking() {
    let text = bundle(vec![
        obj(
            "incident",
            1,
            json!({"name": "Outage", "object_marking_refs": green()}),
        ),
        obj(
            "note",
            2,
            json!({"content": "it was us", "object_refs": [format!("incident--{}", uuid(1))],
            "object_marking_refs": [marking_id(Tlp::Red)]}),
        ),
    ]);
    let err = import(&text, &no_default()).unwrap_err();
    assert!(
        matches!(err, ImportError::RedNeedsRecipients { ref object } if object.contains("Outage")),
        "{err}"
    );
    let plan = import(
        &text,
        &ImportOptions {
            default_tlp: None,
            named_recipients: true,
        },
    )
    .unwrap();
    assert_eq!(plan.items[0].request.tlp, Tlp::Red);
    assert_eq!(plan.items[0].request.kind, ItemKind::NearMiss);
}

#[test]
fn stix_2_0_and_non_bundles_are_refused() {
    let two_oh = json!({"type": "bundle", "id": format!("bundle--{}", uuid(0)), "spec_version": "2.0", "objects": []});
    assert!(matches!(
        import(&two_oh.to_string(), &no_default()),
        Err(ImportError::NotStix21 { .. })
    ));
    let no_version = bundle(vec![
        json!({"type": "indicator", "id": format!("indicator--{}", uuid(1)), "name": "x"}),
    ]);
    assert!(matches!(
        import(&no_version, &no_default()),
        Err(ImportError::NotStix21 { .. })
    ));
    assert!(matches!(
        import("[]", &no_default()),
        Err(ImportError::NotABundle(_))
    ));
    assert!(matches!(
        import("{", &no_default()),
        Err(ImportError::NotJson(_))
    ));
    assert_eq!(
        import(&bundle(vec![]), &no_default()),
        Err(ImportError::Empty)
    );
}

#[test]
fn an_exported_bundle_imports_and_re_exports_with_the_same_ids() {
    let originals = vec![
        view_of(
            1,
            ItemKind::Vulnerability,
            Tlp::Amber,
            &["cve:CVE-2026-1234"],
        ),
        view_of(
            2,
            ItemKind::IndicatorOfCompromise,
            Tlp::Green,
            &["ioc:ipv4=198.51.100.7"],
        ),
        view_of(3, ItemKind::CyberThreat, Tlp::Clear, &[]),
    ];
    let policy = ExportPolicy { max_tlp: Tlp::Red };
    let first = export(&originals, &policy);
    let plan = import(&first.bundle.to_string(), &no_default()).unwrap();
    assert_eq!(plan.items.len(), 3, "one item per Cairn report");
    let kinds: Vec<ItemKind> = plan.items.iter().map(|i| i.request.kind).collect();
    assert_eq!(
        kinds,
        [
            ItemKind::Vulnerability,
            ItemKind::IndicatorOfCompromise,
            ItemKind::CyberThreat
        ]
    );
    // The imported items as another node would show them.
    let views: Vec<_> = plan
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let r = &i.request;
            let mut v = view_of(100 + n as u8, r.kind, r.tlp, &[]);
            v.title = r.title.clone();
            v.tags = r.tags.clone();
            v.payload = r.payload.clone();
            v
        })
        .collect();
    let second = export(&views, &policy);
    let ids = |e: &crate::interop::stix::Export| -> std::collections::BTreeSet<String> {
        e.bundle["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&first), ids(&second));
}
