//! The issuer's ledger: every certificate this issuer key made, one JSON
//! object per line, and for a pseudonymous certificate the named
//! certificate it was issued beside.
//!
//! Nodes cannot link a pseudonym to its member (that is the point), so only
//! the issuer can revoke a pseudonymous certificate together with its named
//! one; `cairn cert revoke` looks them up here. The ledger therefore holds
//! exactly the link pseudonyms hide: it is created owner-only (0600) beside
//! the issuer key (`<issuer key>.ledger`, or `--ledger FILE`) and must be
//! kept and backed up like the key itself. Each record is appended and
//! fsynced before the certificate file is written, so a certificate never
//! exists without its record.

use anyhow::{bail, Context, Result};
use cairn_protocol::{Certificate, CertificateId, PublicKey, Timestamp};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// One issued certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When the issuer's tool made it.
    pub issued: Timestamp,
    pub certificate: Certificate,
    /// For a pseudonymous certificate: the named certificate it was issued
    /// beside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beside: Option<Named>,
}

/// The named certificate a pseudonym belongs to. Its key links the
/// pseudonym to every renewal of that certificate too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub certificate: CertificateId,
    pub member_key: PublicKey,
}

/// The ledger of the issuer key at `issuer_key`, or the file `--ledger`
/// names.
pub fn path(issuer_key: &Path, given: Option<&Path>) -> PathBuf {
    match given {
        Some(p) => p.to_path_buf(),
        None => {
            let mut name = issuer_key.as_os_str().to_owned();
            name.push(".ledger");
            PathBuf::from(name)
        }
    }
}

/// Appends `record` (creating the file, mode 0600) and fsyncs it.
pub fn append(path: &Path, record: &Record) -> Result<()> {
    let mut line = serde_json::to_string(record).expect("ledger records serialise");
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the issuer's ledger {}", path.display()))?;
    refuse_open_mode(path)?;
    f.write_all(line.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write the issuer's ledger {}", path.display()))
}

/// The ledger links pseudonyms to members: refuse it readable by others.
fn refuse_open_mode(path: &Path) -> Result<()> {
    let mode = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the issuer's ledger {} can be read by other users (mode {mode:o}): it links pseudonyms to members; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// Every record, or `None` if there is no ledger at `path`.
pub fn read(path: &Path) -> Result<Option<Vec<Record>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e)
                .with_context(|| format!("cannot read the issuer's ledger {}", path.display()))
        }
    };
    refuse_open_mode(path)?;
    let mut records = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line).with_context(|| {
            format!(
                "line {} of the issuer's ledger {} is damaged: repair it from a backup; no certificate can be revoked with its pseudonyms until then",
                n + 1,
                path.display()
            )
        })?;
        records.push(record);
    }
    Ok(Some(records))
}

/// The pseudonymous certificates issued beside any certificate of
/// `member_key`.
pub fn pseudonyms_of<'a>(
    records: &'a [Record],
    member_key: &'a PublicKey,
) -> impl Iterator<Item = &'a Certificate> {
    records
        .iter()
        .filter(move |r| {
            r.beside
                .as_ref()
                .is_some_and(|n| &n.member_key == member_key)
        })
        .map(|r| &r.certificate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::{CertificateBody, SecretKey};

    fn record(seed: u8, beside: Option<Named>) -> Record {
        let issuer = SecretKey::from_seed(&[1; 32]);
        let key = SecretKey::from_seed(&[seed; 32]);
        let body = CertificateBody {
            community: cairn_protocol::CommunityId([9; 16]),
            serial: u64::from(seed),
            issuer: issuer.public(),
            member_key: key.public(),
            encryption_key: cairn_protocol::EncryptionSecretKey::derive_from(&key).public(),
            subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
                name: format!("Entity {seed}"),
                entity_type: cairn_protocol::EntityType::Essential,
                sector: cairn_protocol::Sector::Health,
                member_state: "DE".parse().unwrap(),
            }),
            roles: vec![cairn_protocol::Role::Publish],
            not_before: Timestamp(0),
            not_after: Timestamp(1),
        };
        Record {
            issued: Timestamp(0),
            certificate: Certificate::issue(body, &issuer).unwrap(),
            beside,
        }
    }

    #[test]
    fn records_round_trip_owner_only_and_pseudonyms_are_found_by_member_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("issuer.key");
        let p = path(&key, None);
        assert_eq!(p, dir.path().join("issuer.key.ledger"));
        assert_eq!(read(&p).unwrap(), None);
        let named = record(2, None);
        let link = Named {
            certificate: named.certificate.id(),
            member_key: named.certificate.body.member_key,
        };
        let pseudonym = record(3, Some(link));
        let other = record(4, None);
        for r in [&named, &pseudonym, &other] {
            append(&p, r).unwrap();
        }
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let all = read(&p).unwrap().unwrap();
        assert_eq!(all, vec![named.clone(), pseudonym.clone(), other]);
        let found: Vec<&Certificate> =
            pseudonyms_of(&all, &named.certificate.body.member_key).collect();
        assert_eq!(found, vec![&pseudonym.certificate]);
    }

    #[test]
    fn a_damaged_or_readable_ledger_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("issuer.ledger");
        append(&p, &record(2, None)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(b"{\"issued\":\n")
            .unwrap();
        let err = format!("{:#}", read(&p).unwrap_err());
        assert!(err.contains("line 2") && err.contains("damaged"), "{err}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!("{:#}", append(&p, &record(3, None)).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
    }
}
