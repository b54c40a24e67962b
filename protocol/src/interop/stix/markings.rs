//! TLP markings in STIX: the official TLP 2.0 marking definitions (and the
//! TLP 1.0 ids read on import), and setting an object's TLP marking so every
//! exported object carries its item's.

use crate::tlp::Tlp;
use serde_json::{json, Map, Value};

/// The OASIS TLP 2.0 marking extension.
pub const TLP_EXTENSION: &str = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

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
pub(super) fn mark(o: &mut Map<String, Value>, tlp_ref: &str) {
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
