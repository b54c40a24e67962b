//! Who may read an item, and what its TLP 2.0 marking allows.
//!
//! An item goes to the whole community or to an audience: members named one
//! by one, or every member of a sector or Member State, resolved to members
//! when the item is published. The marking decides which of the two an item
//! may have ([`check_marking`]); the publisher checks it before signing and
//! every node checks it again, so an item breaking it is refused like a
//! forgery. Audience items are sealed to their recipients (see
//! [`crate::envelope`]).

use crate::entity::{MemberState, Sector};
use crate::subject::MAX_ENTITY_NAME;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};

/// Most recipients one item can be sealed to.
pub const MAX_RECIPIENTS: usize = 512;
/// Most selectors recorded for one audience.
pub const MAX_SELECTORS: usize = 64;

/// How an audience was chosen at publication; signed and shown to every
/// node, so a reader knows why it is (or is not) among the recipients.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Selector {
    /// A member named by its legal name.
    Entity(String),
    /// Every member of a sector.
    Sector(Sector),
    /// Every member established in a Member State.
    MemberState(MemberState),
}

impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Selector::Entity(name) => write!(f, "{name}"),
            Selector::Sector(s) => write!(f, "sector {s}"),
            Selector::MemberState(m) => write!(f, "Member State {m}"),
        }
    }
}

/// The reach of an item, as the marking rule sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach<'a> {
    /// Every member of the community.
    Community,
    /// Sealed to listed recipients, chosen by these selectors (empty when
    /// the recipients were listed by key).
    Audience(&'a [Selector]),
}

/// An item's marking does not fit its audience.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkingError {
    #[error(
        "TLP:RED is for named recipients only: name them (cairn publish --to ENTITY[,ENTITY…])"
    )]
    RedNeedsRecipients,
    #[error("TLP:RED is for recipients named one by one; {0} is a group, not a named recipient: use --to with the entities' names")]
    RedToGroup(Selector),
    #[error("{0} is shared with the whole community: publish it without an audience, or mark it TLP:AMBER or TLP:AMBER+STRICT to restrict it")]
    CommunityOnly(String),
}

/// The TLP 2.0 rule of this community: TLP:RED needs named recipients;
/// TLP:AMBER+STRICT and TLP:AMBER may go to the community or an audience;
/// TLP:CLEAR and TLP:GREEN go to the whole community.
///
/// CLEAR and GREEN are meant to travel further than the community, so
/// sealing them would promise a confidentiality the marking itself waives;
/// RED may not leave the people it was given to, so a group resolved from a
/// sector or a Member State is not enough.
pub fn check_marking(tlp: Tlp, reach: Reach<'_>) -> Result<(), MarkingError> {
    match (tlp, reach) {
        (Tlp::Red, Reach::Community) => Err(MarkingError::RedNeedsRecipients),
        (Tlp::Red, Reach::Audience(selectors)) => {
            match selectors.iter().find(|s| !matches!(s, Selector::Entity(_))) {
                Some(group) => Err(MarkingError::RedToGroup(group.clone())),
                None => Ok(()),
            }
        }
        (Tlp::Amber | Tlp::AmberStrict, _) => Ok(()),
        (Tlp::Clear | Tlp::Green, Reach::Community) => Ok(()),
        (Tlp::Clear | Tlp::Green, Reach::Audience(_)) => {
            Err(MarkingError::CommunityOnly(tlp.label()))
        }
    }
}

/// Structural checks on selectors, as a reason for the error message.
pub(crate) fn check_selectors(selectors: &[Selector]) -> Result<(), String> {
    if selectors.len() > MAX_SELECTORS {
        return Err(format!("more than {MAX_SELECTORS} audience selectors"));
    }
    for (i, s) in selectors.iter().enumerate() {
        if selectors[..i].contains(s) {
            return Err(format!("the audience names {s} twice"));
        }
        if let Selector::Entity(name) = s {
            if name.trim().is_empty()
                || name.len() > MAX_ENTITY_NAME
                || name.chars().any(char::is_control)
            {
                return Err(format!(
                    "audience entity name {name:?} must be 1-{MAX_ENTITY_NAME} bytes without control characters"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(n: &str) -> Selector {
        Selector::Entity(n.into())
    }

    #[test]
    fn the_marking_table_of_the_issue() {
        let named = [entity("A"), entity("B")];
        let sector = [Selector::Sector(Sector::Health)];
        let state = [entity("A"), Selector::MemberState("DE".parse().unwrap())];
        let by_key: [Selector; 0] = [];
        for tlp in Tlp::ALL {
            let community = check_marking(*tlp, Reach::Community);
            let to_named = check_marking(*tlp, Reach::Audience(&named));
            let to_sector = check_marking(*tlp, Reach::Audience(&sector));
            let to_state = check_marking(*tlp, Reach::Audience(&state));
            let to_keys = check_marking(*tlp, Reach::Audience(&by_key));
            match tlp {
                Tlp::Red => {
                    assert_eq!(community, Err(MarkingError::RedNeedsRecipients));
                    assert_eq!(to_named, Ok(()));
                    assert_eq!(to_keys, Ok(()));
                    assert!(matches!(to_sector, Err(MarkingError::RedToGroup(_))));
                    assert!(matches!(to_state, Err(MarkingError::RedToGroup(_))));
                }
                Tlp::Amber | Tlp::AmberStrict => {
                    for r in [community, to_named, to_sector, to_state, to_keys] {
                        assert_eq!(r, Ok(()), "{tlp}");
                    }
                }
                Tlp::Clear | Tlp::Green => {
                    assert_eq!(community, Ok(()));
                    for r in [to_named, to_sector, to_state, to_keys] {
                        assert!(matches!(r, Err(MarkingError::CommunityOnly(_))), "{tlp}");
                    }
                }
            }
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let red = check_marking(Tlp::Red, Reach::Community)
            .unwrap_err()
            .to_string();
        assert!(red.contains("--to"), "{red}");
        let green = check_marking(Tlp::Green, Reach::Audience(&[entity("A")]))
            .unwrap_err()
            .to_string();
        assert!(
            green.contains("TLP:GREEN") && green.contains("AMBER"),
            "{green}"
        );
    }

    #[test]
    fn selectors_are_checked() {
        assert!(check_selectors(&[entity("A"), entity("A")]).is_err());
        assert!(check_selectors(&[entity("line\nbreak")]).is_err());
        assert!(check_selectors(&[entity(" ")]).is_err());
        let many: Vec<_> = (0..=MAX_SELECTORS)
            .map(|i| entity(&i.to_string()))
            .collect();
        assert!(check_selectors(&many).is_err());
        assert!(check_selectors(&[entity("A"), Selector::Sector(Sector::Energy)]).is_ok());
    }
}
