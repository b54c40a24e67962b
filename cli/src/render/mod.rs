//! Human output for what the node answers: aligned columns, RFC 3339 times,
//! TLP as `TLP:AMBER`. `--json` bypasses this module entirely.
//!
//! One file per kind of answer: the node's status, items, members, its own
//! participation events, and the register. The helpers they share (short
//! ids, aligned fields, dashes for undisclosed values) are here.

mod items;
mod members;
mod participation;
mod register;
mod status;

pub use items::{item, items};
pub use members::members;
pub use participation::participation;
pub use register::{register, register_header, register_line, register_widths, reveal};
pub use status::{status, sync_peer};

use crate::table::clean_line;

/// Hex digits of an id shown in tables; `cairn items show` accepts them.
pub const SHORT_ID: usize = 12;

/// The first [`SHORT_ID`] hex digits of an id.
pub fn short(id: impl std::fmt::Display) -> String {
    id.to_string().chars().take(SHORT_ID).collect()
}

/// Labelled lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<w$}  {}\n", clean_line(v)))
        .collect()
}

/// A field a pseudonym may leave undisclosed, as a table cell.
fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

#[cfg(test)]
pub(crate) mod tests;
