//! Which items the web view's list shows: the filters of its form, read
//! from the query string and applied to the views the API gives (so an
//! item this node cannot read is matched only on what every node sees:
//! kind, marking, publisher, time).

use cairn_protocol::control::ItemView;
use cairn_protocol::{ItemKind, Timestamp, Tlp};

/// Items listed per page unless `limit` says otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// The list's filters; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFilter {
    pub kind: Option<ItemKind>,
    pub tlp: Option<Tlp>,
    /// An exact tag, or a prefix when it ends in `*` (`ioc:*`).
    pub tag: Option<String>,
    /// Part of the publisher's name, any case.
    pub publisher: Option<String>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before (a date means the end of that day).
    pub until: Option<Timestamp>,
    /// Part of the title or body, any case.
    pub text: Option<String>,
    pub limit: usize,
}

/// A filter the form cannot have sent, said so on the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadFilter(pub String);

const DAY_MS: u64 = 86_400_000;

/// `2026-03-01` (a browser's date field) or an RFC 3339 time; `end`: a
/// bare date means the end of that day.
fn parse_time(field: &str, value: &str, end: bool) -> Result<Timestamp, BadFilter> {
    let v = value.trim();
    let bad = |e: String| BadFilter(format!("{field}: {e} (give a date like 2026-03-01)"));
    if v.len() == 10 && v.as_bytes()[4] == b'-' {
        let t = Timestamp::parse_rfc3339(&format!("{v}T00:00:00Z")).map_err(|e| bad(e.0))?;
        return Ok(if end { t.plus_millis(DAY_MS) } else { t });
    }
    Timestamp::parse_rfc3339(v).map_err(|e| bad(e.0))
}

impl ItemFilter {
    /// The filter a query string names; blank fields are ignored.
    pub fn from_query(params: &[(String, String)]) -> Result<Self, BadFilter> {
        let mut f = ItemFilter {
            limit: DEFAULT_LIMIT,
            ..Default::default()
        };
        for (key, value) in params {
            let v = value.trim();
            if v.is_empty() {
                continue;
            }
            match key.as_str() {
                "kind" => f.kind = Some(v.parse().map_err(|e| BadFilter(format!("{e}")))?),
                "tlp" => f.tlp = Some(Tlp::parse_label(v).map_err(|e| BadFilter(format!("{e}")))?),
                "tag" => f.tag = Some(v.to_string()),
                "publisher" => f.publisher = Some(v.to_lowercase()),
                "since" => f.since = Some(parse_time("since", v, false)?),
                "until" => f.until = Some(parse_time("until", v, true)?),
                "text" => f.text = Some(v.to_lowercase()),
                "limit" => {
                    let n: usize = v
                        .parse()
                        .map_err(|_| BadFilter(format!("limit: {v:?} is not a number")))?;
                    f.limit = n.clamp(1, MAX_LIMIT);
                }
                _ => {}
            }
        }
        Ok(f)
    }

    /// Whether `v` passes every filter set.
    pub fn matches(&self, v: &ItemView) -> bool {
        let contains = |hay: &str, needle: &str| hay.to_lowercase().contains(needle);
        self.kind.is_none_or(|k| v.kind == k)
            && self.tlp.is_none_or(|t| v.tlp == t)
            && self
                .tag
                .as_deref()
                .is_none_or(|want| match want.strip_suffix('*') {
                    Some(prefix) => v.tags.iter().any(|t| t.starts_with(prefix)),
                    None => v.tags.iter().any(|t| t == want),
                })
            && self
                .publisher
                .as_deref()
                .is_none_or(|p| contains(&v.publisher_name, p))
            && self.since.is_none_or(|s| v.created >= s)
            && self.until.is_none_or(|u| v.created < u)
            && self
                .text
                .as_deref()
                .is_none_or(|t| contains(&v.title, t) || contains(&v.body, t))
    }

    /// Whether any filter is set (the page then says how many matched).
    pub fn is_filtering(&self) -> bool {
        let all = ItemFilter {
            limit: self.limit,
            ..Default::default()
        };
        *self != all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::CertificateId;

    fn view(kind: ItemKind, tlp: Tlp, title: &str, tags: &[&str], created: u64) -> ItemView {
        ItemView {
            id: cairn_protocol::ItemId::from_slice(&[7; 32]).unwrap(),
            kind,
            tlp,
            title: title.into(),
            body: "Body text".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created: Timestamp(created),
            publisher: CertificateId::from_slice(&[1; 32]).unwrap(),
            publisher_name: "Hospital A".into(),
            publisher_sector: None,
            publisher_revoked: None,
            payload_media_type: None,
            payload_size: 0,
            payload: None,
            verified: true,
            audience: None,
        }
    }

    fn q(pairs: &[(&str, &str)]) -> ItemFilter {
        let p: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ItemFilter::from_query(&p).unwrap()
    }

    #[test]
    fn every_filter_narrows() {
        let day = Timestamp::parse_rfc3339("2026-03-01T12:00:00Z").unwrap().0;
        let v = view(
            ItemKind::Vulnerability,
            Tlp::Amber,
            "CVE in VPN",
            &["ioc:ip"],
            day,
        );
        assert!(q(&[]).matches(&v));
        assert!(!q(&[]).is_filtering());
        assert!(q(&[("kind", "vulnerability"), ("tlp", "TLP:AMBER")]).matches(&v));
        assert!(!q(&[("kind", "near-miss")]).matches(&v));
        assert!(!q(&[("tlp", "green")]).matches(&v));
        assert!(q(&[("tag", "ioc:*")]).matches(&v));
        assert!(!q(&[("tag", "ioc:")]).matches(&v));
        assert!(q(&[("publisher", "hospital")]).matches(&v));
        assert!(q(&[("text", "vpn")]).matches(&v));
        assert!(q(&[("text", "body")]).matches(&v));
        assert!(!q(&[("text", "bank")]).matches(&v));
        assert!(q(&[("since", "2026-03-01"), ("until", "2026-03-01")]).matches(&v));
        assert!(!q(&[("since", "2026-03-02")]).matches(&v));
        assert!(!q(&[("until", "2026-02-28")]).matches(&v));
        assert!(q(&[("kind", "")]).matches(&v), "blank fields are ignored");
        assert_eq!(q(&[("limit", "999999")]).limit, MAX_LIMIT);
    }

    #[test]
    fn bad_values_are_named() {
        let p = vec![("tlp".to_string(), "purple".to_string())];
        assert!(ItemFilter::from_query(&p).unwrap_err().0.contains("purple"));
        let p = vec![("since".to_string(), "yesterday".to_string())];
        assert!(ItemFilter::from_query(&p).unwrap_err().0.contains("since"));
    }
}
