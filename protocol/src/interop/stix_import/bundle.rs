//! The bundle walk: a bundle's objects indexed by id, and the plan of which
//! objects make which item (reports with all they refer to, then lone
//! roots, then attachments joining the item of the object they connect).

use super::kind::root_kind;
use super::markings::tlp_of_definition;
use super::object::{describe, id, is_attachment, is_definition, references, strings, ty};
use super::{ImportError, ImportOptions, ImportPlan};
use crate::interop::ids::is_stix_id;
use crate::tlp::Tlp;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A bundle's objects, indexed.
pub(super) struct Bundle {
    pub(super) objects: Vec<Map<String, Value>>,
    /// Object indices by id (several versions share an id).
    pub(super) by_id: HashMap<String, Vec<usize>>,
    /// TLP of the marking definitions defined in the bundle.
    pub(super) tlp_markings: HashMap<String, Tlp>,
}

impl Bundle {
    pub(super) fn new(objects: Vec<Map<String, Value>>) -> Result<Self, ImportError> {
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

    pub(super) fn plan(&self, options: &ImportOptions) -> Result<ImportPlan, ImportError> {
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
}
