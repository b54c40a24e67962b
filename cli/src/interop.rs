//! `cairn export` and `cairn import`: exchange formats other tools speak
//! (STIX 2.1; CSAF 2.0 in `csaf.rs`), through the local node. Exports take their items from the
//! node's views, page by page, and keep only what the export policy lets
//! out; imports publish each item of a bundle through the node, like
//! `cairn publish`. The mapping itself is `cairn_protocol::interop`.

use crate::client::Client;
use crate::rfc3339;
use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{
    AudienceRequest, ControlRequest, ControlResponse, ExportQuery, ItemView,
};
use cairn_protocol::interop::stix_import::{self, ImportOptions};
use cairn_protocol::interop::{stix, ExportPolicy, WithheldCounts};
use cairn_protocol::{ItemKind, Timestamp, Tlp};
use clap::{Args, Subcommand};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the items this node may export as one STIX 2.1 bundle
    Stix(StixExportArgs),
    /// Write the items this node may export as a MISP feed directory, as
    /// PyMISP's feed generator writes one
    MispFeed(crate::misp::FeedExportArgs),
    /// Write a vulnerability item (with cve: and cpe:/purl:/product: tags)
    /// as a CSAF 2.0 security advisory
    Csaf(crate::csaf::CsafExportArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Publish the objects of a STIX 2.1 bundle as items of this node
    Stix(StixImportArgs),
    /// Publish the events of a MISP feed (a directory or an http(s) URL)
    /// as items of this node
    MispFeed(crate::misp::FeedImportArgs),
}

#[derive(Debug, Args)]
pub struct StixExportArgs {
    /// Only items created at or after this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = rfc3339::parse)]
    pub since: Option<Timestamp>,
    /// Only items of this kind (repeatable)
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<ItemKind>,
    /// The highest marking to export: CLEAR and GREEN unless named here.
    /// TLP:RED is exported only with RED, and only items this node is a
    /// named recipient of
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label, default_value = "GREEN")]
    pub max_tlp: Tlp,
    /// Where to write the bundle ('-' for standard output)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct StixImportArgs {
    /// The bundle ('-' for standard input)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The marking of objects that carry none (without it they are refused)
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label)]
    pub tlp: Option<Tlp>,
    /// Seal the imported AMBER, AMBER+STRICT and RED items to these members
    /// (legal names, comma-separated; TLP:RED items need this)
    #[arg(long = "to", value_name = "ENTITY", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Check the bundle and print what would be published, publish nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result as JSON
    #[arg(long)]
    pub json: bool,
}

/// Largest bundle file read.
const MAX_BUNDLE: u64 = 256 << 20;

/// Items asked for per export page (the node may cap it).
const PAGE: usize = 500;

/// Every item the node lets out under `query`, page by page.
pub fn fetch_exportable(
    client: &Client,
    mut query: ExportQuery,
) -> Result<(Vec<ItemView>, WithheldCounts)> {
    let mut items = Vec::new();
    let mut withheld = WithheldCounts::default();
    loop {
        let page = match client.request(&ControlRequest::ExportItems(query.clone()))? {
            ControlResponse::ExportPage(p) => p,
            other => return Err(crate::node::unexpected("export-items", &other)),
        };
        items.extend(page.items);
        withheld.merge(&page.withheld);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok((items, withheld)),
        }
    }
}

pub fn export(client: &Client, cmd: &ExportCommand, out: &mut dyn Write) -> Result<()> {
    let a = match cmd {
        ExportCommand::Stix(a) => a,
        ExportCommand::MispFeed(a) => return crate::misp::export(client, a, out),
        ExportCommand::Csaf(a) => return crate::csaf::export(client, a, out),
    };
    let policy = ExportPolicy { max_tlp: a.max_tlp };
    let query = ExportQuery {
        since: a.since,
        kinds: a.kinds.clone(),
        policy,
        after: None,
        limit: PAGE,
        item: None,
    };
    let (views, withheld) = fetch_exportable(client, query)?;
    let export = stix::export(&views, &policy);
    let mut text = serde_json::to_string_pretty(&export.bundle)?;
    text.push('\n');
    write_out(&a.out, text.as_bytes())?;
    for note in &export.notes {
        eprintln!("note: {note}");
    }
    let mut held = withheld;
    held.merge(&export.withheld);
    for line in held.lines() {
        eprintln!("note: {line}");
    }
    let objects = export.bundle["objects"].as_array().map_or(0, Vec::len);
    if a.out != Path::new("-") {
        writeln!(
            out,
            "{} item(s), {objects} STIX object(s) written to {}",
            export.items,
            a.out.display()
        )?;
    }
    Ok(out.flush()?)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so an
/// interrupted export never leaves half a bundle behind.
pub(crate) fn write_out(path: &Path, bytes: &[u8]) -> Result<()> {
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        lock.write_all(bytes)?;
        return Ok(lock.flush()?);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

pub fn import(client: &Client, cmd: &ImportCommand, out: &mut dyn Write) -> Result<()> {
    let a = match cmd {
        ImportCommand::Stix(a) => a,
        ImportCommand::MispFeed(a) => return crate::misp::import(client, a, out),
    };
    let text = read_bundle(&a.file)?;
    let options = ImportOptions {
        default_tlp: a.tlp,
        named_recipients: !a.to.is_empty(),
    };
    let plan = stix_import::import(&text, &options)
        .map_err(|e| anyhow!("{}: {e}; nothing was imported", a.file.display()))?;
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    // The node checks taxonomy tags too, but only item by item: checking
    // them all first keeps a bad label from leaving half a bundle behind.
    for item in &plan.items {
        cairn_protocol::taxonomy::check_tags(&item.request.tags, item.request.tlp).map_err(
            |e| {
                anyhow!(
                    "{}: {}: {e}; nothing was imported",
                    a.file.display(),
                    item.root
                )
            },
        )?;
    }
    let audience = AudienceRequest {
        entities: a.to.iter().map(|e| e.trim().to_string()).collect(),
        ..Default::default()
    };
    let mut published = Vec::new();
    for item in plan.items {
        let mut request = item.request;
        if request.tlp >= Tlp::Amber {
            request.audience = audience.clone();
        }
        if a.dry_run {
            published.push(serde_json::json!({
                "root": item.root, "kind": request.kind, "tlp": request.tlp,
                "title": request.title, "id": null,
            }));
            continue;
        }
        let id =
            match client.request(&ControlRequest::Publish(request.clone())) {
                Ok(ControlResponse::Published { id, .. }) => id,
                Ok(other) => return Err(crate::node::unexpected("publish", &other)),
                Err(e) => bail!(
                "publishing {} failed: {e}; {} item(s) of this bundle were published before it{}",
                item.root,
                published.len(),
                if published.is_empty() { "" } else { " (see above)" }
            ),
            };
        if !a.json {
            writeln!(
                out,
                "{id}  {}  {}  {}",
                request.kind,
                request.tlp.label(),
                item.root
            )?;
        }
        published.push(serde_json::json!({
            "root": item.root, "kind": request.kind, "tlp": request.tlp,
            "title": request.title, "id": id,
        }));
    }
    if a.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&published)?)?;
    } else if a.dry_run {
        for p in &published {
            writeln!(
                out,
                "would publish {} {} {}",
                p["kind"], p["tlp"], p["root"]
            )?;
        }
    }
    Ok(out.flush()?)
}

fn read_bundle(path: &Path) -> Result<String> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_BUNDLE + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_BUNDLE + 1).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_BUNDLE {
        bail!(
            "{} is over {} MiB: split the bundle",
            path.display(),
            MAX_BUNDLE >> 20
        );
    }
    String::from_utf8(bytes).map_err(|_| anyhow!("{} is not UTF-8 JSON", path.display()))
}
