//! STIX 2.1 import: a bundle (from OpenCTI, MISP, a vendor feed, another
//! Cairn community) turned into items this node can publish.
//!
//! Which objects make one item:
//!
//! 1. every `report` and `grouping`, with everything it refers to (its
//!    `object_refs`, their references in turn): a report is how STIX groups
//!    what belongs together, as a MISP event or an OpenCTI report does;
//! 2. every other object that maps to a kind and is not inside a report:
//!    `indicator` (indicator of compromise), `vulnerability`,
//!    `attack-pattern`, `malware`, `tool` and `infrastructure` (technique
//!    and procedure), `threat-actor`, `intrusion-set` and `campaign`
//!    (threat-actor information), `incident` (near miss),
//!    `course-of-action` (configuration recommendation), with the objects
//!    it refers to;
//! 3. relationships, sightings, notes and opinions join the item of the
//!    object they start from (else the one they point to).
//!
//! A report's kind is its `cairn-kind:` label when Cairn exported it, else
//! the first of its `report_types` that names one (`threat-report`: cyber
//! threat). Objects that no item takes (an identity nobody refers to, say)
//! are left out and counted in the notes.
//!
//! Markings: an object's TLP comes from its `object_marking_refs` (the five
//! TLP 2.0 ids, the four TLP 1.0 ids with WHITE read as CLEAR, or a
//! marking definition in the bundle that is a TLP marking); an object
//! without one is refused, naming it, unless a default is given. An item is
//! marked with the highest TLP among its objects, and every object in its
//! payload is rewritten to carry exactly that TLP 2.0 marking (other
//! markings kept). TLP:RED needs named recipients, so a TLP:RED item is
//! refused unless the import names them.
//!
//! The item keeps the original objects as its payload, a bundle in
//! `application/stix+json;version=2.1` whose first object is the item's
//! root, so a re-export gives the same ids ([`super::stix`]).

mod bundle;
mod item;
mod kind;
mod markings;
mod object;

use crate::control::PublishRequest;
use crate::item::MAX_PAYLOAD;
use crate::tlp::Tlp;
use bundle::Bundle;
use serde_json::{Map, Value};

/// How to import.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// The marking of objects that carry none (`--tlp`); without it they
    /// are refused.
    pub default_tlp: Option<Tlp>,
    /// Whether the import names recipients for restricted items (TLP:RED
    /// needs them).
    pub named_recipients: bool,
}

/// Why a bundle cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("the file is not a STIX bundle: {0}")]
    NotABundle(String),
    #[error("{object} is STIX {version}: only STIX 2.1 is imported (convert it first, e.g. with the stix2-elevator)")]
    NotStix21 { object: String, version: String },
    #[error("{object} has no TLP marking: mark it in the bundle, or give the marking of unmarked objects with --tlp")]
    Unmarked { object: String },
    #[error("{object} would be a TLP:RED item, which needs named recipients: give them with --to ENTITY[,ENTITY…]")]
    RedNeedsRecipients { object: String },
    #[error("{object} and the objects that belong with it are {size} bytes as a payload, over the {MAX_PAYLOAD}-byte limit")]
    TooLarge { object: String, size: usize },
    #[error("the bundle holds no object that maps to a Cairn kind (report, indicator, vulnerability, attack-pattern, threat-actor, incident, course-of-action, …)")]
    Empty,
}

/// One item to publish, from one root object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedItem {
    /// The root object, as errors and notes name it.
    pub root: String,
    pub request: PublishRequest,
}

/// What a bundle becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportPlan {
    pub items: Vec<ImportedItem>,
    pub notes: Vec<String>,
}

/// Turns `text`, a STIX 2.1 bundle, into items, or refuses the whole
/// bundle: nothing is published from a bundle with a refused object.
pub fn import(text: &str, options: &ImportOptions) -> Result<ImportPlan, ImportError> {
    let bundle: Value =
        serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let Value::Object(mut bundle) = bundle else {
        return Err(ImportError::NotABundle("it is not a JSON object".into()));
    };
    if bundle.get("type").and_then(Value::as_str) != Some("bundle") {
        return Err(ImportError::NotABundle(
            "its \"type\" is not \"bundle\"".into(),
        ));
    }
    if let Some(v) = bundle.get("spec_version").and_then(Value::as_str) {
        // A STIX 2.0 bundle says so on the bundle; 2.1 bundles have none.
        return Err(ImportError::NotStix21 {
            object: "the bundle".into(),
            version: v.into(),
        });
    }
    let objects: Vec<Map<String, Value>> = match bundle.remove("objects") {
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(o) => Ok(o),
                _ => Err(ImportError::NotABundle(format!(
                    "objects[{i}] is not a JSON object"
                ))),
            })
            .collect::<Result<_, _>>()?,
        None => vec![],
        Some(_) => return Err(ImportError::NotABundle("\"objects\" is not a list".into())),
    };
    let b = Bundle::new(objects)?;
    b.plan(options)
}

/// Whether a type is a STIX 2.1 cyber-observable (spec_version optional).
pub fn is_sco(t: &str) -> bool {
    matches!(
        t,
        "artifact"
            | "autonomous-system"
            | "directory"
            | "domain-name"
            | "email-addr"
            | "email-message"
            | "file"
            | "ipv4-addr"
            | "ipv6-addr"
            | "mac-addr"
            | "mutex"
            | "network-traffic"
            | "process"
            | "software"
            | "url"
            | "user-account"
            | "windows-registry-key"
            | "x509-certificate"
    ) || t.starts_with("x-")
}

#[cfg(test)]
mod tests;
