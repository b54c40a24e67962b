//! MISP taxonomies: which machine tags (`namespace:predicate="value"`) an
//! item may carry in the namespaces Cairn knows (`nis2`, `rsit`, `tlp`).
//!
//! The value lists are the MISP taxonomies' own `machinetag.json` files
//! (CC0), carried in `protocol/data/taxonomies/` with their version, as
//! shipped with pytaxonomies 2.1.2; the tests judge the result with
//! pytaxonomies itself. Rules, checked at publish (CLI and daemon) and at
//! import:
//!
//! - a tag outside these namespaces is free (`cve:CVE-2026-1234`,
//!   `ioc:ipv4=…`, `misp-galaxy:…`);
//! - in a known namespace (its name compared without case, so `NIS2:` is no
//!   way around the list) the predicate must be one of the taxonomy's, and a
//!   value one of that predicate's, written exactly as MISP writes it; a
//!   predicate alone (`rsit:malicious-code`) is accepted, as pytaxonomies'
//!   reverse lookup accepts it;
//! - an exclusive predicate or taxonomy takes one value per item;
//! - a `tlp:` tag may only repeat the item's marking (`tlp:white` counts as
//!   CLEAR): the marking is the item's TLP, a tag cannot contradict it.

use crate::entity::Sector;
use crate::tlp::Tlp;
use serde::Deserialize;
use std::sync::OnceLock;

/// One MISP taxonomy as its `machinetag.json` describes it (the fields
/// Cairn reads).
#[derive(Clone, Debug, Deserialize)]
pub struct Taxonomy {
    pub namespace: String,
    pub version: u32,
    /// One tag of this namespace per item.
    #[serde(default)]
    pub exclusive: bool,
    pub predicates: Vec<Predicate>,
    #[serde(default)]
    values: Vec<Values>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Predicate {
    pub value: String,
    /// One value of this predicate per item.
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub colour: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct Values {
    predicate: String,
    entry: Vec<Entry>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Entry {
    pub value: String,
    #[serde(default)]
    pub colour: Option<String>,
}

impl Taxonomy {
    /// The values of `predicate` (empty: the predicate takes none).
    pub fn entries(&self, predicate: &str) -> &[Entry] {
        self.values
            .iter()
            .find(|v| v.predicate == predicate)
            .map(|v| v.entry.as_slice())
            .unwrap_or(&[])
    }

    /// Every machine tag of the taxonomy, as MISP and pytaxonomies write
    /// them.
    pub fn machine_tags(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.predicates {
            let entries = self.entries(&p.value);
            if entries.is_empty() {
                out.push(format!("{}:{}", self.namespace, p.value));
            }
            for e in entries {
                out.push(format!("{}:{}=\"{}\"", self.namespace, p.value, e.value));
            }
        }
        out
    }
}

const DATA: [&str; 3] = [
    include_str!("../data/taxonomies/nis2.json"),
    include_str!("../data/taxonomies/rsit.json"),
    include_str!("../data/taxonomies/tlp.json"),
];

/// The taxonomies Cairn checks tags against.
pub fn known() -> &'static [Taxonomy] {
    static KNOWN: OnceLock<Vec<Taxonomy>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        DATA.iter()
            .map(|text| serde_json::from_str(text).expect("the shipped taxonomies are valid JSON"))
            .collect()
    })
}

/// The taxonomy of a namespace, compared without case.
pub fn taxonomy(namespace: &str) -> Option<&'static Taxonomy> {
    known()
        .iter()
        .find(|t| t.namespace.eq_ignore_ascii_case(namespace))
}

/// `nis2 v5, rsit v1003, tlp v10`: which lists this build checks against.
pub fn versions() -> String {
    known()
        .iter()
        .map(|t| format!("{} v{}", t.namespace, t.version))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A tag split as a machine tag: `namespace:predicate` or
/// `namespace:predicate="value"` (pytaxonomies' own reading).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineTag<'a> {
    pub namespace: &'a str,
    pub predicate: &'a str,
    pub value: Option<&'a str>,
}

/// Reads `tag` as a machine tag; `None` when it is not one.
pub fn parse(tag: &str) -> Option<MachineTag<'_>> {
    let (namespace, rest) = tag.split_once(':')?;
    if let Some((predicate, quoted)) = rest.split_once('=') {
        let value = quoted.strip_prefix('"')?.strip_suffix('"')?;
        if value.contains('"') {
            return None;
        }
        return Some(MachineTag {
            namespace,
            predicate,
            value: Some(value),
        });
    }
    Some(MachineTag {
        namespace,
        predicate: rest,
        value: None,
    })
}

/// A tag the taxonomies refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("tag {tag:?}: write {namespace}: tags as MISP machine tags, e.g. {example}")]
    Malformed {
        tag: String,
        namespace: String,
        example: String,
    },
    #[error("tag {tag:?}: '{predicate}' is not in the {namespace} taxonomy (v{version}); valid: {}", .valid.join(", "))]
    UnknownPredicate {
        tag: String,
        namespace: String,
        predicate: String,
        version: u32,
        valid: Vec<String>,
    },
    #[error("tag {tag:?}: '{value}' is not a value of {namespace}:{predicate} (taxonomy v{version}); valid: {}", .valid.join(", "))]
    UnknownValue {
        tag: String,
        namespace: String,
        predicate: String,
        value: String,
        version: u32,
        valid: Vec<String>,
    },
    #[error(
        "tags {first:?} and {second:?}: {scope} is exclusive, an item takes one of its values"
    )]
    Exclusive {
        scope: String,
        first: String,
        second: String,
    },
    #[error("tag {tag:?} contradicts the item's marking {}: leave the tag out (the marking is the item's TLP) or publish under that marking", .tlp.label())]
    TlpContradicts { tag: String, tlp: Tlp },
}

/// Checks one tag against the known taxonomies (free tags pass).
pub fn check_tag(tag: &str) -> Result<(), TagError> {
    let Some((ns, _)) = tag.split_once(':') else {
        return Ok(());
    };
    let Some(t) = taxonomy(ns) else {
        return Ok(());
    };
    let example = || t.machine_tags().into_iter().next().unwrap_or_default();
    let Some(m) = parse(tag) else {
        return Err(TagError::Malformed {
            tag: tag.into(),
            namespace: t.namespace.clone(),
            example: example(),
        });
    };
    let Some(p) = t.predicates.iter().find(|p| p.value == m.predicate) else {
        return Err(TagError::UnknownPredicate {
            tag: tag.into(),
            namespace: t.namespace.clone(),
            predicate: m.predicate.into(),
            version: t.version,
            valid: t.machine_tags(),
        });
    };
    let entries = t.entries(&p.value);
    match m.value {
        None => Ok(()),
        Some(v) if entries.iter().any(|e| e.value == v) => Ok(()),
        Some(v) => Err(TagError::UnknownValue {
            tag: tag.into(),
            namespace: t.namespace.clone(),
            predicate: p.value.clone(),
            value: v.into(),
            version: t.version,
            valid: entries
                .iter()
                .map(|e| format!("{}:{}=\"{}\"", t.namespace, p.value, e.value))
                .collect(),
        }),
    }
}

/// The marking a `tlp:` tag names (`tlp:white` is CLEAR); `None` for other
/// tags and for `tlp:` values that are no marking (`tlp:ex:chr`).
pub fn tlp_of_tag(tag: &str) -> Option<Tlp> {
    let (ns, value) = tag.split_once(':')?;
    if !ns.eq_ignore_ascii_case("tlp") {
        return None;
    }
    match value {
        "white" => Some(Tlp::Clear),
        "clear" | "green" | "amber" | "amber+strict" | "red" => Tlp::parse_label(value).ok(),
        _ => None,
    }
}

/// Whether `tag` is in the `tlp` namespace.
pub fn is_tlp_tag(tag: &str) -> bool {
    tag.split_once(':')
        .is_some_and(|(ns, _)| ns.eq_ignore_ascii_case("tlp"))
}

/// The `tlp:` machine tag of a marking, as MISP's tlp taxonomy spells it
/// (`tlp:clear`, `tlp:amber+strict`).
pub fn tlp_tag(tlp: Tlp) -> String {
    format!("tlp:{}", tlp.as_str().to_ascii_lowercase())
}

/// Checks an item's tags: each against its taxonomy, exclusivity, and
/// `tlp:` tags against the item's marking.
pub fn check_tags(tags: &[String], tlp: Tlp) -> Result<(), TagError> {
    for tag in tags {
        check_tag(tag)?;
        if is_tlp_tag(tag) && tlp_of_tag(tag) != Some(tlp) {
            return Err(TagError::TlpContradicts {
                tag: tag.clone(),
                tlp,
            });
        }
    }
    for (i, a) in tags.iter().enumerate() {
        let Some(ma) = parse(a).filter(|m| taxonomy(m.namespace).is_some()) else {
            continue;
        };
        let t = taxonomy(ma.namespace).expect("filtered");
        let exclusive_predicate = t
            .predicates
            .iter()
            .any(|p| p.value == ma.predicate && p.exclusive);
        for b in &tags[i + 1..] {
            let Some(mb) = parse(b) else { continue };
            if !mb.namespace.eq_ignore_ascii_case(ma.namespace) || a == b {
                continue;
            }
            let scope = if t.exclusive {
                Some(format!("the {} taxonomy", t.namespace))
            } else if exclusive_predicate && mb.predicate == ma.predicate {
                Some(format!("{}:{}", t.namespace, ma.predicate))
            } else {
                None
            };
            if let Some(scope) = scope {
                return Err(TagError::Exclusive {
                    scope,
                    first: a.clone(),
                    second: b.clone(),
                });
            }
        }
    }
    Ok(())
}

/// The colour MISP shows a taxonomy tag in, when the taxonomy gives one.
pub fn colour(tag: &str) -> Option<&'static str> {
    let m = parse(tag)?;
    let t = taxonomy(m.namespace)?;
    let p = t.predicates.iter().find(|p| p.value == m.predicate)?;
    match m.value {
        None => p.colour.as_deref(),
        Some(v) => t
            .entries(&p.value)
            .iter()
            .find(|e| e.value == v)?
            .colour
            .as_deref(),
    }
}

/// The `nis2:impact-sectors-impacted` value of a NIS2 sector.
pub fn nis2_sector(sector: Sector) -> &'static str {
    match sector {
        Sector::Energy => "energy",
        Sector::Transport => "transport",
        Sector::Banking => "banking",
        Sector::FinancialMarketInfrastructures => "financial",
        Sector::Health => "health",
        Sector::DrinkingWater => "drinking-water",
        Sector::WasteWater => "waste-water",
        Sector::DigitalInfrastructure => "digital-infrastructure",
        Sector::IctServiceManagement => "ict-services",
        Sector::PublicAdministration => "public-administration",
        Sector::Space => "space",
        Sector::PostalAndCourier => "courier",
        Sector::WasteManagement => "waste-management",
        Sector::Chemicals => "chemical",
        Sector::Food => "food",
        Sector::Manufacturing => "manufacturing",
        Sector::DigitalProviders => "digital-providers",
        Sector::Research => "research",
    }
}

/// The tag naming a sector as impacted: `nis2:impact-sectors-impacted="health"`.
pub fn sector_tag(sector: Sector) -> String {
    format!("nis2:impact-sectors-impacted=\"{}\"", nis2_sector(sector))
}

/// The sector a `nis2:impact-sectors-impacted` value stands for.
pub fn sector_of_nis2(value: &str) -> Option<Sector> {
    Sector::ALL
        .iter()
        .copied()
        .find(|s| nis2_sector(*s) == value)
}

#[cfg(test)]
#[path = "taxonomy_tests.rs"]
mod tests;
