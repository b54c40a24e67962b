//! What the import reads off one STIX object: its type, id and name, which
//! types are definitions or attachments, and the ids it refers to.

use serde_json::{Map, Value};

pub(super) fn ty(o: &Map<String, Value>) -> &str {
    o.get("type").and_then(Value::as_str).unwrap_or("")
}

pub(super) fn id(o: &Map<String, Value>) -> &str {
    o.get("id").and_then(Value::as_str).unwrap_or("")
}

/// How errors and notes name an object: its id, and its name if it has one.
pub(super) fn describe(o: &Map<String, Value>) -> String {
    match o.get("name").and_then(Value::as_str) {
        Some(n) => format!("{} ({n:?})", id(o)),
        None => id(o).to_string(),
    }
}

/// Types that are never an item or inside one by themselves.
pub(super) fn is_definition(t: &str) -> bool {
    matches!(
        t,
        "marking-definition" | "extension-definition" | "language-content"
    )
}

/// Types that join the item of the objects they connect.
pub(super) fn is_attachment(t: &str) -> bool {
    matches!(t, "relationship" | "sighting" | "note" | "opinion")
}

pub(super) fn strings(o: &Map<String, Value>, key: &str) -> Vec<String> {
    match o.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// Every id `o` refers to through `*_ref` and `*_refs` properties (at any
/// depth, so embedded lists such as `granular_markings` count), markings
/// left out.
pub(super) fn references(o: &Map<String, Value>) -> Vec<String> {
    fn walk(key: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) if key.ends_with("_ref") || key.ends_with("_refs") => {
                out.push(s.clone())
            }
            Value::Array(a) => a.iter().for_each(|x| walk(key, x, out)),
            Value::Object(m) => m.iter().for_each(|(k, x)| walk(k, x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (k, v) in o {
        if k == "object_marking_refs" || k == "granular_markings" {
            continue;
        }
        walk(k, v, &mut out);
    }
    out
}
