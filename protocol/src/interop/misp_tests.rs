//! MISP feed export: the event's shape as PyMISP writes it, determinism,
//! markings (RED never), the manifest and hashes.

use super::*;
use crate::control::AudienceView;
use crate::interop::stix::tests::view;
use crate::item::ItemKind;
use serde_json::Value;

fn parsed(e: &FeedEvent) -> Value {
    serde_json::from_str(&e.json).expect("an event is JSON")
}

fn tag_names(event: &Value) -> Vec<String> {
    event["Event"]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_event_carries_one_tlp_tag_its_tags_sector_kind_and_values() {
    let mut v = view(
        5,
        ItemKind::IndicatorOfCompromise,
        Tlp::AmberStrict,
        &[
            "tlp:amber+strict",
            "rsit:malicious-code=\"c2-server\"",
            "ioc:ipv4=198.51.100.7",
            "ioc:sha256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "cve:cve-2026-1234",
        ],
    );
    v.title = "Ünïcode \"title\"".into();
    let mut notes = vec![];
    let e = event(&v, &mut notes);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(e.uuid, crate::interop::ids::uuid_for("report", &v.id));
    let j = parsed(&e);
    let ev = &j["Event"];
    assert_eq!(ev["info"], "Ünïcode \"title\"");
    assert!(
        e.json.contains("\\u00dcn\\u00efcode \\\"title\\\""),
        "ensure_ascii: {}",
        e.json
    );
    assert_eq!(ev["uuid"], e.uuid.as_str());
    assert_eq!(ev["Orgc"]["name"], "St. Example Hospital");
    assert_eq!(
        ev["Orgc"]["uuid"],
        org_uuid("St. Example Hospital").as_str()
    );
    let names = tag_names(&j);
    assert_eq!(
        names,
        [
            "tlp:amber+strict",
            "rsit:malicious-code=\"c2-server\"",
            "cve:cve-2026-1234",
            "nis2:impact-sectors-impacted=\"health\"",
            "cairn-kind:indicator-of-compromise",
        ]
    );
    assert_eq!(names.iter().filter(|n| n.starts_with("tlp:")).count(), 1);
    let attrs: Vec<(String, String, bool)> = ev["Attribute"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["type"].as_str().unwrap().into(),
                a["value"].as_str().unwrap().into(),
                a["to_ids"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attrs,
        [
            ("vulnerability".into(), "CVE-2026-1234".into(), false),
            ("ip-dst".into(), "198.51.100.7".into(), true),
            (
                "sha256".into(),
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                true
            ),
        ]
    );
    assert_eq!(ev["EventReport"][0]["content"], v.body.as_str());
    // Python's json.dump(indent=2) key order: the sorted scalar fields, then
    // Orgc, Tag, Attribute, EventReport.
    let keys: Vec<&str> = e
        .json
        .lines()
        .filter(|l| l.starts_with("    \"") && l.contains("\": "))
        .map(|l| l.trim().split('"').nth(1).unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "analysis",
            "date",
            "extends_uuid",
            "info",
            "protected",
            "publish_timestamp",
            "published",
            "threat_level_id",
            "timestamp",
            "uuid",
            "Orgc",
            "Tag",
            "Attribute",
            "EventReport"
        ]
    );
    assert_eq!(
        ev["timestamp"],
        (v.created.millis() / 1000).to_string().as_str()
    );
    assert_eq!(ev["date"], &v.created.to_rfc3339()[..10]);
}

#[test]
fn the_feed_is_deterministic_and_never_red() {
    let mut views: Vec<ItemView> = Tlp::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| {
            view(
                i as u8 + 1,
                ItemKind::CyberThreat,
                *t,
                &["ioc:domain=evil.example"],
            )
        })
        .collect();
    views[4].audience = Some(AudienceView {
        selectors: vec!["A".into()],
        recipients: vec!["A".into()],
        readable: true,
        unreadable_reason: None,
        sealed_size: 1,
    });
    let all = ExportPolicy { max_tlp: Tlp::Red };
    let f = feed(&views, &all);
    assert_eq!(
        f.events.len(),
        4,
        "RED stays home even when RED is asked for"
    );
    assert_eq!(f.withheld.above_max_tlp, 1);
    assert_eq!(f, feed(&views, &all));
    let default = feed(&views, &ExportPolicy::default());
    assert_eq!(default.events.len(), 2);
    assert_eq!(default.withheld.above_max_tlp, 3);

    let manifest: Value = serde_json::from_str(&f.manifest).unwrap();
    assert_eq!(manifest.as_object().unwrap().len(), 4);
    let first = &manifest[f.events[0].uuid.as_str()];
    assert_eq!(first["analysis"], 2);
    assert_eq!(first["threat_level_id"], 4);
    assert_eq!(first["Tag"][0]["name"], "tlp:clear");
    assert!(f.manifest.starts_with(&format!(
        "{{\"{}\": {{\"Orgc\": {{\"name\": ",
        f.events[0].uuid
    )));
    // md5("evil.example"), once per event.
    let lines: Vec<&str> = f.hashes.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        format!(
            "{},{}",
            crate::hash::md5_hex(b"evil.example"),
            f.events[0].uuid
        )
    );
}

#[test]
fn event_file_names_are_uuids_only() {
    assert_eq!(
        event_file_uuid("0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60.json"),
        Some("0f0c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60")
    );
    for bad in [
        "manifest.json",
        "../etc/passwd.json",
        "0f0c2b6e6b1d4c3e9f0a1b2c3d4e5f60.json",
        "x.json",
    ] {
        assert_eq!(event_file_uuid(bad), None, "{bad}");
    }
}

#[test]
fn a_pseudonym_is_its_pseudonym_in_orgc_and_brings_no_sector() {
    let mut v = view(9, ItemKind::CyberThreat, Tlp::Green, &[]);
    v.publisher_name = "a certified member (pseudonym 0a1b2c3d4e5f6071)".into();
    v.publisher_sector = None;
    let e = event(&v, &mut vec![]);
    let j = parsed(&e);
    assert_eq!(j["Event"]["Orgc"]["name"], v.publisher_name.as_str());
    assert!(!e.json.contains("St. Example Hospital"));
    assert_eq!(tag_names(&j), ["tlp:green", "cairn-kind:cyber-threat"]);
}
