//! A community made the way an issuer and operators make one: with the
//! `cairn` CLI (`key gen`, `community create`, `cert issue`) in a temporary
//! directory, plus one `cairn.toml` per node. Nothing here constructs
//! protocol values directly, so the fixture also tests the offline tooling.

use crate::bins::{cairn_ok, s};
use crate::node::NodeProc;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// Sectors and Member States given to members in turn.
const MEMBERS: [(&str, &str, &str); 4] = [
    ("essential", "health", "DE"),
    ("essential", "energy", "NL"),
    ("important", "transport", "FR"),
    ("supplier", "ict-service-management", "IE"),
];

/// Set this variable to keep each community's directory (keys, configs,
/// node logs, rogue output) after the test, for a post-mortem.
pub const KEEP_ENV: &str = "CAIRN_TESTS_KEEP";

/// One node's files: key, certificate and configuration.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Short name, also the node's directory name (`authority`, `member-1`).
    pub name: String,
    /// The entity name in its certificate.
    pub entity_name: String,
    pub dir: PathBuf,
    pub key_file: PathBuf,
    pub cert_file: PathBuf,
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
    /// Hex public key, as `cairn key gen` printed it.
    pub public_key: String,
    pub authority: bool,
    /// The listen multiaddr written to its config.
    pub listen: String,
}

/// A community on disk: issuer, community file, authority and members.
pub struct Community {
    pub root: TempDir,
    pub community_file: PathBuf,
    pub issuer_key: PathBuf,
    pub authority: NodeSpec,
    pub members: Vec<NodeSpec>,
}

/// Quotes `v` as a TOML basic string.
fn toml_str(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Options for `cairn cert issue` beyond the entity itself.
#[derive(Debug, Clone, Default)]
pub struct CertOptions<'a> {
    /// `--not-before` (RFC 3339).
    pub not_before: Option<&'a str>,
    /// `--valid-days`.
    pub valid_days: Option<u64>,
}

impl Community {
    /// Creates an issuer, an authority and `members` members, each with a key
    /// and a certificate issued through the CLI.
    pub fn create(members: usize) -> Community {
        let mut root = tempfile::Builder::new()
            .prefix("cairn-")
            .tempdir()
            .expect("temporary directory");
        if std::env::var_os(KEEP_ENV).is_some() {
            root.disable_cleanup(true);
            eprintln!("{KEEP_ENV}: keeping {}", root.path().display());
        }
        let issuer_key = root.path().join("issuer.key");
        cairn_ok(["key", "gen", "--out", s(&issuer_key)]);
        let authority_dir = root.path().join("authority");
        std::fs::create_dir_all(&authority_dir).unwrap();
        let authority_key = authority_dir.join("node.key");
        cairn_ok(["key", "gen", "--out", s(&authority_key)]);
        let community_file = root.path().join("community.json");
        cairn_ok([
            "community",
            "create",
            "--name",
            "Test ISAC",
            "--issuer-key",
            s(&issuer_key),
            "--authority-key",
            s(&authority_key),
            "--out",
            s(&community_file),
        ]);
        let issuer = Issuer {
            community_file: &community_file,
            issuer_key: &issuer_key,
        };
        let authority = issuer.node(
            root.path(),
            "authority",
            "Test Competent Authority",
            ("competent-authority", "public-administration", "DE"),
            "receive,authority",
        );
        let members = (1..=members)
            .map(|i| {
                let (ty, sector, state) = MEMBERS[(i - 1) % MEMBERS.len()];
                issuer.node(
                    root.path(),
                    &format!("member-{i}"),
                    &format!("Member {i} ({sector})"),
                    (ty, sector, state),
                    "publish,receive",
                )
            })
            .collect();
        Community {
            root,
            community_file,
            issuer_key,
            authority,
            members,
        }
    }

    /// The community's real issuer.
    pub fn issuer(&self) -> Issuer<'_> {
        Issuer {
            community_file: &self.community_file,
            issuer_key: &self.issuer_key,
        }
    }

    /// The community's directory.
    pub fn path(&self) -> &Path {
        self.root.path()
    }

    /// Writes `spec`'s `cairn.toml` with these bootstrap addresses.
    pub fn write_config(&self, spec: &NodeSpec, bootstrap: &[String]) {
        let list = bootstrap
            .iter()
            .map(|a| toml_str(a))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "# Written by the cairn-tests harness.\n\
             data_dir = {}\nkey_file = {}\ncertificate_file = {}\ncommunity_file = {}\n\
             listen = [{}]\nbootstrap = [{list}]\nauthority = {}\n",
            toml_str(s(&spec.data_dir)),
            toml_str(s(&spec.key_file)),
            toml_str(s(&spec.cert_file)),
            toml_str(s(&self.community_file)),
            toml_str(&spec.listen),
            spec.authority,
        );
        std::fs::write(&spec.config_file, text).expect("config written");
    }

    /// Writes `spec`'s config and starts it.
    pub fn start(&self, spec: &NodeSpec, bootstrap: &[String]) -> NodeProc {
        self.write_config(spec, bootstrap);
        NodeProc::start(&spec.name, &spec.dir, &spec.config_file)
    }

    /// Writes `spec`'s config listening on `addr` (port chosen by the
    /// system) and starts it inside network namespace `ns`.
    pub fn start_in(
        &self,
        spec: &NodeSpec,
        ns: &str,
        addr: &str,
        bootstrap: &[String],
    ) -> NodeProc {
        let mut spec = spec.clone();
        spec.listen = format!("/ip4/{addr}/tcp/0");
        self.write_config(&spec, bootstrap);
        NodeProc::start_in(
            &spec.name,
            &spec.dir,
            &spec.config_file,
            Some(ns),
            &format!("/ip4/{addr}/tcp/"),
        )
    }

    /// Writes `spec`'s config listening on `addr`:`port` (a fixed port, so
    /// members redial the same address after a restart) and starts it
    /// inside network namespace `ns`.
    pub fn start_in_port(
        &self,
        spec: &NodeSpec,
        ns: &str,
        addr: &str,
        port: u16,
        bootstrap: &[String],
    ) -> NodeProc {
        let mut spec = spec.clone();
        spec.listen = format!("/ip4/{addr}/tcp/{port}");
        self.write_config(&spec, bootstrap);
        NodeProc::start_in(
            &spec.name,
            &spec.dir,
            &spec.config_file,
            Some(ns),
            &format!("/ip4/{addr}/tcp/"),
        )
    }

    /// Writes `spec`'s config listening on `listen_ip` (port chosen by the
    /// system; `0.0.0.0` for every address) and starts it inside network
    /// namespace `ns`; its address for the test is the one on `reach_ip`.
    pub fn start_in_at(
        &self,
        spec: &NodeSpec,
        ns: &str,
        listen_ip: &str,
        reach_ip: &str,
        bootstrap: &[String],
    ) -> NodeProc {
        let mut spec = spec.clone();
        spec.listen = format!("/ip4/{listen_ip}/tcp/0");
        self.write_config(&spec, bootstrap);
        NodeProc::start_in(
            &spec.name,
            &spec.dir,
            &spec.config_file,
            Some(ns),
            &format!("/ip4/{reach_ip}/tcp/"),
        )
    }

    /// Writes `spec`'s config with `extra` TOML appended (a `[pseudonym]`
    /// table, say) and starts it.
    pub fn start_with(&self, spec: &NodeSpec, bootstrap: &[String], extra: &str) -> NodeProc {
        self.write_config(spec, bootstrap);
        let mut text = std::fs::read_to_string(&spec.config_file).expect("config written");
        text.push_str(extra);
        std::fs::write(&spec.config_file, text).expect("config written");
        NodeProc::start(&spec.name, &spec.dir, &spec.config_file)
    }

    /// Gives the member whose named certificate is `named_cert` a
    /// pseudonym: a key of its own (`pseudonym.key` in `dir`) and a
    /// pseudonymous certificate (`pseudonym.cert.json`) issued beside the
    /// named one by the real issuer, who holds the authority's key here.
    /// Returns the `[pseudonym]` table for the member's config, the key's
    /// and the certificate's paths.
    pub fn pseudonym(
        &self,
        dir: &Path,
        named_cert: &Path,
        extra: &[&str],
    ) -> (String, PathBuf, PathBuf) {
        let key = dir.join("pseudonym.key");
        cairn_ok(["key", "gen", "--out", s(&key)]);
        let cert = dir.join("pseudonym.cert.json");
        let mut args = vec![
            "cert",
            "pseudonym",
            "--community",
            s(&self.community_file),
            "--issuer-key",
            s(&self.issuer_key),
            "--named-cert",
            s(named_cert),
            "--pseudonym-key",
            s(&key),
            "--authority-key",
            s(&self.authority.key_file),
            "--out",
            s(&cert),
        ];
        args.extend_from_slice(extra);
        cairn_ok(&args);
        let table = format!(
            "\n[pseudonym]\nkey_file = {}\ncertificate_file = {}\n",
            toml_str(s(&key)),
            toml_str(s(&cert))
        );
        (table, key, cert)
    }

    /// Starts the authority, then each member bootstrapping to every node
    /// started before it.
    pub fn start_all(&self) -> (NodeProc, Vec<NodeProc>) {
        let authority = self.start(&self.authority, &[]);
        let mut addrs = vec![authority.addr.clone()];
        let mut members = Vec::new();
        for spec in &self.members {
            let node = self.start(spec, &addrs);
            addrs.push(node.addr.clone());
            members.push(node);
        }
        (authority, members)
    }

    /// Makes a fresh key file `name.key` in the community directory.
    pub fn new_key(&self, name: &str) -> PathBuf {
        let path = self.path().join(format!("{name}.key"));
        cairn_ok(["key", "gen", "--out", s(&path)]);
        path
    }
}

/// A community file and the key that issues certificates against it. The
/// real issuer, or a rogue one with its own variant of the community file.
#[derive(Debug, Clone, Copy)]
pub struct Issuer<'a> {
    pub community_file: &'a Path,
    pub issuer_key: &'a Path,
}

impl Issuer<'_> {
    /// Makes the files of node `name` (key if missing, certificate).
    pub fn node(
        &self,
        root: &Path,
        name: &str,
        entity_name: &str,
        (entity_type, sector, state): (&str, &str, &str),
        roles: &str,
    ) -> NodeSpec {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let key_file = dir.join("node.key");
        if !key_file.exists() {
            cairn_ok(["key", "gen", "--out", s(&key_file)]);
        }
        let public_key = cairn_ok(["key", "show", s(&key_file)]);
        let cert_file = dir.join("node.cert.json");
        self.issue(
            &key_file,
            &cert_file,
            entity_name,
            (entity_type, sector, state),
            roles,
            CertOptions::default(),
        );
        NodeSpec {
            name: name.into(),
            entity_name: entity_name.into(),
            config_file: dir.join("cairn.toml"),
            data_dir: dir.join("data"),
            dir,
            key_file,
            cert_file,
            public_key,
            authority: name == "authority",
            listen: "/ip4/127.0.0.1/tcp/0".into(),
        }
    }

    /// Re-signs the certificate at `path` after `change` — what a careless
    /// or older issuing tool could produce (`cairn cert issue` refuses, say,
    /// a certificate that has already expired).
    pub fn resign(&self, path: &Path, change: impl FnOnce(&mut cairn_protocol::CertificateBody)) {
        let cert = cairn_store::files::read_certificate(path).expect("a certificate");
        let issuer = cairn_store::files::read_secret_key(self.issuer_key).expect("the issuer key");
        let mut body = cert.body;
        change(&mut body);
        let cert = cairn_protocol::Certificate::issue(body, &issuer).expect("re-signed");
        std::fs::remove_file(path).expect("the old certificate removed");
        cairn_store::files::write_certificate(path, &cert).expect("certificate written");
    }

    /// `cairn cert revoke` of the certificate at `cert` for `reason`, written
    /// to `out`; returns the revocation id it printed.
    pub fn revoke(&self, cert: &Path, reason: &str, out: &Path) -> String {
        cairn_ok([
            "cert",
            "revoke",
            "--community",
            s(self.community_file),
            "--issuer-key",
            s(self.issuer_key),
            "--cert",
            s(cert),
            "--reason",
            reason,
            "--out",
            s(out),
        ])
    }

    /// `cairn cert issue` against this issuer's community file; returns the
    /// certificate id it printed.
    #[allow(clippy::too_many_arguments)]
    pub fn issue(
        &self,
        member_key: &Path,
        out: &Path,
        entity_name: &str,
        (entity_type, sector, state): (&str, &str, &str),
        roles: &str,
        options: CertOptions<'_>,
    ) -> String {
        let mut args: Vec<String> = [
            "cert",
            "issue",
            "--community",
            s(self.community_file),
            "--issuer-key",
            s(self.issuer_key),
            "--member-key",
            s(member_key),
            "--entity-name",
            entity_name,
            "--entity-type",
            entity_type,
            "--sector",
            sector,
            "--member-state",
            state,
            "--roles",
            roles,
            "--out",
            s(out),
        ]
        .map(String::from)
        .to_vec();
        if let Some(t) = options.not_before {
            args.extend(["--not-before".into(), t.into()]);
        }
        if let Some(d) = options.valid_days {
            args.extend(["--valid-days".into(), d.to_string()]);
        }
        cairn_ok(&args)
    }
}
