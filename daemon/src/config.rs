//! The node's configuration file (`cairn.toml`) and the checks that turn it
//! into settings a node can start from.
//!
//! Every problem is reported before the node opens its store or a socket,
//! with the file and the fix, so an operator never finds out from a peer.

use cairn_protocol::{Certificate, Community, SecretKey, Timestamp};
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
}
