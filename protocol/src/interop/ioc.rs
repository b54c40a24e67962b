//! Indicator values given at publish time, as tags `ioc:TYPE=VALUE`
//! (`cairn publish --tag ioc:ipv4=198.51.100.7`), and the STIX pattern they
//! stand for. A tag is one token without spaces, so a value with spaces
//! (a file name, say) belongs in a STIX payload instead.

/// The value types an `ioc:` tag may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IocType {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Filename,
}

impl IocType {
    pub const ALL: [IocType; 10] = [
        IocType::Ipv4,
        IocType::Ipv6,
        IocType::Domain,
        IocType::Url,
        IocType::Email,
        IocType::Md5,
        IocType::Sha1,
        IocType::Sha256,
        IocType::Sha512,
        IocType::Filename,
    ];

    /// The word in the tag.
    pub fn as_str(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4",
            IocType::Ipv6 => "ipv6",
            IocType::Domain => "domain",
            IocType::Url => "url",
            IocType::Email => "email",
            IocType::Md5 => "md5",
            IocType::Sha1 => "sha1",
            IocType::Sha256 => "sha256",
            IocType::Sha512 => "sha512",
            IocType::Filename => "filename",
        }
    }

    /// The STIX 2.1 object path the value is compared with.
    pub fn stix_path(self) -> &'static str {
        match self {
            IocType::Ipv4 => "ipv4-addr:value",
            IocType::Ipv6 => "ipv6-addr:value",
            IocType::Domain => "domain-name:value",
            IocType::Url => "url:value",
            IocType::Email => "email-addr:value",
            IocType::Md5 => "file:hashes.MD5",
            IocType::Sha1 => "file:hashes.'SHA-1'",
            IocType::Sha256 => "file:hashes.'SHA-256'",
            IocType::Sha512 => "file:hashes.'SHA-512'",
            IocType::Filename => "file:name",
        }
    }

    fn hex_len(self) -> Option<usize> {
        match self {
            IocType::Md5 => Some(32),
            IocType::Sha1 => Some(40),
            IocType::Sha256 => Some(64),
            IocType::Sha512 => Some(128),
            _ => None,
        }
    }
}

/// One indicator value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ioc {
    pub kind: IocType,
    pub value: String,
}

/// Tags starting with this are indicator values.
pub const PREFIX: &str = "ioc:";

/// Reads an `ioc:TYPE=VALUE` tag. `None` for other tags; an error for an
/// `ioc:` tag that is not a valid value of its type.
pub fn parse_tag(tag: &str) -> Option<Result<Ioc, String>> {
    let rest = tag.strip_prefix(PREFIX)?;
    Some(parse(rest).map_err(|why| format!("tag {tag:?}: {why}")))
}

fn parse(rest: &str) -> Result<Ioc, String> {
    let types = || {
        IocType::ALL
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (ty, value) = rest
        .split_once('=')
        .ok_or_else(|| format!("write ioc:TYPE=VALUE, TYPE one of {}", types()))?;
    let kind = IocType::ALL
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(ty))
        .ok_or_else(|| format!("unknown indicator type '{ty}': one of {}", types()))?;
    let ok = match kind {
        IocType::Ipv4 => ip_or_cidr::<std::net::Ipv4Addr>(value, 32),
        IocType::Ipv6 => ip_or_cidr::<std::net::Ipv6Addr>(value, 128),
        IocType::Domain => {
            value.contains('.')
                && !value.starts_with('.')
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        }
        IocType::Url => value.split_once("://").is_some_and(|(s, r)| {
            !s.is_empty() && !r.is_empty() && s.bytes().all(|c| c.is_ascii_alphabetic())
        }),
        IocType::Email => value
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.')),
        IocType::Filename => !value.is_empty(),
        IocType::Md5 | IocType::Sha1 | IocType::Sha256 | IocType::Sha512 => {
            Some(value.len()) == kind.hex_len() && value.bytes().all(|c| c.is_ascii_hexdigit())
        }
    };
    if !ok {
        return Err(format!("'{value}' is not a valid {} value", kind.as_str()));
    }
    let value = match kind.hex_len() {
        Some(_) => value.to_ascii_lowercase(),
        None => value.to_string(),
    };
    Ok(Ioc { kind, value })
}

fn ip_or_cidr<A: std::str::FromStr>(value: &str, max_prefix: u8) -> bool {
    match value.split_once('/') {
        Some((ip, prefix)) => {
            ip.parse::<A>().is_ok() && prefix.parse::<u8>().is_ok_and(|p| p <= max_prefix)
        }
        None => value.parse::<A>().is_ok(),
    }
}

/// The indicator values among `tags`, and the errors of malformed ones.
pub fn from_tags(tags: &[String]) -> (Vec<Ioc>, Vec<String>) {
    let mut iocs = Vec::new();
    let mut errors = Vec::new();
    for t in tags {
        match parse_tag(t) {
            Some(Ok(i)) => iocs.push(i),
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    (iocs, errors)
}

/// A STIX 2.1 pattern matching any of `iocs` (`None` for none).
pub fn stix_pattern(iocs: &[Ioc]) -> Option<String> {
    if iocs.is_empty() {
        return None;
    }
    let terms: Vec<String> = iocs
        .iter()
        .map(|i| format!("[{} = '{}']", i.kind.stix_path(), escape(&i.value)))
        .collect();
    Some(terms.join(" OR "))
}

/// A STIX pattern string literal's body: backslash and quote escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn tags_become_one_pattern() {
        let (iocs, errors) = from_tags(&tags(&[
            "rsit:malicious-code",
            "ioc:ipv4=198.51.100.7",
            "ioc:domain=evil.example",
            "ioc:SHA256=E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "ioc:url=https://evil.example/a'b",
        ]));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            stix_pattern(&iocs).unwrap(),
            "[ipv4-addr:value = '198.51.100.7'] OR [domain-name:value = 'evil.example'] OR \
             [file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] OR \
             [url:value = 'https://evil.example/a\\'b']"
        );
        assert_eq!(stix_pattern(&[]), None);
    }

    #[test]
    fn malformed_values_are_named() {
        for bad in [
            "ioc:ipv4=300.1.1.1",
            "ioc:ipv4=10.0.0.0/33",
            "ioc:md5=abc",
            "ioc:colour=red",
            "ioc:ipv4",
            "ioc:url=evil.example",
        ] {
            let (iocs, errors) = from_tags(&tags(&[bad]));
            assert!(iocs.is_empty() && errors.len() == 1, "{bad}: {errors:?}");
            assert!(errors[0].contains(bad), "{errors:?}");
        }
        assert!(parse_tag("cve:CVE-2026-1234").is_none());
        assert!(parse_tag("ioc:ipv6=2001:db8::1").unwrap().is_ok());
        assert!(parse_tag("ioc:ipv4=192.0.2.0/24").unwrap().is_ok());
    }
}
