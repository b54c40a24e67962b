//! MISP feed export: one MISP event per item, written exactly as PyMISP's
//! feed generator writes a feed (`MISPEvent.to_feed(with_meta=True)`, each
//! event `json.dump(…, indent=2)` as `<uuid>.json`, `manifest.json` as
//! `json.dumps(manifest)`, `hashes.csv` as `md5,event-uuid` lines).
//!
//! An event is:
//! - `info` = the title; `date`, `timestamp`, `publish_timestamp` = the
//!   creation time; published, analysis completed (2), threat level
//!   undefined (4, as PyMISP defaults it: the tags say more);
//! - `Orgc` = the publisher (its entity name, or for a pseudonym the same
//!   "a certified member …" every node shows; never the entity behind it),
//!   with a uuid derived from that name so one publisher is one MISP org;
//! - tags: exactly one `tlp:` tag (the item's marking as MISP's tlp
//!   taxonomy spells it), the item's tags (but its `ioc:` values, which are
//!   attributes), `nis2:impact-sectors-impacted` for the publisher's
//!   sector, and `cairn-kind:KIND`;
//! - attributes: a `vulnerability` per `cve:` tag, and each `ioc:` value as
//!   the MISP type it is (`ip-dst`, `domain`, `url`, `email-src`, hashes,
//!   `filename`) with MISP's default category and IDS flag;
//! - the body as an event report named by the title.
//!
//! Every uuid is derived from the item id ([`super::ids`]): the event's is
//! the item's STIX report uuid (misp-stix maps an event to a report of the
//! same uuid, so the same item through TAXII and through the feed is one
//! event in MISP), an attribute's comes from its type and value. A
//! re-export writes the same bytes.

use super::ids::{uuid_for, uuid_from};
use super::ioc::{self, IocType};
use super::pyjson::{dumps, Py};
use super::stix::KIND_LABEL;
use super::{check_export, ExportPolicy, Withheld, WithheldCounts};
use crate::control::ItemView;
use crate::hash::md5_hex;
use crate::item::ItemId;
use crate::taxonomy;
use crate::tlp::Tlp;

/// The uuid of an item's MISP event (that of its STIX report).
pub fn event_uuid(item: &ItemId) -> String {
    uuid_for("report", item)
}

/// The uuid of the MISP organisation a publisher name stands for.
pub fn org_uuid(publisher_name: &str) -> String {
    uuid_from(&[b"misp-orgc", &[0], publisher_name.as_bytes()])
}

/// The MISP attribute type an indicator value is written as.
pub fn attribute_type(kind: IocType) -> &'static str {
    match kind {
        IocType::Ipv4 | IocType::Ipv6 => "ip-dst",
        IocType::Domain => "domain",
        IocType::Url => "url",
        IocType::Email => "email-src",
        IocType::Md5 => "md5",
        IocType::Sha1 => "sha1",
        IocType::Sha256 => "sha256",
        IocType::Sha512 => "sha512",
        IocType::Filename => "filename",
    }
}

/// MISP's default category of an attribute type (describeTypes.json).
fn category(ty: &str) -> &'static str {
    match ty {
        "ip-dst" | "domain" | "url" => "Network activity",
        "vulnerability" => "External analysis",
        _ => "Payload delivery",
    }
}

/// One attribute of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub ty: &'static str,
    pub value: String,
    pub to_ids: bool,
}

/// The attributes of `view`: its CVEs, then its indicator values.
pub fn attributes(view: &ItemView, notes: &mut Vec<String>) -> Vec<Attribute> {
    let mut out: Vec<Attribute> = Vec::new();
    for t in &view.tags {
        if let Some(cve) = super::stix::cve_of_tag(t) {
            out.push(Attribute {
                ty: "vulnerability",
                value: cve,
                to_ids: false,
            });
        }
    }
    let (iocs, errors) = ioc::from_tags(&view.tags);
    for e in errors {
        notes.push(format!("item {}: {e}; the value is left out", view.id));
    }
    out.extend(iocs.into_iter().map(|i| Attribute {
        ty: attribute_type(i.kind),
        value: i.value,
        to_ids: true,
    }));
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert((a.ty, a.value.clone())));
    out
}

/// The event's tags: one `tlp:` tag first, the item's own, the publisher's
/// NIS2 sector, the kind. Left out of the item's own: its `tlp:` tag (it
/// repeats the marking) and its `ioc:` values, which are attributes here;
/// as tags they would read as MISP's own `ioc` taxonomy, which means
/// something else (pytaxonomies refuses them).
pub fn tags(view: &ItemView) -> Vec<String> {
    let mut out = vec![taxonomy::tlp_tag(view.tlp)];
    for t in &view.tags {
        if !taxonomy::is_tlp_tag(t) && !t.starts_with(ioc::PREFIX) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    if let Some(sector) = view.publisher_sector {
        let tag = taxonomy::sector_tag(sector);
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    let kind = format!("{KIND_LABEL}{}", view.kind);
    if !out.contains(&kind) {
        out.push(kind);
    }
    out
}

fn tag(name: &str) -> Py {
    Py::obj([
        (
            "colour",
            Py::str(taxonomy::colour(name).unwrap_or("#ffffff")),
        ),
        ("local", Py::Bool(false)),
        ("name", Py::str(name)),
        ("relationship_type", Py::str("")),
    ])
}

/// One event of a feed: its file's text, its manifest entry and its
/// attribute hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEvent {
    pub uuid: String,
    pub item: ItemId,
    /// `<uuid>.json`, as PyMISP writes it.
    pub json: String,
    manifest: Py,
    /// MD5 of each attribute value, for `hashes.csv`.
    pub hashes: Vec<String>,
}

/// The event of one readable item.
pub fn event(view: &ItemView, notes: &mut Vec<String>) -> FeedEvent {
    let uuid = event_uuid(&view.id);
    let secs = (view.created.millis() / 1000) as i64;
    let date = view.created.to_rfc3339_millis()[..10].to_string();
    let orgc = Py::obj([
        ("name", Py::str(&view.publisher_name)),
        ("uuid", Py::str(org_uuid(&view.publisher_name))),
    ]);
    let tag_list = Py::List(tags(view).iter().map(|t| tag(t)).collect());
    let attrs = attributes(view, notes);
    let mut fields = vec![
        ("analysis".to_string(), Py::str("2")),
        ("date".into(), Py::str(&date)),
        ("extends_uuid".into(), Py::str("")),
        ("info".into(), Py::str(&view.title)),
        ("protected".into(), Py::Bool(false)),
        ("publish_timestamp".into(), Py::str(secs.to_string())),
        ("published".into(), Py::Bool(true)),
        ("threat_level_id".into(), Py::str("4")),
        ("timestamp".into(), Py::str(secs.to_string())),
        ("uuid".into(), Py::str(&uuid)),
        ("Orgc".into(), orgc.clone()),
        ("Tag".into(), tag_list.clone()),
    ];
    if !attrs.is_empty() {
        let list = attrs
            .iter()
            .map(|a| {
                Py::obj([
                    ("category", Py::str(category(a.ty))),
                    ("comment", Py::str("")),
                    ("disable_correlation", Py::Bool(false)),
                    ("timestamp", Py::str(secs.to_string())),
                    ("to_ids", Py::Bool(a.to_ids)),
                    ("type", Py::str(a.ty)),
                    (
                        "uuid",
                        Py::str(uuid_from(&[
                            b"misp-attribute",
                            &[0],
                            view.id.as_bytes(),
                            a.ty.as_bytes(),
                            &[0],
                            a.value.as_bytes(),
                        ])),
                    ),
                    ("value", Py::str(&a.value)),
                ])
            })
            .collect();
        fields.push(("Attribute".into(), Py::List(list)));
    }
    if !view.body.is_empty() {
        let report = Py::obj([
            ("content", Py::str(&view.body)),
            ("name", Py::str(&view.title)),
            ("timestamp", Py::str(secs.to_string())),
            ("uuid", Py::str(uuid_for("misp-event-report", &view.id))),
        ]);
        fields.push(("EventReport".into(), Py::List(vec![report])));
    }
    let json = dumps(&Py::obj([("Event", Py::Obj(fields))]), Some(2));
    let manifest = Py::obj([
        ("Orgc", orgc),
        ("Tag", tag_list),
        ("info", Py::str(&view.title)),
        ("date", Py::str(date)),
        ("analysis", Py::Int(2)),
        ("threat_level_id", Py::Int(4)),
        ("timestamp", Py::Int(secs)),
    ]);
    FeedEvent {
        uuid,
        item: view.id,
        json,
        manifest,
        hashes: attrs.iter().map(|a| md5_hex(a.value.as_bytes())).collect(),
    }
}

/// A whole feed, with what the operator should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    /// In the order of the views given.
    pub events: Vec<FeedEvent>,
    /// `manifest.json`.
    pub manifest: String,
    /// `hashes.csv`.
    pub hashes: String,
    pub notes: Vec<String>,
    pub withheld: WithheldCounts,
}

impl Feed {
    /// The event with this uuid.
    pub fn event(&self, uuid: &str) -> Option<&FeedEvent> {
        self.events.iter().find(|e| e.uuid == uuid)
    }
}

/// The feed of every view `policy` lets out. A feed never carries TLP:RED,
/// whatever the policy says: it has no named recipients.
pub fn feed(views: &[ItemView], policy: &ExportPolicy) -> Feed {
    let mut notes = Vec::new();
    let mut withheld = WithheldCounts::default();
    let mut events = Vec::new();
    for v in views {
        if v.tlp == Tlp::Red {
            withheld.add(Withheld::AboveMaxTlp);
            continue;
        }
        if let Err(why) = check_export(v, policy) {
            withheld.add(why);
            continue;
        }
        events.push(event(v, &mut notes));
    }
    let manifest = Py::Obj(
        events
            .iter()
            .map(|e| (e.uuid.clone(), e.manifest.clone()))
            .collect(),
    );
    let mut hashes = String::new();
    for e in &events {
        for h in &e.hashes {
            hashes.push_str(&format!("{h},{}\n", e.uuid));
        }
    }
    Feed {
        events,
        manifest: dumps(&manifest, None),
        hashes,
        notes,
        withheld,
    }
}

/// Whether `name` is a feed event's file name, `<uuid>.json` with the uuid
/// ; the uuid if so.
pub fn event_file_uuid(name: &str) -> Option<&str> {
    let uuid = name.strip_suffix(".json")?;
    is_uuid(uuid).then_some(uuid)
}

/// A UUID in its 8-4-4-4-12 hex form (either case: MISP writes lower
/// case, other generators may not).
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
#[path = "misp_tests.rs"]
mod tests;
