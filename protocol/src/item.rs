//! Shared items: the Art. 29(1) information members exchange.

use crate::certificate::{Certificate, CertificateError, CertificateId};
use crate::codec::{self, CodecError};
use crate::community::{Community, CommunityId};
use crate::entity::Role;
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

/// What the publisher signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemBody {
    pub community: CommunityId,
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub title: String,
    pub body: String,
    pub payload: Option<Payload>,
    /// Taxonomy tags, e.g. `rsit:malicious-code` or `cve:CVE-2026-1234`.
    pub tags: Vec<String>,
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
    #[error("item cannot be encoded: {0}")]
    Codec(#[from] CodecError),
}

impl ItemBody {
    /// Size and content checks that need no keys.
    pub fn check_shape(&self) -> Result<(), ItemError> {
        let bad = |m: String| Err(ItemError::Malformed(m));
        if self.title.trim().is_empty() {
            return bad("the title is empty".into());
        }
        if self.title.len() > MAX_TITLE {
            return bad(format!("the title is over {MAX_TITLE} bytes"));
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
        if let Some(t) = self
            .tags
            .iter()
            .find(|t| t.is_empty() || t.len() > MAX_TAG || t.chars().any(char::is_whitespace))
        {
            return bad(format!(
                "tag '{t}' must be 1-{MAX_TAG} bytes without spaces"
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
        certificate.verify_authenticity(community)?;
        self.verify_with_authentic_certificate(certificate, &certificate.id(), community, now)
    }

    /// [`SignedItem::verify`] for a caller that has already checked
    /// `certificate.verify_authenticity(community)` and computed
    /// `certificate_id = certificate.id()` (both cacheable per certificate):
    /// everything else is still checked.
    pub fn verify_with_authentic_certificate(
        &self,
        certificate: &Certificate,
        certificate_id: &CertificateId,
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
        if b.publisher != *certificate_id {
            return Err(ItemError::PublisherMismatch {
                named: b.publisher,
                given: *certificate_id,
            });
        }
        if b.created > now.plus_millis(MAX_CLOCK_SKEW_MS) {
            return Err(ItemError::FromTheFuture {
                created: b.created,
                now,
            });
        }
        certificate.check_validity(b.created)?;
        if !certificate.has_role(Role::Publish) {
            return Err(ItemError::NotPermitted);
        }
        certificate
            .body
            .member_key
            .verify(&signing_input(DOMAIN_ITEM, b)?, &self.signature)
            .map_err(|_| ItemError::BadSignature)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::certificate::tests::{body_for, cert_for, community, issuer, member, T0};

    pub fn body(cert: &Certificate) -> ItemBody {
        ItemBody {
            community: community().id,
            kind: ItemKind::IndicatorOfCompromise,
            tlp: Tlp::Amber,
            title: "C2 domain seen in hospital VPN logs".into(),
            body: "Beaconing to example.invalid every 60 s.".into(),
            payload: Some(Payload {
                media_type: "application/stix+json;version=2.1".into(),
                bytes: br#"{"type":"indicator"}"#.to_vec(),
            }),
            tags: vec!["rsit:malicious-code".into()],
            created: T0.plus_days(1),
            publisher: cert.id(),
        }
    }

    fn now() -> Timestamp {
        T0.plus_days(1).plus_millis(10)
    }

    #[test]
    fn a_signed_item_verifies() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        assert_eq!(item.verify(&c, &community(), now()), Ok(()));
    }

    #[test]
    fn any_change_breaks_the_signature_and_the_id() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        let mut forged = item.clone();
        forged.body.tlp = Tlp::Clear;
        assert_eq!(
            forged.verify(&c, &community(), now()),
            Err(ItemError::BadSignature)
        );
        assert_ne!(forged.id(), item.id());
    }

    #[test]
    fn a_signature_by_someone_else_is_refused() {
        let c = cert_for(&member());
        let b = body(&c);
        let mallory = crate::identity::SecretKey::from_seed(&[42; 32]);
        let signature = mallory.sign(&signing_input(DOMAIN_ITEM, &b).unwrap());
        let forged = SignedItem { body: b, signature };
        assert_eq!(
            forged.verify(&c, &community(), now()),
            Err(ItemError::BadSignature)
        );
    }

    #[test]
    fn the_certificate_must_be_the_named_one() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        let other = cert_for(&crate::identity::SecretKey::from_seed(&[43; 32]));
        assert!(matches!(
            item.verify(&other, &community(), now()),
            Err(ItemError::PublisherMismatch { .. })
        ));
    }

    #[test]
    fn readers_without_the_publish_role_cannot_publish() {
        let c = crate::certificate::Certificate::issue(
            body_for(&member(), vec![Role::Receive]),
            &issuer(),
        )
        .unwrap();
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        assert_eq!(
            item.verify(&c, &community(), now()),
            Err(ItemError::NotPermitted)
        );
    }

    #[test]
    fn items_created_outside_the_certificate_validity_are_refused() {
        let c = cert_for(&member());
        let mut b = body(&c);
        b.created = T0.plus_days(400);
        let item = SignedItem::sign(b, &member(), &c).unwrap();
        assert!(matches!(
            item.verify(&c, &community(), T0.plus_days(400)),
            Err(ItemError::Certificate(CertificateError::Expired { .. }))
        ));
    }

    #[test]
    fn old_items_stay_valid_after_the_certificate_expires() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        assert_eq!(item.verify(&c, &community(), T0.plus_days(1000)), Ok(()));
    }

    #[test]
    fn items_from_the_future_are_refused() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        assert!(matches!(
            item.verify(&c, &community(), T0),
            Err(ItemError::FromTheFuture { .. })
        ));
    }

    #[test]
    fn other_community_items_are_refused() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        let mut other = community();
        other.id = CommunityId([1; 16]);
        assert!(matches!(
            item.verify(&c, &other, now()),
            Err(ItemError::OtherCommunity { .. })
        ));
    }

    #[test]
    fn shape_limits_are_enforced() {
        let c = cert_for(&member());
        let cases: Vec<fn(&mut ItemBody)> = vec![
            |b| b.title = String::new(),
            |b| b.title = "x".repeat(MAX_TITLE + 1),
            |b| b.body = "x".repeat(MAX_BODY + 1),
            |b| b.payload.as_mut().unwrap().bytes = vec![0; MAX_PAYLOAD + 1],
            |b| b.payload.as_mut().unwrap().media_type = "stix".into(),
            |b| b.tags = vec!["a".into(); MAX_TAGS + 1],
            |b| b.tags = vec!["has space".into()],
            |b| b.tags = vec![String::new()],
        ];
        for (i, mutate) in cases.iter().enumerate() {
            let mut b = body(&c);
            mutate(&mut b);
            assert!(
                matches!(
                    SignedItem::sign(b, &member(), &c),
                    Err(ItemError::Malformed(_))
                ),
                "case {i}"
            );
        }
    }

    #[test]
    fn the_cached_path_checks_everything_but_the_certificate_signature() {
        let c = cert_for(&member());
        let item = SignedItem::sign(body(&c), &member(), &c).unwrap();
        assert_eq!(
            item.verify_with_authentic_certificate(&c, &c.id(), &community(), now()),
            Ok(())
        );
        let mut forged = item.clone();
        forged.body.title = "other".into();
        assert_eq!(
            forged.verify_with_authentic_certificate(&c, &c.id(), &community(), now()),
            Err(ItemError::BadSignature)
        );
        assert!(matches!(
            item.verify_with_authentic_certificate(&c, &c.id(), &community(), T0.plus_days(400)),
            Ok(())
        ));
        let mut late = body(&c);
        late.created = T0.plus_days(400);
        let late = SignedItem::sign(late, &member(), &c).unwrap();
        assert!(matches!(
            late.verify_with_authentic_certificate(&c, &c.id(), &community(), T0.plus_days(400)),
            Err(ItemError::Certificate(CertificateError::Expired { .. }))
        ));
    }

    #[test]
    fn the_largest_allowed_item_fits_in_a_frame() {
        let c = cert_for(&member());
        let mut b = body(&c);
        b.title = "t".repeat(MAX_TITLE);
        b.body = "b".repeat(MAX_BODY);
        b.payload.as_mut().unwrap().bytes = vec![0xff; MAX_PAYLOAD];
        b.tags = vec!["t".repeat(MAX_TAG); MAX_TAGS];
        let item = SignedItem::sign(b, &member(), &c).unwrap();
        let envelope = crate::wire::GossipMessage::Item {
            item,
            certificate: c,
        };
        assert!(codec::encode(&envelope).is_ok());
    }
}
