//! The member directory: where each member says it can be reached.
//!
//! A node that bootstraps only to a hub (the authority, say) would otherwise
//! never meet the other members, and the community would hang on that hub.
//! So every member signs its own listen addresses with its node key
//! ([`AddressRecord`], domain `cairn/directory/v1`), versioned by the time it
//! signed them, and members pass these records on to each other. A record
//! travels with its member's certificate, so any member can judge it without
//! having met its subject; a relay can neither alter the addresses nor make
//! an old record look current, so it cannot point a member at an attacker's
//! address (and admission would refuse an impostor's key anyway).
//!
//! The rules here are pure: which records to accept, which one is current,
//! what a member lacks. Dialling and persistence are the daemon's.

use crate::certificate::{Certificate, CertificateError};
use crate::codec::CodecError;
use crate::community::{Community, CommunityId};
use crate::identity::{PublicKey, SecretKey};
use crate::item::MAX_CLOCK_SKEW_MS;
use crate::revocation::RevocationSet;
use crate::signing::{signing_input, Signature, DOMAIN_DIRECTORY};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Most addresses one record may announce.
pub const MAX_ADDRESSES: usize = 8;
/// Longest address (a multiaddr in its text form).
pub const MAX_ADDRESS_LEN: usize = 200;
/// Most records a node holds: far above an Art. 29 arrangement's members;
/// past it the oldest-signed records make room.
pub const MAX_RECORDS: usize = 4096;
/// Most records one answer carries; a requester lacking more gets the rest
/// at its next exchange. Bounds the signature checks one answer costs the
/// receiving network task (two per record).
pub const MAX_RECORDS_PER_ANSWER: usize = 128;

/// What a member signs: its key and where it listens, as of `signed_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordBody {
    pub community: CommunityId,
    pub member_key: PublicKey,
    /// Multiaddrs in text form (`/ip4/192.0.2.7/tcp/7400`), without `/p2p/`.
    pub addresses: Vec<String>,
    /// The version: a newer record replaces an older one of the same key.
    pub signed_at: Timestamp,
}

/// A member's signed addresses, with the certificate that makes it a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRecord {
    pub body: RecordBody,
    pub signature: Signature,
    pub certificate: Certificate,
}

/// A directory exchange: the records the requester holds, by key and
/// version, so the answer carries only what it lacks, and the requester's
/// own current record, so every exchange spreads it both ways (a node
/// whose addresses changed asks its members at once).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRequest {
    pub have: Vec<(PublicKey, Timestamp)>,
    pub mine: Option<AddressRecord>,
}

/// The records the requester lacks or holds an older version of (at most
/// [`MAX_RECORDS_PER_ANSWER`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryAnswer {
    pub records: Vec<AddressRecord>,
}

/// Largest directory request: every held key and version, and one record.
pub const MAX_REQUEST: usize = MAX_RECORDS * 41 + 16 * 1024;

/// Why a record is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("record is for community {found}, this node is in community {expected}")]
    OtherCommunity {
        expected: CommunityId,
        found: CommunityId,
    },
    #[error("record is malformed: {0}")]
    Malformed(String),
    #[error("record's certificate is for another key than the record's")]
    KeyMismatch,
    #[error("record's member cannot take part: {0}")]
    Certificate(#[from] CertificateError),
    #[error("record signature does not verify under the member's key")]
    BadSignature,
    #[error(
        "record is signed in the future ({signed_at}, now {now}): the member's clock is ahead"
    )]
    FromTheFuture {
        signed_at: Timestamp,
        now: Timestamp,
    },
    #[error("record cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl RecordBody {
    /// Structural checks that need no keys: bounded, printable multiaddrs.
    pub fn check_shape(&self) -> Result<(), DirectoryError> {
        let bad = |m: String| Err(DirectoryError::Malformed(m));
        if self.addresses.len() > MAX_ADDRESSES {
            return bad(format!(
                "{} addresses, at most {MAX_ADDRESSES}",
                self.addresses.len()
            ));
        }
        for a in &self.addresses {
            if a.len() > MAX_ADDRESS_LEN || !a.starts_with('/') {
                return bad(format!(
                    "{a:?} is not a multiaddr of at most {MAX_ADDRESS_LEN} bytes"
                ));
            }
            if !a.bytes().all(|b| b.is_ascii_graphic()) {
                return bad("an address holds a character that is not printable ASCII".into());
            }
            if a.contains("/p2p/") {
                return bad(format!("{a:?} names a peer: the record's key does"));
            }
        }
        Ok(())
    }
}

impl AddressRecord {
    /// Signs `addresses` as this node's, with the node's `certificate`.
    pub fn sign(
        key: &SecretKey,
        certificate: Certificate,
        addresses: Vec<String>,
        signed_at: Timestamp,
    ) -> Result<Self, DirectoryError> {
        let body = RecordBody {
            community: certificate.body.community,
            member_key: key.public(),
            addresses,
            signed_at,
        };
        body.check_shape()?;
        if certificate.body.member_key != body.member_key {
            return Err(DirectoryError::KeyMismatch);
        }
        let signature = key.sign(&signing_input(DOMAIN_DIRECTORY, &body)?);
        Ok(AddressRecord {
            body,
            signature,
            certificate,
        })
    }

    /// Whether a member may act on this record at `now`: it is of this
    /// community, its certificate verifies, is named (a pseudonym never
    /// connects, and its addresses would unmask it), valid now and not
    /// revoked, and the member itself signed these addresses.
    pub fn verify(
        &self,
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> Result<(), DirectoryError> {
        let b = &self.body;
        if b.community != community.id {
            return Err(DirectoryError::OtherCommunity {
                expected: community.id,
                found: b.community,
            });
        }
        b.check_shape()?;
        if b.signed_at > now.plus_millis(MAX_CLOCK_SKEW_MS) {
            return Err(DirectoryError::FromTheFuture {
                signed_at: b.signed_at,
                now,
            });
        }
        self.certificate
            .verify_for_peer(community, now, &b.member_key)?;
        revocations.check_peer(&self.certificate.id(), &self.certificate, now)?;
        b.member_key
            .verify(&signing_input(DOMAIN_DIRECTORY, b)?, &self.signature)
            .map_err(|_| DirectoryError::BadSignature)
    }

    /// The member this record is about.
    pub fn key(&self) -> &PublicKey {
        &self.body.member_key
    }
}

/// One held record and which member passed it on (the record's own key
/// when the member sent it itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub record: AddressRecord,
    pub learned_from: PublicKey,
}

/// What [`Directory::offer`] did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Offered {
    /// A member not held before.
    New,
    /// A newer version replaced the held one.
    Newer,
    /// Not newer than the held version: nothing changed.
    Stale,
}

/// The current record of each member a node knows of (bounded).
#[derive(Clone, Debug, Default)]
pub struct Directory {
    entries: BTreeMap<PublicKey, Entry>,
}

impl Directory {
    /// Whether `record` would be newer than what is held: checked before
    /// its signatures, so a stale record costs nothing.
    pub fn is_newer(&self, record: &AddressRecord) -> bool {
        self.entries
            .get(record.key())
            .is_none_or(|e| e.record.body.signed_at < record.body.signed_at)
    }

    /// Keeps `record`, learned from `from`, if it verifies and is newer
    /// than the held version of its member.
    pub fn offer(
        &mut self,
        record: AddressRecord,
        from: PublicKey,
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> Result<Offered, DirectoryError> {
        if !self.is_newer(&record) {
            return Ok(Offered::Stale);
        }
        record.verify(community, revocations, now)?;
        let key = *record.key();
        let outcome = if self.entries.contains_key(&key) {
            Offered::Newer
        } else {
            Offered::New
        };
        if outcome == Offered::New && self.entries.len() >= MAX_RECORDS {
            // Room for the new one: the member that re-signed longest ago.
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.record.body.signed_at)
                .map(|(k, e)| (*k, e.record.body.signed_at));
            match oldest {
                Some((k, at)) if at < record.body.signed_at => {
                    self.entries.remove(&k);
                }
                _ => return Ok(Offered::Stale),
            }
        }
        self.entries.insert(
            key,
            Entry {
                record,
                learned_from: from,
            },
        );
        Ok(outcome)
    }

    /// Drops records a member may no longer act on (certificate expired or
    /// revoked); returns how many.
    pub fn prune(
        &mut self,
        community: &Community,
        revocations: &RevocationSet,
        now: Timestamp,
    ) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, e| {
            e.record.certificate.check_validity(now).is_ok()
                && revocations
                    .check_peer(&e.record.certificate.id(), &e.record.certificate, now)
                    .is_ok()
                && e.record.certificate.body.community == community.id
        });
        before - self.entries.len()
    }

    /// The request that asks a member for what this node lacks, carrying
    /// the record of `me` (this node) if held.
    pub fn request(&self, me: &PublicKey) -> DirectoryRequest {
        DirectoryRequest {
            have: self
                .entries
                .iter()
                .map(|(k, e)| (*k, e.record.body.signed_at))
                .collect(),
            mine: self.entries.get(me).map(|e| e.record.clone()),
        }
    }

    /// The answer to `request`: records the requester lacks or holds an
    /// older version of, at most [`MAX_RECORDS_PER_ANSWER`], those the
    /// requester lacks entirely first.
    pub fn answer(&self, request: &DirectoryRequest) -> DirectoryAnswer {
        let have: BTreeMap<&PublicKey, Timestamp> =
            request.have.iter().map(|(k, t)| (k, *t)).collect();
        let mut wanted: Vec<(bool, &Entry)> = self
            .entries
            .values()
            .filter_map(|e| match have.get(e.record.key()) {
                None => Some((false, e)),
                Some(t) if *t < e.record.body.signed_at => Some((true, e)),
                Some(_) => None,
            })
            .collect();
        wanted.sort_by_key(|(held, _)| *held);
        DirectoryAnswer {
            records: wanted
                .into_iter()
                .take(MAX_RECORDS_PER_ANSWER)
                .map(|(_, e)| e.record.clone())
                .collect(),
        }
    }

    /// The held record of `key`.
    pub fn get(&self, key: &PublicKey) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Every held entry, by member key.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
