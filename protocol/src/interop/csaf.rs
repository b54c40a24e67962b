//! CSAF 2.0 export: a vulnerability item as the `csaf_security_advisory`
//! national CSIRTs and vendors publish and their tools (Secvisogram, the
//! BSI validator, CSAF aggregators) read.
//!
//! Only an item that *is* an advisory becomes one: a vulnerability that
//! names a CVE (`cve:CVE-…` tags) and at least one affected product
//! (`cpe:…`, `purl:pkg:…` or `product:NAME` tags). Anything else is refused
//! with the reason ([`Refusal`]), never exported half-filled; so is what the
//! export rule ([`check_export`]) holds back.
//!
//! The mapping:
//! - `document.tracking.id` is `CAIRN-` and the item id: exporting twice, on
//!   any node, gives the same id; one revision (number 1, status `final`)
//!   dated at the item's creation, which is also both release dates.
//! - `document.publisher` is the publishing entity: its legal name, or for a
//!   pseudonymous item only "a certified member (pseudonym …)"; its
//!   category from the entity type (CSIRTs and competent authorities
//!   coordinate, suppliers are vendors, essential and important entities
//!   users, anyone else `other`); its namespace `urn:cairn:certificate:` and
//!   the publisher's certificate id unless the operator gives its own URL.
//! - `document.distribution.tlp`: CSAF 2.0 knows the TLP 1.0 labels only,
//!   so CLEAR is written WHITE and AMBER+STRICT as AMBER; the distribution
//!   text always names the exact TLP 2.0 label, which is the one that
//!   applies.
//! - `product_tree.full_product_names`: one product per product tag, in tag
//!   order, ids `CSAFPID-0001`, … (so the same item gives the same ids); a
//!   CPE or purl is checked against the CSAF schema's own patterns first;
//!   tags hold no spaces, so `product:Example_Pump_3` names "Example Pump 3".
//! - one vulnerability per distinct CVE, each with the body as its
//!   description and every product `known_affected`; the body is also the
//!   document summary, and a general note says where the item came from.
//!
//! JSON keys come out sorted, so the same item gives the same bytes.

use super::{check_export, ExportPolicy, Withheld};
use crate::control::ItemView;
use crate::entity::EntityType;
use crate::item::ItemKind;
use crate::tlp::Tlp;
use regex::Regex;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// The media type of a CSAF document.
pub const MEDIA_TYPE: &str = "application/csaf+json";

/// Why an item does not become a CSAF advisory.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "it is a {0}, not a vulnerability: a CSAF security advisory describes a vulnerability; \
         export it as STIX (`cairn export stix`) instead"
    )]
    NotAVulnerability(ItemKind),
    #[error(
        "it names no CVE: a CSAF advisory needs one; publish the advisory with a tag \
         cve:CVE-YYYY-NNNN"
    )]
    NoCve,
    #[error("its tag {0:?} is not a CVE id: write it as cve:CVE-YYYY-NNNN (four or more digits)")]
    BadCve(String),
    #[error(
        "it names no affected product: a CSAF advisory needs one; publish the advisory with a \
         tag cpe:2.3:…, purl:pkg:… or product:NAME"
    )]
    NoProduct,
    #[error("its tag {tag:?} is not a usable product: {why}")]
    BadProduct { tag: String, why: &'static str },
    #[error("{}", withheld_advice(*.0))]
    Withheld(Withheld),
}

/// What the operator can do about an item the export rule holds back.
fn withheld_advice(why: Withheld) -> String {
    let advice = match why {
        Withheld::NotInAudience => "only its recipients can export it",
        Withheld::AboveMaxTlp => {
            "name its marking with --max-tlp if the marking allows sharing it outside the community"
        }
        Withheld::RedNotRecipient => "only its named recipients can export it",
    };
    format!("it is {why}: {advice}")
}

/// Choices the operator makes for an export.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// The publisher's namespace URL (its web site, as CSAF asks); by
    /// default a URN naming the publisher's certificate.
    pub namespace: Option<String>,
}

/// The CSAF 2.0 (TLP 1.0) label a TLP 2.0 marking is written as.
pub fn tlp_label(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "WHITE",
        Tlp::Green => "GREEN",
        Tlp::Amber | Tlp::AmberStrict => "AMBER",
        Tlp::Red => "RED",
    }
}

/// The distribution text: the exact TLP 2.0 label, and why it differs from
/// the label field where it does.
pub fn distribution_text(tlp: Tlp) -> String {
    let label = tlp.label();
    let csaf = tlp_label(tlp);
    let why = match tlp {
        Tlp::Clear => format!(
            " CSAF 2.0 knows TLP 1.0 labels only, so the label field says {csaf}, which TLP 2.0 \
             renamed CLEAR."
        ),
        Tlp::AmberStrict => format!(
            " CSAF 2.0 knows TLP 1.0 labels only, so the label field says {csaf}; {label} \
             applies: share only within the recipient's own organisation, not with its clients."
        ),
        _ => String::new(),
    };
    format!("Marked {label} (TLP 2.0) in a Cairn community (NIS2 Art. 29).{why}")
}

/// The CSAF publisher category of an entity type (`None`: a pseudonym or an
/// unknown certificate).
pub fn publisher_category(entity_type: Option<EntityType>) -> &'static str {
    match entity_type {
        Some(EntityType::Csirt | EntityType::CompetentAuthority) => "coordinator",
        Some(EntityType::Supplier) => "vendor",
        Some(EntityType::Essential | EntityType::Important) => "user",
        None => "other",
    }
}

/// An affected product named by a tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub cpe: Option<String>,
    pub purl: Option<String>,
}

/// The CSAF 2.0 schema's pattern for `product_identification_helper.cpe`
/// (CPE 2.3 formatted string or CPE 2.2 URI).
const CPE_PATTERN: &str = r##"^(cpe:2\.3:[aho\*\-](:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#\$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){5}(:(([a-zA-Z]{2,3}(-([a-zA-Z]{2}|[0-9]{3}))?)|[\*\-]))(:(((\?*|\*?)([a-zA-Z0-9\-\._]|(\\[\\\*\?!"#\$%&'\(\)\+,/:;<=>@\[\]\^`\{\|\}~]))+(\?*|\*?))|[\*\-])){4})|([c][pP][eE]:/[AHOaho]?(:[A-Za-z0-9\._\-~%]*){0,6})$"##;

/// The schema's pattern for `purl`, narrowed to what RFC 3986 lets a URI
/// carry unescaped (the schema also asks for a URI).
const PURL_PATTERN: &str =
    r"^pkg:[A-Za-z\.\-\+][A-Za-z0-9\.\-\+]*/[A-Za-z0-9\-\._~:/\?#\[\]@!\$&'\(\)\*\+,;=%]+$";

const CVE_PATTERN: &str = r"^CVE-[0-9]{4}-[0-9]{4,}$";

fn pattern(cell: &'static OnceLock<Regex>, source: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(source).expect("a CSAF schema pattern compiles"))
}

fn is_cpe(s: &str) -> bool {
    static CPE: OnceLock<Regex> = OnceLock::new();
    s.len() >= 5 && pattern(&CPE, CPE_PATTERN).is_match(s)
}

fn is_purl(s: &str) -> bool {
    static PURL: OnceLock<Regex> = OnceLock::new();
    pattern(&PURL, PURL_PATTERN).is_match(s)
}

fn is_cve(s: &str) -> bool {
    static CVE: OnceLock<Regex> = OnceLock::new();
    pattern(&CVE, CVE_PATTERN).is_match(s)
}

/// `prefix` stripped from `tag`, ignoring ASCII case.
fn strip_ns<'a>(tag: &'a str, prefix: &str) -> Option<&'a str> {
    let head = tag.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &tag[prefix.len()..])
}

/// The distinct CVE ids of `tags`, in tag order.
pub fn cves(tags: &[String]) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let Some(value) = strip_ns(tag, "cve:") else {
            continue;
        };
        let id = value.trim().to_ascii_uppercase();
        if !is_cve(&id) {
            return Err(Refusal::BadCve(tag.clone()));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The affected products `tags` name, in tag order, duplicates once.
pub fn products(tags: &[String]) -> Result<Vec<Product>, Refusal> {
    let mut out: Vec<Product> = Vec::new();
    for tag in tags {
        let bad = |why| Refusal::BadProduct {
            tag: tag.clone(),
            why,
        };
        let product = if let Some(rest) = strip_ns(tag, "cpe:") {
            // A CPE starts with `cpe:` itself, so the tag may be the CPE
            // (`cpe:2.3:a:…`) or prefixed once more (`cpe:cpe:2.3:a:…`).
            let cpe = if strip_ns(rest, "cpe:").is_some() {
                rest
            } else {
                tag.as_str()
            };
            if !is_cpe(cpe) {
                return Err(bad(
                    "not a CPE 2.3 formatted string (cpe:2.3:part:vendor:product:version:…, \
                     13 fields) or CPE 2.2 URI (cpe:/a:vendor:product:version)",
                ));
            }
            Product {
                name: cpe_name(cpe),
                cpe: Some(cpe.to_string()),
                purl: None,
            }
        } else if let Some(purl) = strip_ns(tag, "purl:") {
            if !is_purl(purl) {
                return Err(bad(
                    "not a package URL: write purl:pkg:TYPE/NAMESPACE/NAME@VERSION, \
                     e.g. purl:pkg:npm/lodash@4.17.20",
                ));
            }
            Product {
                name: purl_name(purl),
                cpe: None,
                purl: Some(purl.to_string()),
            }
        } else if let Some(name) = strip_ns(tag, "product:") {
            // Tags hold no spaces: underscores stand for them, as in CPEs.
            let name = name.replace('_', " ");
            let name = name.trim();
            if name.is_empty() {
                return Err(bad("the product name is empty"));
            }
            Product {
                name: name.to_string(),
                cpe: None,
                purl: None,
            }
        } else {
            continue;
        };
        if !out.contains(&product) {
            out.push(product);
        }
    }
    Ok(out)
}

/// A readable name from a CPE: vendor, product and version, wildcards and
/// escapes left out.
fn cpe_name(cpe: &str) -> String {
    let fields: Vec<String> = match cpe.strip_prefix("cpe:2.3:") {
        Some(rest) => split_unescaped(rest).into_iter().skip(1).take(3).collect(),
        None => cpe
            .get(5..)
            .unwrap_or("")
            .split(':')
            .skip(1)
            .take(3)
            .map(str::to_string)
            .collect(),
    };
    let words: Vec<String> = fields
        .into_iter()
        .map(|f| f.replace('_', " "))
        .filter(|f| !f.is_empty() && f != "*" && f != "-")
        .collect();
    if words.is_empty() {
        cpe.to_string()
    } else {
        words.join(" ")
    }
}

/// CPE 2.3 fields: split at colons not escaped by a backslash, escapes
/// removed.
fn split_unescaped(s: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), fields.last_mut()) {
                    last.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c)
                }
            }
        }
    }
    fields
}

/// A readable name from a purl: namespace, name and version.
fn purl_name(purl: &str) -> String {
    let rest = purl.strip_prefix("pkg:").unwrap_or(purl);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let path = rest.split_once('/').map_or(rest, |(_, p)| p);
    match path.rsplit_once('@') {
        Some((name, version)) => format!("{name} {version}"),
        None => path.to_string(),
    }
}

/// The CSAF 2.0 security advisory of `view`, or why there is none.
pub fn advisory(
    view: &ItemView,
    policy: &ExportPolicy,
    options: &Options,
) -> Result<Value, Refusal> {
    check_export(view, policy).map_err(Refusal::Withheld)?;
    if view.kind != ItemKind::Vulnerability {
        return Err(Refusal::NotAVulnerability(view.kind));
    }
    let cves = cves(&view.tags)?;
    if cves.is_empty() {
        return Err(Refusal::NoCve);
    }
    let products = products(&view.tags)?;
    if products.is_empty() {
        return Err(Refusal::NoProduct);
    }

    let date = view.created.to_rfc3339_millis();
    let title = if view.title.trim().is_empty() {
        format!("Vulnerability {}", cves.join(", "))
    } else {
        view.title.clone()
    };
    let description = if view.body.trim().is_empty() {
        title.clone()
    } else {
        view.body.clone()
    };
    let ids: Vec<String> = (1..=products.len())
        .map(|n| format!("CSAFPID-{n:04}"))
        .collect();
    let full_product_names: Vec<Value> = products
        .iter()
        .zip(&ids)
        .map(|(p, id)| {
            let mut o = json!({"name": p.name, "product_id": id});
            let mut helper = serde_json::Map::new();
            if let Some(cpe) = &p.cpe {
                helper.insert("cpe".into(), cpe.clone().into());
            }
            if let Some(purl) = &p.purl {
                helper.insert("purl".into(), purl.clone().into());
            }
            if !helper.is_empty() {
                o["product_identification_helper"] = helper.into();
            }
            o
        })
        .collect();
    let vulnerabilities: Vec<Value> = cves
        .iter()
        .map(|cve| {
            json!({
                "cve": cve,
                "title": title,
                "notes": [{"category": "description", "title": "Description", "text": description}],
                "product_status": {"known_affected": ids},
            })
        })
        .collect();
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| format!("urn:cairn:certificate:{}", view.publisher));
    let provenance = format!(
        "Shared as item {} in a Cairn community (NIS2 Art. 29) by {}.",
        view.id, view.publisher_name
    );
    Ok(json!({
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "distribution": {
                "text": distribution_text(view.tlp),
                "tlp": {"label": tlp_label(view.tlp), "url": "https://www.first.org/tlp/"},
            },
            "notes": [
                {"category": "summary", "title": "Summary", "text": description},
                {"category": "general", "title": "Source", "text": provenance},
            ],
            "publisher": {
                "category": publisher_category(view.publisher_entity_type),
                "name": view.publisher_name,
                "namespace": namespace,
            },
            "title": title,
            "tracking": {
                "current_release_date": date,
                "generator": {"engine": {"name": "Cairn", "version": env!("CARGO_PKG_VERSION")}},
                "id": tracking_id(view),
                "initial_release_date": date,
                "revision_history": [{
                    "date": date,
                    "number": "1",
                    "summary": "Initial version, as published in the Cairn community.",
                }],
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": {"full_product_names": full_product_names},
        "vulnerabilities": vulnerabilities,
    }))
}

/// The advisory's tracking id: the same for one item on every node.
pub fn tracking_id(view: &ItemView) -> String {
    format!("CAIRN-{}", view.id)
}

#[cfg(test)]
#[path = "csaf_tests.rs"]
mod tests;
