//! The rule for gossiped data: what may be stored and relayed.
//!
//! Everything on the items topic is checked here before gossipsub is told to
//! accept it. Anything that fails is rejected, not ignored, so gossipsub's
//! peer scoring penalises whoever relayed it.

use cairn_protocol::codec::{self, CodecError};
use cairn_protocol::wire::GossipMessage;
use cairn_protocol::{Certificate, Community, ItemError, SignedItem, Timestamp};

/// Why gossiped data was rejected.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("undecodable gossip message: {0}")]
    Decode(#[from] CodecError),
    #[error("item refused: {0}")]
    Item(#[from] ItemError),
}

/// Decodes and verifies one gossip message.
pub fn check_gossip(
    data: &[u8],
    community: &Community,
    now: Timestamp,
) -> Result<(SignedItem, Certificate), IngestError> {
    match codec::decode::<GossipMessage>(data)? {
        GossipMessage::Item { item, certificate } => {
            item.verify(&certificate, community, now)?;
            Ok((item, certificate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Fixture;

    #[test]
    fn a_valid_item_passes_and_forgeries_do_not() {
        let f = Fixture::new();
        let (item, cert) = f.item("hospital", "ransomware note");
        let ok = codec::encode(&GossipMessage::Item {
            item: item.clone(),
            certificate: cert.clone(),
        })
        .unwrap();
        assert!(check_gossip(&ok, &f.community, Timestamp::now()).is_ok());

        let mut forged = item.clone();
        forged.body.title = "changed".into();
        let bad = codec::encode(&GossipMessage::Item {
            item: forged,
            certificate: cert,
        })
        .unwrap();
        assert!(matches!(
            check_gossip(&bad, &f.community, Timestamp::now()),
            Err(IngestError::Item(ItemError::BadSignature))
        ));
        assert!(matches!(
            check_gossip(b"\x01garbage", &f.community, Timestamp::now()),
            Err(IngestError::Decode(_))
        ));
    }

    #[test]
    fn items_from_a_self_made_certificate_are_refused() {
        let f = Fixture::new();
        let (item, cert) = f.rogue_item();
        let data = codec::encode(&GossipMessage::Item {
            item,
            certificate: cert,
        })
        .unwrap();
        assert!(matches!(
            check_gossip(&data, &f.community, Timestamp::now()),
            Err(IngestError::Item(ItemError::Certificate(_)))
        ));
    }
}
