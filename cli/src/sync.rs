//! `cairn sync` and `cairn status --watch`: catch-up progress for people.
//!
//! A node that was offline reconciles with its peers by itself; these
//! commands let an operator start a round now and watch a large catch-up
//! advance, with a progress bar (indicatif) on a terminal and plain lines
//! otherwise.

use crate::client::Client;
use crate::node::Json;
use anyhow::{bail, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse, NodeStatus, SyncStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// `500/1000 items (50%)`.
fn fraction(done: u64, total: u64) -> String {
    let total = total.max(1);
    let done = done.min(total);
    format!("{done}/{total} items ({}%)", done * 100 / total)
}

fn progress_line(s: &SyncStatus) -> String {
    match (crate::render::sync_peer(s), s.running) {
        (Some(peer), true) if s.needed > 0 => {
            format!("catching up from {peer}: {}", fraction(s.fetched, s.needed))
        }
        (Some(peer), true) => format!("reconciling with {peer}"),
        _ => "waiting for a session".to_string(),
    }
}

/// The terminal's view of a catch-up: a bar while items are fetched, the
/// progress line otherwise.
fn show(bar: &ProgressBar, s: &SyncStatus) {
    match (crate::render::sync_peer(s), s.running) {
        (Some(peer), true) if s.needed > 0 => {
            bar.set_style(
                ProgressStyle::with_template(
                    "catching up from {prefix}: [{bar:30}] {percent:>3}% {pos}/{len}",
                )
                .expect("a valid template")
                .progress_chars("#>-"),
            );
            bar.set_prefix(peer);
            bar.set_length(s.needed);
            bar.set_position(s.fetched.min(s.needed));
        }
        _ => {
            bar.set_style(ProgressStyle::with_template("{msg}").expect("a valid template"));
            bar.set_message(progress_line(s));
        }
    }
}

/// Reconciles with every connected member now, showing progress.
pub fn run(client: &Client, o: &Json, out: &mut dyn Write) -> Result<()> {
    let tty = std::io::stderr().is_terminal() && !o.json;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let mut last = String::new();
    client.stream_until(&ControlRequest::Sync, |response| match response {
        ControlResponse::SyncProgress(s) => {
            let line = progress_line(&s);
            if tty {
                show(&bar, &s);
            } else if line != last && !o.json {
                eprintln!("{line}");
            }
            last = line;
            Ok(true)
        }
        ControlResponse::SyncDone(s) => {
            bar.finish_and_clear();
            if o.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&s)?)?;
            } else {
                match &s.last_error {
                    Some(e) => writeln!(out, "sync finished; the last session stopped early: {e}")?,
                    None => writeln!(out, "in sync: {} sessions completed", s.sessions)?,
                }
            }
            Ok(false)
        }
        ControlResponse::Error { message } => bail!(message),
        other => {
            bail!("cairnd answered sync with {other:?}: are cairn and cairnd the same version?")
        }
    })
}

fn status_line(s: &NodeStatus) -> String {
    format!(
        "{} items, {} members connected, {} events awaiting receipt; {}",
        s.items,
        s.connected_members,
        s.outbox_pending,
        progress_line(&s.sync)
    )
}

/// Prints a one-line status every second until interrupted.
pub fn watch_status(client: &Client, o: &Json, out: &mut dyn Write) -> Result<()> {
    let tty = std::io::stdout().is_terminal() && !o.json;
    loop {
        let s = match client.request(&ControlRequest::Status)? {
            ControlResponse::Status(s) => s,
            other => bail!("cairnd answered status with {other:?}"),
        };
        if o.json {
            writeln!(out, "{}", serde_json::to_string(&s)?)?;
        } else if tty {
            write!(out, "\r{:<100}", status_line(&s))?;
        } else {
            writeln!(out, "{}", status_line(&s))?;
        }
        out.flush()?;
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_never_overflow() {
        assert_eq!(fraction(0, 10), "0/10 items (0%)");
        assert_eq!(fraction(5, 10), "5/10 items (50%)");
        assert_eq!(fraction(12, 10), "10/10 items (100%)");
        assert_eq!(fraction(0, 0), "0/1 items (0%)");
    }

    #[test]
    fn progress_lines_say_what_is_happening() {
        let mut s = SyncStatus::default();
        assert_eq!(progress_line(&s), "waiting for a session");
        s.running = true;
        s.peer = Some("12D3KooWabcdefgh".into());
        // An older node sends no name: the end of the PeerId, marked as such.
        assert_eq!(progress_line(&s), "reconciling with peer …abcdefgh");
        s.peer_name = Some("Stadtwerke Beispiel".into());
        assert_eq!(progress_line(&s), "reconciling with Stadtwerke Beispiel");
        s.needed = 100;
        s.fetched = 25;
        let line = progress_line(&s);
        assert!(
            line.starts_with("catching up from Stadtwerke Beispiel: "),
            "{line}"
        );
        assert!(line.ends_with(": 25/100 items (25%)"), "{line}");
    }
}
