//! The libp2p side of a node: one task owns the Swarm ([`event_loop`]);
//! everything else talks to it through a [`client::Client`].

pub mod address_limits;
pub mod admission;
pub mod behaviour;
pub mod bootstrap;
pub mod client;
pub mod codec;
pub mod directory;
pub mod directory_addresses;
pub mod directory_codec;
pub mod directory_config;
pub mod event_loop;
pub mod instances;
pub mod liveness;
pub mod peers;
pub mod pending;
pub mod transport;
