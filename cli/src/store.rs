//! `cairn store check`: the operator's scrub of the local node's item store.

use crate::client::Client;
use crate::node::Json;
use anyhow::{anyhow, bail, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse};
use std::io::Write;

/// Asks the node to read back every item now. Damaged items are taken out
/// and fetched again from members; the command then fails (exit 1) so a
/// monitoring script notices the disk.
pub fn check(client: &Client, o: &Json, out: &mut dyn Write) -> Result<()> {
    let (checked, dropped) = match client.request(&ControlRequest::StoreCheck)? {
        ControlResponse::StoreChecked { checked, dropped } => (checked, dropped),
        ControlResponse::Error { message } => bail!("{message}"),
        other => return Err(anyhow!("unexpected answer to store check: {other:?}")),
    };
    if o.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"checked": checked, "dropped": dropped})
        )?;
    } else if dropped.is_empty() {
        writeln!(out, "checked {checked} items: every one reads back intact")?;
    } else {
        writeln!(
            out,
            "checked {checked} items: {} damaged, taken out of the store; the node fetches them again from its members in the next catch-up (`cairn status`):",
            dropped.len()
        )?;
        for id in &dropped {
            writeln!(out, "  {id}")?;
        }
    }
    if dropped.is_empty() {
        Ok(())
    } else {
        bail!(
            "{} damaged item(s) found on this node's disk; check the disk's health",
            dropped.len()
        )
    }
}
