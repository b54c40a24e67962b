//! An item as shown to a person ([`ItemView`]), its audience, and its payload
//! bytes; what every listing, `cairn items show` and every export start from.

use super::RevokedView;
use crate::certificate::CertificateId;
use crate::entity::{EntityType, Sector};
use crate::item::{ItemId, ItemKind, Payload};
use crate::time::Timestamp;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};

/// One item as shown to a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: ItemId,
    pub kind: ItemKind,
    pub tlp: Tlp,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub created: Timestamp,
    pub publisher: CertificateId,
    /// The publisher's legal name, or "a certified member …" for a pseudonym.
    pub publisher_name: String,
    /// The publisher's sector (none for a pseudonym or an unknown
    /// certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_sector: Option<Sector>,
    /// The publisher's entity type (none for a pseudonym or an unknown
    /// certificate): what a CSAF publisher category is chosen from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher_entity_type: Option<EntityType>,
    /// Set when the publisher's certificate has been revoked since (items
    /// already held stay, marked).
    pub publisher_revoked: Option<RevokedView>,
    pub payload_media_type: Option<String>,
    pub payload_size: usize,
    /// The payload itself, in views made for an export (never for a
    /// listing); empty when the item is not readable here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
    /// Signature and certificate re-verified while answering this request.
    pub verified: bool,
    /// Set for an item sealed to an audience. Unless this node is a
    /// recipient, title, body and tags are empty and no payload is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<AudienceView>,
}

/// The audience of a sealed item, as every node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceView {
    /// How the publisher chose it, e.g. `Hospital A`, `sector energy`.
    pub selectors: Vec<String>,
    /// The recipients, by name where this node knows their certificate.
    pub recipients: Vec<String>,
    /// Whether this node is a recipient and opened the item.
    pub readable: bool,
    /// Why not, when it is not readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable_reason: Option<String>,
    /// Size of the sealed contents, in bytes.
    pub sealed_size: usize,
}

/// An item's payload, for `cairn items payload`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadView {
    pub id: ItemId,
    pub media_type: String,
    /// The bytes as published; hex in JSON (half the size of a number array,
    /// and still readable with `socat`).
    #[serde(with = "hex_bytes")]
    pub bytes: Vec<u8>,
}

/// `Vec<u8>` as a hex string.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{ControlRequest, ControlResponse};

    #[test]
    fn payload_bytes_travel_as_hex_and_come_back_exactly() {
        let view = PayloadView {
            id: ItemId([7; 32]),
            media_type: "application/octet-stream".into(),
            bytes: vec![0, 0xff, b'\n', 0x1b],
        };
        let line = serde_json::to_string(&ControlResponse::ItemPayload(view.clone())).unwrap();
        assert!(line.contains("\"bytes\":\"00ff0a1b\""), "{line}");
        let back: ControlResponse = serde_json::from_str(&line).unwrap();
        assert_eq!(back, ControlResponse::ItemPayload(view));
        let bad = line.replace("00ff0a1b", "zz");
        assert!(serde_json::from_str::<ControlResponse>(&bad).is_err());
        let request = serde_json::to_string(&ControlRequest::ItemPayload {
            id: ItemId([7; 32]),
        });
        assert!(request.unwrap().starts_with("{\"op\":\"item-payload\""));
    }
}
