//! The authority's register of participation: one entry per accepted event.

use crate::event::SignedEvent;
use crate::receipt::Receipt;
use serde::{Deserialize, Serialize};

/// An accepted event and the receipt the authority issued for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEntry {
    pub index: u64,
    pub event: SignedEvent,
    pub receipt: Receipt,
}
