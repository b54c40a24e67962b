//! Participation notices by any path: events and receipts that travel
//! store-and-forward through members when this node (or the member that
//! signed an event) has no connection to the authority.
//!
//! - [`pool`]: what a node holds for others (events waiting for a receipt,
//!   receipts on their way back), bounded, deduplicated;
//! - [`relay`]: checking, keeping and passing notices on (flooding each
//!   new one once to every connected member, and everything held to each
//!   member as it is admitted), and the authority's side of it;
//! - [`delivery`]: how this node's own events are going, for `cairn join`,
//!   `cairn participation` and `cairn status`.
//!
//! The direct request to the authority stays the fast path
//! (`participation::deliver`); this is what carries a notice when there is
//! no such connection. Nothing here is trusted: every relay checks every
//! notice's signature, and the authority's register is idempotent, so a
//! notice arriving by three paths is registered once.

pub mod delivery;
pub mod pool;
pub mod relay;
