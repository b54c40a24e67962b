//! What an item's STIX payload contributes to its export: its objects, as
//! they are, once each is checked to be a STIX object (its TLP marking
//! definitions left out, as the official ones replace them).

use super::is_stix_media_type;
use super::markings::is_tlp_marking;
use crate::control::ItemView;
use crate::interop::ids::is_stix_id;
use serde_json::{Map, Value};

/// The objects of a STIX payload, TLP marking definitions left out (the
/// official ones replace them), each checked to be an object with a STIX id.
pub(super) fn payload_objects(view: &ItemView, notes: &mut Vec<String>) -> Vec<Map<String, Value>> {
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
