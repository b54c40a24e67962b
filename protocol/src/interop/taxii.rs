//! TAXII 2.1 as data: the resources a server answers with, the media types
//! it speaks, the `match[...]` filters a client sends and the paging
//! cursor. The server itself is `daemon/src/taxii/`; everything here is
//! plain values and functions so it is tested without a socket.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The TAXII 2.1 media type (requests and responses).
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The objects a collection holds.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// `GET /taxii2/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    pub api_roots: Vec<String>,
}

/// `GET /{api-root}/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub versions: Vec<String>,
    pub max_content_length: u64,
}

/// One collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub can_read: bool,
    pub can_write: bool,
    pub media_types: Vec<String>,
}

/// `GET /{api-root}/collections/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collections {
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub collections: Vec<Collection>,
}

/// A page of objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub objects: Vec<Value>,
}

/// One manifest record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestRecord {
    pub id: String,
    pub date_added: String,
    pub version: String,
    pub media_type: String,
}

/// A page of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub objects: Vec<ManifestRecord>,
}

/// The versions of one object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub versions: Vec<String>,
}

/// The outcome of one object of a POST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    pub id: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `GET /{api-root}/status/{id}/`, and the answer to a POST.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub id: String,
    pub status: String,
    pub request_timestamp: String,
    pub total_count: u64,
    pub success_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub successes: Vec<StatusDetail>,
    pub failure_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub failures: Vec<StatusDetail>,
    pub pending_count: u64,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pendings: Vec<StatusDetail>,
}

/// The body of an error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Error {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub http_status: String,
}

/// A media range of an `Accept` or `Content-Type` header, without its
/// parameters, and its `version` parameter.
fn media_ranges(header: &str) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    header.split(',').map(|range| {
        let mut parts = range.split(';').map(str::trim);
        let ty = parts.next().unwrap_or("").to_ascii_lowercase();
        let version = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("version"))
            .map(|(_, v)| v.trim().trim_matches('"').to_string());
        (ty, version)
    })
}

/// Whether a client accepting `accept` takes TAXII 2.1 answers (a missing
/// header or a wildcard does).
pub fn accepts_taxii(accept: Option<&str>) -> bool {
    let Some(accept) = accept else {
        return true;
    };
    media_ranges(accept).any(|(ty, version)| match ty.as_str() {
        "*/*" | "application/*" => true,
        "application/taxii+json" => version.is_none_or(|v| v == "2.1"),
        _ => false,
    })
}

/// Whether a POST body of `content_type` is a TAXII 2.1 envelope.
pub fn is_taxii_content(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        media_ranges(ct).next().is_some_and(|(ty, version)| {
            ty == "application/taxii+json" && version.is_none_or(|v| v == "2.1")
        })
    })
}

/// Which versions `match[version]` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionMatch {
    pub first: bool,
    pub last: bool,
    pub all: bool,
    /// Exact versions (timestamps as written).
    pub at: Vec<String>,
}

/// The `match[...]` filters of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub ids: Vec<String>,
    pub types: Vec<String>,
    pub versions: VersionMatch,
    pub spec_versions: Vec<String>,
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl Filter {
    /// Reads the `match[…]` parameters of a query; an unknown `match[…]`
    /// field is an error (a client filtering on what the server ignores
    /// would get more than it asked for).
    pub fn from_query(params: &[(String, String)]) -> Result<Self, String> {
        let mut f = Filter::default();
        let mut version_given = false;
        for (k, v) in params {
            let Some(field) = k.strip_prefix("match[").and_then(|r| r.strip_suffix(']')) else {
                continue;
            };
            match field {
                "id" => f.ids.extend(list(v)),
                "type" => f.types.extend(list(v)),
                "spec_version" => f.spec_versions.extend(list(v)),
                "version" => {
                    version_given = true;
                    for x in list(v) {
                        match x.as_str() {
                            "first" => f.versions.first = true,
                            "last" => f.versions.last = true,
                            "all" => f.versions.all = true,
                            t => {
                                crate::time::Timestamp::parse_rfc3339(t)
                                    .map_err(|e| format!("match[version]: {e}"))?;
                                f.versions.at.push(t.to_string());
                            }
                        }
                    }
                }
                other => return Err(format!("match[{other}] is not a filter this server knows (id, type, version, spec_version)")),
            }
        }
        if !version_given {
            f.versions.last = true;
        }
        Ok(f)
    }

    /// Whether an object passes the id, type and spec_version filters.
    pub fn matches_object(&self, object: &Value) -> bool {
        let get = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or("");
        (self.ids.is_empty() || self.ids.iter().any(|i| i == get("id")))
            && (self.types.is_empty() || self.types.iter().any(|t| t == get("type")))
            && (self.spec_versions.is_empty()
                || self.spec_versions.iter().any(|s| {
                    s == object
                        .get("spec_version")
                        .and_then(Value::as_str)
                        .unwrap_or("2.1")
                }))
    }

    /// Whether `version` passes `match[version]`, given the first and last
    /// versions the server holds of the object.
    pub fn matches_version(&self, version: &str, first: &str, last: &str) -> bool {
        let v = &self.versions;
        v.all
            || (v.first && version == first)
            || (v.last && version == last)
            || v.at.iter().any(|t| same_instant(t, version))
    }
}

/// Whether two RFC 3339 strings name the same millisecond.
fn same_instant(a: &str, b: &str) -> bool {
    use crate::time::Timestamp;
    match (Timestamp::parse_rfc3339(a), Timestamp::parse_rfc3339(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// An object's version: `modified`, else `created`, else `fallback` (the
/// date it was added, for objects without either).
pub fn version_of(object: &Value, fallback: &str) -> String {
    object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_string()
}

/// Where a page ends: an entry of the server's collection order and an
/// object within it. Written as an opaque token in `next`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub entry: u64,
    pub object: u32,
}

impl Cursor {
    pub fn token(self) -> String {
        format!("{:x}-{:x}", self.entry, self.object)
    }

    pub fn parse(token: &str) -> Option<Cursor> {
        let (e, o) = token.split_once('-')?;
        Some(Cursor {
            entry: u64::from_str_radix(e, 16).ok()?,
            object: u32::from_str_radix(o, 16).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn media_types_are_negotiated_as_the_spec_says() {
        assert!(accepts_taxii(Some("application/taxii+json;version=2.1")));
        assert!(accepts_taxii(Some("application/taxii+json")));
        assert!(accepts_taxii(Some("text/html, */*;q=0.1")));
        assert!(accepts_taxii(None));
        assert!(!accepts_taxii(Some("application/taxii+json;version=2.0")));
        assert!(!accepts_taxii(Some("application/json")));
        assert!(is_taxii_content(Some(
            "application/taxii+json; version=2.1"
        )));
        assert!(!is_taxii_content(Some("application/json")));
        assert!(!is_taxii_content(Some("application/stix+json;version=2.1")));
        assert!(!is_taxii_content(None));
    }

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn match_filters_select_objects_and_versions() {
        let f =
            Filter::from_query(&q(&[("match[type]", "indicator,report"), ("limit", "5")])).unwrap();
        assert!(f.versions.last && !f.versions.all);
        let ind = json!({"type": "indicator", "id": "indicator--1", "spec_version": "2.1"});
        let idn = json!({"type": "identity", "id": "identity--1"});
        assert!(f.matches_object(&ind) && !f.matches_object(&idn));
        let f = Filter::from_query(&q(&[("match[id]", "identity--1")])).unwrap();
        assert!(f.matches_object(&idn) && !f.matches_object(&ind));
        let f = Filter::from_query(&q(&[("match[spec_version]", "2.0")])).unwrap();
        assert!(!f.matches_object(&ind));

        let first = "2026-01-01T00:00:00.000Z";
        let last = "2026-02-01T00:00:00.000Z";
        let f = Filter::from_query(&q(&[])).unwrap();
        assert!(f.matches_version(last, first, last) && !f.matches_version(first, first, last));
        let f = Filter::from_query(&q(&[("match[version]", "first")])).unwrap();
        assert!(f.matches_version(first, first, last) && !f.matches_version(last, first, last));
        let f = Filter::from_query(&q(&[("match[version]", "all")])).unwrap();
        assert!(f.matches_version(first, first, last));
        let f = Filter::from_query(&q(&[("match[version]", "2026-01-01T00:00:00Z")])).unwrap();
        assert!(f.matches_version(first, first, last) && !f.matches_version(last, first, last));
        assert!(Filter::from_query(&q(&[("match[version]", "yesterday")])).is_err());
        assert!(Filter::from_query(&q(&[("match[colour]", "red")])).is_err());
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let c = Cursor {
            entry: 0x1_0000_0005,
            object: 3,
        };
        assert_eq!(Cursor::parse(&c.token()), Some(c));
        assert_eq!(Cursor::parse("zz-1"), None);
        assert_eq!(Cursor::parse("12"), None);
    }

    #[test]
    fn versions_fall_back_from_modified_to_created_to_date_added() {
        let d = "2026-03-01T00:00:00.000Z";
        assert_eq!(
            version_of(&json!({"created": "a", "modified": "b"}), d),
            "b"
        );
        assert_eq!(version_of(&json!({"created": "a"}), d), "a");
        assert_eq!(version_of(&json!({"type": "ipv4-addr"}), d), d);
    }
}
