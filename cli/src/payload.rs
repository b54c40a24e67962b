//! `cairn items payload ID [--out FILE]`: an item's payload, byte for byte.
//!
//! The bytes go to `--out FILE` (created owner-only, never overwritten: a
//! payload may be TLP:AMBER or RED) or to stdout when it is a pipe or a
//! file. A terminal gets them only if they are plain text: raw bytes from
//! another member could be binary noise or escape sequences that drive the
//! terminal, so those need `--out` or a redirection.

use crate::client::Client;
use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse, PayloadView};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Fetches item `given`'s payload and writes it out.
pub fn run(
    client: &Client,
    given: &str,
    out_file: Option<&Path>,
    stdout: &mut dyn Write,
    stdout_is_terminal: bool,
) -> Result<()> {
    let id = crate::node::resolve_item(client, given)?;
    let payload = match client.request(&ControlRequest::ItemPayload { id })? {
        ControlResponse::ItemPayload(p) => p,
        other => return Err(crate::node::unexpected("item-payload", &other)),
    };
    write(&payload, out_file, stdout, stdout_is_terminal)
}

/// Writes the payload's bytes exactly, where the operator asked.
pub fn write(
    p: &PayloadView,
    out_file: Option<&Path>,
    stdout: &mut dyn Write,
    stdout_is_terminal: bool,
) -> Result<()> {
    match out_file {
        Some(path) => to_file(path, &p.bytes),
        None if stdout_is_terminal && !is_plain_text(&p.bytes) => bail!(
            "item {}'s payload is {} bytes of {} that are not plain text: not written to a terminal; give --out FILE or redirect stdout",
            crate::render::short(p.id),
            p.bytes.len(),
            p.media_type
        ),
        None => {
            stdout.write_all(&p.bytes)?;
            Ok(stdout.flush()?)
        }
    }
}

fn to_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow!(
                "{} already exists: remove it or choose another --out",
                path.display()
            ),
            _ => anyhow!("cannot create {}: {e}", path.display()),
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// UTF-8 without control characters other than tab and line ends: what a
/// terminal shows as it is.
pub fn is_plain_text(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(text) => !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_protocol::ItemId;

    fn view(bytes: &[u8]) -> PayloadView {
        PayloadView {
            id: ItemId([0xab; 32]),
            media_type: "application/octet-stream".into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn only_plain_text_counts_as_safe_for_a_terminal() {
        assert!(is_plain_text(b"{\"type\": \"bundle\"}\n\tok\r\n"));
        assert!(is_plain_text("Zürich".as_bytes()));
        assert!(is_plain_text(b""));
        assert!(
            !is_plain_text(b"\x1b[2J"),
            "escape sequences drive the terminal"
        );
        assert!(!is_plain_text(b"\x00\x01\x02"));
        assert!(!is_plain_text(&[0xff, 0xfe, b'a']), "not UTF-8");
        assert!(!is_plain_text("a\u{9b}b".as_bytes()), "C1 control (CSI)");
    }

    #[test]
    fn binary_is_refused_on_a_terminal_and_written_exactly_elsewhere() {
        let binary: Vec<u8> = (0..=255).collect();
        let mut out = Vec::new();
        let err = write(&view(&binary), None, &mut out, true).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("--out FILE") && msg.contains("256 bytes"),
            "{msg}"
        );
        assert!(msg.contains("abababababab"), "names the item: {msg}");
        assert!(out.is_empty());
        write(&view(&binary), None, &mut out, false).unwrap();
        assert_eq!(out, binary, "a pipe gets the bytes exactly");
        let mut out = Vec::new();
        write(&view(b"plain text\n"), None, &mut out, true).unwrap();
        assert_eq!(out, b"plain text\n");
    }

    #[test]
    fn out_files_get_the_exact_bytes_owner_only_and_are_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("payload.bin");
        let binary: Vec<u8> = (0..=255).rev().collect();
        let mut stdout = Vec::new();
        write(&view(&binary), Some(&path), &mut stdout, true).unwrap();
        assert!(stdout.is_empty());
        assert_eq!(std::fs::read(&path).unwrap(), binary);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let err = write(&view(b"other"), Some(&path), &mut stdout, false).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), binary, "left as it was");
    }
}
