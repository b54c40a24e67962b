//! Signatures and the domain-separated bytes they cover.
//!
//! Every signed structure signs `domain || 0x00 || codec::encode(body)`. The
//! domain string differs per structure, so a signature over a certificate can
//! never be replayed as a signature over an item with the same bytes.

use crate::codec::{self, CodecError};
use serde::Serialize;

crate::fixed_bytes!(
    /// An ed25519 signature.
    Signature,
    64
);

/// Domain of membership certificates.
pub const DOMAIN_CERTIFICATE: &str = "cairn/certificate/v1";
/// Domain of shared items.
pub const DOMAIN_ITEM: &str = "cairn/item/v1";
/// Domain of participation events.
pub const DOMAIN_EVENT: &str = "cairn/participation-event/v1";
/// Domain of issuer revocations.
pub const DOMAIN_REVOCATION: &str = "cairn/revocation/v1";
/// Domain of authority receipts.
pub const DOMAIN_RECEIPT: &str = "cairn/receipt/v1";
/// Domain of the authority's attestation that an escrow opens to a member.
pub const DOMAIN_ESCROW_ATTESTATION: &str = "cairn/escrow-attestation/v1";
/// Domain of the authority's record of a reveal.
pub const DOMAIN_REVEAL: &str = "cairn/reveal/v1";
/// Domain of a member's signed listen addresses (the member directory).
pub const DOMAIN_DIRECTORY: &str = "cairn/directory/v1";

/// The exact bytes a signature covers.
pub fn signing_input<T: Serialize>(domain: &str, body: &T) -> Result<Vec<u8>, CodecError> {
    let encoded = codec::encode(body)?;
    let mut out = Vec::with_capacity(domain.len() + 1 + encoded.len());
    out.extend_from_slice(domain.as_bytes());
    out.push(0);
    out.extend_from_slice(&encoded);
    Ok(out)
}
