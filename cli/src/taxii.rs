//! `cairn taxii user`: a TAXII user's generated password and the lines for
//! `cairn.toml`. Passwords are generated rather than chosen, so the
//! configuration can hold a plain SHA-256 of them (see the daemon's
//! `http::auth`): 24 characters from 62 carry about 143 bits.

use anyhow::Result;
use cairn_protocol::hash::sha256;
use cairn_protocol::Tlp;
use clap::{Args, Subcommand};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum TaxiiCommand {
    /// Generate a password for a TAXII user and print its [[taxii.users]] entry
    User(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The user name the client will send
    #[arg(value_name = "NAME")]
    pub name: String,
    /// The highest marking the user sees: CLEAR, GREEN, AMBER or AMBER+STRICT
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label, default_value = "GREEN")]
    pub max_tlp: Tlp,
    /// Let the user POST bundles, which the node publishes as its own items
    #[arg(long)]
    pub write: bool,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 24 characters from [`ALPHABET`], without modulo bias.
pub(crate) fn password() -> String {
    let mut out = String::with_capacity(24);
    while out.len() < 24 {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("the operating system random source is unavailable");
        // 248 = 4 * 62: bytes at or above it are dropped, the rest are even.
        for x in b.into_iter().filter(|x| *x < 248) {
            if out.len() < 24 {
                out.push(ALPHABET[(x % 62) as usize] as char);
            }
        }
    }
    out
}

pub fn run(cmd: &TaxiiCommand, out: &mut dyn Write) -> Result<()> {
    let TaxiiCommand::User(a) = cmd;
    if a.name.is_empty() || a.name.contains(':') || a.name.contains('"') {
        anyhow::bail!("the user name must be 1 or more characters without ':' or '\"'");
    }
    if a.max_tlp == Tlp::Red {
        anyhow::bail!(
            "--max-tlp RED is not allowed: TLP:RED is for named recipients, never a TAXII client"
        );
    }
    let password = password();
    let digest = hex::encode(sha256(&[password.as_bytes()]));
    writeln!(
        out,
        "# Password for {} (give it to the client; it is not stored):",
        a.name
    )?;
    writeln!(out, "#   {password}")?;
    writeln!(out, "[[taxii.users]]")?;
    writeln!(out, "name = \"{}\"", a.name)?;
    writeln!(out, "password_sha256 = \"{digest}\"")?;
    writeln!(out, "max_tlp = \"{}\"", a.max_tlp)?;
    writeln!(out, "write = {}", a.write)?;
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_varied_and_hashed_in_the_entry() {
        let a = password();
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(a, password());
        let mut out = Vec::new();
        let cmd = TaxiiCommand::User(UserArgs {
            name: "opencti".into(),
            max_tlp: Tlp::Amber,
            write: true,
        });
        run(&cmd, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let pw = text.lines().nth(1).unwrap().trim_start_matches("#   ");
        let digest = hex::encode(sha256(&[pw.as_bytes()]));
        assert!(
            text.contains(&format!("password_sha256 = \"{digest}\"")),
            "{text}"
        );
        assert!(
            text.contains("max_tlp = \"AMBER\"") && text.contains("write = true"),
            "{text}"
        );
    }
}
