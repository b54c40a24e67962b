//! Traffic Light Protocol 2.0 markings (FIRST, 2022).

crate::named_enum!(
    /// How far recipients may share an item.
    Tlp, "TLP marking", {
        /// Recipients may share without restriction.
        Clear => "CLEAR",
        /// Within the recipients' community, not publicly.
        Green => "GREEN",
        /// Within the recipient organisation and its clients, need to know.
        Amber => "AMBER",
        /// Within the recipient organisation only.
        AmberStrict => "AMBER+STRICT",
        /// Named recipients only, no further disclosure.
        Red => "RED",
    }
);

impl Tlp {
    /// Parses `AMBER`, `amber+strict`, or the label form `TLP:AMBER`.
    pub fn parse_label(s: &str) -> Result<Self, crate::names::UnknownName> {
        let t = s.trim();
        let bare = t
            .strip_prefix("TLP:")
            .or_else(|| t.strip_prefix("tlp:"))
            .unwrap_or(t);
        bare.parse()
    }

    /// The label as TLP 2.0 writes it, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> String {
        format!("TLP:{}", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_five_markings_round_trip_through_labels() {
        assert_eq!(Tlp::ALL.len(), 5);
        for t in Tlp::ALL {
            assert_eq!(Tlp::parse_label(&t.label()).unwrap(), *t);
            assert_eq!(Tlp::parse_label(t.as_str()).unwrap(), *t);
        }
        assert_eq!(Tlp::parse_label("amber+strict").unwrap(), Tlp::AmberStrict);
    }

    #[test]
    fn tlp_white_from_version_1_is_not_accepted() {
        let err = Tlp::parse_label("WHITE").unwrap_err().to_string();
        assert!(
            err.contains("CLEAR, GREEN, AMBER, AMBER+STRICT, RED"),
            "{err}"
        );
    }
}
