//! `cairnd`, the Cairn node: the libp2p network task, the local control API,
//! participation delivery and the authority role.

pub mod api;
pub mod audience;
pub mod authority;
pub mod config;
pub mod context;
pub mod control;
pub mod demo;
pub mod expiry;
pub mod http;
pub mod ingest;
pub mod log_limit;
pub mod metrics;
pub mod misp_feed;
pub mod network;
pub mod node;
pub mod notices;
pub mod participation;
pub mod pseudonym;
pub mod rate_limit;
pub mod revocations;
pub mod revoked_items;
pub mod stages;
pub mod store_health;
pub mod sync;
pub mod taxii;
#[cfg(test)]
mod testutil;
pub mod web;
