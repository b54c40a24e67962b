//! Offline key handling: making and inspecting secret key files, and
//! accepting a public key either as hex or as the key file holding it.

use anyhow::{anyhow, Context, Result};
use cairn_protocol::{PublicKey, SecretKey};
use cairn_store::files;
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a secret key into a new file (mode 0600) and print its public key
    Gen {
        /// Where to write the key; an existing file is never overwritten
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the public key of a secret key file
    Show {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

pub fn run(cmd: &KeyCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        KeyCommand::Gen { out: path } => {
            let key = SecretKey::generate();
            files::write_secret_key(path, &key)?;
            writeln!(out, "{}", key.public())?;
        }
        KeyCommand::Show { file } => writeln!(out, "{}", read_secret(file)?.public())?,
    }
    Ok(())
}

/// Reads a secret key file.
pub fn read_secret(path: &Path) -> Result<SecretKey> {
    Ok(files::read_secret_key(path)?)
}

/// A public key given on the command line: 64 hex digits, or the path of a
/// secret key file whose public half is meant.
pub fn public_key_arg(arg: &str) -> Result<PublicKey> {
    if let Ok(key) = arg.parse::<PublicKey>() {
        return Ok(key);
    }
    let path = Path::new(arg);
    if !path.exists() && looks_like_hex(arg) {
        return arg
            .parse::<PublicKey>()
            .map_err(|e| anyhow!("'{arg}' is not a public key (64 hex digits): {e}"));
    }
    let key = read_secret(path).with_context(|| {
        format!("'{arg}' is neither a public key (64 hex digits) nor a readable key file")
    })?;
    Ok(key.public())
}

fn looks_like_hex(s: &str) -> bool {
    !s.is_empty() && s.trim().bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_keys_come_from_hex_or_from_key_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("member.key");
        let mut shown = Vec::new();
        run(&KeyCommand::Gen { out: path.clone() }, &mut shown).unwrap();
        let hex = String::from_utf8(shown).unwrap().trim().to_string();
        let expected: PublicKey = hex.parse().unwrap();
        assert_eq!(public_key_arg(&hex).unwrap(), expected);
        assert_eq!(public_key_arg(path.to_str().unwrap()).unwrap(), expected);
    }

    #[test]
    fn bad_key_arguments_say_what_was_expected() {
        let err = format!("{:#}", public_key_arg("abcd").unwrap_err());
        assert!(err.contains("32 bytes"), "{err}");
        let err = format!("{:#}", public_key_arg("/nonexistent/key").unwrap_err());
        assert!(
            err.contains("neither a public key") && err.contains("cannot read"),
            "{err}"
        );
    }
}
