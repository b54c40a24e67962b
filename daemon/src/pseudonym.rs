//! Publishing under a pseudonym: the pseudonymous key and certificate a
//! member's node may hold beside its named ones (`[pseudonym]` in
//! cairn.toml).
//!
//! A pseudonymous certificate cannot connect, so the node keeps its named
//! certificate for every connection and uses the pseudonymous key only to
//! sign the items its operator publishes with `cairn publish
//! --as-pseudonym`; those items travel with the pseudonymous certificate
//! and verify like any other.

use cairn_protocol::{Certificate, Community, SecretKey, Timestamp};
use cairn_store::files;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// `[pseudonym]` as written in cairn.toml (paths relative to the file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymConfig {
    /// The pseudonym's own secret key (mode 0600), not the node's.
    pub key_file: PathBuf,
    /// The pseudonymous certificate from `cairn cert pseudonym`.
    pub certificate_file: PathBuf,
}

/// A checked pseudonymous key and certificate.
#[derive(Debug, Clone)]
pub struct Pseudonym {
    pub key: SecretKey,
    pub certificate: Certificate,
}

impl PseudonymConfig {
    /// Resolves relative paths against `base`.
    pub fn relative_to(&mut self, base: &Path) {
        for p in [&mut self.key_file, &mut self.certificate_file] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    /// Reads both files and checks they belong together, to `community`,
    /// and not to the node's own key (which would link the two at sight).
    pub fn load(
        &self,
        community: &Community,
        node_key: &SecretKey,
        now: Timestamp,
    ) -> Result<Pseudonym, String> {
        let key = files::read_secret_key(&self.key_file).map_err(|e| e.to_string())?;
        let certificate =
            files::read_certificate(&self.certificate_file).map_err(|e| e.to_string())?;
        check(community, node_key, &key, &certificate, now)?;
        Ok(Pseudonym { key, certificate })
    }
}

/// The checks [`PseudonymConfig::load`] makes.
pub fn check(
    community: &Community,
    node_key: &SecretKey,
    key: &SecretKey,
    certificate: &Certificate,
    now: Timestamp,
) -> Result<(), String> {
    if !certificate.body.subject.is_pseudonym() {
        return Err("the [pseudonym] certificate is not pseudonymous: it names an entity".into());
    }
    if certificate.body.member_key != key.public() {
        return Err(format!(
            "the [pseudonym] certificate is for key {}, the key file holds {}",
            certificate.body.member_key,
            key.public()
        ));
    }
    if key.public() == node_key.public() {
        return Err(
            "the [pseudonym] key is the node's own key: a pseudonym needs its own key (`cairn key gen`)"
                .into(),
        );
    }
    certificate
        .verify(community, now)
        .map_err(|e| format!("the [pseudonym] certificate is unusable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[test]
    fn only_a_pseudonymous_certificate_of_its_own_key_is_taken() {
        let f = Fixture::new();
        let (node_key, named) = f.certificate("hospital");
        let (key, pseudonymous) = f.pseudonym(&named);
        let now = Timestamp::now();
        assert_eq!(
            check(&f.community, &node_key, &key, &pseudonymous, now),
            Ok(())
        );
        let err = check(&f.community, &node_key, &key, &named, now).unwrap_err();
        assert!(err.contains("not pseudonymous"), "{err}");
        let err = check(&f.community, &node_key, &node_key, &pseudonymous, now).unwrap_err();
        assert!(err.contains("is for key"), "{err}");
        let err = check(&f.community, &key, &key, &pseudonymous, now).unwrap_err();
        assert!(err.contains("node's own key"), "{err}");
        let later = pseudonymous.body.not_after.plus_millis(1);
        let err = check(&f.community, &node_key, &key, &pseudonymous, later).unwrap_err();
        assert!(err.contains("expired"), "{err}");
    }
}
