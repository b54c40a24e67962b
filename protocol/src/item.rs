//! Shared items: the Art. 29(1) information members exchange.

use crate::audience::{self, MarkingError, Reach};
use crate::certificate::{Authentic, Certificate, CertificateError, CertificateId};
use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::entity::Role;
use crate::envelope::{Envelope, SealContext};
use crate::hash::sha256;
use crate::identity::SecretKey;
use crate::signing::{signing_input, Signature, DOMAIN_ITEM};
use crate::time::Timestamp;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};

crate::named_enum!(
    /// The kinds of information NIS2 Art. 29(1) names.
    ItemKind, "item kind", {
        CyberThreat => "cyber-threat",
        NearMiss => "near-miss",
        Vulnerability => "vulnerability",
        TechniqueAndProcedure => "technique-and-procedure",
        IndicatorOfCompromise => "indicator-of-compromise",
        AdversarialTactic => "adversarial-tactic",
        ThreatActorInformation => "threat-actor-information",
        CybersecurityAlert => "cybersecurity-alert",
        ConfigurationRecommendation => "configuration-recommendation",
    }
);

crate::fixed_bytes!(
    /// SHA-256 of an item's signed encoding.
    ItemId,
    32
);

/// Longest title, in bytes.
pub const MAX_TITLE: usize = 512;
/// Longest body text, in bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Largest typed payload, in bytes.
pub const MAX_PAYLOAD: usize = 512 * 1024;
/// Most taxonomy tags on one item.
pub const MAX_TAGS: usize = 32;
/// Longest tag or media type, in bytes.
pub const MAX_TAG: usize = 128;
/// How far in the future an item's creation time may lie (clock skew).
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// Structured content attached to an item, kept as bytes with its media type
/// (for example a STIX 2.1 object as `application/stix+json;version=2.1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// What a reader sees of an item: its summary, text, payload and tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contents {
    pub title: String,
    pub body: String,
    pub payload: Option<Payload>,
    /// Taxonomy tags, e.g. `rsit:malicious-code` or `cve:CVE-2026-1234`.
    pub tags: Vec<String>,
}

/// An item's contents: in the clear for the whole community, or sealed to an
/// audience.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    Open(Contents),
    Sealed(Envelope),
}

/// What the publisher signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemBody {
    pub community: CommunityId,
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub content: Content,
    pub created: Timestamp,
    pub publisher: CertificateId,
}

/// An item with its publisher's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedItem {
    pub body: ItemBody,
    pub signature: Signature,
}

/// Why an item is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    #[error("item is malformed: {0}")]
    Malformed(String),
    #[error("item belongs to community {found}, not {expected}")]
    OtherCommunity {
        expected: CommunityId,
        found: CommunityId,
    },
    #[error("item names publisher certificate {named}, but certificate {given} came with it")]
    PublisherMismatch {
        named: CertificateId,
        given: CertificateId,
    },
    #[error("publisher certificate is not valid when the item was created: {0}")]
    Certificate(#[from] CertificateError),
    #[error("publisher's certificate does not grant the publish role")]
    NotPermitted,
    #[error("item was created at {created}, more than five minutes after {now}: check the publisher's clock")]
    FromTheFuture { created: Timestamp, now: Timestamp },
    #[error("item signature does not verify under the publisher's key")]
    BadSignature,
    #[error("item's marking does not fit its audience: {0}")]
    Marking(#[from] MarkingError),
    #[error("item cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl ItemBody {
    /// Size, content and marking checks that need no keys (the contents of
    /// a sealed item are checked by its recipients when they open it).
    pub fn check_shape(&self) -> Result<(), ItemError> {
        match &self.content {
            Content::Open(c) => c.check_shape()?,
            Content::Sealed(e) => e.check_shape().map_err(ItemError::Malformed)?,
        }
        audience::check_marking(self.tlp, self.reach())?;
        Ok(())
    }

    /// Who the item is for, as the marking rule sees it.
    pub fn reach(&self) -> Reach<'_> {
        match &self.content {
            Content::Open(_) => Reach::Community,
            Content::Sealed(e) => Reach::Audience(&e.selectors),
        }
    }

    /// The contents, if they are in the clear.
    pub fn open_contents(&self) -> Option<&Contents> {
        match &self.content {
            Content::Open(c) => Some(c),
            Content::Sealed(_) => None,
        }
    }

    /// The envelope, if the item is for an audience.
    pub fn envelope(&self) -> Option<&Envelope> {
        match &self.content {
            Content::Open(_) => None,
            Content::Sealed(e) => Some(e),
        }
    }

    /// What the envelope of this item is bound to.
    pub fn seal_context(&self) -> SealContext<'_> {
        SealContext {
            community: &self.community,
            kind: self.kind,
            tlp: self.tlp,
            created: self.created,
            publisher: &self.publisher,
        }
    }
}

impl Contents {
    /// Size and content checks of what a reader sees.
    pub fn check_shape(&self) -> Result<(), ItemError> {
        let bad = |m: String| Err(ItemError::Malformed(m));
        if self.title.trim().is_empty() {
            return bad("the title is empty".into());
        }
        if self.title.len() > MAX_TITLE {
            return bad(format!("the title is over {MAX_TITLE} bytes"));
        }
        if self.title.chars().any(char::is_control) {
            return bad(
                "the title contains a line break or another control character: it is a one-line summary; put details in the body".into(),
            );
        }
        if self.body.len() > MAX_BODY {
            return bad(format!(
                "the body is {} bytes, over the {MAX_BODY}-byte limit: attach large content as a payload",
                self.body.len()
            ));
        }
        if let Some(p) = &self.payload {
            if p.bytes.len() > MAX_PAYLOAD {
                return bad(format!(
                    "the payload is {} bytes, over the {MAX_PAYLOAD}-byte limit",
                    p.bytes.len()
                ));
            }
            if p.media_type.is_empty()
                || p.media_type.len() > MAX_TAG
                || !p.media_type.contains('/')
            {
                return bad("the payload media type must look like 'type/subtype'".into());
            }
        }
        if self.tags.len() > MAX_TAGS {
            return bad(format!("more than {MAX_TAGS} tags"));
        }
        if let Some(t) = self.tags.iter().find(|t| {
            t.is_empty()
                || t.len() > MAX_TAG
                || t.chars().any(|c| c.is_whitespace() || c.is_control())
        }) {
            return bad(format!(
                "tag {t:?} must be 1-{MAX_TAG} bytes without spaces or control characters"
            ));
        }
        Ok(())
    }
}

impl SignedItem {
    /// Signs `body` as the holder of `certificate`.
    pub fn sign(
        body: ItemBody,
        key: &SecretKey,
        certificate: &Certificate,
    ) -> Result<Self, ItemError> {
        body.check_shape()?;
        if body.publisher != certificate.id() || certificate.body.member_key != key.public() {
            return Err(ItemError::PublisherMismatch {
                named: body.publisher,
                given: certificate.id(),
            });
        }
        let signature = key.sign(&signing_input(DOMAIN_ITEM, &body)?);
        Ok(SignedItem { body, signature })
    }

    /// The content address: SHA-256 of the signed encoding.
    pub fn id(&self) -> ItemId {
        let bytes = codec::encode(self).expect("a checked item always fits in a frame");
        ItemId(sha256(&[&bytes]))
    }

    /// Checks every rule an item must pass before it is stored or relayed:
    /// shape, community, the publisher certificate (valid when the item was
    /// created, with the publish role), the creation time against `now`, and
    /// the signature.
    ///
    /// The certificate is checked at the creation time rather than at `now`,
    /// so an item published while its certificate was valid stays verifiable
    /// for a node that catches up after the certificate has expired.
    pub fn verify(
        &self,
        certificate: &Certificate,
        community: &Community,
        now: Timestamp,
    ) -> Result<(), ItemError> {
        // The item's own community first, so the error names the item.
        if self.body.community != community.id {
            return Err(ItemError::OtherCommunity {
                expected: community.id,
                found: self.body.community,
            });
        }
        self.verify_from(&certificate.authenticate(community)?, community, now)
    }

    /// [`SignedItem::verify`] with a publisher certificate already
    /// authenticated for `community` (cacheable per certificate): everything
    /// else, including the certificate's validity when the item was created,
    /// is still checked.
    pub fn verify_from(
        &self,
        publisher: &Authentic,
        community: &Community,
        now: Timestamp,
    ) -> Result<(), ItemError> {
        self.check_rules(publisher, community, now)?;
        self.check_signature(publisher, &signing_input(DOMAIN_ITEM, &self.body)?)
    }

    /// Every rule of [`SignedItem::verify_from`] but the signature.
    pub(crate) fn check_rules(
        &self,
        publisher: &Authentic,
        community: &Community,
        now: Timestamp,
    ) -> Result<(), ItemError> {
        let b = &self.body;
        b.check_shape()?;
        if b.community != community.id {
            return Err(ItemError::OtherCommunity {
                expected: community.id,
                found: b.community,
            });
        }
        if b.publisher != publisher.id() {
            return Err(ItemError::PublisherMismatch {
                named: b.publisher,
                given: publisher.id(),
            });
        }
        if b.created > now.plus_millis(MAX_CLOCK_SKEW_MS) {
            return Err(ItemError::FromTheFuture {
                created: b.created,
                now,
            });
        }
        let certificate = publisher.certificate();
        certificate.check_validity(b.created)?;
        if !certificate.has_role(Role::Publish) {
            return Err(ItemError::NotPermitted);
        }
        Ok(())
    }

    /// The signature over `signed` (the item's signing input) under the
    /// publisher's key.
    pub(crate) fn check_signature(
        &self,
        publisher: &Authentic,
        signed: &[u8],
    ) -> Result<(), ItemError> {
        publisher
            .member_key()
            .verify(signed, &self.signature)
            .map_err(|_| ItemError::BadSignature)
    }
}

#[cfg(test)]
#[path = "item_tests.rs"]
pub(crate) mod tests;
