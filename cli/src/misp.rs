//! `cairn export misp-feed` and `cairn import misp-feed`: MISP feeds in a
//! directory (or, for import, at an http(s) URL), through the local node.
//! The mapping is `cairn_protocol::interop::misp` (export) and
//! `misp_import`; this module reads and writes the files and talks to the
//! node.

use crate::client::Client;
use crate::interop::fetch_exportable;
use crate::rfc3339;
use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{AudienceRequest, ControlRequest, ControlResponse, ExportQuery};
use cairn_protocol::interop::misp_import::{self, ImportedEvent};
use cairn_protocol::interop::{misp, ExportPolicy};
use cairn_protocol::{ItemKind, Timestamp, Tlp};
use clap::Args;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct FeedExportArgs {
    /// The feed's directory (created if missing): manifest.json,
    /// hashes.csv and one <uuid>.json per item
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// Only items created at or after this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME", value_parser = rfc3339::parse)]
    pub since: Option<Timestamp>,
    /// Only items of this kind (repeatable)
    #[arg(long = "kind", value_name = "KIND")]
    pub kinds: Vec<ItemKind>,
    /// The highest marking to export: CLEAR and GREEN unless named here
    /// (AMBER or AMBER+STRICT); a feed never carries TLP:RED
    #[arg(long, value_name = "TLP", value_parser = Tlp::parse_label, default_value = "GREEN")]
    pub max_tlp: Tlp,
}

#[derive(Debug, Args)]
pub struct FeedImportArgs {
    /// The feed: a directory, or an http(s) URL (credentials for HTTP
    /// Basic as https://user:password@host/path/)
    #[arg(value_name = "DIR_OR_URL")]
    pub source: String,
    /// Seal the imported AMBER, AMBER+STRICT and RED items to these members
    /// (legal names, comma-separated; TLP:RED events need this)
    #[arg(long = "to", value_name = "ENTITY", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Check the feed and print what would be published, publish nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Largest manifest read.
const MAX_MANIFEST: u64 = 64 << 20;
/// Largest event file read.
const MAX_EVENT: u64 = 16 << 20;
/// Items asked for per export page (the node may cap it).
const PAGE: usize = 500;

pub fn export(client: &Client, a: &FeedExportArgs, out: &mut dyn Write) -> Result<()> {
    if a.max_tlp == Tlp::Red {
        bail!(
            "--max-tlp RED is refused: a MISP feed is read by whoever has its URL, and \
             TLP:RED is for named recipients only; export at most AMBER+STRICT"
        );
    }
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
    let feed = misp::feed(&views, &policy);
    std::fs::create_dir_all(&a.dir)
        .with_context(|| format!("cannot create the feed directory {}", a.dir.display()))?;
    let old = previous_events(&a.dir);
    for e in &feed.events {
        write_file(&a.dir.join(format!("{}.json", e.uuid)), e.json.as_bytes())?;
    }
    write_file(&a.dir.join("hashes.csv"), feed.hashes.as_bytes())?;
    // The manifest last: a reader never finds it naming a missing event.
    write_file(&a.dir.join("manifest.json"), feed.manifest.as_bytes())?;
    // Events of an earlier export that this one no longer carries (held
    // back now, say) go, so the directory serves only what is allowed.
    // Only files the earlier manifest named: the directory may hold others.
    for uuid in old {
        if feed.event(&uuid).is_none() {
            let _ = std::fs::remove_file(a.dir.join(format!("{uuid}.json")));
        }
    }
    for note in &feed.notes {
        eprintln!("note: {note}");
    }
    let mut held = withheld;
    held.merge(&feed.withheld);
    for line in held.lines() {
        eprintln!("note: {line}");
    }
    writeln!(
        out,
        "{} event(s) written to {} (manifest.json, hashes.csv)",
        feed.events.len(),
        a.dir.display()
    )?;
    Ok(out.flush()?)
}

/// The event uuids the directory's current manifest names.
fn previous_events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("manifest.json"))
        .ok()
        .and_then(|text| misp_import::manifest_uuids(&text).ok())
        .unwrap_or_default()
}

/// Writes through a temporary file and a rename, so a reader of the
/// directory (a web server serving it) never sees half a file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    Ok(())
}

/// Where a feed is read from.
enum Source {
    Dir(PathBuf),
    Url {
        base: String,
        authorization: Option<String>,
    },
}

impl Source {
    fn parse(s: &str) -> Source {
        let Some((scheme, rest)) = s.split_once("://") else {
            return Source::Dir(PathBuf::from(s));
        };
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Source::Dir(PathBuf::from(s));
        }
        let (host_end, _) = rest
            .char_indices()
            .find(|(_, c)| *c == '/')
            .unwrap_or((rest.len(), '/'));
        let (authority, path) = rest.split_at(host_end);
        let (credentials, host) = match authority.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, authority),
        };
        let authorization = credentials.map(|c| {
            use base64::Engine;
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(c.as_bytes())
            )
        });
        let mut base = format!("{scheme}://{host}{path}");
        if !base.ends_with('/') {
            base.push('/');
        }
        Source::Url {
            base,
            authorization,
        }
    }

    fn describe(&self) -> String {
        match self {
            Source::Dir(d) => d.display().to_string(),
            Source::Url { base, .. } => base.clone(),
        }
    }

    /// One file of the feed, at most `max` bytes, as text.
    fn read(&self, name: &str, max: u64) -> Result<String> {
        match self {
            Source::Dir(dir) => {
                let path = dir.join(name);
                let mut bytes = Vec::new();
                std::fs::File::open(&path)
                    .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if bytes.len() as u64 > max {
                    bail!("{} is over {} MiB", path.display(), max >> 20);
                }
                String::from_utf8(bytes)
                    .map_err(|_| anyhow!("{} is not UTF-8 JSON", path.display()))
            }
            Source::Url {
                base,
                authorization,
            } => {
                let url = format!("{base}{name}");
                let mut request = ureq::get(&url);
                if let Some(a) = authorization {
                    request = request.header("Authorization", a);
                }
                let mut response = request.call().map_err(|e| match e {
                    ureq::Error::StatusCode(401) => anyhow!(
                        "{url}: 401, the feed wants credentials: give them in the URL \
                         (https://user:password@host/path/)"
                    ),
                    e => anyhow!("cannot fetch {url}: {e}"),
                })?;
                response
                    .body_mut()
                    .with_config()
                    .limit(max)
                    .read_to_string()
                    .map_err(|e| anyhow!("cannot read {url}: {e}"))
            }
        }
    }
}

pub fn import(client: &Client, a: &FeedImportArgs, out: &mut dyn Write) -> Result<()> {
    let source = Source::parse(&a.source);
    let manifest = source.read("manifest.json", MAX_MANIFEST)?;
    let uuids = misp_import::manifest_uuids(&manifest)
        .map_err(|e| anyhow!("{}: {e}; nothing was imported", source.describe()))?;
    // Every event is read and checked before anything is published, so a
    // refused event leaves nothing half-imported behind.
    let mut events: Vec<ImportedEvent> = Vec::new();
    let mut refused = Vec::new();
    for uuid in &uuids {
        let text = source.read(&format!("{uuid}.json"), MAX_EVENT)?;
        match misp_import::event(uuid, &text, !a.to.is_empty()) {
            Ok(e) => events.push(e),
            Err(e) => refused.push(e.to_string()),
        }
    }
    if !refused.is_empty() {
        bail!(
            "{}: {} of {} event(s) refused, nothing was imported:\n  {}",
            source.describe(),
            refused.len(),
            uuids.len(),
            refused.join("\n  ")
        );
    }
    let audience = AudienceRequest {
        entities: a.to.iter().map(|e| e.trim().to_string()).collect(),
        ..Default::default()
    };
    let mut published = 0;
    for event in events {
        for note in &event.notes {
            eprintln!("note: {note}");
        }
        let mut request = event.request;
        if request.tlp >= Tlp::Amber {
            request.audience = audience.clone();
        }
        if a.dry_run {
            writeln!(
                out,
                "would publish {}  {}  {}  {}",
                event.uuid,
                request.kind,
                request.tlp.label(),
                request.title
            )?;
            continue;
        }
        let id = match client.request(&ControlRequest::Publish(request.clone())) {
            Ok(ControlResponse::Published { id, .. }) => id,
            Ok(other) => return Err(crate::node::unexpected("publish", &other)),
            Err(e) => bail!(
                "publishing event {} failed: {e}; {published} event(s) of this feed were \
                 published before it",
                event.uuid
            ),
        };
        published += 1;
        writeln!(
            out,
            "{id}  {}  {}  {}",
            request.kind,
            request.tlp.label(),
            event.uuid
        )?;
    }
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_urls_carry_their_credentials_apart() {
        match Source::parse("https://reader:s3cret@feeds.example:8443/misp-feed") {
            Source::Url {
                base,
                authorization,
            } => {
                assert_eq!(base, "https://feeds.example:8443/misp-feed/");
                // base64("reader:s3cret")
                assert_eq!(authorization.as_deref(), Some("Basic cmVhZGVyOnMzY3JldA=="));
            }
            Source::Dir(_) => panic!("a URL"),
        }
        match Source::parse("http://127.0.0.1:7481/f/") {
            Source::Url {
                base,
                authorization,
            } => assert_eq!(
                (base.as_str(), authorization),
                ("http://127.0.0.1:7481/f/", None)
            ),
            Source::Dir(_) => panic!("a URL"),
        }
        assert!(matches!(Source::parse("./feed"), Source::Dir(_)));
    }
}
