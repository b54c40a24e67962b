//! STIX export tests: a golden bundle of every kind, determinism, markings
//! on every object, payloads kept with their ids.

use super::*;
use crate::control::AudienceView;
use crate::entity::Sector;
use crate::interop::ids;
use crate::item::ItemKind;
use crate::tlp::Tlp;
use crate::{CertificateId, ItemId, Payload, Timestamp};

/// A readable, community-wide view of a fixed item.
pub(crate) fn view(n: u8, kind: ItemKind, tlp: Tlp, tags: &[&str]) -> ItemView {
    ItemView {
        id: ItemId([n; 32]),
        kind,
        tlp,
        title: format!("{kind} number {n}"),
        body: format!("What member {n} saw.\nSecond line."),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        created: Timestamp(1_764_080_856_042 + n as u64),
        publisher: CertificateId([9; 32]),
        publisher_name: "St. Example Hospital".into(),
        publisher_sector: Some(Sector::Health),
        publisher_entity_type: Some(crate::EntityType::Essential),
        publisher_revoked: None,
        payload_media_type: None,
        payload_size: 0,
        payload: None,
        verified: true,
        audience: None,
    }
}

/// One item of each kind, with the tags that give each its primary object.
fn every_kind() -> Vec<ItemView> {
    vec![
        view(
            1,
            ItemKind::CyberThreat,
            Tlp::Clear,
            &["rsit:malicious-code"],
        ),
        view(2, ItemKind::NearMiss, Tlp::Green, &[]),
        view(
            3,
            ItemKind::Vulnerability,
            Tlp::Amber,
            &["cve:CVE-2026-1234"],
        ),
        view(4, ItemKind::TechniqueAndProcedure, Tlp::AmberStrict, &[]),
        view(
            5,
            ItemKind::IndicatorOfCompromise,
            Tlp::Green,
            &["ioc:ipv4=198.51.100.7", "ioc:domain=evil.example"],
        ),
        view(
            6,
            ItemKind::AdversarialTactic,
            Tlp::Green,
            &["attack-tactic:initial-access"],
        ),
        view(7, ItemKind::ThreatActorInformation, Tlp::Amber, &[]),
        view(8, ItemKind::CybersecurityAlert, Tlp::Clear, &[]),
        view(9, ItemKind::ConfigurationRecommendation, Tlp::Green, &[]),
    ]
}

fn all() -> ExportPolicy {
    ExportPolicy { max_tlp: Tlp::Red }
}

fn objects(e: &Export) -> &Vec<Value> {
    e.bundle["objects"].as_array().unwrap()
}

fn of_type<'a>(e: &'a Export, t: &str) -> Vec<&'a Value> {
    objects(e).iter().filter(|o| o["type"] == t).collect()
}

#[test]
fn every_kind_matches_the_golden_bundle() {
    let e = export(&every_kind(), &all());
    let text = serde_json::to_string_pretty(&e.bundle).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/stix-every-kind.json"
    );
    if std::env::var_os("CAIRN_BLESS").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("the golden file (CAIRN_BLESS=1 writes it)");
    assert_eq!(
        text, golden,
        "the STIX export changed; if on purpose, rerun with CAIRN_BLESS=1 and review the diff"
    );
    assert_eq!(e.items, 9);
    assert!(e.notes.is_empty(), "{:?}", e.notes);
}

#[test]
fn each_kind_has_its_primary_object_and_a_report() {
    let e = export(&every_kind(), &all());
    assert_eq!(of_type(&e, "report").len(), 9);
    assert_eq!(of_type(&e, "identity").len(), 9);
    for t in [
        "incident",
        "vulnerability",
        "indicator",
        "threat-actor",
        "course-of-action",
    ] {
        assert_eq!(of_type(&e, t).len(), 1, "{t}");
    }
    assert_eq!(of_type(&e, "attack-pattern").len(), 2);
    let vuln = of_type(&e, "vulnerability")[0];
    assert_eq!(vuln["name"], "CVE-2026-1234");
    assert_eq!(vuln["external_references"][0]["source_name"], "cve");
    let ind = of_type(&e, "indicator")[0];
    assert_eq!(
        ind["pattern"],
        "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example']"
    );
    let tactic = of_type(&e, "attack-pattern")
        .into_iter()
        .find(|o| o.get("kill_chain_phases").is_some())
        .unwrap();
    assert_eq!(
        tactic["kill_chain_phases"][0],
        json!({"kill_chain_name": "mitre-attack", "phase_name": "initial-access"})
    );
    let identity = of_type(&e, "identity")[0];
    assert_eq!(identity["sectors"], json!(["healthcare"]));
    let mut i7 = view(
        7,
        ItemKind::ThreatActorInformation,
        Tlp::Amber,
        &["stix:intrusion-set"],
    );
    i7.title = "APT-Example".into();
    let e = export(&[i7], &all());
    assert_eq!(of_type(&e, "intrusion-set").len(), 1);
    assert_eq!(
        of_type(&e, "report")[0]["report_types"],
        json!(["intrusion-set"])
    );
}

#[test]
fn every_object_carries_its_items_official_marking() {
    let e = export(&every_kind(), &all());
    let defs = of_type(&e, "marking-definition");
    assert_eq!(defs.len(), 4, "CLEAR, GREEN, AMBER, AMBER+STRICT are used");
    for d in &defs {
        let tlp = tlp_of_marking_id(d["id"].as_str().unwrap()).unwrap();
        assert_eq!(d["name"], tlp.label());
        assert_eq!(
            d["extensions"][TLP_EXTENSION]["tlp_2_0"],
            tlp.as_str().to_ascii_lowercase()
        );
    }
    for v in every_kind() {
        let report_id = ids::stix_id("report", &v.id);
        let report = objects(&e)
            .iter()
            .find(|o| o["id"] == report_id.as_str())
            .unwrap();
        let mut ids: Vec<Value> = report["object_refs"].as_array().unwrap().clone();
        ids.push(report_id.clone().into());
        ids.push(ids::stix_id("identity", &v.id).into());
        for id in ids {
            let o = objects(&e).iter().find(|o| o["id"] == id).unwrap();
            assert_eq!(
                o["object_marking_refs"],
                json!([marking_id(v.tlp)]),
                "{id} of item {}",
                v.id
            );
        }
    }
}

#[test]
fn ids_are_stable_and_unique() {
    let a = export(&every_kind(), &all());
    let b = export(&every_kind(), &all());
    assert_eq!(a, b);
    let ids: Vec<&str> = objects(&a)
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let unique: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len());
    let uuids: std::collections::HashSet<&str> =
        ids.iter().map(|i| i.split_once("--").unwrap().1).collect();
    assert_eq!(uuids.len(), ids.len(), "no two objects share a UUID");
    assert!(ids.iter().all(|i| ids::is_stix_id(i)));
}

#[test]
fn an_indicator_without_a_pattern_is_a_report_alone_and_the_export_says_so() {
    let v = view(
        5,
        ItemKind::IndicatorOfCompromise,
        Tlp::Green,
        &["ioc:md5=xyz"],
    );
    let e = export(&[v], &all());
    assert!(of_type(&e, "indicator").is_empty());
    assert_eq!(of_type(&e, "report").len(), 1);
    assert_eq!(e.notes.len(), 2, "{:?}", e.notes);
    assert!(e.notes[0].contains("ioc:md5=xyz"), "{:?}", e.notes);
    assert!(
        e.notes[1].contains("without a STIX pattern"),
        "{:?}",
        e.notes
    );
}

#[test]
fn the_policy_and_the_audience_hold_items_back() {
    let mut sealed = view(1, ItemKind::NearMiss, Tlp::Amber, &[]);
    sealed.audience = Some(AudienceView {
        selectors: vec!["Other".into()],
        recipients: vec!["Other".into()],
        readable: false,
        unreadable_reason: Some("not in the audience".into()),
        sealed_size: 99,
    });
    sealed.title.clear();
    let red = view(2, ItemKind::NearMiss, Tlp::Red, &[]);
    let amber = view(3, ItemKind::NearMiss, Tlp::Amber, &[]);
    let green = view(4, ItemKind::NearMiss, Tlp::Green, &[]);
    let e = export(
        &[sealed.clone(), red, amber, green],
        &ExportPolicy::default(),
    );
    assert_eq!(e.items, 1);
    assert_eq!(e.withheld.not_in_audience, 1);
    assert_eq!(e.withheld.above_max_tlp, 2);
    assert!(item_objects(&sealed).objects.is_empty());
}

#[test]
fn a_stix_payload_keeps_its_objects_and_ids() {
    let mut v = view(5, ItemKind::IndicatorOfCompromise, Tlp::Amber, &[]);
    let indicator = json!({
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "name": "C2", "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]
    });
    let bundle = json!({"type": "bundle", "id": "bundle--0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f61",
        "objects": [indicator, {
            "type": "marking-definition", "spec_version": "2.1",
            "id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "definition": {"tlp": "green"}}]});
    v.payload = Some(Payload {
        media_type: MEDIA_TYPE.into(),
        bytes: serde_json::to_vec(&bundle).unwrap(),
    });
    let e = export(&[v], &all());
    let inds = of_type(&e, "indicator");
    assert_eq!(inds.len(), 1, "the payload's indicator, no generated one");
    assert_eq!(
        inds[0]["id"],
        "indicator--0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60"
    );
    assert_eq!(
        inds[0]["object_marking_refs"],
        json!([marking_id(Tlp::Amber)]),
        "the item's marking replaces the payload's TLP 1.0 GREEN"
    );
    assert_eq!(
        of_type(&e, "marking-definition").len(),
        1,
        "only the official one"
    );
    let report = of_type(&e, "report")[0];
    assert_eq!(
        report["object_refs"],
        json!(["indicator--0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60"])
    );
    assert!(e.notes.is_empty(), "{:?}", e.notes);
}
