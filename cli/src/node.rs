//! The commands that talk to the local node: one request each, the answer
//! printed for people or, with `--json`, as the response's payload.

use crate::client::Client;
use crate::publish::{self, PublishArgs};
use crate::render;
use anyhow::{anyhow, bail, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse, RegisterView};
use cairn_protocol::ItemId;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;

/// `--json`, shared by every command that prints what the node answered.
#[derive(Debug, Args)]
pub struct Json {
    /// Print the answer as JSON instead of the human format
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ItemsCommand {
    /// Items newest first, all or those matching the filters, a page at a
    /// time (the last line gives the cursor of the next page)
    List(crate::find::ListArgs),
    /// One item in full, by id or by the short id `items list` shows
    Show {
        #[arg(value_name = "ID")]
        id: String,
        #[command(flatten)]
        out: Json,
    },
    /// The bytes of an item's payload, exactly as published: to --out FILE,
    /// or to stdout when it is not a terminal (a terminal gets plain text
    /// only)
    Payload {
        /// The item's id, or at least 4 of its hex digits as `items list` shows
        #[arg(value_name = "ID")]
        id: String,
        /// Write the payload to FILE (created mode 0600, never overwritten)
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// The participation register (competent authority nodes only)
    List(Json),
    /// The register, then every new entry as it is recorded, until interrupted
    /// (with --json: one JSON object per line)
    Watch(Json),
}

/// How many of the newest items a short id is looked up among.
const PREFIX_SEARCH: usize = 10_000;

pub fn status(client: &Client, o: &Json, out: &mut dyn Write) -> Result<()> {
    match client.request(&ControlRequest::Status)? {
        ControlResponse::Status(s) => print(out, o, &s, || render::status(&s)),
        other => Err(unexpected("status", &other)),
    }
}

pub fn publish(client: &Client, a: &PublishArgs, out: &mut dyn Write) -> Result<()> {
    let item = publish::request(a)?;
    let request = if a.as_pseudonym {
        ControlRequest::PublishAsPseudonym(item)
    } else {
        ControlRequest::Publish(item)
    };
    match client.request(&request)? {
        ControlResponse::Published { id, stored, queued } => {
            let json = serde_json::json!({ "id": id, "stored": stored, "queued": queued });
            if let Some(why) = &queued {
                // Said on stderr so scripts reading the id are not disturbed.
                eprintln!("note: {why}");
            }
            print(out, &Json { json: a.json }, &json, || format!("{id}\n"))
        }
        other => Err(unexpected("publish", &other)),
    }
}

pub fn items(client: &Client, cmd: &ItemsCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        ItemsCommand::List(args) => crate::find::list(client, args, out),
        ItemsCommand::Show { id, out: o } => {
            let id = resolve_item(client, id)?;
            match client.request(&ControlRequest::ShowItem { id })? {
                ControlResponse::Item(item) => print(out, o, &item, || render::item(&item)),
                other => Err(unexpected("show-item", &other)),
            }
        }
        ItemsCommand::Payload { id, out: file } => {
            use std::io::IsTerminal;
            let tty = std::io::stdout().is_terminal();
            crate::payload::run(client, id, file.as_deref(), out, tty)
        }
    }
}

/// A full item id, or the one item among the newest whose id starts with
/// the given hex digits.
pub fn resolve_item(client: &Client, given: &str) -> Result<ItemId> {
    let given = given.trim().to_ascii_lowercase();
    if let Ok(id) = given.parse::<ItemId>() {
        return Ok(id);
    }
    if given.len() < 4
        || given.len() >= 2 * ItemId::LEN
        || !given.bytes().all(|b| b.is_ascii_hexdigit())
    {
        bail!("'{given}' is not an item id: give the 64 hex digits, or at least 4 of them as shown by `cairn items list`");
    }
    let items = match client.request(&ControlRequest::ListItems {
        limit: PREFIX_SEARCH,
    })? {
        ControlResponse::Items { items } => items,
        other => return Err(unexpected("list-items", &other)),
    };
    let found: Vec<ItemId> = items
        .iter()
        .map(|i| i.id)
        .filter(|id| id.to_string().starts_with(&given))
        .collect();
    match found.as_slice() {
        [id] => Ok(*id),
        [] => bail!("no item id starts with {given} among the newest {PREFIX_SEARCH}: check `cairn items list`"),
        _ => bail!("{} items have ids starting with {given}: give more digits", found.len()),
    }
}

/// `cairn reveal ITEM --reason TEXT` (the authority's node): the entity
/// behind a pseudonymous item, as the register now records it.
pub fn reveal(
    client: &Client,
    item: &str,
    reason: &str,
    o: &Json,
    out: &mut dyn Write,
) -> Result<()> {
    cairn_protocol::pseudonym::check_reason(reason)
        .map_err(|_| anyhow!("--reason must say why, on one line of at most {} bytes (a case number or legal basis): it is kept in the register with the reveal", cairn_protocol::pseudonym::MAX_REVEAL_REASON))?;
    let item = resolve_item(client, item)?;
    let request = ControlRequest::Reveal {
        item,
        reason: reason.trim().to_string(),
    };
    match client.request(&request)? {
        ControlResponse::Revealed(entry) => print(out, o, &entry, || render::reveal(&entry)),
        other => Err(unexpected("reveal", &other)),
    }
}

pub fn members(client: &Client, o: &Json, out: &mut dyn Write) -> Result<()> {
    match client.request(&ControlRequest::Members)? {
        ControlResponse::Members { members } => {
            print(out, o, &members, || render::members(&members))
        }
        other => Err(unexpected("members", &other)),
    }
}

/// `join`, `withdraw` and `participation`: each answers with this node's
/// participation events and their receipts.
pub fn participation(
    client: &Client,
    request: ControlRequest,
    o: &Json,
    out: &mut dyn Write,
) -> Result<()> {
    let op = op_name(&request);
    match client.request(&request)? {
        ControlResponse::Participation { events } => {
            print(out, o, &events, || render::participation(&events))
        }
        other => Err(unexpected(&op, &other)),
    }
}

pub fn register(client: &Client, cmd: &RegisterCommand, out: &mut dyn Write) -> Result<()> {
    match cmd {
        RegisterCommand::List(o) => match client.request(&ControlRequest::RegisterList)? {
            ControlResponse::Register { entries } => {
                print(out, o, &entries, || render::register(&entries))
            }
            other => Err(unexpected("register-list", &other)),
        },
        RegisterCommand::Watch(o) => watch(client, o.json, out),
    }
}

/// Streams the register: the existing entries, then each new one. JSON mode
/// prints one compact object per line so the stream can be piped.
fn watch(client: &Client, json: bool, out: &mut dyn Write) -> Result<()> {
    let mut widths = render::register_widths(&[]);
    client.stream(&ControlRequest::RegisterWatch, |response| {
        let entries: Vec<RegisterView> = match response {
            ControlResponse::Register { entries } => {
                if !json {
                    widths = render::register_widths(&entries);
                    out.write_all(render::register_header(&widths).as_bytes())?;
                }
                entries
            }
            ControlResponse::RegisterEntry(entry) => vec![entry],
            other => return Err(unexpected("register-watch", &other)),
        };
        for e in &entries {
            if json {
                writeln!(out, "{}", serde_json::to_string(e)?)?;
            } else {
                out.write_all(render::register_line(e, &widths).as_bytes())?;
            }
        }
        Ok(out.flush()?)
    })
}

/// Prints `payload` as pretty JSON, or `human()`.
fn print<T: Serialize>(
    out: &mut dyn Write,
    o: &Json,
    payload: &T,
    human: impl FnOnce() -> String,
) -> Result<()> {
    if o.json {
        writeln!(out, "{}", serde_json::to_string_pretty(payload)?)?;
    } else {
        out.write_all(human().as_bytes())?;
    }
    Ok(out.flush()?)
}

/// An answer of the wrong kind: the node speaks another protocol version.
pub fn unexpected(op: &str, response: &ControlResponse) -> anyhow::Error {
    let got = serde_json::to_value(response)
        .ok()
        .and_then(|v| v.get("result").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_else(|| "something else".to_string());
    anyhow!("cairnd answered '{got}' to a {op} request: are cairn and cairnd the same version?")
}

/// The request's name as it appears on the wire.
fn op_name(request: &ControlRequest) -> String {
    serde_json::to_value(request)
        .ok()
        .and_then(|v| v.get("op").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_answers_name_both_sides() {
        let err = unexpected("status", &ControlResponse::Members { members: vec![] });
        assert_eq!(
            err.to_string(),
            "cairnd answered 'members' to a status request: are cairn and cairnd the same version?"
        );
        assert_eq!(op_name(&ControlRequest::Withdraw), "withdraw");
    }

    #[test]
    fn item_ids_must_be_hex_before_any_lookup() {
        let client = Client::new("/nonexistent/cairnd.sock".into());
        for bad in ["xyz", "abc", "zzzzzzzz"] {
            let err = resolve_item(&client, bad).unwrap_err().to_string();
            assert!(err.contains("is not an item id"), "{bad}: {err}");
        }
        let full = "ab".repeat(32);
        assert_eq!(resolve_item(&client, &full).unwrap(), ItemId([0xab; 32]));
        let err = resolve_item(&client, "abcd").unwrap_err().to_string();
        assert!(err.starts_with("no cairnd is listening"), "{err}");
    }
}
