//! Creating a community: the trust anchor file the issuer hands every member
//! together with its certificate.

use crate::keys;
use anyhow::{bail, Result};
use cairn_protocol::{Community, CommunityId};
use cairn_store::files;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CommunityCommand {
    /// Define a new community and write it to a file; prints its id
    Create(CreateArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The community's name, shown to members
    #[arg(long)]
    name: String,
    /// The issuer's secret key file; its public key may issue certificates
    #[arg(long, value_name = "FILE")]
    issuer_key: PathBuf,
    /// The competent authority node's public key (hex) or its key file
    #[arg(long, value_name = "HEX_OR_KEYFILE")]
    authority_key: String,
    /// The authority's encryption key (hex, from `cairn key show --encryption`);
    /// needed when --authority-key is hex. Pseudonyms are escrowed to it.
    #[arg(long, value_name = "HEX")]
    authority_encryption_key: Option<String>,
    /// Longest validity, in days, of any certificate in this community
    #[arg(long, default_value_t = cairn_protocol::community::DEFAULT_MAX_VALIDITY_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=3660))]
    max_validity_days: u32,
    /// Where to write the community file; never overwritten
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

pub fn run(cmd: &CommunityCommand, out: &mut dyn Write) -> Result<()> {
    let CommunityCommand::Create(a) = cmd;
    if a.name.trim().is_empty() {
        bail!("--name is empty: give the community a name its members will recognise");
    }
    let issuer = keys::read_secret(&a.issuer_key)?;
    let (authority, authority_encryption) = keys::member_keys_arg(
        &a.authority_key,
        a.authority_encryption_key.as_deref(),
        ("--authority-key", "--authority-encryption-key"),
    )?;
    let community = Community {
        id: CommunityId::generate(),
        name: a.name.trim().to_string(),
        issuers: vec![issuer.public()],
        authority,
        authority_encryption,
        max_validity_days: a.max_validity_days,
    };
    files::write_community(&a.out, &community)?;
    writeln!(out, "{}", community.id)?;
    Ok(())
}
