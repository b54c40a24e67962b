//! Who a member is: entity type, sector, Member State and roles.

use serde::{Deserialize, Serialize};

crate::named_enum!(
    /// The entity's standing under NIS2.
    EntityType, "entity type", {
        /// An essential entity (NIS2 Art. 3(1)).
        Essential => "essential",
        /// An important entity (NIS2 Art. 3(2)).
        Important => "important",
        /// A supplier or service provider of such entities (Art. 29(2)).
        Supplier => "supplier",
        /// A computer security incident response team (Art. 10-11).
        Csirt => "csirt",
        /// A competent authority (Art. 8), the receiver of Art. 29(4) notifications.
        CompetentAuthority => "competent-authority",
    }
);

crate::named_enum!(
    /// Sector of NIS2 Annex I (high criticality) or Annex II (other critical).
    Sector, "sector", {
        Energy => "energy",
        Transport => "transport",
        Banking => "banking",
        FinancialMarketInfrastructures => "financial-market-infrastructures",
        Health => "health",
        DrinkingWater => "drinking-water",
        WasteWater => "waste-water",
        DigitalInfrastructure => "digital-infrastructure",
        IctServiceManagement => "ict-service-management",
        PublicAdministration => "public-administration",
        Space => "space",
        PostalAndCourier => "postal-and-courier",
        WasteManagement => "waste-management",
        Chemicals => "chemicals",
        Food => "food",
        Manufacturing => "manufacturing",
        DigitalProviders => "digital-providers",
        Research => "research",
    }
);

crate::named_enum!(
    /// What a certificate allows its holder to do in the community.
    Role, "role", {
        /// May publish shared items.
        Publish => "publish",
        /// May receive shared items.
        Receive => "receive",
        /// Keeps the participation register and signs receipts.
        Authority => "authority",
    }
);

/// The 27 EU Member States by ISO 3166-1 alpha-2 code (Greece is GR here,
/// not the EU's EL, because certificates follow ISO).
pub const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// An EU Member State, ISO 3166-1 alpha-2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MemberState([u8; 2]);

/// A country code that is not an EU Member State.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an EU Member State code: use ISO 3166-1 alpha-2, e.g. DE, FR, NL (Greece is GR)"
)]
pub struct NotAMemberState(pub String);

impl MemberState {
    /// The two-letter code.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::str::FromStr for MemberState {
    type Err = NotAMemberState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let up = s.trim().to_ascii_uppercase();
        if MEMBER_STATES.contains(&up.as_str()) {
            let b = up.as_bytes();
            Ok(MemberState([b[0], b[1]]))
        } else {
            Err(NotAMemberState(s.to_string()))
        }
    }
}

/// Decoding is strict (exactly the upper-case code) so a certificate has one
/// encoding; [`FromStr`](std::str::FromStr) is lenient for people typing.
impl TryFrom<String> for MemberState {
    type Error = NotAMemberState;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if MEMBER_STATES.contains(&s.as_str()) {
            s.parse()
        } else {
            Err(NotAMemberState(s))
        }
    }
}

impl From<MemberState> for String {
    fn from(m: MemberState) -> String {
        m.as_str().to_string()
    }
}

impl std::fmt::Display for MemberState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively_and_list_choices_on_error() {
        assert_eq!("Health".parse::<Sector>().unwrap(), Sector::Health);
        assert_eq!(
            "competent-authority".parse::<EntityType>().unwrap(),
            EntityType::CompetentAuthority
        );
        let err = "bakery".parse::<Sector>().unwrap_err().to_string();
        assert!(err.contains("unknown sector 'bakery'"), "{err}");
        assert!(err.contains("energy") && err.contains("research"), "{err}");
        for s in Sector::ALL {
            assert_eq!(s.as_str().parse::<Sector>().unwrap(), *s);
        }
    }

    #[test]
    fn member_states_are_eu_iso_codes_only() {
        assert_eq!("de".parse::<MemberState>().unwrap().as_str(), "DE");
        assert!("EL".parse::<MemberState>().is_err());
        assert!("US".parse::<MemberState>().is_err());
        assert!("DEU".parse::<MemberState>().is_err());
        let json = serde_json::to_string(&"NL".parse::<MemberState>().unwrap()).unwrap();
        assert_eq!(json, "\"NL\"");
        assert!(serde_json::from_str::<MemberState>("\"XX\"").is_err());
        assert!(serde_json::from_str::<MemberState>("\"nl\"").is_err());
    }
}
