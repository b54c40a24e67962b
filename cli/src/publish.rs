//! `cairn publish`: turning flags and files into a [`PublishRequest`], with
//! every limit the network enforces checked here first so a mistake is
//! reported before anything is sent, in terms of the flag to change.

use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{AudienceRequest, PublishRequest};
use cairn_protocol::item::{MAX_BODY, MAX_PAYLOAD, MAX_TAG, MAX_TAGS, MAX_TITLE};
use cairn_protocol::{Contents, ItemKind, MemberState, Payload, Sector, Tlp};
use clap::{ArgGroup, Args};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("text").required(true).args(["body", "file"])))]
pub struct PublishArgs {
    /// What the item is, e.g. indicator-of-compromise, vulnerability, near-miss
    #[arg(long)]
    pub kind: ItemKind,
    /// TLP 2.0 marking: CLEAR, GREEN, AMBER, AMBER+STRICT or RED (TLP:AMBER works too)
    #[arg(long, value_parser = Tlp::parse_label)]
    pub tlp: Tlp,
    /// A one-line summary
    #[arg(long)]
    pub title: String,
    /// The item text
    #[arg(long)]
    pub body: Option<String>,
    /// Read the item text from a UTF-8 file ('-' for standard input)
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Attach structured content, e.g. a STIX bundle, from this file
    #[arg(long, value_name = "PATH", requires = "media_type")]
    pub payload: Option<PathBuf>,
    /// The payload's media type, e.g. application/stix+json;version=2.1
    #[arg(long, value_name = "TYPE", requires = "payload")]
    pub media_type: Option<String>,
    /// Seal the item to these members only, by legal name (comma-separated
    /// or repeated; `cairn members` lists them). TLP:RED needs this
    #[arg(long = "to", value_name = "ENTITY", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Seal the item to every member of this sector this node knows
    /// (repeatable; not for TLP:RED)
    #[arg(long = "to-sector", value_name = "SECTOR")]
    pub to_sector: Vec<Sector>,
    /// Seal the item to every member established in this Member State this
    /// node knows (repeatable; not for TLP:RED)
    #[arg(long = "to-member-state", value_name = "CC")]
    pub to_member_state: Vec<MemberState>,
    /// A taxonomy tag such as rsit:malicious-code (repeatable)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Sign with the node's pseudonymous key and certificate (`[pseudonym]`
    /// in cairn.toml): the item shows "a certified member", not the entity
    #[arg(long)]
    pub as_pseudonym: bool,
    /// Print the node's answer as JSON
    #[arg(long)]
    pub json: bool,
}

/// Builds the request, refusing anything the node would refuse.
pub fn request(a: &PublishArgs) -> Result<PublishRequest> {
    let title = a.title.trim().to_string();
    if title.is_empty() {
        bail!("--title is empty: give the item a one-line summary");
    }
    if title.len() > MAX_TITLE {
        bail!("--title is {} bytes, over the {MAX_TITLE}-byte limit: shorten it and put details in the body", title.len());
    }
    let body = match (&a.body, &a.file) {
        (Some(text), _) if text.len() > MAX_BODY => bail!(
            "--body is {} bytes, over the {MAX_BODY}-byte limit for item text: attach long content with --payload FILE --media-type TYPE",
            text.len()
        ),
        (Some(text), _) => text.clone(),
        (None, Some(path)) => body_file(path)?,
        (None, None) => bail!("give the item text with --body TEXT or --file PATH"),
    };
    let payload = match (&a.payload, &a.media_type) {
        (Some(path), Some(media_type)) => Some(payload(path, media_type)?),
        _ => None,
    };
    if a.tags.len() > MAX_TAGS {
        bail!(
            "{} tags given, at most {MAX_TAGS} are allowed",
            a.tags.len()
        );
    }
    if let Some(t) = a
        .tags
        .iter()
        .find(|t| t.is_empty() || t.len() > MAX_TAG || t.chars().any(char::is_whitespace))
    {
        bail!("--tag '{t}' must be 1-{MAX_TAG} bytes without spaces, e.g. rsit:malicious-code");
    }
    // The node checks again; here the operator learns before anything is
    // sent, with the valid values listed.
    cairn_protocol::taxonomy::check_tags(&a.tags, a.tlp).map_err(|e| anyhow!("--{e}"))?;
    let audience = AudienceRequest {
        entities: a.to.iter().map(|e| e.trim().to_string()).collect(),
        sectors: a.to_sector.clone(),
        member_states: a.to_member_state.clone(),
    };
    if let Err(e) = audience.check_marking(a.tlp) {
        bail!("{e}");
    }
    let request = PublishRequest {
        kind: a.kind,
        tlp: a.tlp,
        title,
        body,
        payload,
        tags: a.tags.clone(),
        audience,
    };
    shape_check(&request)?;
    Ok(request)
}

fn body_file(path: &Path) -> Result<String> {
    let bytes = read_at_most(path, MAX_BODY, |size| {
        format!(
            "{} is {size} bytes, over the {MAX_BODY}-byte limit for item text: attach it with --payload {} --media-type TYPE and give a short --body",
            path.display(),
            path.display()
        )
    })?;
    String::from_utf8(bytes).map_err(|_| {
        anyhow!(
            "{} is not UTF-8 text: attach binary content with --payload {} --media-type TYPE and give a short --body",
            path.display(),
            path.display()
        )
    })
}

fn payload(path: &Path, media_type: &str) -> Result<Payload> {
    let media_type = media_type.trim();
    if !media_type.contains('/') || media_type.len() > MAX_TAG {
        bail!("--media-type '{media_type}' must look like type/subtype (at most {MAX_TAG} bytes), e.g. application/stix+json;version=2.1");
    }
    let bytes = read_at_most(path, MAX_PAYLOAD, |size| {
        format!(
            "{} is {size} bytes, over the {MAX_PAYLOAD}-byte payload limit: split it or share a reference to it instead",
            path.display()
        )
    })?;
    Ok(Payload {
        media_type: media_type.to_string(),
        bytes,
    })
}

/// Reads `path` (`-` is standard input), failing with `too_big(size)` when it
/// holds more than `limit` bytes; never reads more than `limit + 1`.
fn read_at_most(path: &Path, limit: usize, too_big: impl Fn(String) -> String) -> Result<Vec<u8>> {
    let cap = limit as u64 + 1;
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(cap).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(cap).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() > limit {
        let size = std::fs::metadata(path)
            .map(|m| m.len().to_string())
            .unwrap_or_else(|_| format!("more than {limit}"));
        bail!(too_big(size));
    }
    Ok(bytes)
}

/// The protocol's own shape rules, so a rule added there is enforced here
/// even before this module learns to phrase it.
fn shape_check(r: &PublishRequest) -> Result<()> {
    let contents = Contents {
        title: r.title.clone(),
        body: r.body.clone(),
        payload: r.payload.clone(),
        tags: r.tags.clone(),
    };
    Ok(contents.check_shape()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        a: PublishArgs,
    }

    fn parse(args: &[&str]) -> Result<PublishArgs, clap::Error> {
        let mut all = vec!["publish"];
        all.extend_from_slice(args);
        Wrap::try_parse_from(all).map(|w| w.a)
    }

    const OK: [&str; 6] = ["--kind", "near-miss", "--tlp", "TLP:AMBER", "--title", "t"];

    #[test]
    fn tlp_labels_and_bare_markings_both_parse() {
        let a = parse(&[&OK[..], &["--body", "x"]].concat()).unwrap();
        assert_eq!(a.tlp, Tlp::Amber);
        let r = request(&a).unwrap();
        assert_eq!((r.kind, r.body.as_str()), (ItemKind::NearMiss, "x"));
        let err = parse(&[
            "--kind",
            "near-miss",
            "--tlp",
            "WHITE",
            "--title",
            "t",
            "--body",
            "x",
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("CLEAR, GREEN, AMBER, AMBER+STRICT, RED"),
            "{err}"
        );
    }

    #[test]
    fn unknown_kinds_list_the_kinds() {
        let err = parse(&[
            "--kind", "rumour", "--tlp", "RED", "--title", "t", "--body", "x",
        ])
        .unwrap_err();
        assert!(err.to_string().contains("cyber-threat, near-miss"), "{err}");
    }

    #[test]
    fn exactly_one_of_body_and_file_and_payload_needs_a_media_type() {
        assert!(parse(&OK).is_err());
        assert!(parse(&[&OK[..], &["--body", "x", "--file", "f"]].concat()).is_err());
        assert!(parse(&[&OK[..], &["--body", "x", "--payload", "p"]].concat()).is_err());
    }

    #[test]
    fn oversized_or_binary_files_suggest_a_payload() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.txt");
        std::fs::write(&big, "x".repeat(MAX_BODY + 1)).unwrap();
        let a = parse(&[&OK[..], &["--file", big.to_str().unwrap()]].concat()).unwrap();
        let err = request(&a).unwrap_err().to_string();
        assert!(
            err.contains(&format!("{} bytes, over the {MAX_BODY}-byte", MAX_BODY + 1)),
            "{err}"
        );
        assert!(err.contains("--payload"), "{err}");

        let bin = dir.path().join("bin");
        std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
        let a = parse(&[&OK[..], &["--file", bin.to_str().unwrap()]].concat()).unwrap();
        let err = request(&a).unwrap_err().to_string();
        assert!(
            err.contains("not UTF-8") && err.contains("--payload"),
            "{err}"
        );

        let missing = dir.path().join("missing");
        let a = parse(&[&OK[..], &["--file", missing.to_str().unwrap()]].concat()).unwrap();
        assert!(format!("{:#}", request(&a).unwrap_err()).contains("cannot read"));
    }

    #[test]
    fn payloads_tags_and_media_types_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bundle.json");
        std::fs::write(&p, vec![b' '; MAX_PAYLOAD + 1]).unwrap();
        let path = p.to_str().unwrap();
        let a = parse(
            &[
                &OK[..],
                &[
                    "--body",
                    "x",
                    "--payload",
                    path,
                    "--media-type",
                    "application/json",
                ],
            ]
            .concat(),
        )
        .unwrap();
        assert!(request(&a)
            .unwrap_err()
            .to_string()
            .contains("payload limit"));
        std::fs::write(dir.path().join("small.json"), b"{}").unwrap();
        let small = dir.path().join("small.json");
        let a = parse(
            &[
                &OK[..],
                &[
                    "--body",
                    "x",
                    "--payload",
                    small.to_str().unwrap(),
                    "--media-type",
                    "json",
                ],
            ]
            .concat(),
        )
        .unwrap();
        assert!(request(&a)
            .unwrap_err()
            .to_string()
            .contains("type/subtype"));
        let a = parse(&[&OK[..], &["--body", "x", "--tag", "has space"]].concat()).unwrap();
        assert!(request(&a)
            .unwrap_err()
            .to_string()
            .contains("without spaces"));
        let a = parse(
            &[
                &OK[..],
                &[
                    "--body",
                    "x",
                    "--payload",
                    small.to_str().unwrap(),
                    "--media-type",
                    "application/json",
                    "--tag",
                    "a:b",
                ],
            ]
            .concat(),
        )
        .unwrap();
        let r = request(&a).unwrap();
        assert_eq!(r.payload.unwrap().bytes, b"{}");
        assert_eq!(r.tags, ["a:b"]);
    }

    #[test]
    fn red_without_named_recipients_is_refused_before_anything_is_sent() {
        let red = [
            "--kind",
            "near-miss",
            "--tlp",
            "RED",
            "--title",
            "t",
            "--body",
            "x",
        ];
        let err = request(&parse(&red).unwrap()).unwrap_err().to_string();
        assert!(err.contains("TLP:RED") && err.contains("--to"), "{err}");
        let to_sector = [&red[..], &["--to-sector", "health"]].concat();
        let err = request(&parse(&to_sector).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("named"), "{err}");
        let named = [&red[..], &["--to", "Hospital A,Grid Operator"]].concat();
        let r = request(&parse(&named).unwrap()).unwrap();
        assert_eq!(r.audience.entities, vec!["Hospital A", "Grid Operator"]);
    }

    #[test]
    fn green_to_an_audience_is_refused() {
        let green = [
            "--kind",
            "near-miss",
            "--tlp",
            "GREEN",
            "--title",
            "t",
            "--body",
            "x",
            "--to",
            "Hospital A",
        ];
        let err = request(&parse(&green).unwrap()).unwrap_err().to_string();
        assert!(err.contains("whole community"), "{err}");
    }
}
