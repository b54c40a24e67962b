//! `cairn misp-feed user`: a reader of the node's MISP feed (`[misp_feed]`
//! in cairn.toml): a generated password, the lines for `cairn.toml`, and
//! the `Authorization` header a MISP administrator puts in the feed's
//! settings. Passwords are generated like TAXII users' (see `taxii.rs`).

use anyhow::Result;
use base64::Engine;
use cairn_protocol::hash::sha256;
use cairn_protocol::Tlp;
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum MispFeedCommand {
    /// Generate a password for a reader of the MISP feed and print its
    /// [[misp_feed.users]] entry and the header MISP sends
    User(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The user name the MISP instance will send
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The highest marking the user's feed carries: CLEAR, GREEN, AMBER or
    /// AMBER+STRICT
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label, default_value = "GREEN")]
    pub max_tlp: Tlp,
}

pub fn run(cmd: &MispFeedCommand, out: &mut dyn Write) -> Result<()> {
    let MispFeedCommand::User(a) = cmd;
    if a.name.is_empty() || a.name.contains(':') || a.name.contains('"') {
        anyhow::bail!("the user name must be 1 or more characters without ':' or '\"'");
    }
    if a.max_tlp == Tlp::Red {
        anyhow::bail!(
            "--max-tlp RED is not allowed: TLP:RED is for named recipients, never a feed"
        );
    }
    let password = crate::taxii::password();
    let digest = hex::encode(sha256(&[password.as_bytes()]));
    let header = base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", a.name));
    writeln!(
        out,
        "# Password for {} (give it to the MISP administrator; it is not stored):",
        a.name
    )?;
    writeln!(out, "#   {password}")?;
    writeln!(out, "# In MISP's feed settings, Headers:")?;
    writeln!(out, "#   Authorization: Basic {header}")?;
    writeln!(out, "[[misp_feed.users]]")?;
    writeln!(out, "name = \"{}\"", a.name)?;
    writeln!(out, "password_sha256 = \"{digest}\"")?;
    writeln!(out, "max_tlp = \"{}\"", a.max_tlp)?;
    Ok(out.flush()?)
}
