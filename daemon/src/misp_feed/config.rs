//! `[misp_feed]` in cairn.toml: the node's MISP feed over HTTP, off by
//! default, and its readers (`[[misp_feed.users]]`, made by `cairn
//! misp-feed user`).

use crate::config::ConfigError;
use cairn_protocol::Tlp;
use serde::Deserialize;
use std::path::PathBuf;

/// `[misp_feed]` as written by the operator.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MispFeedConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Loopback unless TLS is configured.
    #[serde(default = "default_listen")]
    pub listen: std::net::SocketAddr,
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The URL path the feed is served under: `/<path>/manifest.json`.
    #[serde(default = "default_path")]
    pub path: String,
    /// Who may read (`[[misp_feed.users]]`); nobody without.
    #[serde(default)]
    pub users: Vec<FeedUser>,
}

/// One reader of the feed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedUser {
    pub name: String,
    /// Hex SHA-256 of the generated password.
    pub password_sha256: String,
    /// The highest marking in this user's feed (never RED). Default GREEN.
    #[serde(default = "default_max_tlp", deserialize_with = "tlp_label")]
    pub max_tlp: Tlp,
}

fn default_listen() -> std::net::SocketAddr {
    ([127, 0, 0, 1], 7481).into()
}

fn default_path() -> String {
    "misp-feed".into()
}

fn default_max_tlp() -> Tlp {
    Tlp::Green
}

fn tlp_label<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Tlp, D::Error> {
    let s = String::deserialize(d)?;
    Tlp::parse_label(&s).map_err(serde::de::Error::custom)
}

/// The feed server as a node runs it, checked.
#[derive(Debug, Clone)]
pub struct MispFeedSettings {
    pub listen: crate::http::Listen,
    /// Without slashes.
    pub path: String,
    pub users: Vec<FeedUser>,
}

impl MispFeedConfig {
    /// Makes relative TLS paths relative to the config file's directory.
    pub fn relative_to(&mut self, base: &std::path::Path) {
        for p in [&mut self.tls_certificate, &mut self.tls_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The checked settings, or why the section cannot be used; `None` when
    /// the feed is off.
    pub fn settings(&self) -> Result<Option<MispFeedSettings>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let bad = |m: String| Err(ConfigError::MispFeed(m));
        let listen = crate::http::Listen {
            listen: self.listen,
            tls_certificate: self.tls_certificate.clone(),
            tls_key: self.tls_key.clone(),
        };
        if let Err(e) = listen.check("the MISP feed") {
            return bad(e.to_string());
        }
        let path = self.path.trim_matches('/').to_string();
        if path.is_empty()
            || !path
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
            || path
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return bad(format!(
                "path {:?}: use letters, digits, '-', '_' and '.', segments joined by '/' (e.g. \"misp-feed\")",
                self.path
            ));
        }
        if self.users.is_empty() {
            return bad(
                "no [[misp_feed.users]]: nobody could read; add one with `cairn misp-feed user NAME`"
                    .into(),
            );
        }
        let names: Vec<(&str, &str)> = self
            .users
            .iter()
            .map(|u| (u.name.as_str(), u.password_sha256.as_str()))
            .collect();
        for (i, u) in self.users.iter().enumerate() {
            if let Err(e) = crate::http::auth::check_user(&names, i, "cairn misp-feed user") {
                return bad(e);
            }
            if u.max_tlp == Tlp::Red {
                return bad(format!(
                    "user {:?}: max_tlp = RED is not allowed: TLP:RED is for named recipients, never a feed",
                    u.name
                ));
            }
        }
        Ok(Some(MispFeedSettings {
            listen,
            path,
            users: self.users.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(extra: &str, user: &str) -> MispFeedConfig {
        #[derive(Deserialize)]
        struct Only {
            misp_feed: MispFeedConfig,
        }
        let digest = "ab".repeat(32);
        let text = format!(
            "[misp_feed]\nenabled = true\n{extra}\n[[misp_feed.users]]\nname = \"misp\"\npassword_sha256 = \"{digest}\"\n{user}"
        );
        toml::from_str::<Only>(&text).unwrap().misp_feed
    }

    #[test]
    fn the_feed_needs_users_tls_off_loopback_and_never_red() {
        let s = parse("", "").settings().unwrap().unwrap();
        assert_eq!(s.path, "misp-feed");
        assert_eq!(s.listen.listen, default_listen());
        assert_eq!(s.users[0].max_tlp, Tlp::Green);
        let err = parse("listen = \"0.0.0.0:7481\"", "")
            .settings()
            .unwrap_err();
        assert!(err.to_string().contains("TLS"), "{err}");
        let err = parse("", "max_tlp = \"RED\"").settings().unwrap_err();
        assert!(err.to_string().contains("never a feed"), "{err}");
        let err = parse("path = \"../x\"", "").settings().unwrap_err();
        assert!(err.to_string().contains("path"), "{err}");
        let amber = parse("path = \"/feeds/cairn/\"", "max_tlp = \"amber+strict\"")
            .settings()
            .unwrap()
            .unwrap();
        assert_eq!(amber.path, "feeds/cairn");
        assert_eq!(amber.users[0].max_tlp, Tlp::AmberStrict);
        let mut off = parse("", "");
        off.enabled = false;
        assert!(off.settings().unwrap().is_none());
        off.enabled = true;
        off.users.clear();
        assert!(off
            .settings()
            .unwrap_err()
            .to_string()
            .contains("cairn misp-feed user"));
    }
}
