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
    let community = Community {
        id: CommunityId::generate(),
        name: a.name.trim().to_string(),
        issuers: vec![issuer.public()],
        authority: keys::public_key_arg(&a.authority_key)?,
    };
    files::write_community(&a.out, &community)?;
    writeln!(out, "{}", community.id)?;
    Ok(())
}
