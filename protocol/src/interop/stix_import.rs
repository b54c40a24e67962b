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

use super::ids::{is_stix_id, uuid_from};
use super::stix::{
    is_tlp_marking, marking_id, tlp_of_marking_id, KIND_LABEL, MEDIA_TYPE, TLP_EXTENSION,
};
use crate::control::PublishRequest;
use crate::item::{ItemKind, Payload, MAX_BODY, MAX_PAYLOAD, MAX_TAG, MAX_TAGS, MAX_TITLE};
use crate::tlp::Tlp;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// A bundle's objects, indexed.
struct Bundle {
    objects: Vec<Map<String, Value>>,
    /// Object indices by id (several versions share an id).
    by_id: HashMap<String, Vec<usize>>,
    /// TLP of the marking definitions defined in the bundle.
    tlp_markings: HashMap<String, Tlp>,
}

fn ty(o: &Map<String, Value>) -> &str {
    o.get("type").and_then(Value::as_str).unwrap_or("")
}

fn id(o: &Map<String, Value>) -> &str {
    o.get("id").and_then(Value::as_str).unwrap_or("")
}

/// How errors and notes name an object: its id, and its name if it has one.
fn describe(o: &Map<String, Value>) -> String {
    match o.get("name").and_then(Value::as_str) {
        Some(n) => format!("{} ({n:?})", id(o)),
        None => id(o).to_string(),
    }
}

/// Types that are never an item or inside one by themselves.
fn is_definition(t: &str) -> bool {
    matches!(
        t,
        "marking-definition" | "extension-definition" | "language-content"
    )
}

/// Types that join the item of the objects they connect.
fn is_attachment(t: &str) -> bool {
    matches!(t, "relationship" | "sighting" | "note" | "opinion")
}

/// The kind an object makes an item of, if it is a root.
fn root_kind(o: &Map<String, Value>) -> Option<ItemKind> {
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

fn strings(o: &Map<String, Value>, key: &str) -> Vec<String> {
    match o.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// A report's kind: Cairn's own label, else its report types.
fn report_kind(o: &Map<String, Value>) -> ItemKind {
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

/// Every id `o` refers to through `*_ref` and `*_refs` properties (at any
/// depth, so embedded lists such as `granular_markings` count), markings
/// left out.
fn references(o: &Map<String, Value>) -> Vec<String> {
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

impl Bundle {
    fn new(objects: Vec<Map<String, Value>>) -> Result<Self, ImportError> {
        let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
        let mut tlp_markings = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let oid = id(o);
            if !is_stix_id(oid) || ty(o).is_empty() || !oid.starts_with(&format!("{}--", ty(o))) {
                return Err(ImportError::NotABundle(format!(
                    "objects[{i}] has no valid \"type\" and \"id\" ({oid:?})"
                )));
            }
            if let Some(v) = o.get("spec_version").and_then(Value::as_str) {
                if v != "2.1" {
                    return Err(ImportError::NotStix21 {
                        object: describe(o),
                        version: v.into(),
                    });
                }
            } else if !crate::interop::stix_import::is_sco(ty(o)) && !is_definition(ty(o)) {
                // SDOs and SROs of STIX 2.1 must say spec_version.
                return Err(ImportError::NotStix21 {
                    object: describe(o),
                    version: "2.0 (no spec_version)".into(),
                });
            }
            by_id.entry(oid.to_string()).or_default().push(i);
            if ty(o) == "marking-definition" {
                if let Some(t) = tlp_of_definition(o) {
                    tlp_markings.insert(oid.to_string(), t);
                }
            }
        }
        Ok(Bundle {
            objects,
            by_id,
            tlp_markings,
        })
    }

    /// The TLP an object's markings give it, if any.
    fn tlp_of(&self, o: &Map<String, Value>) -> Option<Tlp> {
        strings(o, "object_marking_refs")
            .iter()
            .filter_map(|r| tlp_of_marking_id(r).or_else(|| self.tlp_markings.get(r).copied()))
            .max()
    }

    /// The objects `start` takes with it: `start`, then what it refers to,
    /// transitively, other roots excepted (reports take everything).
    fn closure(
        &self,
        start: usize,
        roots: &HashSet<usize>,
        taken: &mut Vec<usize>,
        inside: &mut HashSet<usize>,
    ) {
        let mut queue = vec![start];
        let grouping = matches!(ty(&self.objects[start]), "report" | "grouping");
        while let Some(i) = queue.pop() {
            if !inside.insert(i) {
                continue;
            }
            taken.push(i);
            for r in references(&self.objects[i]) {
                for &j in self.by_id.get(&r).map(Vec::as_slice).unwrap_or(&[]) {
                    let t = ty(&self.objects[j]);
                    if is_definition(t) || inside.contains(&j) {
                        continue;
                    }
                    if roots.contains(&j) && !grouping {
                        continue;
                    }
                    queue.push(j);
                }
            }
        }
    }

    fn plan(&self, options: &ImportOptions) -> Result<ImportPlan, ImportError> {
        // Markings first, over every object, so a refusal names the first
        // unmarked object whatever item it would have joined.
        let mut tlps = Vec::with_capacity(self.objects.len());
        for o in &self.objects {
            let t = if is_definition(ty(o)) {
                None
            } else {
                match self.tlp_of(o).or(options.default_tlp) {
                    Some(t) => Some(t),
                    None => {
                        return Err(ImportError::Unmarked {
                            object: describe(o),
                        })
                    }
                }
            };
            tlps.push(t);
        }
        // Roots: reports and groupings, then what they do not contain.
        let mut in_group: HashSet<usize> = HashSet::new();
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        let none = HashSet::new();
        for (i, o) in self.objects.iter().enumerate() {
            if matches!(ty(o), "report" | "grouping") && !in_group.contains(&i) {
                let mut taken = Vec::new();
                let mut inside = HashSet::new();
                self.closure(i, &none, &mut taken, &mut inside);
                in_group.extend(inside);
                groups.push((i, taken));
            }
        }
        let lone: HashSet<usize> = self
            .objects
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                !in_group.contains(i)
                    && !matches!(ty(o), "report" | "grouping")
                    && root_kind(o).is_some()
            })
            .map(|(i, _)| i)
            .collect();
        let mut order: Vec<usize> = lone.iter().copied().collect();
        order.sort_unstable();
        for i in order {
            let mut taken = Vec::new();
            let mut inside = HashSet::new();
            self.closure(i, &lone, &mut taken, &mut inside);
            groups.push((i, taken));
        }
        groups.sort_by_key(|(root, _)| *root);
        if groups.is_empty() {
            return Err(ImportError::Empty);
        }
        // Attachments join the first item holding their source, else target.
        let mut placed: HashSet<usize> =
            groups.iter().flat_map(|(_, t)| t.iter().copied()).collect();
        let holder = |groups: &Vec<(usize, Vec<usize>)>, target: &str| -> Option<usize> {
            let idx = self.by_id.get(target)?;
            groups
                .iter()
                .position(|(_, t)| t.iter().any(|i| idx.contains(i)))
        };
        for (i, o) in self.objects.iter().enumerate() {
            if placed.contains(&i) || !is_attachment(ty(o)) {
                continue;
            }
            let ends: Vec<String> = match ty(o) {
                "relationship" => ["source_ref", "target_ref"]
                    .iter()
                    .filter_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string))
                    .collect(),
                "sighting" => o
                    .get("sighting_of_ref")
                    .and_then(Value::as_str)
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default(),
                _ => strings(o, "object_refs"),
            };
            if let Some(g) = ends.iter().find_map(|e| holder(&groups, e)) {
                let mut inside: HashSet<usize> = groups[g].1.iter().copied().collect();
                let mut taken = Vec::new();
                self.closure(i, &lone, &mut taken, &mut inside);
                placed.extend(taken.iter().copied());
                groups[g].1.extend(taken);
            }
        }
        let mut left_out: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, o) in self.objects.iter().enumerate() {
            if !placed.contains(&i) && !is_definition(ty(o)) {
                *left_out.entry(ty(o)).or_default() += 1;
            }
        }
        let mut notes = Vec::new();
        if !left_out.is_empty() {
            let list: Vec<String> = left_out.iter().map(|(t, n)| format!("{n} {t}")).collect();
            notes.push(format!(
                "not imported, as no item refers to them: {}",
                list.join(", ")
            ));
        }
        let items = groups
            .into_iter()
            .map(|(root, members)| self.item(root, members, &tlps, options))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ImportPlan { items, notes })
    }

    fn item(
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

/// The TLP a marking-definition object defines, if it is a TLP marking.
fn tlp_of_definition(o: &Map<String, Value>) -> Option<Tlp> {
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

#[cfg(test)]
#[path = "stix_import_tests.rs"]
mod tests;
