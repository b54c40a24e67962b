//! `[directory]` in cairn.toml: how many members a node keeps connected to
//! from the member directory, and which addresses it announces.

use crate::config::ConfigError;
use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;
use serde::Deserialize;

/// `[directory]` as written; every key has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    /// Members to keep connected to, counting bootstrap peers; the node
    /// dials members it learned from the directory until it has this many.
    /// 0 dials none (the node still shares the directory).
    pub connections: usize,
    /// The addresses other members should dial, when the listen addresses
    /// are not what they can reach (NAT, a public DNS name). Empty: the
    /// listen addresses.
    pub announce: Vec<String>,
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            connections: super::directory::DEFAULT_CONNECTIONS,
            announce: Vec::new(),
        }
    }
}

/// `[directory]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorySettings {
    pub connections: usize,
    pub announce: Option<Vec<Multiaddr>>,
}

impl Default for DirectorySettings {
    fn default() -> Self {
        DirectoryConfig::default()
            .settings()
            .expect("the defaults are valid")
    }
}

/// Most members a node may be asked to keep connected to: the admitted
/// connection limit is far higher, but every connection costs gossip.
pub const MAX_CONNECTIONS: usize = 64;

impl DirectoryConfig {
    pub fn settings(&self) -> Result<DirectorySettings, ConfigError> {
        if self.connections > MAX_CONNECTIONS {
            return Err(ConfigError::Directory(format!(
                "connections = {} is over the maximum of {MAX_CONNECTIONS}",
                self.connections
            )));
        }
        if self.announce.len() > cairn_protocol::directory::MAX_ADDRESSES {
            return Err(ConfigError::Directory(format!(
                "announce lists {} addresses, at most {}",
                self.announce.len(),
                cairn_protocol::directory::MAX_ADDRESSES
            )));
        }
        let mut announce = Vec::new();
        for a in &self.announce {
            let addr: Multiaddr = a.parse().map_err(|e| ConfigError::Address {
                addr: a.clone(),
                detail: format!("{e}"),
            })?;
            if addr.iter().any(|p| matches!(p, Protocol::P2p(_))) {
                return Err(ConfigError::Directory(format!(
                    "announce address '{a}' names a peer: leave /p2p/ out, members know the node's id"
                )));
            }
            if super::directory::dialable(std::slice::from_ref(a), true).is_empty() {
                return Err(ConfigError::Directory(format!(
                    "announce address '{a}' is not one members can dial: write /ip4/ADDRESS/tcp/PORT, /ip6/… or /dns4/NAME/tcp/PORT"
                )));
            }
            announce.push(addr);
        }
        Ok(DirectorySettings {
            connections: self.connections,
            announce: (!announce.is_empty()).then_some(announce),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announce_addresses_must_be_dialable_and_name_no_peer() {
        let ok = DirectoryConfig {
            connections: 4,
            announce: vec!["/dns4/cairn.example.org/tcp/7400".into()],
        };
        let s = ok.settings().unwrap();
        assert_eq!(s.connections, 4);
        assert_eq!(s.announce.unwrap().len(), 1);
        for bad in [
            "/ip4/0.0.0.0/tcp/7400",
            "/ip4/192.0.2.1/udp/7400",
            "/ip4/192.0.2.1/tcp/7400/p2p/12D3KooWLyB3R5mTAb5k6s7NUVyWBrgAbwuvSrMJbMtgPxDNMn3t",
            "nonsense",
        ] {
            let c = DirectoryConfig {
                connections: 4,
                announce: vec![bad.into()],
            };
            assert!(c.settings().is_err(), "{bad}");
        }
        let too_many = DirectoryConfig {
            connections: MAX_CONNECTIONS + 1,
            announce: vec![],
        };
        assert!(too_many.settings().is_err());
        assert_eq!(DirectorySettings::default().announce, None);
    }
}
