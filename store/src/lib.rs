//! Durable state of a Cairn node.

pub mod files;
