//! `cairn web user` and `cairn metrics user`: a login for the node's web
//! view or metrics server, generated like a TAXII user's password (see
//! `taxii.rs`), printed with the `[[web.users]]` or `[[metrics.users]]`
//! lines for `cairn.toml`.

use anyhow::{bail, Result};
use cairn_protocol::hash::sha256;
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Generate a password for a user and print the entry for cairn.toml
    User(NameArgs),
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The user name the browser or scraper will send
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// Prints a generated password and the `[[<section>.users]]` entry.
pub fn run(section: &str, cmd: &UserCommand, out: &mut dyn Write) -> Result<()> {
    let UserCommand::User(a) = cmd;
    if a.name.is_empty() || a.name.contains(':') {
        bail!("a user name is 1 or more characters without ':'");
    }
    let password = crate::taxii::password();
    let digest = hex::encode(sha256(&[password.as_bytes()]));
    writeln!(
        out,
        "# Password for {} (give it to the user; it is not stored):",
        a.name
    )?;
    writeln!(out, "#   {password}")?;
    writeln!(out, "[[{section}.users]]")?;
    writeln!(out, "name = \"{}\"", a.name)?;
    writeln!(out, "password_sha256 = \"{digest}\"")?;
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_holds_the_digest_of_the_printed_password() {
        let cmd = UserCommand::User(NameArgs {
            name: "analyst".into(),
        });
        let mut out = Vec::new();
        run("web", &cmd, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let password = text.lines().nth(1).unwrap().trim_start_matches("#   ");
        let digest = hex::encode(sha256(&[password.as_bytes()]));
        assert!(
            text.contains("[[web.users]]\nname = \"analyst\"\n"),
            "{text}"
        );
        assert!(text.contains(&format!("password_sha256 = \"{digest}\"")));
        let bad = UserCommand::User(NameArgs { name: "a:b".into() });
        assert!(run("web", &bad, &mut Vec::new()).is_err());
    }
}
