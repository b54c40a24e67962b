//! Keeping the node's view of its store honest: items the store took out
//! (their bytes were damaged) leave the reconciliation set at once, so the
//! next catch-up fetches them from a member; a background scrub reads
//! every item back now and then, so damage nobody read yet is found too;
//! and each new revocation removes the items it forbids
//! ([`crate::revoked_items`]).

use crate::context::Context;
use cairn_store::items::ScrubReport;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::{info, warn};

/// How often dropped items are handed to the reconciliation set.
const DROPPED_POLL: Duration = Duration::from_secs(1);
/// First scrub after start, then every [`SCRUB_EVERY`]: a node that just
/// started has work to do first (catch-up), and damage read before then is
/// found by the read itself.
const FIRST_SCRUB: Duration = Duration::from_secs(600);
const SCRUB_EVERY: Duration = Duration::from_secs(6 * 3600);
/// Pause between batches of 1,024 items in a background scrub: about
/// 20,000 items/s, so a million items take under a minute of light I/O.
const SCRUB_PAUSE: Duration = Duration::from_millis(50);

/// Moves the items the store dropped out of the reconciliation set.
pub fn forget_dropped(ctx: &Context) -> usize {
    let dropped = ctx.items.take_dropped();
    let n = dropped.len();
    if n > 0 {
        ctx.index.remove(dropped);
        info!(
            items = n,
            "damaged items forgotten; the next catch-up fetches them from a member"
        );
    }
    n
}

/// Scrubs the store now (`pause` between batches); blocking.
pub fn scrub(ctx: &Context, pause: Duration) -> Result<ScrubReport, cairn_store::StoreError> {
    let report = ctx.items.scrub(|| std::thread::sleep(pause))?;
    forget_dropped(ctx);
    Ok(report)
}

/// After a revocation, when the store is looked at a second time.
const RECHECK_AFTER: Duration = Duration::from_secs(2);

async fn purge_revoked(ctx: &Arc<Context>) {
    let c = ctx.clone();
    match tokio::task::spawn_blocking(move || crate::revoked_items::purge(&c)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => warn!("cannot remove items a revocation forbids: {e}"),
        Err(e) => warn!("removing items a revocation forbids stopped: {e}"),
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Runs until shutdown.
pub async fn watch(ctx: Arc<Context>, mut shutdown: watch::Receiver<bool>) {
    let mut next_scrub = tokio::time::Instant::now() + FIRST_SCRUB;
    let mut poll = tokio::time::interval(DROPPED_POLL);
    let mut revocations = ctx.revocations.watch();
    let mut recheck: Option<tokio::time::Instant> = None;
    // Once at start too: a node killed between storing such items and
    // removing them does it now.
    revocations.mark_changed();
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            Ok(()) = revocations.changed() => {
                purge_revoked(&ctx).await;
                // An item verified just before the revocation arrived may
                // still be on its way to the store: look once more.
                recheck = Some(tokio::time::Instant::now() + RECHECK_AFTER);
            }
            _ = sleep_until_some(recheck) => {
                recheck = None;
                purge_revoked(&ctx).await;
            }
            _ = poll.tick() => {
                forget_dropped(&ctx);
            }
            _ = tokio::time::sleep_until(next_scrub) => {
                let c = ctx.clone();
                match tokio::task::spawn_blocking(move || scrub(&c, SCRUB_PAUSE)).await {
                    Ok(Ok(r)) if r.dropped.is_empty() => info!(checked = r.checked, "store scrub: every item intact"),
                    Ok(Ok(r)) => warn!(checked = r.checked, dropped = r.dropped.len(), "store scrub: damaged items taken out; members will send them again"),
                    Ok(Err(e)) => warn!("store scrub failed: {e}"),
                    Err(e) => warn!("store scrub stopped: {e}"),
                }
                next_scrub = tokio::time::Instant::now() + SCRUB_EVERY;
            }
        }
    }
}
