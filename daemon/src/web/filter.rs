//! The item list's form as a query: the fields of the page's query string
//! mapped to the node's query API ([`ItemQuery`], the one `cairn items
//! list` sends), which answers from the store's index with the audience
//! rule applied (an item this node cannot read matches only on what every
//! node sees: kind, marking, publisher, time).

use cairn_protocol::query::{Cursor, ItemQuery};
use cairn_protocol::{Timestamp, Tlp};

/// Items listed per page unless `limit` says otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// A field the form cannot have sent, said so on the page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadFilter(pub String);

const DAY_MS: u64 = 86_400_000;

/// `2026-03-01` (a browser's date field) or an RFC 3339 time; `end`: a
/// bare date means the end of that day.
fn parse_time(field: &str, value: &str, end: bool) -> Result<Timestamp, BadFilter> {
    let bad = |e: String| BadFilter(format!("{field}: {e} (give a date like 2026-03-01)"));
    if value.len() == 10 && value.as_bytes()[4] == b'-' {
        let t = Timestamp::parse_rfc3339(&format!("{value}T00:00:00Z")).map_err(|e| bad(e.0))?;
        return Ok(if end { t.plus_millis(DAY_MS) } else { t });
    }
    Timestamp::parse_rfc3339(value).map_err(|e| bad(e.0))
}

/// The query a list page's query string asks for; blank fields are
/// ignored. `tag` is exact, or a prefix when it ends in `*` (`ioc:*`).
pub fn query(params: &[(String, String)]) -> Result<ItemQuery, BadFilter> {
    let mut q = ItemQuery {
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    for (key, value) in params {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        match key.as_str() {
            "kind" => q.kinds = vec![v.parse().map_err(|e| BadFilter(format!("{e}")))?],
            "tlp" => q.tlps = vec![Tlp::parse_label(v).map_err(|e| BadFilter(format!("{e}")))?],
            "tag" => match v.strip_suffix('*') {
                Some(prefix) => q.tag_prefixes.push(prefix.to_string()),
                None => q.tags.push(v.to_string()),
            },
            "publisher" => q.publisher = Some(v.to_string()),
            "since" => q.since = Some(parse_time("since", v, false)?),
            "until" => q.until = Some(parse_time("until", v, true)?),
            "text" => q.text = Some(v.to_string()),
            "cursor" => q.cursor = Some(v.parse::<Cursor>().map_err(|e| BadFilter(e.to_string()))?),
            "limit" => {
                let n: usize = v
                    .parse()
                    .map_err(|_| BadFilter(format!("limit: {v:?} is not a number")))?;
                q.limit = n.clamp(1, MAX_LIMIT);
            }
            _ => {}
        }
    }
    Ok(q)
}

/// Whether the query narrows anything (the page then says it filtered).
pub fn is_filtering(q: &ItemQuery) -> bool {
    let all = ItemQuery {
        limit: q.limit,
        cursor: q.cursor,
        ..Default::default()
    };
    *q != all
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::ItemKind;

    fn q(pairs: &[(&str, &str)]) -> Result<ItemQuery, BadFilter> {
        let p: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        query(&p)
    }

    #[test]
    fn the_form_maps_onto_the_query_api() {
        let all = q(&[("kind", ""), ("tlp", "")]).unwrap();
        assert!(!is_filtering(&all), "blank fields are ignored");
        assert_eq!(all.limit, DEFAULT_LIMIT);
        let f = q(&[
            ("kind", "vulnerability"),
            ("tlp", "TLP:AMBER+STRICT"),
            ("tag", "ioc:*"),
            ("publisher", "Hospital A"),
            ("since", "2026-03-01"),
            ("until", "2026-03-01"),
            ("text", "vpn gateway"),
            ("limit", "999999"),
        ])
        .unwrap();
        assert!(is_filtering(&f));
        assert_eq!(f.kinds, vec![ItemKind::Vulnerability]);
        assert_eq!(f.tlps, vec![Tlp::AmberStrict]);
        assert_eq!(f.tag_prefixes, vec!["ioc:".to_string()]);
        assert!(f.tags.is_empty());
        assert_eq!(f.publisher.as_deref(), Some("Hospital A"));
        let day = Timestamp::parse_rfc3339("2026-03-01T00:00:00Z").unwrap();
        assert_eq!(f.since, Some(day));
        assert_eq!(
            f.until,
            Some(day.plus_millis(DAY_MS)),
            "until: end of that day"
        );
        assert_eq!(f.text.as_deref(), Some("vpn gateway"));
        assert_eq!(f.limit, MAX_LIMIT);
        assert_eq!(q(&[("tag", "cve:CVE-1")]).unwrap().tags, vec!["cve:CVE-1"]);
    }

    #[test]
    fn bad_values_are_named() {
        assert!(q(&[("tlp", "purple")]).unwrap_err().0.contains("purple"));
        assert!(q(&[("since", "yesterday")])
            .unwrap_err()
            .0
            .contains("since"));
        assert!(q(&[("cursor", "zz")]).unwrap_err().0.contains("cursor"));
    }
}
