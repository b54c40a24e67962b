//! Formats other tools speak (STIX 2.1, TAXII 2.1, CSAF 2.0) and the
//! rule every export obeys: what leaves the node is decided here, as plain
//! functions over the views the control API gives out, so the CLI, the
//! TAXII server and any later feed share one rule and one mapping.
//!
//! Exports start from [`ItemView`]s, never from stored items: the view is
//! where the node decides what it may show of an item (`Api::item_view` in
//! the daemon), so an export can never contain what `cairn items show` would
//! not.

pub mod csaf;
pub mod ids;
pub mod ioc;
pub mod misp;
pub mod misp_import;
pub mod pyjson;
pub mod stix;
pub mod stix_import;
pub mod taxii;

use crate::control::ItemView;
use crate::tlp::Tlp;
use serde::{Deserialize, Serialize};

/// How far an export may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPolicy {
    /// The highest marking exported. TLP:RED is exported only when this is
    /// RED, which an operator must ask for by name.
    pub max_tlp: Tlp,
}

impl Default for ExportPolicy {
    /// CLEAR and GREEN: the markings that may leave the community.
    fn default() -> Self {
        ExportPolicy {
            max_tlp: Tlp::Green,
        }
    }
}

/// Why an item was held back from an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Withheld {
    /// Sealed to an audience this node is not in (or could not open).
    NotInAudience,
    /// Marked above the export's maximum.
    AboveMaxTlp,
    /// TLP:RED on a node that is not among its named recipients.
    RedNotRecipient,
}

impl std::fmt::Display for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Withheld::NotInAudience => "sealed to an audience this node is not in",
            Withheld::AboveMaxTlp => "marked above the export's maximum TLP",
            Withheld::RedNotRecipient => "TLP:RED and this node is not a named recipient",
        })
    }
}

/// Whether `view` may be exported under `policy`. An item this node cannot
/// read is never exported, whatever the policy; TLP:RED only when the
/// policy names RED and this node is one of the item's named recipients
/// (every TLP:RED item is sealed to named recipients, so reading it means
/// being one).
pub fn check_export(view: &ItemView, policy: &ExportPolicy) -> Result<(), Withheld> {
    let readable = view.audience.as_ref().is_none_or(|a| a.readable);
    if !readable {
        return Err(Withheld::NotInAudience);
    }
    if view.tlp > policy.max_tlp {
        return Err(Withheld::AboveMaxTlp);
    }
    if view.tlp == Tlp::Red && view.audience.as_ref().is_none_or(|a| !a.readable) {
        return Err(Withheld::RedNotRecipient);
    }
    Ok(())
}

/// Counts of items held back from one export, by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithheldCounts {
    #[serde(default)]
    pub not_in_audience: u64,
    #[serde(default)]
    pub above_max_tlp: u64,
    #[serde(default)]
    pub red_not_recipient: u64,
}

impl WithheldCounts {
    pub fn add(&mut self, why: Withheld) {
        match why {
            Withheld::NotInAudience => self.not_in_audience += 1,
            Withheld::AboveMaxTlp => self.above_max_tlp += 1,
            Withheld::RedNotRecipient => self.red_not_recipient += 1,
        }
    }

    pub fn merge(&mut self, other: &WithheldCounts) {
        self.not_in_audience += other.not_in_audience;
        self.above_max_tlp += other.above_max_tlp;
        self.red_not_recipient += other.red_not_recipient;
    }

    /// The reasons with a count, in a fixed order: why a one-item export
    /// came back empty.
    pub fn reasons(&self) -> Vec<Withheld> {
        [
            (self.not_in_audience, Withheld::NotInAudience),
            (self.above_max_tlp, Withheld::AboveMaxTlp),
            (self.red_not_recipient, Withheld::RedNotRecipient),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, why)| why)
        .collect()
    }

    pub fn total(&self) -> u64 {
        self.not_in_audience + self.above_max_tlp + self.red_not_recipient
    }

    /// One line per reason with a count, for the operator.
    pub fn lines(&self) -> Vec<String> {
        [
            (self.not_in_audience, Withheld::NotInAudience),
            (self.above_max_tlp, Withheld::AboveMaxTlp),
            (self.red_not_recipient, Withheld::RedNotRecipient),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} item(s) not exported: {why}"))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::AudienceView;

    fn view(tlp: Tlp, audience: Option<bool>) -> ItemView {
        let mut v = crate::interop::stix::tests::view(7, crate::ItemKind::NearMiss, tlp, &[]);
        v.audience = audience.map(|readable| AudienceView {
            selectors: vec!["A".into()],
            recipients: vec!["A".into()],
            readable,
            unreadable_reason: None,
            sealed_size: 10,
        });
        v
    }

    #[test]
    fn unreadable_items_never_leave_and_red_needs_both_consents() {
        let all = ExportPolicy { max_tlp: Tlp::Red };
        for tlp in Tlp::ALL {
            assert_eq!(
                check_export(&view(*tlp, Some(false)), &all),
                Err(Withheld::NotInAudience)
            );
        }
        assert_eq!(check_export(&view(Tlp::Red, Some(true)), &all), Ok(()));
        assert_eq!(
            check_export(&view(Tlp::Red, None), &all),
            Err(Withheld::RedNotRecipient)
        );
        let amber = ExportPolicy {
            max_tlp: Tlp::AmberStrict,
        };
        assert_eq!(
            check_export(&view(Tlp::Red, Some(true)), &amber),
            Err(Withheld::AboveMaxTlp)
        );
        assert_eq!(check_export(&view(Tlp::AmberStrict, None), &amber), Ok(()));
        let default = ExportPolicy::default();
        assert_eq!(check_export(&view(Tlp::Green, None), &default), Ok(()));
        assert_eq!(
            check_export(&view(Tlp::Amber, None), &default),
            Err(Withheld::AboveMaxTlp)
        );
    }

    #[test]
    fn withheld_counts_say_why() {
        let mut c = WithheldCounts::default();
        c.add(Withheld::NotInAudience);
        c.add(Withheld::NotInAudience);
        c.add(Withheld::AboveMaxTlp);
        assert_eq!(c.total(), 3);
        let lines = c.lines();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("2 item(s)"), "{lines:?}");
    }
}
