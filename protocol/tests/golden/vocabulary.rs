//! The variant index of every vocabulary word (kinds, markings, entity
//! types, sectors, roles, participation kinds, revocation reasons), on the
//! wire and in JSON.

use cairn_protocol::codec::{self, VERSION};
use cairn_protocol::entity::{EntityType, Role, Sector};
use cairn_protocol::{ItemKind, ParticipationKind, RevocationReason, Tlp};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

/// Every vocabulary word keeps its variant index. Appending a new word at the
/// end of an enum (and of its list here) is compatible; reordering, renaming
/// or removing one changes the meaning of existing bytes.
#[test]
fn vocabulary_indices_are_pinned() {
    fn check<T>(all: &[T], names: &[&str])
    where
        T: Serialize + DeserializeOwned + std::str::FromStr + Copy + PartialEq + Debug,
        T::Err: Debug,
    {
        assert_eq!(all.len(), names.len(), "{names:?}");
        for (index, name) in names.iter().enumerate() {
            let value: T = name.parse().unwrap();
            assert_eq!(all[index], value);
            let frame = codec::encode(&value).unwrap();
            assert_eq!(frame, vec![VERSION, index as u8], "{name}");
            assert_eq!(codec::decode::<T>(&frame).unwrap(), value);
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                format!("\"{name}\"")
            );
        }
    }
    check(
        ItemKind::ALL,
        &[
            "cyber-threat",
            "near-miss",
            "vulnerability",
            "technique-and-procedure",
            "indicator-of-compromise",
            "adversarial-tactic",
            "threat-actor-information",
            "cybersecurity-alert",
            "configuration-recommendation",
        ],
    );
    check(
        Tlp::ALL,
        &["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"],
    );
    check(
        EntityType::ALL,
        &[
            "essential",
            "important",
            "supplier",
            "csirt",
            "competent-authority",
        ],
    );
    check(
        Sector::ALL,
        &[
            "energy",
            "transport",
            "banking",
            "financial-market-infrastructures",
            "health",
            "drinking-water",
            "waste-water",
            "digital-infrastructure",
            "ict-service-management",
            "public-administration",
            "space",
            "postal-and-courier",
            "waste-management",
            "chemicals",
            "food",
            "manufacturing",
            "digital-providers",
            "research",
        ],
    );
    check(Role::ALL, &["publish", "receive", "authority"]);
    check(ParticipationKind::ALL, &["joined", "withdrawal-effective"]);
    check(
        RevocationReason::ALL,
        &["key-compromise", "withdrawn", "superseded", "misbehaviour"],
    );
}
