//! The authority's register: one entry per accepted participation event,
//! and one per reveal of the entity behind a pseudonym.

use crate::event::SignedEvent;
use crate::pseudonym::Reveal;
use crate::receipt::Receipt;
use serde::{Deserialize, Serialize};

/// One entry of the register, at its index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEntry {
    pub index: u64,
    pub record: RegisterRecord,
}

/// What an entry records.
// Nearly every entry is a participation entry; boxing those to spare the
// rare reveal some bytes would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegisterRecord {
    /// A member's accepted event and the receipt the authority issued for it
    /// (Art. 29(4)).
    Participation {
        event: SignedEvent,
        receipt: Receipt,
    },
    /// The authority opened the escrow behind a pseudonymous item; signed by
    /// the authority, naming its own index.
    Reveal(Reveal),
}

impl RegisterEntry {
    /// The participation event and receipt, if this entry records one.
    pub fn participation(&self) -> Option<(&SignedEvent, &Receipt)> {
        match &self.record {
            RegisterRecord::Participation { event, receipt } => Some((event, receipt)),
            RegisterRecord::Reveal(_) => None,
        }
    }

    /// The reveal, if this entry records one.
    pub fn reveal(&self) -> Option<&Reveal> {
        match &self.record {
            RegisterRecord::Reveal(r) => Some(r),
            RegisterRecord::Participation { .. } => None,
        }
    }
}
