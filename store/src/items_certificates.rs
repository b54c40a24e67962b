//! The certificates the item store keeps: publishers' (`C`, stored with
//! their first item so a rebuilt index finds them in the data file) and
//! admitted members' (`M`, kept though they published nothing), read
//! through the store's certificate cache.

use super::*;

impl ItemStore {
    /// Keeps a member's certificate (verified by the caller) though no item
    /// of its came yet: what a node knows of its members survives a
    /// restart. Not synced by itself; written to the data file only with a
    /// first item, so a rebuilt index learns it again at admission.
    pub fn remember_certificate(&self, certificate: &Certificate) -> Result<(), StoreError> {
        let bytes = encode(certificate).map_err(|source| StoreError::Encode {
            what: "a certificate",
            source,
        })?;
        let id = CertificateId(sha256(&[&bytes]));
        // Apart from the publishers' (`C`), which must also reach the data
        // file with their first item.
        let key = member_key(&id);
        if !self.has(&key)? {
            self.index
                .insert(&key[..], bytes)
                .map_err(|e| self.sled(e))?;
            self.certificates.changed();
        }
        Ok(())
    }

    /// A stored certificate.
    pub fn certificate(&self, id: &CertificateId) -> Result<Option<Certificate>, StoreError> {
        let Some(bytes) = self
            .index
            .get(certificate_key(id))
            .map_err(|e| self.sled(e))?
        else {
            return Ok(None);
        };
        decode(&bytes)
            .map(Some)
            .map_err(|e| self.damaged(format!("certificate {id} does not decode: {e}")))
    }

    /// Every stored certificate: publishers' in id order, then admitted
    /// members' (possibly the same ones again).
    pub fn certificates(&self) -> Result<Vec<Certificate>, StoreError> {
        Ok(self
            .certificates
            .get(|| self.read_certificates())?
            .as_ref()
            .clone())
    }

    fn read_certificates(&self) -> Result<Vec<Certificate>, StoreError> {
        let mut out = Vec::new();
        let publishers = self.index.scan_prefix([CERTIFICATE]);
        for entry in publishers.chain(self.index.scan_prefix([MEMBER])) {
            let (key, bytes) = entry.map_err(|e| self.sled(e))?;
            let cert = decode(&bytes).map_err(|e| {
                self.damaged(format!(
                    "certificate {} does not decode: {e}",
                    hex::encode(&key[1..])
                ))
            })?;
            out.push(cert);
        }
        Ok(out)
    }
}
