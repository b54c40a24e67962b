//! Catch-up and anti-entropy: gossipsub is best-effort, so nodes also
//! reconcile their item sets with each member they connect to (and
//! periodically), fetch what they lack in bounded batches, and verify it
//! exactly like gossip before storing. Fetched items are never re-gossiped.

pub mod answer;
pub mod assign;
pub mod fetch;
pub mod hint;
pub mod index;
pub mod manager;
pub mod reconcile;
pub mod refused;
pub mod revocations;
pub mod schedule;
pub mod share;
