//! A cairn.toml section for a simple HTTP server of the node (`[web]`,
//! `[metrics]`): on or off, where it listens, TLS files, and who may log in.
//!
//! The rule both keep: on loopback without users, anyone on the machine may
//! read (as anyone who can run `cairn` as the node's user may); anything
//! beyond loopback needs TLS (checked by [`Listen::check`]) and at least
//! one user; once users are configured, every request needs credentials.

use super::auth;
use super::Listen;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The section as the operator writes it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Default: the server's own loopback port.
    pub listen: Option<SocketAddr>,
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// HTTP Basic users (`[[web.users]]`, `[[metrics.users]]`).
    #[serde(default)]
    pub users: Vec<User>,
}

/// One user: its name and the SHA-256 of its generated password (`cairn
/// web user NAME` and `cairn metrics user NAME` print the entry).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    pub password_sha256: String,
}

/// A checked section of a server that is on.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub listen: Listen,
    pub users: Vec<User>,
}

impl ServerConfig {
    /// Makes relative TLS paths relative to the config file's directory.
    pub fn relative_to(&mut self, base: &Path) {
        for p in [&mut self.tls_certificate, &mut self.tls_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// The checked settings (`what`: "the web view"; `section`: "web"),
    /// `None` when off.
    pub fn settings(
        &self,
        what: &str,
        section: &str,
        default_listen: SocketAddr,
    ) -> Result<Option<ServerSettings>, String> {
        if !self.enabled {
            return Ok(None);
        }
        let listen = Listen {
            listen: self.listen.unwrap_or(default_listen),
            tls_certificate: self.tls_certificate.clone(),
            tls_key: self.tls_key.clone(),
        };
        listen.check(what).map_err(|e| e.to_string())?;
        if !listen.listen.ip().is_loopback() && self.users.is_empty() {
            return Err(format!(
                "{what} listens on {}, beyond loopback, without users: add a users entry (`cairn {section} user NAME` prints one)",
                listen.listen
            ));
        }
        for (i, u) in self.users.iter().enumerate() {
            if u.name.is_empty() || u.name.contains(':') {
                return Err(format!(
                    "user {:?}: a name is 1 or more characters without ':'",
                    u.name
                ));
            }
            if self.users[..i].iter().any(|o| o.name == u.name) {
                return Err(format!("user {:?} is listed twice", u.name));
            }
            if u.password_sha256.len() != 64 || hex::decode(&u.password_sha256).is_err() {
                return Err(format!(
                    "user {:?}: password_sha256 must be 64 hex digits, as `cairn {section} user` prints",
                    u.name
                ));
            }
        }
        Ok(Some(ServerSettings {
            listen,
            users: self.users.clone(),
        }))
    }
}

impl ServerSettings {
    /// Passes a request whose credentials name a user (any request when no
    /// users are configured: loopback only, see the module); the 401
    /// answer otherwise, with `realm` for the browser's login prompt.
    #[allow(clippy::result_large_err)]
    pub fn authorize(&self, headers: &HeaderMap, realm: &str) -> Result<(), Response> {
        if self.users.is_empty() {
            return Ok(());
        }
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let known = auth::basic(given).is_some_and(|(name, password)| {
            self.users
                .iter()
                .any(|u| u.name == name && auth::verify(&password, &u.password_sha256))
        });
        if known {
            return Ok(());
        }
        let mut r = (
            StatusCode::UNAUTHORIZED,
            "log in with the name and password of a configured user\n",
        )
            .into_response();
        let challenge = format!("Basic realm=\"{realm}\", charset=\"UTF-8\"");
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        Err(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> ServerConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn beyond_loopback_needs_tls_and_users() {
        let default: SocketAddr = ([127, 0, 0, 1], 7482).into();
        let off = section("enabled = false");
        assert!(off
            .settings("the web view", "web", default)
            .unwrap()
            .is_none());
        let on = section("enabled = true").settings("the web view", "web", default);
        let on = on.unwrap().unwrap();
        assert_eq!(on.listen.listen, default);
        assert!(on.users.is_empty());
        let err = section("enabled = true\nlisten = \"0.0.0.0:7482\"")
            .settings("the web view", "web", default)
            .unwrap_err();
        assert!(err.contains("TLS"), "{err}");
        let digest = auth::digest("pw");
        let bad = section(&format!(
            "enabled = true\n[[users]]\nname = \"a:b\"\npassword_sha256 = \"{digest}\""
        ))
        .settings("the web view", "web", default)
        .unwrap_err();
        assert!(bad.contains("without ':'"), "{bad}");
    }

    #[test]
    fn with_users_every_request_needs_credentials() {
        let digest = auth::digest("s3cret");
        let s = section(&format!(
            "enabled = true\n[[users]]\nname = \"analyst\"\npassword_sha256 = \"{digest}\""
        ))
        .settings("the web view", "web", ([127, 0, 0, 1], 1).into())
        .unwrap()
        .unwrap();
        let mut h = HeaderMap::new();
        let refused = s.authorize(&h, "Cairn").unwrap_err();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.headers().contains_key(header::WWW_AUTHENTICATE));
        // "analyst:s3cret"
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YW5hbHlzdDpzM2NyZXQ="),
        );
        assert!(s.authorize(&h, "Cairn").is_ok());
        // "analyst:wrong"
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YW5hbHlzdDp3cm9uZw=="),
        );
        assert!(s.authorize(&h, "Cairn").is_err());
    }
}
