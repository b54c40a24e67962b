//! The words Cairn's kinds, sectors and tags become in STIX: a kind's
//! primary object type and report type, the industry-sector word, CVE names
//! and kill-chain phases read from tags.

use crate::entity::Sector;
use crate::item::ItemKind;
use serde_json::{json, Value};

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
pub(super) fn report_type(kind: ItemKind, primary: Option<&str>) -> &'static str {
    match (kind, primary) {
        (ItemKind::Vulnerability, _) => "vulnerability",
        (ItemKind::IndicatorOfCompromise, _) => "indicator",
        (ItemKind::TechniqueAndProcedure | ItemKind::AdversarialTactic, _) => "attack-pattern",
        (ItemKind::ThreatActorInformation, Some("intrusion-set")) => "intrusion-set",
        (ItemKind::ThreatActorInformation, _) => "threat-actor",
        _ => "threat-report",
    }
}

/// `CVE-…` from a `cve:` tag.
pub(crate) fn cve_of_tag(tag: &str) -> Option<String> {
    let (ns, value) = tag.split_once(':')?;
    (ns.eq_ignore_ascii_case("cve") && !value.is_empty()).then(|| value.to_ascii_uppercase())
}

/// The kill-chain phases an adversarial tactic's tags name.
pub(super) fn kill_chain_phases(tags: &[String]) -> Value {
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
