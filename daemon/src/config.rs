//! The node's configuration file (`cairn.toml`) and the checks that turn it
//! into settings a node can start from.
//!
//! Every problem is reported before the node opens its store or a socket,
//! with the file and the fix, so an operator never finds out from a peer.

use cairn_protocol::{Certificate, Community, SecretKey, Timestamp, Tlp};
use cairn_store::files::{self, FileError};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `cairn.toml` as written by the operator. Relative paths are relative to
/// the directory holding the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the node keeps its store, logs of record and control socket.
    pub data_dir: PathBuf,
    /// The node's ed25519 secret key (mode 0600).
    pub key_file: PathBuf,
    /// The node's membership certificate.
    pub certificate_file: PathBuf,
    /// The community definition from the issuer.
    pub community_file: PathBuf,
    /// Multiaddrs to listen on.
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    /// Members to connect to, each ending in `/p2p/<peer id>`.
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Run the authority role (the key must be the community's authority key).
    #[serde(default)]
    pub authority: bool,
    /// Control socket path; default `<data_dir>/cairnd.sock`.
    pub control_socket: Option<PathBuf>,
    /// Rate limits and bans (`[limits]`); every key has a default.
    #[serde(default)]
    pub limits: Limits,
    /// A pseudonymous key and certificate to publish under with `cairn
    /// publish --as-pseudonym` (`[pseudonym]`); the node still connects
    /// with its named certificate.
    pub pseudonym: Option<crate::pseudonym::PseudonymConfig>,
    /// The TAXII 2.1 server (`[taxii]`), off unless `enabled = true`.
    #[serde(default)]
    pub taxii: Option<TaxiiConfig>,
    /// The MISP feed over HTTP (`[misp_feed]`), off unless `enabled = true`.
    #[serde(default)]
    pub misp_feed: Option<crate::misp_feed::config::MispFeedConfig>,
    /// The member directory (`[directory]`): members to keep connected to,
    /// addresses to announce.
    #[serde(default)]
    pub directory: crate::network::directory_config::DirectoryConfig,
    /// The read-only web view (`[web]`), off unless `enabled = true`.
    #[serde(default)]
    pub web: Option<crate::http::ServerConfig>,
    /// Prometheus `/metrics` (`[metrics]`), off unless `enabled = true`.
    #[serde(default)]
    pub metrics: Option<crate::http::ServerConfig>,
}

/// Where the web view listens unless `[web] listen` says otherwise.
pub const DEFAULT_WEB_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 7482);
/// Where `/metrics` is served unless `[metrics] listen` says otherwise.
pub const DEFAULT_METRICS_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 7483);

/// `[taxii]`: the node's TAXII 2.1 server, for SIEMs, OpenCTI and MISP to
/// pull items (as STIX) and push bundles (as items this node publishes).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Loopback unless TLS is configured.
    #[serde(default = "default_taxii_listen")]
    pub listen: std::net::SocketAddr,
    pub tls_certificate: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Shown in discovery.
    #[serde(default = "default_taxii_title")]
    pub title: String,
    /// Largest POST body accepted, in bytes.
    #[serde(default = "default_taxii_max_content")]
    pub max_content_length: usize,
    /// Who may connect (`[[taxii.users]]`); nobody without.
    #[serde(default)]
    pub users: Vec<TaxiiUser>,
}

/// One TAXII user: `cairn taxii user NAME` makes the password and these
/// lines.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxiiUser {
    pub name: String,
    /// Hex SHA-256 of the generated password.
    pub password_sha256: String,
    /// The highest marking this user sees (TLP:RED never: no TAXII client
    /// is a named recipient). Default GREEN.
    #[serde(default = "default_taxii_max_tlp", deserialize_with = "tlp_label")]
    pub max_tlp: Tlp,
    /// May POST bundles, which this node publishes as its own items.
    #[serde(default)]
    pub write: bool,
}

fn default_taxii_listen() -> std::net::SocketAddr {
    ([127, 0, 0, 1], 7480).into()
}

fn default_taxii_title() -> String {
    "Cairn".into()
}

fn default_taxii_max_content() -> usize {
    10 << 20
}

fn default_taxii_max_tlp() -> Tlp {
    Tlp::Green
}

fn tlp_label<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Tlp, D::Error> {
    let s = String::deserialize(d)?;
    Tlp::parse_label(&s).map_err(serde::de::Error::custom)
}

/// The TAXII server as a node runs it, checked.
#[derive(Debug, Clone)]
pub struct TaxiiSettings {
    pub listen: crate::http::Listen,
    pub title: String,
    pub max_content_length: usize,
    pub users: Vec<TaxiiUser>,
}

impl TaxiiConfig {
    /// The checked settings, or why the section cannot be used; `None` when
    /// the server is off.
    pub fn settings(&self) -> Result<Option<TaxiiSettings>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let bad = |m: String| Err(ConfigError::Taxii(m));
        let listen = crate::http::Listen {
            listen: self.listen,
            tls_certificate: self.tls_certificate.clone(),
            tls_key: self.tls_key.clone(),
        };
        if let Err(e) = listen.check("the TAXII server") {
            return bad(e.to_string());
        }
        if self.users.is_empty() {
            return bad(
                "no [[taxii.users]]: nobody could read; add one with `cairn taxii user NAME`"
                    .into(),
            );
        }
        let names: Vec<(&str, &str)> = self
            .users
            .iter()
            .map(|u| (u.name.as_str(), u.password_sha256.as_str()))
            .collect();
        for (i, u) in self.users.iter().enumerate() {
            if let Err(e) = crate::http::auth::check_user(&names, i, "cairn taxii user") {
                return bad(e);
            }
            if u.max_tlp == Tlp::Red {
                return bad(format!(
                    "user {:?}: max_tlp = RED is not allowed: TLP:RED is for named recipients, never a feed",
                    u.name
                ));
            }
        }
        if self.max_content_length < 1024 {
            return bad("max_content_length is under 1024 bytes".into());
        }
        Ok(Some(TaxiiSettings {
            listen,
            title: self.title.clone(),
            max_content_length: self.max_content_length,
            users: self.users.clone(),
        }))
    }
}

/// How much one peer or publisher may send before the excess is dropped,
/// and how much misbehaviour gets a peer banned. The defaults are far above
/// what an honest member sends (a community shares a few items a minute,
/// a bulk import a few thousand at once) and far below what the node can
/// verify, so a flood costs the flooder, not the community. Dropped items
/// are not lost: catch-up fetches them, and catch-up is not rate limited
/// per publisher (it is bounded by its own batch sizes), so it never loops.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Gossip messages per second accepted from one peer, and its burst.
    pub gossip_per_peer: f64,
    pub gossip_burst_per_peer: f64,
    /// New gossiped items per second stored from one publisher, and burst.
    pub items_per_publisher: f64,
    pub items_burst_per_publisher: f64,
    /// Direct requests per second from one peer, per request kind, and burst.
    pub requests_per_peer: f64,
    pub requests_burst_per_peer: f64,
    /// A peer whose gossip is rejected as invalid more than this many times
    /// within `invalid_window_secs` is disconnected and banned.
    pub invalid_before_ban: u32,
    pub invalid_window_secs: u64,
    /// A peer with more than this many rate-limited messages and requests
    /// within `invalid_window_secs` is banned too (a sustained flood).
    pub excess_before_ban: u32,
    /// How long a banned peer is refused at the handshake.
    pub ban_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            gossip_per_peer: 2000.0,
            gossip_burst_per_peer: 10_000.0,
            items_per_publisher: 500.0,
            items_burst_per_publisher: 1000.0,
            requests_per_peer: 50.0,
            requests_burst_per_peer: 200.0,
            invalid_before_ban: 2,
            invalid_window_secs: 60,
            excess_before_ban: 10_000,
            ban_secs: 600,
        }
    }
}

impl Limits {
    pub fn gossip(&self) -> crate::rate_limit::Rate {
        crate::rate_limit::Rate::new(self.gossip_per_peer, self.gossip_burst_per_peer)
    }

    pub fn publisher(&self) -> crate::rate_limit::Rate {
        crate::rate_limit::Rate::new(self.items_per_publisher, self.items_burst_per_publisher)
    }

    pub fn requests(&self) -> crate::rate_limit::Rate {
        crate::rate_limit::Rate::new(self.requests_per_peer, self.requests_burst_per_peer)
    }

    pub fn window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.invalid_window_secs.max(1))
    }

    pub fn ban(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.ban_secs)
    }
}

fn default_listen() -> Vec<String> {
    vec!["/ip4/0.0.0.0/tcp/7400".into()]
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {cause}")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("config {path} is invalid: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error(transparent)]
    File(#[from] FileError),
    #[error("'{addr}' is not a multiaddr ({detail}); write e.g. /ip4/192.0.2.1/tcp/7400")]
    Address { addr: String, detail: String },
    #[error(
        "bootstrap address '{0}' must end in /p2p/<peer id> so the node knows whom it reaches"
    )]
    NoPeerId(String),
    #[error("this node's certificate is unusable: {0}")]
    Certificate(String),
    #[error("`authority = true`, but this node's key is not the community's authority key {0}")]
    NotAuthority(cairn_protocol::PublicKey),
    #[error("[pseudonym] is unusable: {0}")]
    Pseudonym(String),
    #[error("[taxii]: {0}")]
    Taxii(String),
    #[error("[misp_feed]: {0}")]
    MispFeed(String),
    #[error("[directory]: {0}")]
    Directory(String),
    #[error("[web]: {0}")]
    Web(String),
    #[error("[metrics]: {0}")]
    Metrics(String),
}

/// Everything a node needs to start, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub key: SecretKey,
    pub certificate: Certificate,
    pub community: Community,
    pub listen: Vec<Multiaddr>,
    pub bootstrap: Vec<(PeerId, Multiaddr)>,
    pub authority: bool,
    pub control_socket: PathBuf,
    /// The certificate file, replaced by a renewal; none in the demo.
    pub certificate_path: Option<PathBuf>,
    pub limits: Limits,
    /// The pseudonym this node may publish under, checked.
    pub pseudonym: Option<crate::pseudonym::Pseudonym>,
    /// The TAXII server, if enabled.
    pub taxii: Option<TaxiiSettings>,
    /// The MISP feed server, if enabled.
    pub misp_feed: Option<crate::misp_feed::config::MispFeedSettings>,
    /// The member directory: members to keep connected to, addresses to
    /// announce.
    pub directory: crate::network::directory_config::DirectorySettings,
    /// The web view, if enabled.
    pub web: Option<crate::http::ServerSettings>,
    /// The metrics server, if enabled.
    pub metrics: Option<crate::http::ServerSettings>,
}

fn parse_addr(s: &str) -> Result<Multiaddr, ConfigError> {
    s.parse()
        .map_err(|e: libp2p::multiaddr::Error| ConfigError::Address {
            addr: s.into(),
            detail: e.to_string(),
        })
}

/// Splits `/…/p2p/<id>` into the peer and the address to dial.
pub fn parse_peer_addr(s: &str) -> Result<(PeerId, Multiaddr), ConfigError> {
    let mut addr = parse_addr(s)?;
    match addr.pop() {
        Some(Protocol::P2p(peer)) => Ok((peer, addr)),
        _ => Err(ConfigError::NoPeerId(s.into())),
    }
}

/// A toml error on one line: "line N: message" (toml's own rendering
/// quotes the source over several lines).
fn toml_detail(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

impl Config {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.into(),
            cause,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            detail: toml_detail(&text, &e),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut config.data_dir,
            &mut config.key_file,
            &mut config.certificate_file,
            &mut config.community_file,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(p) = config.control_socket.as_mut() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(p) = config.pseudonym.as_mut() {
            p.relative_to(base);
        }
        if let Some(f) = config.misp_feed.as_mut() {
            f.relative_to(base);
        }
        if let Some(t) = config.taxii.as_mut() {
            for p in [&mut t.tls_certificate, &mut t.tls_key]
                .into_iter()
                .flatten()
            {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        for s in [&mut config.web, &mut config.metrics].into_iter().flatten() {
            s.relative_to(base);
        }
        Ok(config)
    }

    /// Loads the files the config names and checks they fit together.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let key = files::read_secret_key(&self.key_file)?;
        let certificate = files::read_certificate(&self.certificate_file)?;
        let community = files::read_community(&self.community_file)?;
        community.check_shape().map_err(|e| {
            ConfigError::Certificate(format!("the community file is unusable: {e}"))
        })?;
        certificate
            .verify_for_peer(&community, Timestamp::now(), &key.public())
            .map_err(|e| ConfigError::Certificate(e.to_string()))?;
        if self.authority && key.public() != community.authority {
            return Err(ConfigError::NotAuthority(community.authority));
        }
        if self.authority
            && cairn_protocol::EncryptionSecretKey::derive_from(&key).public()
                != community.authority_encryption
        {
            return Err(ConfigError::Certificate(
                "the community file's authority encryption key is not this node's: pseudonyms could not be revealed here; ask the issuer to fix the community file".into(),
            ));
        }
        let pseudonym = match &self.pseudonym {
            Some(p) => Some(
                p.load(&community, &key, Timestamp::now())
                    .map_err(ConfigError::Pseudonym)?,
            ),
            None => None,
        };
        let listen = self
            .listen
            .iter()
            .map(|s| parse_addr(s))
            .collect::<Result<_, _>>()?;
        let bootstrap = self
            .bootstrap
            .iter()
            .map(|s| parse_peer_addr(s))
            .collect::<Result<_, _>>()?;
        Ok(Settings {
            data_dir: self.data_dir.clone(),
            key,
            certificate,
            community,
            listen,
            bootstrap,
            authority: self.authority,
            control_socket: self
                .control_socket
                .clone()
                .unwrap_or_else(|| self.data_dir.join("cairnd.sock")),
            certificate_path: Some(self.certificate_file.clone()),
            limits: self.limits.clone(),
            pseudonym,
            taxii: match &self.taxii {
                Some(t) => t.settings()?,
                None => None,
            },
            misp_feed: match &self.misp_feed {
                Some(f) => f.settings()?,
                None => None,
            },
            directory: self.directory.settings()?,
            web: match &self.web {
                Some(w) => w
                    .settings("the web view", "web", DEFAULT_WEB_LISTEN.into())
                    .map_err(ConfigError::Web)?,
                None => None,
            },
            metrics: match &self.metrics {
                Some(m) => m
                    .settings(
                        "the metrics server",
                        "metrics",
                        DEFAULT_METRICS_LISTEN.into(),
                    )
                    .map_err(ConfigError::Metrics)?,
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_addresses_need_a_peer_id() {
        let peer = PeerId::random();
        let (p, a) = parse_peer_addr(&format!("/ip4/127.0.0.1/tcp/7400/p2p/{peer}")).unwrap();
        assert_eq!(p, peer);
        assert_eq!(a.to_string(), "/ip4/127.0.0.1/tcp/7400");
        assert!(matches!(
            parse_peer_addr("/ip4/127.0.0.1/tcp/7400"),
            Err(ConfigError::NoPeerId(_))
        ));
        assert!(matches!(
            parse_peer_addr("localhost:7400"),
            Err(ConfigError::Address { .. })
        ));
    }

    #[test]
    fn unknown_keys_and_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cairn.toml");
        std::fs::write(
            &p,
            "data_dir = \"data\"\nkey_file = \"k\"\ncertificate_file = \"c\"\ncommunity_file = \"m\"\n",
        )
        .unwrap();
        let c = Config::load(&p).unwrap();
        assert_eq!(c.data_dir, dir.path().join("data"));
        assert_eq!(c.listen, default_listen());
        std::fs::write(&p, "data_dir = \"d\"\nkey_file = \"k\"\ncertificate_file = \"c\"\ncommunity_file = \"m\"\nlisten_port = 1\n").unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("listen_port"), "{err}");
    }

    #[test]
    fn limits_default_per_key_and_refuse_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cairn.toml");
        let base = "data_dir = \"d\"\nkey_file = \"k\"\ncertificate_file = \"c\"\ncommunity_file = \"m\"\n";
        std::fs::write(&p, base).unwrap();
        assert_eq!(Config::load(&p).unwrap().limits, Limits::default());
        std::fs::write(
            &p,
            format!("{base}[limits]\ninvalid_before_ban = 5\nitems_per_publisher = 20.0\n"),
        )
        .unwrap();
        let l = Config::load(&p).unwrap().limits;
        assert_eq!(l.invalid_before_ban, 5);
        assert_eq!(l.publisher().per_second, 20.0);
        assert_eq!(l.ban_secs, Limits::default().ban_secs);
        std::fs::write(&p, format!("{base}[limits]\nbans = 1\n")).unwrap();
        let err = Config::load(&p).unwrap_err().to_string();
        assert!(err.contains("bans"), "{err}");
    }

    #[test]
    fn the_shipped_config_parses_with_the_default_limits() {
        let text = include_str!("../../deploy/cairn.toml");
        let c: Config = toml::from_str(text).unwrap();
        assert_eq!(c.limits, Limits::default());
        let taxii = c.taxii.expect("the shipped config documents [taxii]");
        assert!(!taxii.enabled, "TAXII is off by default");
        assert_eq!(taxii.settings().unwrap().map(|_| ()), None);
        let feed = c
            .misp_feed
            .expect("the shipped config documents [misp_feed]");
        assert!(!feed.enabled, "the MISP feed is off by default");
        assert!(feed.settings().unwrap().is_none());
    }

    #[test]
    fn taxii_needs_users_and_tls_off_loopback() {
        let digest = "ab".repeat(32);
        let parse = |extra: &str| -> TaxiiConfig {
            let text = format!(
                "[taxii]\nenabled = true\n{extra}\n[[taxii.users]]\nname = \"r\"\npassword_sha256 = \"{digest}\"\n"
            );
            #[derive(Deserialize)]
            struct Only {
                taxii: TaxiiConfig,
            }
            toml::from_str::<Only>(&text).unwrap().taxii
        };
        let t = parse("").settings().unwrap().unwrap();
        assert_eq!(t.listen.listen, default_taxii_listen());
        assert_eq!(t.users[0].max_tlp, Tlp::Green);
        assert!(!t.users[0].write);
        let err = parse("listen = \"0.0.0.0:7480\"")
            .settings()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not loopback") && err.contains("tls_certificate"),
            "{err}"
        );
        let err = parse("tls_key = \"k.pem\"")
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.contains("both"), "{err}");
        let mut no_users = parse("");
        no_users.users.clear();
        assert!(no_users
            .settings()
            .unwrap_err()
            .to_string()
            .contains("cairn taxii user"));
        let mut red = parse("");
        red.users[0].max_tlp = Tlp::Red;
        assert!(red.settings().unwrap_err().to_string().contains("RED"));
        let text = format!("[taxii]\nenabled = true\n[[taxii.users]]\nname = \"r\"\npassword_sha256 = \"{digest}\"\nmax_tlp = \"tlp:amber+strict\"\n");
        #[derive(Deserialize)]
        struct Only {
            taxii: TaxiiConfig,
        }
        let t: Only = toml::from_str(&text).unwrap();
        assert_eq!(t.taxii.users[0].max_tlp, Tlp::AmberStrict);
    }
}
