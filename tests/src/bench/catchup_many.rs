//! Catch-up from three members at once: the same items on three nodes (A's
//! store copied twice while A is stopped), a fresh node bootstrapped to all
//! three; the time until it holds every item. Part of `catchup`, beside
//! the one-holder figure and the verification ceiling of the same run.

use super::catchup::watch_catchup;
use super::fixture::{data_dir, dial_addr, Fixture, Member};
use super::progress;
use anyhow::Context as _;
use cairn_daemon::node::{self, RunningNode};
use std::path::Path;
use std::time::Instant;

/// Members holding the items.
pub const HOLDERS: usize = 3;

/// Seconds until a node bootstrapped to [`HOLDERS`] members holding the
/// `items` items in `a_dir`'s store (closed) holds them all. `a_member` is
/// A's identity; the other holders and the fetching node are new members.
pub async fn from_three(
    fixture: &mut Fixture,
    a_member: &Member,
    a_dir: &Path,
    root: &Path,
    items: usize,
) -> anyhow::Result<f64> {
    progress(format!(
        "catchup: copying A's store to {} more holders",
        HOLDERS - 1
    ));
    let mut dirs = vec![a_dir.to_path_buf()];
    for k in 1..HOLDERS {
        let dir = root.join(format!("holder-{k}"));
        tokio::task::block_in_place(|| copy_dir(&data_dir(a_dir), &data_dir(&dir)))
            .with_context(|| format!("copying A's store to {}", dir.display()))?;
        dirs.push(dir);
    }
    let mut members = vec![None];
    for _ in 1..HOLDERS {
        members.push(Some(fixture.member()));
    }
    let mut holders: Vec<RunningNode> = Vec::new();
    let mut addrs = Vec::new();
    let mut started = Ok(());
    for (dir, m) in dirs.iter().zip(&members) {
        let member = m.as_ref().unwrap_or(a_member);
        match node::start(fixture.settings(member, dir, addrs.clone())).await {
            Ok(n) => {
                match dial_addr(&n).await {
                    Ok(a) => addrs.push(a),
                    Err(e) => started = Err(e),
                }
                holders.push(n);
            }
            Err(e) => started = Err(anyhow::Error::from(e).context("starting a holder")),
        }
        if started.is_err() {
            break;
        }
    }
    let outcome = match started {
        Ok(()) => {
            progress(format!(
                "catchup: a new node fetching from {HOLDERS} holders"
            ));
            let b_dir = root.join("b-many");
            std::fs::create_dir_all(&b_dir)?;
            let b_member = fixture.member();
            let t0 = Instant::now();
            match node::start(fixture.settings(&b_member, &b_dir, addrs)).await {
                Ok(b) => {
                    let phases = watch_catchup(&b, items as u64, t0).await;
                    b.stop().await;
                    phases.map(|p| p.done.as_secs_f64())
                }
                Err(e) => Err(anyhow::Error::from(e).context("starting the fetching node")),
            }
        }
        Err(e) => Err(e),
    };
    for h in holders {
        h.stop().await;
    }
    outcome
}

/// Copies a directory tree (a closed store: the data file and sled's
/// files).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
