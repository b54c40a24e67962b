//! Offline key handling: making and inspecting secret key files, and
//! accepting a public key either as hex or as the key file holding it.

use anyhow::{anyhow, Context, Result};
use cairn_protocol::{EncryptionPublicKey, EncryptionSecretKey, PublicKey, SecretKey};
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
    /// Print the public key of a secret key file (and, with --encryption,
    /// the X25519 key content is sealed to, which the issuer certifies too)
    Show {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the encryption public key instead of the signing key
        #[arg(long, conflicts_with = "peer_id")]
        encryption: bool,
        /// Print the node's PeerId, for the `/p2p/…` part of bootstrap addresses
        #[arg(long)]
        peer_id: bool,
    },
}

pub fn run(cmd: &KeyCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        KeyCommand::Gen { out: path } => {
            let key = SecretKey::generate();
            files::write_secret_key(path, &key)?;
            writeln!(out, "{}", key.public())?;
        }
        KeyCommand::Show {
            file,
            encryption,
            peer_id,
        } => {
            let key = read_secret(file)?;
            if *peer_id {
                writeln!(out, "{}", key.public().peer_id())?
            } else if *encryption {
                writeln!(out, "{}", EncryptionSecretKey::derive_from(&key).public())?
            } else {
                writeln!(out, "{}", key.public())?
            }
        }
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

/// A member's two public keys from the command line: a key file gives both;
/// a hex signing key needs the hex encryption key beside it.
/// `flags` names the two options, for the error message.
pub fn member_keys_arg(
    member_key: &str,
    encryption_key: Option<&str>,
    flags: (&str, &str),
) -> Result<(PublicKey, EncryptionPublicKey)> {
    let path = Path::new(member_key);
    if path.exists() {
        let key = read_secret(path)?;
        return Ok((
            key.public(),
            EncryptionSecretKey::derive_from(&key).public(),
        ));
    }
    let signing = public_key_arg(member_key)?;
    let Some(enc) = encryption_key else {
        return Err(anyhow!(
            "{} is needed with a hex {}: the key's holder prints it with `cairn key show --encryption KEYFILE`",
            flags.1,
            flags.0
        ));
    };
    let enc: EncryptionPublicKey = enc
        .parse()
        .map_err(|e| anyhow!("'{enc}' is not an encryption key (64 hex digits): {e}"))?;
    enc.check().map_err(|e| anyhow!("{}: {e}", flags.1))?;
    Ok((signing, enc))
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
