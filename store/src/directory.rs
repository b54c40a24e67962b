//! `directory.bin`: the member directory a node learned, kept so that a
//! restart does not depend on its bootstrap peers (a hub that is down).
//!
//! A cache, not a record: every entry is a member's signed address record
//! and is verified again when loaded, and members send the current ones
//! at the next exchange. So the file is replaced whole (temporary file,
//! fsync, rename) and a damaged tail costs only the records in it.
//! Layout: one codec frame per record, each after its length (u32, little
//! endian).

use cairn_protocol::codec;
use cairn_protocol::directory::{AddressRecord, MAX_RECORDS};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The file's name in the data directory.
pub const FILE: &str = "directory.bin";

/// Largest frame of one record (a certificate, eight addresses, a
/// signature: about 1 KiB at most).
const MAX_RECORD_FRAME: usize = 16 * 1024;

/// Why the directory file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryFileError {
    #[error("cannot write the member directory {path}: {source} (the node keeps it in memory and tries again later)")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the member directory {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What [`load`] found: the records it could decode, and what it could not
/// (for the log; the members send those records again).
#[derive(Debug, Default)]
pub struct Loaded {
    pub records: Vec<AddressRecord>,
    pub damaged: Option<String>,
}

/// Writes `records` as the whole directory, atomically.
pub fn save(data_dir: &Path, records: &[AddressRecord]) -> Result<(), DirectoryFileError> {
    let path = data_dir.join(FILE);
    let tmp = data_dir.join(format!("{FILE}.tmp"));
    let err = |source| DirectoryFileError::Write {
        path: path.clone(),
        source,
    };
    let mut bytes = Vec::new();
    for r in records.iter().take(MAX_RECORDS) {
        let frame = codec::encode(r)
            .map_err(|e| err(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        bytes.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&frame);
    }
    let mut f = fs::File::create(&tmp).map_err(err)?;
    f.write_all(&bytes).map_err(err)?;
    f.sync_all().map_err(err)?;
    fs::rename(&tmp, &path).map_err(err)?;
    if let Ok(d) = fs::File::open(data_dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads the directory; a missing file is an empty directory.
pub fn load(data_dir: &Path) -> Result<Loaded, DirectoryFileError> {
    let path = data_dir.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::default()),
        Err(source) => return Err(DirectoryFileError::Read { path, source }),
    };
    let mut loaded = Loaded::default();
    let mut rest = bytes.as_slice();
    while !rest.is_empty() && loaded.records.len() < MAX_RECORDS {
        let Some((len, tail)) = rest.split_first_chunk::<4>() else {
            loaded.damaged = Some(format!("{} stray bytes at the end", rest.len()));
            break;
        };
        let len = u32::from_le_bytes(*len) as usize;
        if len > MAX_RECORD_FRAME || len > tail.len() {
            loaded.damaged = Some(format!(
                "a record of {len} bytes where {} remain",
                tail.len()
            ));
            break;
        }
        match codec::decode::<AddressRecord>(&tail[..len]) {
            Ok(r) => loaded.records.push(r),
            Err(e) => loaded.damaged = Some(format!("a record does not decode: {e}")),
        }
        rest = &tail[len..];
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::{Certificate, CertificateBody, SecretKey, Timestamp};

    fn record(seed: u8) -> AddressRecord {
        let key = SecretKey::from_seed(&[seed; 32]);
        let issuer = SecretKey::from_seed(&[1; 32]);
        let body = CertificateBody {
            community: cairn_protocol::CommunityId([9; 16]),
            serial: 1,
            issuer: issuer.public(),
            member_key: key.public(),
            encryption_key: cairn_protocol::EncryptionSecretKey::derive_from(&key).public(),
            subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
                name: format!("Member {seed}"),
                entity_type: cairn_protocol::EntityType::Essential,
                sector: cairn_protocol::Sector::Health,
                member_state: "DE".parse().unwrap(),
            }),
            roles: vec![cairn_protocol::Role::Receive],
            not_before: Timestamp(1),
            not_after: Timestamp(2),
        };
        let cert = Certificate::issue(body, &issuer).unwrap();
        AddressRecord::sign(
            &key,
            cert,
            vec![format!("/ip4/192.0.2.{seed}/tcp/7400")],
            Timestamp(5),
        )
        .unwrap()
    }

    #[test]
    fn records_survive_a_save_and_a_damaged_tail_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().records.is_empty(), "no file yet");
        let records = vec![record(2), record(3)];
        save(dir.path(), &records).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.records, records);
        assert!(loaded.damaged.is_none());

        // A crash cannot tear the file (rename), but a disk can: cut it.
        let path = dir.path().join(FILE);
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.records, records[..1]);
        assert!(loaded.damaged.unwrap().contains("remain"));

        save(dir.path(), &[]).unwrap();
        assert!(load(dir.path()).unwrap().records.is_empty());
    }
}
