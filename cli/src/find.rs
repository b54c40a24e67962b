//! `cairn items list`: the newest items, or those a query finds, a page at
//! a time. Each flag narrows the answer; the node answers from its index.

use crate::client::Client;
use crate::node::{unexpected, Json};
use crate::render;
use anyhow::Result;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::query::{Cursor, ItemQuery, MAX_PAGE};
use cairn_protocol::{ItemKind, Timestamp, Tlp};
use clap::Args;
use std::io::Write;

/// What `items list` asks the node for.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// How many items to show (1 to 10000)
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=MAX_PAGE as u64))]
    pub limit: u64,
    /// Only this kind (repeat for any of several)
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<ItemKind>,
    /// Only this TLP marking, e.g. AMBER or TLP:AMBER+STRICT (repeat for any of several)
    #[arg(long = "tlp", value_name = "TLP", value_parser = Tlp::parse_label)]
    pub tlps: Vec<Tlp>,
    /// Only items carrying this tag exactly (repeat: all of them)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Only items with a tag starting with this, e.g. `ioc:` (repeat: each must match)
    #[arg(long = "tag-prefix", value_name = "PREFIX")]
    pub tag_prefixes: Vec<String>,
    /// Only items of this publisher: its entity's legal name, member key or certificate id
    #[arg(long, value_name = "NAME|KEY")]
    pub publisher: Option<String>,
    /// Only items created at or after this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = crate::rfc3339::parse)]
    pub since: Option<Timestamp>,
    /// Only items created before this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = crate::rfc3339::parse)]
    pub until: Option<Timestamp>,
    /// Only items whose title or body holds every one of these words
    #[arg(long, value_name = "WORDS")]
    pub text: Option<String>,
    /// Continue after the page that printed this cursor
    #[arg(long, value_name = "CURSOR")]
    pub cursor: Option<Cursor>,
    #[command(flatten)]
    pub out: Json,
}

impl ListArgs {
    /// The query these flags stand for.
    pub fn query(&self) -> ItemQuery {
        ItemQuery {
            kinds: self.kinds.clone(),
            tlps: self.tlps.clone(),
            tags: self.tags.clone(),
            tag_prefixes: self.tag_prefixes.clone(),
            publisher: self.publisher.clone(),
            since: self.since,
            until: self.until,
            text: self.text.clone(),
            cursor: self.cursor,
            limit: self.limit as usize,
        }
    }

    fn narrowed(&self) -> bool {
        let q = self.query();
        q != ItemQuery {
            cursor: q.cursor,
            limit: q.limit,
            ..ItemQuery::default()
        }
    }
}

/// Runs `items list`. With `--json` the items are printed as a JSON array
/// (as before paging existed) and the next cursor, if any, on stderr as
/// `next: CURSOR`; for people, after the table.
pub fn list(client: &Client, args: &ListArgs, out: &mut dyn Write) -> Result<()> {
    let page = match client.request(&ControlRequest::QueryItems(args.query()))? {
        ControlResponse::ItemPage(page) => page,
        other => return Err(unexpected("query-items", &other)),
    };
    if args.out.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&page.items)?)?;
        if let Some(next) = page.next {
            eprintln!("next: {next}");
        }
        return Ok(out.flush()?);
    }
    if page.items.is_empty() {
        let why = if args.narrowed() || args.cursor.is_some() {
            "no items match\n"
        } else {
            "no items yet\n"
        };
        out.write_all(why.as_bytes())?;
    } else {
        out.write_all(render::items(&page.items).as_bytes())?;
    }
    if let Some(next) = page.next {
        writeln!(out, "next page: --cursor {next}")?;
    }
    Ok(out.flush()?)
}
