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
//!
//! The files here: TLP markings (`markings`), the words Cairn's kinds,
//! sectors and tags become in STIX (`vocabulary`), one item's objects
//! (`item`), what a STIX payload contributes (`payload`); the bundle of many
//! items is assembled below.

mod item;
mod markings;
mod payload;
mod vocabulary;

pub use item::{item_objects, ItemObjects};
pub use markings::{
    is_tlp_marking, marking_definition, marking_id, tlp_of_marking_id, TLP1_MARKINGS, TLP_EXTENSION,
};
pub(crate) use vocabulary::cve_of_tag;
pub use vocabulary::{primary_type, stix_sector};

use super::ids::uuid_from;
use super::{check_export, ExportPolicy, WithheldCounts};
use crate::control::ItemView;
use serde_json::{json, Value};

/// The media type of a STIX 2.1 payload.
pub const MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// The label that carries an item's kind.
pub const KIND_LABEL: &str = "cairn-kind:";

/// Whether a media type names STIX JSON.
pub fn is_stix_media_type(media_type: &str) -> bool {
    media_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/stix+json"))
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
pub(crate) mod tests;
