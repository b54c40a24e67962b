//! One item from one root and the objects that go with it: its marking
//! (the highest of its objects', written onto each of them), its STIX
//! payload, title, body and tags.

use super::bundle::Bundle;
use super::kind::root_kind;
use super::object::{describe, id, strings, ty};
use super::{ImportError, ImportOptions, ImportedItem};
use crate::control::PublishRequest;
use crate::interop::ids::uuid_from;
use crate::interop::stix::{is_tlp_marking, marking_id, tlp_of_marking_id, KIND_LABEL, MEDIA_TYPE};
use crate::item::{Payload, MAX_BODY, MAX_PAYLOAD, MAX_TAG, MAX_TAGS, MAX_TITLE};
use crate::tlp::Tlp;
use serde_json::{Map, Value};

impl Bundle {
    pub(super) fn item(
        &self,
        root: usize,
        mut members: Vec<usize>,
        tlps: &[Option<Tlp>],
        options: &ImportOptions,
    ) -> Result<ImportedItem, ImportError> {
        let r = &self.objects[root];
        // Root first, the rest in bundle order.
        members.sort_unstable();
        members.dedup();
        members.retain(|&i| i != root);
        members.insert(0, root);
        let tlp = members
            .iter()
            .filter_map(|&i| tlps[i])
            .max()
            .expect("the root is not a definition, so it has a marking");
        if tlp == Tlp::Red && !options.named_recipients {
            return Err(ImportError::RedNeedsRecipients {
                object: describe(r),
            });
        }
        // Non-TLP marking definitions the members use come along.
        let mut markings: Vec<usize> = Vec::new();
        for &i in &members {
            for m in strings(&self.objects[i], "object_marking_refs") {
                for &j in self.by_id.get(&m).map(Vec::as_slice).unwrap_or(&[]) {
                    if !is_tlp_marking(&self.objects[j]) && !markings.contains(&j) {
                        markings.push(j);
                    }
                }
            }
        }
        let tlp_ref = marking_id(tlp);
        let mut out: Vec<Value> = Vec::with_capacity(members.len() + markings.len());
        for &i in &members {
            let mut o = self.objects[i].clone();
            let mut refs: Vec<Value> = vec![tlp_ref.into()];
            refs.extend(
                strings(&o, "object_marking_refs")
                    .into_iter()
                    .filter(|m| {
                        tlp_of_marking_id(m).is_none() && !self.tlp_markings.contains_key(m)
                    })
                    .map(Value::from),
            );
            o.insert("object_marking_refs".into(), refs.into());
            if let Some(Value::Array(g)) = o.get_mut("granular_markings") {
                g.retain(|m| {
                    let r = m.get("marking_ref").and_then(Value::as_str).unwrap_or("");
                    tlp_of_marking_id(r).is_none() && !self.tlp_markings.contains_key(r)
                });
                if g.is_empty() {
                    o.remove("granular_markings");
                }
            }
            out.push(Value::Object(o));
        }
        out.extend(
            markings
                .iter()
                .map(|&j| Value::Object(self.objects[j].clone())),
        );
        let ids: Vec<&str> = members.iter().map(|&i| id(&self.objects[i])).collect();
        let bundle_id = format!(
            "bundle--{}",
            uuid_from(&[b"cairn import", &[0], ids.join("\n").as_bytes()])
        );
        let payload = serde_json::json!({"type": "bundle", "id": bundle_id, "objects": out});
        let bytes = serde_json::to_vec(&payload).expect("JSON values serialise");
        if bytes.len() > MAX_PAYLOAD {
            return Err(ImportError::TooLarge {
                object: describe(r),
                size: bytes.len(),
            });
        }
        let kind = root_kind(r).expect("roots have a kind");
        let title = one_line(
            r.get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.trim().is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("{} {}", ty(r), id(r))),
            MAX_TITLE,
        );
        let body = truncate(
            r.get("description").and_then(Value::as_str).unwrap_or(""),
            MAX_BODY,
            "\n\n[truncated: the full text is in the item's STIX payload]",
        );
        let request = PublishRequest {
            kind,
            tlp,
            title,
            body,
            payload: Some(Payload {
                media_type: MEDIA_TYPE.into(),
                bytes,
            }),
            tags: self.tags(r, &members),
            audience: Default::default(),
        };
        Ok(ImportedItem {
            root: describe(r),
            request,
        })
    }

    /// Tags for an item: the root's labels (Cairn's kind label aside) and a
    /// `cve:` tag per CVE its objects name.
    fn tags(&self, root: &Map<String, Value>, members: &[usize]) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        let mut push = |t: String| {
            let t: String = t
                .chars()
                .map(|c| {
                    if c.is_whitespace() || c.is_control() {
                        '-'
                    } else {
                        c
                    }
                })
                .collect();
            if !t.is_empty() && t.len() <= MAX_TAG && tags.len() < MAX_TAGS && !tags.contains(&t) {
                tags.push(t);
            }
        };
        for l in strings(root, "labels") {
            if !l.starts_with(KIND_LABEL) {
                push(l);
            }
        }
        for &i in members {
            if let Some(Value::Array(refs)) = self.objects[i].get("external_references") {
                for r in refs {
                    let source = r.get("source_name").and_then(Value::as_str).unwrap_or("");
                    if let (true, Some(cve)) = (
                        source.eq_ignore_ascii_case("cve"),
                        r.get("external_id").and_then(Value::as_str),
                    ) {
                        push(format!("cve:{}", cve.to_ascii_uppercase()));
                    }
                }
            }
        }
        tags
    }
}

/// `s` on one line (control characters as spaces), at most `max` bytes.
fn one_line(s: String, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate(flat.trim(), max, "…")
}

/// `s` cut to at most `max` bytes at a character boundary, `marker` added
/// when cut.
fn truncate(s: &str, max: usize, marker: &str) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(marker.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{marker}", &s[..end])
}
