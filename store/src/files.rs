//! The files an operator handles: the node's secret key, the community
//! definition and membership certificates.
//!
//! Secret keys are a line of hex (the 32-byte ed25519 seed) in a file only its
//! owner may read; the daemon refuses a key file others can read, as ssh does.
//! Communities and certificates are JSON so an operator can read what they
//! were given before trusting it.

use cairn_protocol::pseudonym::EscrowAttestation;
use cairn_protocol::{codec, Certificate, Community, Revocation, SecretKey};
use serde::{de::DeserializeOwned, Serialize};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file that cannot be read, written or understood.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} already exists: refusing to overwrite it (move it away first)")]
    Exists { path: PathBuf },
    #[error("{path} is not a valid {what}: {detail}")]
    Invalid {
        path: PathBuf,
        what: &'static str,
        detail: String,
    },
    #[error("{path} can be read by other users (mode {mode:o}): run `chmod 600 {path}`")]
    TooOpen { path: PathBuf, mode: u32 },
}

/// Writes `key` to a new file with mode 0600. Never overwrites.
pub fn write_secret_key(path: &Path, key: &SecretKey) -> Result<(), FileError> {
    let text = format!("{}\n", hex::encode(key.to_seed().as_ref()));
    write_new(path, text.as_bytes(), 0o600)
}

/// Reads a secret key file, refusing one that group or others can read.
/// What the file is comes first: a file that holds no key is reported as
/// such, not as a key with loose permissions.
pub fn read_secret_key(path: &Path) -> Result<SecretKey, FileError> {
    let text = zeroize::Zeroizing::new(read(path)?);
    let invalid = |detail: &str| FileError::Invalid {
        path: path.into(),
        what: "secret key file",
        detail: detail.into(),
    };
    let raw = zeroize::Zeroizing::new(
        hex::decode(String::from_utf8_lossy(&text).trim())
            .map_err(|_| invalid("expected 64 hexadecimal digits"))?,
    );
    let seed: [u8; 32] = raw
        .as_slice()
        .try_into()
        .map_err(|_| invalid("expected 64 hexadecimal digits"))?;
    let meta = fs::metadata(path).map_err(|source| FileError::Read {
        path: path.into(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(FileError::TooOpen {
            path: path.into(),
            mode,
        });
    }
    Ok(SecretKey::from_seed(&seed))
}

/// Writes a community definition as JSON. Never overwrites.
pub fn write_community(path: &Path, c: &Community) -> Result<(), FileError> {
    write_json(path, c)
}

/// Reads a community definition.
pub fn read_community(path: &Path) -> Result<Community, FileError> {
    read_json(path, "community file")
}

/// Writes a certificate as JSON. Never overwrites.
pub fn write_certificate(path: &Path, c: &Certificate) -> Result<(), FileError> {
    write_json(path, c)
}

/// Writes a revocation file (JSON, like certificates: it is public).
pub fn write_revocation(path: &Path, r: &Revocation) -> Result<(), FileError> {
    write_json(path, r)
}

/// Reads a revocation file; its signature is checked by the node.
pub fn read_revocation(path: &Path) -> Result<Revocation, FileError> {
    read_json(path, "revocation file")
}

/// Writes the authority's escrow attestation for a pseudonym (JSON: the
/// escrow is sealed, the rest names public certificates and keys).
pub fn write_escrow_attestation(path: &Path, a: &EscrowAttestation) -> Result<(), FileError> {
    write_json(path, a)
}

/// Reads an escrow attestation; its signature is checked by the issuer.
pub fn read_escrow_attestation(path: &Path) -> Result<EscrowAttestation, FileError> {
    read_json(path, "escrow attestation file")
}

/// Replaces the certificate at `path` atomically (a renewal): written to a
/// temporary file beside it, fsynced, then renamed over it, so a crash
/// leaves the old or the new certificate, never half of one.
pub fn replace_certificate(path: &Path, c: &Certificate) -> Result<(), FileError> {
    let tmp = path.with_extension("renewing");
    let _ = fs::remove_file(&tmp);
    write_certificate(&tmp, c)?;
    fs::rename(&tmp, path).map_err(|source| FileError::Write {
        path: path.into(),
        source,
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a certificate. Its signature is checked by whoever uses it, against
/// the community it is meant for.
pub fn read_certificate(path: &Path) -> Result<Certificate, FileError> {
    let certificate: Certificate = read_json(path, "certificate file")?;
    // Its id and its signature are over its codec encoding, and the id is
    // taken before anything is checked (`cairn cert show` prints it first):
    // JSON too large to encode would fail every use, or panic there.
    codec::encode(&certificate).map_err(|e| FileError::Invalid {
        path: path.into(),
        what: "certificate file",
        detail: e.to_string(),
    })?;
    Ok(certificate)
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), FileError> {
    let mut text = serde_json::to_string_pretty(value).expect("protocol values serialise");
    text.push('\n');
    write_new(path, text.as_bytes(), 0o644)
}

fn read_json<T: DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, FileError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| FileError::Invalid {
        path: path.into(),
        what,
        detail: e.to_string(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, FileError> {
    fs::read(path).map_err(|source| FileError::Read {
        path: path.into(),
        source,
    })
}

/// Creates `path` exclusively with `mode`, writes and fsyncs it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    let werr = |source| FileError::Write {
        path: path.into(),
        source,
    };
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source: std::io::Error| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                FileError::Exists { path: path.into() }
            } else {
                werr(source)
            }
        })?;
    f.write_all(bytes).map_err(werr)?;
    f.sync_all().map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_round_trip_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.key");
        let k = SecretKey::generate();
        write_secret_key(&p, &k).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_secret_key(&p).unwrap().public(), k.public());
        assert!(matches!(
            write_secret_key(&p, &k),
            Err(FileError::Exists { .. })
        ));
    }

    #[test]
    fn readable_key_files_are_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.key");
        write_secret_key(&p, &SecretKey::generate()).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret_key(&p).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn a_certificate_too_large_to_encode_is_refused() {
        // Found by the files fuzz target: such a file was accepted, and
        // taking its id (the first thing `cairn cert show` does) panicked.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cert.json");
        let key = SecretKey::from_seed(&[1; 32]).public().to_string();
        let name = "A".repeat(codec::MAX_FRAME);
        let json = format!(
            r#"{{"body":{{"community":"{c}","serial":1,"issuer":"{key}","member_key":"{key}",
            "encryption_key":"{key}","subject":{{"Entity":{{"name":"{name}",
            "entity_type":"essential","sector":"health","member_state":"DE"}}}},
            "roles":["publish"],"not_before":0,"not_after":1}},
            "signature":"{s}"}}"#,
            c = "09".repeat(16),
            s = "00".repeat(64),
        );
        fs::write(&p, json).unwrap();
        let err = read_certificate(&p).unwrap_err().to_string();
        assert!(err.contains("not a valid certificate file"), "{err}");
        assert!(err.contains("limit"), "{err}");
    }

    #[test]
    fn a_readable_file_that_is_no_key_is_called_that_not_too_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("notes.txt");
        fs::write(&p, "meeting notes\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_secret_key(&p).unwrap_err().to_string();
        assert!(err.contains("not a valid secret key file"), "{err}");
        assert!(!err.contains("chmod"), "{err}");
    }

    #[test]
    fn garbage_files_get_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad");
        fs::write(&p, "not json").unwrap();
        let err = read_community(&p).unwrap_err().to_string();
        assert!(err.contains("not a valid community file"), "{err}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let err = read_secret_key(&p).unwrap_err().to_string();
        assert!(err.contains("64 hexadecimal digits"), "{err}");
        let err = read_certificate(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read"), "{err}");
    }
}
