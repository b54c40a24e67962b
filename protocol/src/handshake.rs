//! The admission handshake: what two nodes exchange right after noise and
//! before anything else runs on the connection.
//!
//! A peer that has not proved membership must learn nothing: not the
//! community's topic, not the node's certificate, not an item. So the
//! dialer shows its certificate first; the listener answers with its own
//! only after the dialer's verified. Both then bring their revocation sets
//! level, so neither accepts anything from a member the other knows to be
//! revoked. Only then does the connection reach gossipsub and the direct
//! requests.
//!
//! ```text
//! dialer                                   listener
//!   Hello {certificate, summary}   ──▶  verify (or Refused / Revoked, close)
//!                                  ◀──  Welcome {certificate, summary}
//! verify (or Refused, close)
//!   summaries equal: Done          ──▶
//!   otherwise: RevocationIds(all)  ──▶
//!                                  ◀──  Revocations(the dialer lacks) …
//!                                  ◀──  RevocationIds(the listener lacks)
//!   Revocations(asked for) …       ──▶
//! ```
//!
//! A dialer refused because its certificate is revoked is sent the
//! revocation with the refusal (`Revoked`): it can never connect again, so
//! this is its only way to learn it. For a registered withdrawal that
//! revocation holds the authority's receipt, which the withdrawn node may
//! have lost and can then still record.
//!
//! Frames are a 4-byte big-endian length and a codec frame; each step has
//! its own size limit ([`Handshake::limit`]), checked on the length before
//! any byte of the frame is read.

use crate::certificate::Certificate;
use crate::hash::sha256;
use crate::revocation::{Revocation, RevocationId, MAX_REVOCATIONS};
use serde::{Deserialize, Serialize};

/// Equal summaries mean equal revocation sets (the digest covers the
/// sorted ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationSummary {
    pub count: u32,
    pub digest: crate::hash::Digest,
}

impl RevocationSummary {
    /// The summary of a sorted, duplicate-free list of ids.
    pub fn of(sorted_ids: &[RevocationId]) -> Self {
        let parts: Vec<&[u8]> = sorted_ids.iter().map(|i| i.as_bytes().as_slice()).collect();
        RevocationSummary {
            count: sorted_ids.len() as u32,
            digest: crate::hash::Digest(sha256(&parts)),
        }
    }
}

/// One step of the handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Handshake {
    /// The dialer's certificate and revocation summary.
    Hello {
        certificate: Certificate,
        revocations: RevocationSummary,
    },
    /// The listener's, sent only after the dialer's certificate verified.
    Welcome {
        certificate: Certificate,
        revocations: RevocationSummary,
    },
    /// The other side's certificate was not accepted; the reason is about
    /// that certificate only.
    Refused { reason: String },
    /// Both revocation sets are the same: the connection is admitted.
    Done,
    /// Revocation ids: all the dialer holds, or those the listener lacks.
    RevocationIds { ids: Vec<RevocationId> },
    /// Revocations the other side lacks; `more` says another frame follows.
    Revocations {
        revocations: Vec<Revocation>,
        more: bool,
    },
    /// The dialer's certificate is revoked: the refusal, with the
    /// revocation that revokes it. Appended last, so the other variants
    /// keep their encoding; a node that predates it reads a frame it cannot
    /// decode, and it was refused either way.
    Revoked {
        reason: String,
        revocation: Revocation,
    },
}

/// Longest refusal reason sent.
pub const MAX_REASON: usize = 512;

/// Which step a reader expects next, for its size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Hello, Welcome, Refused, Revoked or Done: a certificate (or a
    /// revocation naming at most 64 certificates, or a withdrawal carrying
    /// one) at most.
    Certificate,
    /// A list of revocation ids.
    Ids,
    /// A batch of revocations.
    Revocations,
}

impl Handshake {
    /// Largest frame a step may take. A certificate is under 2 KiB even with
    /// a pseudonym's escrow; ids take 33 bytes each (length and digest).
    pub fn limit(step: Step) -> usize {
        match step {
            Step::Certificate => 8 * 1024,
            Step::Ids => MAX_REVOCATIONS * 33 + 64,
            Step::Revocations => crate::codec::MAX_FRAME,
        }
    }

    /// The refusal for `reason`, cut to [`MAX_REASON`] bytes.
    pub fn refused(reason: &str) -> Self {
        Handshake::Refused {
            reason: bounded(reason),
        }
    }

    /// The refusal of a revoked certificate with its `revocation`, if the
    /// frame fits the step's limit; the plain refusal otherwise.
    pub fn revoked(reason: &str, revocation: Revocation) -> Self {
        let message = Handshake::Revoked {
            reason: bounded(reason),
            revocation,
        };
        match crate::codec::encode(&message) {
            Ok(frame) if frame.len() <= Self::limit(Step::Certificate) => message,
            _ => Self::refused(reason),
        }
    }
}

/// `reason` cut to [`MAX_REASON`] bytes on a character boundary.
fn bounded(reason: &str) -> String {
    let mut r = reason.to_string();
    if r.len() > MAX_REASON {
        let mut cut = MAX_REASON;
        while !r.is_char_boundary(cut) {
            cut -= 1;
        }
        r.truncate(cut);
    }
    r
}

/// Splits revocations into batches that each fit a frame.
pub fn batches(revocations: Vec<Revocation>) -> Vec<Vec<Revocation>> {
    // A withdrawal carries an event with a certificate and a receipt: about
    // 1.5 KiB; 256 of them stay well under the 1 MiB frame.
    const PER_FRAME: usize = 256;
    let mut out: Vec<Vec<Revocation>> = Vec::new();
    let mut rest = revocations;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(PER_FRAME));
        out.push(rest);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_tell_sets_apart() {
        let a = RevocationId([1; 32]);
        let b = RevocationId([2; 32]);
        assert_eq!(
            RevocationSummary::of(&[a, b]),
            RevocationSummary::of(&[a, b])
        );
        assert_ne!(RevocationSummary::of(&[a]), RevocationSummary::of(&[a, b]));
        assert_ne!(RevocationSummary::of(&[a]), RevocationSummary::of(&[b]));
        assert_eq!(RevocationSummary::of(&[]).count, 0);
    }

    #[test]
    fn refusals_are_bounded_on_a_char_boundary() {
        let long = "é".repeat(MAX_REASON);
        let Handshake::Refused { reason } = Handshake::refused(&long) else {
            unreachable!()
        };
        assert!(reason.len() <= MAX_REASON && !reason.is_empty());
    }

    #[test]
    fn every_id_list_fits_its_limit() {
        let ids = vec![RevocationId([7; 32]); MAX_REVOCATIONS];
        let frame = crate::codec::encode(&Handshake::RevocationIds { ids }).unwrap();
        assert!(frame.len() <= Handshake::limit(Step::Ids));
    }
}
