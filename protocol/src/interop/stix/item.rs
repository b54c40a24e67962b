//! One item's STIX objects: the publisher's identity, the report, the
//! primary object its kind calls for, and the objects of its STIX payload,
//! each carrying the item's marking.

use super::markings::{mark, marking_id};
use super::payload::payload_objects;
use super::vocabulary::{cve_of_tag, kill_chain_phases, primary_type, report_type, stix_sector};
use super::KIND_LABEL;
use crate::control::ItemView;
use crate::interop::ids::stix_id;
use crate::interop::ioc;
use crate::item::ItemKind;
use serde_json::{json, Map, Value};

/// The STIX objects of one item, and what the operator should know about
/// how it was mapped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemObjects {
    pub objects: Vec<Value>,
    pub notes: Vec<String>,
}

/// The STIX objects of `view` (without the marking definition). The view
/// must be readable: an unreadable one yields nothing, with a note.
pub fn item_objects(view: &ItemView) -> ItemObjects {
    let mut notes = Vec::new();
    if view.audience.as_ref().is_some_and(|a| !a.readable) {
        notes.push(format!(
            "item {}: not readable on this node, not exported",
            view.id
        ));
        return ItemObjects {
            objects: vec![],
            notes,
        };
    }
    let tlp_ref = marking_id(view.tlp);
    let created = view.created.to_rfc3339_millis();
    let payload = payload_objects(view, &mut notes);
    let marked = |mut o: Map<String, Value>| {
        mark(&mut o, tlp_ref);
        Value::Object(o)
    };
    let first_content = payload.iter().find(|o| {
        !matches!(
            o.get("type").and_then(Value::as_str),
            Some("marking-definition" | "extension-definition" | "identity")
        )
    });
    if first_content
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        == Some("report")
    {
        // The item is an imported report: its objects are the export.
        return ItemObjects {
            objects: payload.into_iter().map(marked).collect(),
            notes,
        };
    }
    let identity_id = stix_id("identity", &view.id);
    let common = |ty: &str| -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("type".into(), ty.into());
        o.insert("spec_version".into(), "2.1".into());
        o.insert("id".into(), stix_id(ty, &view.id).into());
        o.insert("created".into(), created.clone().into());
        o.insert("modified".into(), created.clone().into());
        o
    };
    let mut identity = common("identity");
    identity.insert("name".into(), view.publisher_name.clone().into());
    match view.publisher_sector {
        Some(sector) => {
            identity.insert("identity_class".into(), "organization".into());
            identity.insert("sectors".into(), json!([stix_sector(sector)]));
            identity.insert(
                "description".into(),
                format!("Member of a Cairn community (NIS2 sector: {sector})").into(),
            );
        }
        None => {
            identity.insert("identity_class".into(), "unknown".into());
        }
    }

    let primary_ty = primary_type(view.kind, &view.tags);
    let in_payload = |ty: &str| {
        payload
            .iter()
            .any(|o| o.get("type").and_then(Value::as_str) == Some(ty))
    };
    let mut primary = None;
    if let Some(ty) = primary_ty.filter(|ty| !in_payload(ty)) {
        let mut o = common(ty);
        o.insert("name".into(), view.title.clone().into());
        if !view.body.is_empty() {
            o.insert("description".into(), view.body.clone().into());
        }
        o.insert("created_by_ref".into(), identity_id.clone().into());
        let keep = match view.kind {
            ItemKind::Vulnerability => {
                let cves: Vec<String> = view.tags.iter().filter_map(|t| cve_of_tag(t)).collect();
                if let Some(first) = cves.first() {
                    o.insert("name".into(), first.clone().into());
                    let refs: Vec<Value> = cves
                        .iter()
                        .map(|c| json!({"source_name": "cve", "external_id": c}))
                        .collect();
                    o.insert("external_references".into(), refs.into());
                }
                true
            }
            ItemKind::IndicatorOfCompromise => {
                let (iocs, errors) = ioc::from_tags(&view.tags);
                for e in errors {
                    notes.push(format!("item {}: {e}; the value is left out", view.id));
                }
                match ioc::stix_pattern(&iocs) {
                    Some(pattern) => {
                        o.insert("pattern".into(), pattern.into());
                        o.insert("pattern_type".into(), "stix".into());
                        o.insert("valid_from".into(), created.clone().into());
                        o.insert("indicator_types".into(), json!(["malicious-activity"]));
                        true
                    }
                    None => {
                        notes.push(format!(
                            "item {} ({}): an indicator of compromise without a STIX pattern \
                             (no indicator in a STIX payload, no ioc:TYPE=VALUE tag): \
                             exported as a report without an indicator",
                            view.id, view.title
                        ));
                        false
                    }
                }
            }
            ItemKind::AdversarialTactic => {
                o.insert("kill_chain_phases".into(), kill_chain_phases(&view.tags));
                true
            }
            _ => true,
        };
        if keep {
            primary = Some(o);
        }
    }

    let mut report = common("report");
    report.insert("name".into(), view.title.clone().into());
    if !view.body.is_empty() {
        report.insert("description".into(), view.body.clone().into());
    }
    report.insert("published".into(), created.clone().into());
    report.insert(
        "report_types".into(),
        json!([report_type(view.kind, primary_ty)]),
    );
    let mut labels: Vec<Value> = view.tags.iter().map(|t| t.clone().into()).collect();
    // The publisher's sector in the NIS2 taxonomy, as the MISP feed tags it.
    if let Some(sector) = view.publisher_sector {
        let tag = crate::taxonomy::sector_tag(sector);
        if !view.tags.contains(&tag) {
            labels.push(tag.into());
        }
    }
    labels.push(format!("{KIND_LABEL}{}", view.kind).into());
    report.insert("labels".into(), labels.into());
    report.insert("created_by_ref".into(), identity_id.clone().into());
    report.insert(
        "external_references".into(),
        json!([{
            "source_name": "cairn",
            "external_id": view.id.to_string(),
            "description": format!("Cairn item, published by {}", view.publisher_name),
        }]),
    );
    let mut refs: Vec<Value> = primary
        .iter()
        .filter_map(|o| o.get("id").cloned())
        .collect();
    refs.extend(
        payload
            .iter()
            .filter(|o| {
                !matches!(
                    o.get("type").and_then(Value::as_str),
                    Some("marking-definition" | "extension-definition")
                )
            })
            .filter_map(|o| o.get("id").cloned()),
    );
    if refs.is_empty() {
        // A report must refer to something: the publisher, for kinds that
        // are the report alone.
        refs.push(identity_id.clone().into());
    }
    report.insert("object_refs".into(), refs.into());

    let mut objects = vec![marked(identity), marked(report)];
    objects.extend(primary.map(marked));
    objects.extend(payload.into_iter().map(marked));
    ItemObjects { objects, notes }
}
