//! Creates a demo community on disk exactly as an operator would: an issuer,
//! a community file, keys, certificates and a `cairn.toml` per node.

use crate::config::Config;
use cairn_protocol::{
    Certificate, CertificateBody, Community, CommunityId, EncryptionSecretKey, EntityType, Role,
    SecretKey, Sector, Subject, Timestamp,
};
use cairn_store::files;
use std::path::{Path, PathBuf};

/// One entity of the demo community.
pub struct Entity {
    pub slug: &'static str,
    pub name: &'static str,
    pub entity_type: EntityType,
    pub sector: Sector,
    pub member_state: &'static str,
    pub roles: &'static [Role],
}

/// The authority followed by the three members.
pub const ENTITIES: [Entity; 4] = [
    Entity {
        slug: "authority",
        name: "Bundesamt Demo (competent authority)",
        entity_type: EntityType::CompetentAuthority,
        sector: Sector::PublicAdministration,
        member_state: "DE",
        roles: &[Role::Receive, Role::Authority],
    },
    Entity {
        slug: "hospital",
        name: "St. Aurelia University Hospital",
        entity_type: EntityType::Essential,
        sector: Sector::Health,
        member_state: "DE",
        roles: &[Role::Publish, Role::Receive],
    },
    Entity {
        slug: "energy",
        name: "Rhein-Maas Grid Operator",
        entity_type: EntityType::Essential,
        sector: Sector::Energy,
        member_state: "NL",
        roles: &[Role::Publish, Role::Receive],
    },
    Entity {
        slug: "supplier",
        name: "Larkspur Clinical Software Ltd",
        entity_type: EntityType::Supplier,
        sector: Sector::IctServiceManagement,
        member_state: "IE",
        roles: &[Role::Publish, Role::Receive],
    },
];

/// Where one node's files were written.
pub struct NodeFiles {
    pub config_path: PathBuf,
    pub config: Config,
}

/// Errors creating the demo files.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    File(#[from] files::FileError),
    #[error(transparent)]
    Certificate(#[from] cairn_protocol::CertificateError),
    #[error("cannot write {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// Writes the issuer, community and every node's files under `root`.
/// Returns the community and each node's config, authority first.
/// `bootstrap` of node i lists the nodes started before it, filled in later.
pub fn create(root: &Path) -> Result<(Community, Vec<NodeFiles>), SetupError> {
    let issuer = SecretKey::generate();
    files::write_secret_key(&root.join("issuer.key"), &issuer)?;
    let keys: Vec<SecretKey> = ENTITIES.iter().map(|_| SecretKey::generate()).collect();
    let community = Community {
        id: CommunityId::generate(),
        name: "Demo cross-sector ISAC".into(),
        issuers: vec![issuer.public()],
        authority: keys[0].public(),
        authority_encryption: EncryptionSecretKey::derive_from(&keys[0]).public(),
        max_validity_days: cairn_protocol::community::DEFAULT_MAX_VALIDITY_DAYS,
    };
    let community_path = root.join("community.json");
    files::write_community(&community_path, &community)?;
    let now = Timestamp::now();
    let mut nodes = Vec::new();
    for (serial, (entity, key)) in ENTITIES.iter().zip(&keys).enumerate() {
        let dir = root.join(entity.slug);
        std::fs::create_dir_all(&dir).map_err(|e| SetupError::Io(dir.clone(), e))?;
        let body = CertificateBody {
            community: community.id,
            serial: serial as u64 + 1,
            issuer: issuer.public(),
            member_key: key.public(),
            encryption_key: EncryptionSecretKey::derive_from(key).public(),
            subject: Subject::Entity(cairn_protocol::Entity {
                name: entity.name.into(),
                entity_type: entity.entity_type,
                sector: entity.sector,
                member_state: entity
                    .member_state
                    .parse()
                    .expect("demo states are EU codes"),
            }),
            roles: entity.roles.to_vec(),
            // A little slack for clocks; demo certificates last a year.
            not_before: now.minus_millis(60_000),
            not_after: now.plus_days(365),
        };
        let certificate = Certificate::issue(body, &issuer)?;
        files::write_secret_key(&dir.join("node.key"), key)?;
        files::write_certificate(&dir.join("node.cert.json"), &certificate)?;
        let config = Config {
            data_dir: dir.join("data"),
            key_file: dir.join("node.key"),
            certificate_file: dir.join("node.cert.json"),
            community_file: community_path.clone(),
            listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
            bootstrap: Vec::new(),
            authority: serial == 0,
            control_socket: None,
            limits: Default::default(),
            pseudonym: None,
            taxii: None,
            misp_feed: None,
            directory: Default::default(),
            web: None,
            metrics: None,
        };
        nodes.push(NodeFiles {
            config_path: dir.join("cairn.toml"),
            config,
        });
    }
    Ok((community, nodes))
}

/// Writes a node's `cairn.toml`, for operators who keep the demo running.
pub fn write_config(files: &NodeFiles) -> Result<(), SetupError> {
    let c = &files.config;
    let list = |v: &[String]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "# Written by `cairnd demo`.\ndata_dir = \"{}\"\nkey_file = \"{}\"\ncertificate_file = \"{}\"\ncommunity_file = \"{}\"\nlisten = [{}]\nbootstrap = [{}]\nauthority = {}\n",
        c.data_dir.display(),
        c.key_file.display(),
        c.certificate_file.display(),
        c.community_file.display(),
        list(&c.listen),
        list(&c.bootstrap),
        c.authority
    );
    std::fs::write(&files.config_path, text)
        .map_err(|e| SetupError::Io(files.config_path.clone(), e))
}
