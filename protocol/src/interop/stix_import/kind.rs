//! Which Cairn kind an object makes an item of: the mapping per STIX type,
//! and for reports Cairn's own kind label or their report types.

use super::object::{strings, ty};
use crate::interop::stix::KIND_LABEL;
use crate::item::ItemKind;
use serde_json::{Map, Value};

/// The kind an object makes an item of, if it is a root.
pub(super) fn root_kind(o: &Map<String, Value>) -> Option<ItemKind> {
    Some(match ty(o) {
        "report" | "grouping" => report_kind(o),
        "indicator" => ItemKind::IndicatorOfCompromise,
        "vulnerability" => ItemKind::Vulnerability,
        "attack-pattern" | "malware" | "tool" | "infrastructure" => ItemKind::TechniqueAndProcedure,
        "threat-actor" | "intrusion-set" | "campaign" => ItemKind::ThreatActorInformation,
        "incident" => ItemKind::NearMiss,
        "course-of-action" => ItemKind::ConfigurationRecommendation,
        _ => return None,
    })
}

/// A report's kind: Cairn's own label, else its report types.
pub(super) fn report_kind(o: &Map<String, Value>) -> ItemKind {
    for l in strings(o, "labels") {
        if let Some(k) = l.strip_prefix(KIND_LABEL).and_then(|k| k.parse().ok()) {
            return k;
        }
    }
    for t in strings(o, "report_types") {
        let k = match t.as_str() {
            "threat-report" => ItemKind::CyberThreat,
            "vulnerability" => ItemKind::Vulnerability,
            "indicator" | "observed-data" => ItemKind::IndicatorOfCompromise,
            "attack-pattern" | "malware" | "tool" => ItemKind::TechniqueAndProcedure,
            "threat-actor" | "intrusion-set" | "campaign" => ItemKind::ThreatActorInformation,
            _ => continue,
        };
        return k;
    }
    ItemKind::CyberThreat
}
