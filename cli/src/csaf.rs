//! `cairn export csaf ITEM`: one vulnerability item as a CSAF 2.0 security
//! advisory. The node lets the item out under the same export rule as every
//! export (or says why not); the mapping and its refusals are
//! `cairn_protocol::interop::csaf`.

use crate::client::Client;
use crate::interop::write_out;
use anyhow::{anyhow, bail, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse, ExportQuery};
use cairn_protocol::interop::csaf::{self, Options, Refusal};
use cairn_protocol::interop::ExportPolicy;
use cairn_protocol::Tlp;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct CsafExportArgs {
    /// The item: its id, or at least 4 leading hex digits of it
    #[arg(value_name = "ITEM")]
    pub item: String,
    /// The highest marking to export: CLEAR and GREEN unless named here.
    /// TLP:RED is exported only with RED, and only by a named recipient
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label, default_value = "GREEN")]
    pub max_tlp: Tlp,
    /// The publisher's namespace, a URL it controls (CSAF
    /// `document.publisher.namespace`); by default a URN naming the
    /// publisher's certificate
    #[arg(long, value_name = "URL")]
    pub namespace: Option<String>,
    /// Where to write the advisory ('-' for standard output)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

pub fn export(client: &Client, a: &CsafExportArgs, out: &mut dyn Write) -> Result<()> {
    if let Some(ns) = &a.namespace {
        let scheme = ns.split_once(':').map_or("", |(s, _)| s);
        if scheme.is_empty()
            || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            || ns.chars().any(char::is_whitespace)
        {
            bail!("--namespace {ns:?} is not a URL: give one the publisher controls, e.g. https://csirt.example");
        }
    }
    let id = crate::node::resolve_item(client, &a.item)?;
    let policy = ExportPolicy { max_tlp: a.max_tlp };
    let query = ExportQuery {
        since: None,
        kinds: vec![],
        policy,
        after: None,
        limit: 1,
        item: Some(id),
    };
    let page = match client.request(&ControlRequest::ExportItems(query))? {
        ControlResponse::ExportPage(p) => p,
        other => return Err(crate::node::unexpected("export-items", &other)),
    };
    let view = match (
        page.items.into_iter().next(),
        page.withheld.reasons().first(),
    ) {
        (Some(view), _) => view,
        (None, Some(why)) => bail!(
            "item {id} is not exported as CSAF: {}; nothing was written",
            Refusal::Withheld(*why)
        ),
        (None, None) => {
            bail!("the node answered without item {id}: are cairn and cairnd the same version?")
        }
    };
    let options = Options {
        namespace: a.namespace.clone(),
    };
    let doc = csaf::advisory(&view, &policy, &options)
        .map_err(|why| anyhow!("item {id} is not exported as CSAF: {why}; nothing was written"))?;
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    write_out(&a.out, text.as_bytes())?;
    if a.out != Path::new("-") {
        writeln!(
            out,
            "{} written to {} ({}, TLP label {})",
            csaf::tracking_id(&view),
            a.out.display(),
            view.tlp.label(),
            csaf::tlp_label(view.tlp)
        )?;
    }
    Ok(out.flush()?)
}
