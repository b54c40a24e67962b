//! Where an object's TLP comes from: the TLP marking ids (2.0, and 1.0 with
//! WHITE read as CLEAR), or a TLP marking definition in the bundle itself.

use super::bundle::Bundle;
use super::object::{id, strings};
use crate::interop::stix::{tlp_of_marking_id, TLP_EXTENSION};
use crate::tlp::Tlp;
use serde_json::{Map, Value};

impl Bundle {
    /// The TLP an object's markings give it, if any.
    pub(super) fn tlp_of(&self, o: &Map<String, Value>) -> Option<Tlp> {
        strings(o, "object_marking_refs")
            .iter()
            .filter_map(|r| tlp_of_marking_id(r).or_else(|| self.tlp_markings.get(r).copied()))
            .max()
    }
}

/// The TLP a marking-definition object defines, if it is a TLP marking.
pub(super) fn tlp_of_definition(o: &Map<String, Value>) -> Option<Tlp> {
    if let Some(t) = tlp_of_marking_id(id(o)) {
        return Some(t);
    }
    if let Some(v) = o
        .get("extensions")
        .and_then(|e| e.get(TLP_EXTENSION))
        .and_then(|e| e.get("tlp_2_0"))
        .and_then(Value::as_str)
    {
        return Tlp::parse_label(v).ok();
    }
    if o.get("definition_type").and_then(Value::as_str) == Some("tlp") {
        let v = o.get("definition")?.get("tlp")?.as_str()?;
        return match v.to_ascii_lowercase().as_str() {
            "white" => Some(Tlp::Clear),
            other => Tlp::parse_label(other).ok(),
        };
    }
    None
}
