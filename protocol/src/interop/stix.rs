//! STIX 2.1 export: what an item looks like to OpenCTI, MISP or a SIEM.
//!
//! Each item becomes a `report` (name = title, description = body,
//! `published` = creation time, `created_by_ref` = its publisher as an
//! `identity` with its sector, labels = its tags, the publisher's
//! `nis2:impact-sectors-impacted` tag and `cairn-kind:KIND`, an
//! external reference `cairn` naming the item id) plus one primary object
//! chosen by kind:
//!
//! | kind | primary object |
//! |---|---|
//! | near-miss | `incident` |
//! | vulnerability | `vulnerability` (named by its `cve:` tag) |
//! | technique-and-procedure | `attack-pattern` |
//! | indicator-of-compromise | `indicator`, only with a STIX pattern |
//! | adversarial-tactic | `attack-pattern` with a kill-chain phase |
//! | threat-actor-information | `threat-actor` (`intrusion-set` with the tag `stix:intrusion-set`) |
//! | configuration-recommendation | `course-of-action` |
//! | cyber-threat, cybersecurity-alert | the report alone |
//!
//! An indicator needs a pattern: from an `indicator` in the item's STIX
//! payload, or from `ioc:TYPE=VALUE` tags ([`super::ioc`]); without one the
//! report goes alone and the export says so. An adversarial tactic's phase
//! comes from `attack-tactic:PHASE` (MITRE ATT&CK) or
//! `kill-chain:CHAIN:PHASE` tags, else the placeholder phase
//! `cairn`/`adversarial-tactic`.
//!
//! An item whose payload is STIX (`application/stix+json`, a bundle or one
//! object) contributes its objects as they are, ids included, so an
//! imported item re-exports with its original ids; a payload object of the
//! kind's primary type replaces the generated one, and a payload whose
//! first object is a `report` is the item's report.
//!
//! Generated ids are deterministic ([`super::ids`]). Every object carries
//! its item's marking, one of the five official TLP 2.0 marking-definition
//! objects (OASIS common objects, extension
//! `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`), which the
//! bundle includes; an item's marking replaces any TLP marking its payload
//! objects carried. Timestamps have millisecond precision; JSON objects
//! are written with sorted keys, so the same items give the same bytes.

use super::ids::{is_stix_id, stix_id, uuid_from};
use super::{check_export, ioc, ExportPolicy, WithheldCounts};
use crate::control::ItemView;
use crate::entity::Sector;
use crate::item::ItemKind;
use crate::tlp::Tlp;
use serde_json::{json, Map, Value};

/// The OASIS TLP 2.0 marking extension.
pub const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/// The media type of a STIX 2.1 payload.
pub const MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// When the OASIS TLP 2.0 marking definitions were created.
const TLP_CREATED: &str = "2022-10-01T00:00:00.000Z";

/// The official TLP 2.0 marking-definition id of each marking, from the
/// OASIS cti-stix-common-objects repository.
pub fn marking_id(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
    }
}

/// The TLP 1.0 marking-definition ids of the STIX 2.1 specification and
/// the TLP 2.0 marking each stands for (WHITE became CLEAR).
pub const TLP1_MARKINGS: [(&str, Tlp); 4] = [
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
];

/// The marking a well-known marking-definition id stands for: the five
/// TLP 2.0 ids and the four TLP 1.0 ones.
pub fn tlp_of_marking_id(id: &str) -> Option<Tlp> {
    Tlp::ALL
        .iter()
        .copied()
        .find(|t| marking_id(*t) == id)
        .or_else(|| {
            TLP1_MARKINGS
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, t)| *t)
        })
}

/// The official TLP 2.0 marking-definition object.
pub fn marking_definition(tlp: Tlp) -> Value {
    json!({
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(tlp),
        "created": TLP_CREATED,
        "name": tlp.label(),
        "extensions": {
            TLP_EXTENSION: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.as_str().to_ascii_lowercase(),
            }
        }
    })
}

/// The STIX industry-sector vocabulary word closest to a NIS2 sector (the
/// exact sector goes into the identity's description).
pub fn stix_sector(sector: Sector) -> &'static str {
    match sector {
        Sector::Energy => "energy",
        Sector::Transport | Sector::PostalAndCourier => "transportation",
        Sector::Banking | Sector::FinancialMarketInfrastructures => "financial-services",
        Sector::Health => "healthcare",
        Sector::DrinkingWater | Sector::WasteWater => "water",
        Sector::DigitalInfrastructure => "telecommunications",
        Sector::IctServiceManagement | Sector::DigitalProviders => "technology",
        Sector::PublicAdministration => "government",
        Sector::Space => "aerospace",
        Sector::WasteManagement => "utilities",
        Sector::Chemicals => "chemical",
        Sector::Food => "agriculture",
        Sector::Manufacturing => "manufacturing",
        Sector::Research => "education",
    }
}

/// The STIX type of a kind's primary object (`None`: the report alone).
pub fn primary_type(kind: ItemKind, tags: &[String]) -> Option<&'static str> {
    match kind {
        ItemKind::NearMiss => Some("incident"),
        ItemKind::Vulnerability => Some("vulnerability"),
        ItemKind::TechniqueAndProcedure | ItemKind::AdversarialTactic => Some("attack-pattern"),
        ItemKind::IndicatorOfCompromise => Some("indicator"),
        ItemKind::ThreatActorInformation if tags.iter().any(|t| t == "stix:intrusion-set") => {
            Some("intrusion-set")
        }
        ItemKind::ThreatActorInformation => Some("threat-actor"),
        ItemKind::ConfigurationRecommendation => Some("course-of-action"),
        ItemKind::CyberThreat | ItemKind::CybersecurityAlert => None,
    }
}

/// The `report_types` word for a kind.
fn report_type(kind: ItemKind, primary: Option<&str>) -> &'static str {
    match (kind, primary) {
        (ItemKind::Vulnerability, _) => "vulnerability",
        (ItemKind::IndicatorOfCompromise, _) => "indicator",
        (ItemKind::TechniqueAndProcedure | ItemKind::AdversarialTactic, _) => "attack-pattern",
        (ItemKind::ThreatActorInformation, Some("intrusion-set")) => "intrusion-set",
        (ItemKind::ThreatActorInformation, _) => "threat-actor",
        _ => "threat-report",
    }
}

/// The label that carries an item's kind.
pub const KIND_LABEL: &str = "cairn-kind:";

/// Whether a media type names STIX JSON.
pub fn is_stix_media_type(media_type: &str) -> bool {
    media_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/stix+json"))
}

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

/// `CVE-…` from a `cve:` tag.
pub(crate) fn cve_of_tag(tag: &str) -> Option<String> {
    let (ns, value) = tag.split_once(':')?;
    (ns.eq_ignore_ascii_case("cve") && !value.is_empty()).then(|| value.to_ascii_uppercase())
}

/// The kill-chain phases an adversarial tactic's tags name.
fn kill_chain_phases(tags: &[String]) -> Value {
    let slug = |s: &str| {
        s.to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .trim_matches('-')
            .to_string()
    };
    let mut phases: Vec<Value> = Vec::new();
    for t in tags {
        let (chain, phase) = if let Some(p) = t.strip_prefix("attack-tactic:") {
            ("mitre-attack".to_string(), slug(p))
        } else if let Some(rest) = t.strip_prefix("kill-chain:") {
            match rest.split_once(':') {
                Some((c, p)) => (slug(c), slug(p)),
                None => continue,
            }
        } else {
            continue;
        };
        if !chain.is_empty() && !phase.is_empty() {
            phases.push(json!({"kill_chain_name": chain, "phase_name": phase}));
        }
    }
    if phases.is_empty() {
        phases.push(json!({"kill_chain_name": "cairn", "phase_name": "adversarial-tactic"}));
    }
    phases.into()
}

/// The objects of a STIX payload, TLP marking definitions left out (the
/// official ones replace them), each checked to be an object with a STIX id.
fn payload_objects(view: &ItemView, notes: &mut Vec<String>) -> Vec<Map<String, Value>> {
    let Some(p) = &view.payload else {
        return vec![];
    };
    if !is_stix_media_type(&p.media_type) {
        return vec![];
    }
    let parsed: Value = match serde_json::from_slice(&p.bytes) {
        Ok(v) => v,
        Err(e) => {
            notes.push(format!(
                "item {}: its STIX payload is not JSON ({e}); exported without it",
                view.id
            ));
            return vec![];
        }
    };
    let list = match parsed {
        Value::Object(mut o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
            match o.remove("objects") {
                Some(Value::Array(a)) => a,
                _ => vec![],
            }
        }
        Value::Object(o) => vec![Value::Object(o)],
        Value::Array(a) => a,
        _ => vec![],
    };
    let mut out = Vec::new();
    for v in list {
        let Value::Object(o) = v else {
            notes.push(format!(
                "item {}: a payload entry is not a STIX object; left out",
                view.id
            ));
            continue;
        };
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        if !is_stix_id(id) || o.get("type").and_then(Value::as_str).is_none() {
            notes.push(format!(
                "item {}: payload object {id:?} has no valid STIX type and id; left out",
                view.id
            ));
            continue;
        }
        if o.get("type").and_then(Value::as_str) == Some("marking-definition") && is_tlp_marking(&o)
        {
            continue;
        }
        out.push(o);
    }
    out
}

/// Whether a marking-definition object is a TLP marking (1.0 or 2.0).
pub fn is_tlp_marking(o: &Map<String, Value>) -> bool {
    let id = o.get("id").and_then(Value::as_str).unwrap_or("");
    tlp_of_marking_id(id).is_some()
        || o.get("definition_type").and_then(Value::as_str) == Some("tlp")
        || o.get("extensions")
            .and_then(|e| e.get(TLP_EXTENSION))
            .is_some()
}

/// Sets `o`'s TLP marking to `tlp_ref`, keeping its other markings
/// (marking definitions themselves are left as they are).
fn mark(o: &mut Map<String, Value>, tlp_ref: &str) {
    if o.get("type").and_then(Value::as_str) == Some("marking-definition") {
        return;
    }
    let mut refs: Vec<Value> = vec![tlp_ref.into()];
    if let Some(Value::Array(old)) = o.get("object_marking_refs") {
        refs.extend(
            old.iter()
                .filter(|r| {
                    r.as_str()
                        .is_some_and(|s| tlp_of_marking_id(s).is_none() && s != tlp_ref)
                })
                .cloned(),
        );
    }
    o.insert("object_marking_refs".into(), refs.into());
}

/// One STIX bundle of many items, with what the operator should know.
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    pub bundle: Value,
    pub notes: Vec<String>,
    /// Items in the bundle.
    pub items: usize,
    /// Items held back by the policy, by reason.
    pub withheld: WithheldCounts,
}

/// The bundle of every item of `views` that `policy` lets out: the TLP
/// marking definitions used, then each item's objects in the order given.
/// An object that appears in several items (the same id and version) is
/// written once.
pub fn export(views: &[ItemView], policy: &ExportPolicy) -> Export {
    let mut notes = Vec::new();
    let mut withheld = WithheldCounts::default();
    let mut used = std::collections::BTreeSet::new();
    let mut objects: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut items = 0;
    for v in views {
        if let Err(why) = check_export(v, policy) {
            withheld.add(why);
            continue;
        }
        let mapped = item_objects(v);
        notes.extend(mapped.notes);
        if mapped.objects.is_empty() {
            continue;
        }
        items += 1;
        used.insert(v.tlp);
        for o in mapped.objects {
            let key = (
                o.get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                o.get("modified")
                    .or_else(|| o.get("created"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            );
            if seen.insert(key) {
                objects.push(o);
            }
        }
    }
    let mut all: Vec<Value> = used.into_iter().map(marking_definition).collect();
    all.extend(objects);
    let ids: Vec<&str> = all
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str))
        .collect();
    let joined = ids.join("\n");
    let bundle_id = format!(
        "bundle--{}",
        uuid_from(&[b"bundle", &[0], joined.as_bytes()])
    );
    Export {
        bundle: json!({"type": "bundle", "id": bundle_id, "objects": all}),
        notes,
        items,
        withheld,
    }
}

#[cfg(test)]
#[path = "stix_tests.rs"]
pub(crate) mod tests;
