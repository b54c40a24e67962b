//! MISP feed import: a feed's manifest and events, turned into the items
//! this node publishes (as its own, signed by it).
//!
//! - The marking is the event's one `tlp:` tag naming a TLP marking
//!   (`tlp:white` read as CLEAR); none, or more than one, and the event is
//!   refused by its uuid: MISP's own distribution levels say nothing about
//!   TLP, so guessing would be wrong either way.
//! - The kind is the `cairn-kind:` tag, else inferred: vulnerability when a
//!   `vulnerability` attribute is there, indicator of compromise when
//!   indicator attributes are, else cybersecurity alert.
//! - Title = `info`; body = the event reports' contents, else `comment` and
//!   `text` attributes, else `info`.
//! - Tags: the event's (its tlp and kind tags taken out), then `cve:` for
//!   each vulnerability and `ioc:TYPE=VALUE` for each indicator attribute
//!   (in objects too), checked against the taxonomies like any publish.
//!   What a Cairn tag cannot hold (spaces, over 128 bytes, beyond 32 tags)
//!   is left out and said.

use super::ioc::{self, IocType};
use super::misp::is_uuid;
use super::stix::KIND_LABEL;
use crate::control::{AudienceRequest, PublishRequest};
use crate::item::{ItemKind, MAX_BODY, MAX_TAG, MAX_TAGS, MAX_TITLE};
use crate::taxonomy::{self, TagError};
use crate::tlp::Tlp;
use serde_json::{Map, Value};

/// A feed or event that cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MispImportError {
    #[error("manifest.json is not a MISP feed manifest ({0}): it must be a JSON object keyed by event uuid")]
    Manifest(String),
    #[error("manifest.json names {0:?}, which is not an event uuid")]
    ManifestUuid(String),
    #[error("event {uuid}: not a MISP event ({why})")]
    NotAnEvent { uuid: String, why: String },
    #[error("event {uuid}: its file holds event {found}")]
    WrongUuid { uuid: String, found: String },
    #[error("event {uuid}: no tlp: tag naming a marking (tlp:clear, tlp:green, tlp:amber, tlp:amber+strict, tlp:red): tag the event in MISP, or leave it out of the feed")]
    NoTlp { uuid: String },
    #[error("event {uuid}: {} tlp: tags ({}); an event takes exactly one", .tags.len(), .tags.join(", "))]
    ManyTlp { uuid: String, tags: Vec<String> },
    #[error("event {uuid}: TLP:RED needs named recipients: import with --to ENTITY,…")]
    RedWithoutRecipients { uuid: String },
    #[error("event {uuid}: {source}")]
    Tags { uuid: String, source: Box<TagError> },
    #[error("event {uuid}: no info (title)")]
    NoTitle { uuid: String },
}

/// The event uuids a manifest lists, in its order.
pub fn manifest_uuids(text: &str) -> Result<Vec<String>, MispImportError> {
    let v: Value =
        serde_json::from_str(text).map_err(|e| MispImportError::Manifest(e.to_string()))?;
    let Value::Object(m) = v else {
        return Err(MispImportError::Manifest("not an object".into()));
    };
    // serde_json sorts keys; the manifest's order does not matter to MISP
    // either (it fetches what it lacks).
    m.keys()
        .map(|k| {
            // The uuid becomes a file name or URL segment: nothing else may.
            if is_uuid(k) {
                Ok(k.clone())
            } else {
                Err(MispImportError::ManifestUuid(k.clone()))
            }
        })
        .collect()
}

/// What an event becomes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedEvent {
    pub uuid: String,
    pub request: PublishRequest,
    pub notes: Vec<String>,
}

/// The item an event file (`{"Event": {…}}`) becomes. `uuid` is the one the
/// manifest names; `named_recipients` says whether the operator gave
/// recipients (`--to`), which TLP:RED needs.
pub fn event(
    uuid: &str,
    text: &str,
    named_recipients: bool,
) -> Result<ImportedEvent, MispImportError> {
    let not_event = |why: String| MispImportError::NotAnEvent {
        uuid: uuid.into(),
        why,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| not_event(e.to_string()))?;
    let e = match v.get("Event").unwrap_or(&v) {
        Value::Object(o) => o,
        _ => return Err(not_event("no Event object".into())),
    };
    if let Some(found) = e.get("uuid").and_then(Value::as_str) {
        if !found.eq_ignore_ascii_case(uuid) {
            return Err(MispImportError::WrongUuid {
                uuid: uuid.into(),
                found: found.into(),
            });
        }
    }
    let mut notes = Vec::new();
    let names: Vec<String> = list(e, "Tag")
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let tlp_tags: Vec<&String> = names.iter().filter(|t| taxonomy::is_tlp_tag(t)).collect();
    let markings: Vec<Tlp> = tlp_tags
        .iter()
        .filter_map(|t| taxonomy::tlp_of_tag(t))
        .collect();
    let tlp = match (markings.as_slice(), tlp_tags.len()) {
        ([], _) => return Err(MispImportError::NoTlp { uuid: uuid.into() }),
        ([one], 1) => *one,
        _ => {
            return Err(MispImportError::ManyTlp {
                uuid: uuid.into(),
                tags: tlp_tags.into_iter().cloned().collect(),
            })
        }
    };
    if tlp == Tlp::Red && !named_recipients {
        return Err(MispImportError::RedWithoutRecipients { uuid: uuid.into() });
    }

    let attributes: Vec<&Map<String, Value>> = list(e, "Attribute")
        .chain(list(e, "Object").flat_map(|o| list(o, "Attribute")))
        .collect();
    let mut cves = Vec::new();
    let mut iocs = Vec::new();
    let mut comments = Vec::new();
    let mut skipped = 0;
    for a in &attributes {
        let ty = a.get("type").and_then(Value::as_str).unwrap_or("");
        let value = a.get("value").and_then(Value::as_str).unwrap_or("");
        if ty == "vulnerability" {
            cves.push(format!("cve:{}", value.trim()));
            continue;
        }
        if ty == "comment" || ty == "text" {
            comments.push(value.to_string());
            continue;
        }
        // Composite types (`filename|md5`) carry one value per part.
        let parts: Vec<(&str, &str)> = if ty.contains('|') {
            ty.split('|').zip(value.split('|')).collect()
        } else {
            vec![(ty, value)]
        };
        for (t, v) in parts {
            match ioc_type(t, v).map(|k| format!("{}{}={v}", ioc::PREFIX, k.as_str())) {
                Some(tag) => match ioc::parse_tag(&tag) {
                    Some(Ok(_)) => iocs.push(tag),
                    _ => notes.push(format!(
                        "event {uuid}: attribute {t} {v:?} is not a valid value; left out"
                    )),
                },
                None => skipped += 1,
            }
        }
    }
    if skipped > 0 {
        notes.push(format!(
            "event {uuid}: {skipped} attribute value(s) of types Cairn has no indicator type for; left out"
        ));
    }

    let kind_tag = names
        .iter()
        .find_map(|t| t.strip_prefix(KIND_LABEL))
        .and_then(|k| match k.parse::<ItemKind>() {
            Ok(kind) => Some(kind),
            Err(_) => {
                notes.push(format!(
                    "event {uuid}: {KIND_LABEL}{k} is no Cairn kind; the kind is inferred"
                ));
                None
            }
        });
    let kind = kind_tag.unwrap_or(if !cves.is_empty() {
        ItemKind::Vulnerability
    } else if !iocs.is_empty() {
        ItemKind::IndicatorOfCompromise
    } else {
        ItemKind::CybersecurityAlert
    });

    let mut tags: Vec<String> = Vec::new();
    let own = names
        .iter()
        .filter(|t| !taxonomy::is_tlp_tag(t) && !t.starts_with(KIND_LABEL))
        .cloned();
    for t in own.chain(cves).chain(iocs) {
        if t.is_empty()
            || t.len() > MAX_TAG
            || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            notes.push(format!(
                "event {uuid}: tag {t:?} has spaces or is over {MAX_TAG} bytes; left out"
            ));
        } else if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > MAX_TAGS {
        notes.push(format!(
            "event {uuid}: {} tags, a Cairn item holds {MAX_TAGS}; the last {} left out",
            tags.len(),
            tags.len() - MAX_TAGS
        ));
        tags.truncate(MAX_TAGS);
    }
    taxonomy::check_tags(&tags, tlp).map_err(|source| MispImportError::Tags {
        uuid: uuid.into(),
        source: Box::new(source),
    })?;

    let info = e.get("info").and_then(Value::as_str).unwrap_or("").trim();
    let title = one_line(info, MAX_TITLE);
    if title.is_empty() {
        return Err(MispImportError::NoTitle { uuid: uuid.into() });
    }
    let reports: Vec<String> = list(e, "EventReport")
        .filter(|r| r.get("deleted").and_then(Value::as_bool) != Some(true))
        .filter_map(|r| r.get("content").and_then(Value::as_str))
        .filter(|c| !c.trim().is_empty())
        .map(str::to_string)
        .collect();
    let body = if !reports.is_empty() {
        reports.join("\n\n")
    } else if !comments.is_empty() {
        comments.join("\n\n")
    } else {
        info.to_string()
    };
    let body = if body.len() > MAX_BODY {
        notes.push(format!(
            "event {uuid}: the text is {} bytes, cut to {MAX_BODY}",
            body.len()
        ));
        cut(&body, MAX_BODY).to_string()
    } else {
        body
    };
    Ok(ImportedEvent {
        uuid: uuid.into(),
        request: PublishRequest {
            kind,
            tlp,
            title,
            body,
            payload: None,
            tags,
            audience: AudienceRequest::default(),
        },
        notes,
    })
}

/// The Cairn indicator type of a MISP attribute type and value.
pub fn ioc_type(misp_type: &str, value: &str) -> Option<IocType> {
    Some(match misp_type {
        "ip-dst" | "ip-src" if value.contains(':') => IocType::Ipv6,
        "ip-dst" | "ip-src" => IocType::Ipv4,
        "domain" | "hostname" => IocType::Domain,
        "url" | "uri" | "link" => IocType::Url,
        "email" | "email-src" | "email-dst" => IocType::Email,
        "md5" => IocType::Md5,
        "sha1" => IocType::Sha1,
        "sha256" => IocType::Sha256,
        "sha512" => IocType::Sha512,
        "filename" => IocType::Filename,
        _ => return None,
    })
}

/// The objects of `o[key]` when it is a list.
fn list<'a>(o: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Map<String, Value>> {
    o.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

/// The first line of `s`, at most `max` bytes.
fn one_line(s: &str, max: usize) -> String {
    cut(s.lines().next().unwrap_or("").trim(), max).to_string()
}

/// `s` cut to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
#[path = "misp_import_tests.rs"]
mod tests;
