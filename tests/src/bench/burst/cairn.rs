//! The Cairn side of a burst round: members publish through the control
//! API, then the community is watched until every node holds every item.

use super::{
    seq, Round, Schedule, CAIRN_EARLY, CAIRN_QUIET, CONVERGE_EXTRA, DRAIN_DEADLINE, IN_FLIGHT,
};
use crate::bench::fixture::{Cluster, Fixture};
use cairn_daemon::api::Api;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::ItemId;
use cairn_store::ItemStore;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

struct Published {
    ids: Vec<ItemId>,
    attempted: u64,
    failed: u64,
    last_done: Instant,
}

async fn cairn_publisher(api: Api, schedule: Schedule, round: usize, node: usize) -> Published {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    let mut attempted = 0u64;
    while let Some(at) = schedule.at(node, attempted) {
        tokio::time::sleep_until(at.into()).await;
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        if Instant::now() >= schedule.end {
            break;
        }
        let s = seq(round, node, attempted);
        let request = Fixture::publish_request(s, format!("burst item {s:x}"));
        let api = api.clone();
        tasks.spawn(async move {
            let response = api.handle(ControlRequest::Publish(request)).await;
            drop(permit);
            (response, Instant::now())
        });
        attempted += 1;
    }
    let mut out = Published {
        ids: Vec::with_capacity(attempted as usize),
        attempted,
        failed: 0,
        last_done: schedule.t0,
    };
    let deadline = tokio::time::Instant::now() + DRAIN_DEADLINE;
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline, tasks.join_next()).await {
        match joined {
            Ok((ControlResponse::Published { id, .. }, at)) => {
                out.ids.push(id);
                out.last_done = out.last_done.max(at);
            }
            _ => out.failed += 1,
        }
    }
    // Publishes still outstanding at the deadline count as failed.
    out.failed += tasks.len() as u64;
    tasks.abort_all();
    out
}

/// Sum over `stores` of how many of `ids` each holds.
async fn held(stores: &[ItemStore], ids: Arc<Vec<ItemId>>) -> anyhow::Result<u64> {
    let stores = stores.to_vec();
    Ok(tokio::task::spawn_blocking(move || {
        stores
            .iter()
            .map(|s| {
                ids.iter()
                    .filter(|id| s.contains(id).unwrap_or(false))
                    .count() as u64
            })
            .sum()
    })
    .await?)
}

/// One rate on the Cairn cluster; `published` counts the items stored by
/// their publishers over all rounds so far (every node should end up with
/// that many); `earlier_converged`: every node held every item of the
/// earlier rounds when they ended.
pub(super) async fn cairn_round(
    cluster: &Cluster,
    rate: u32,
    round: usize,
    published: &mut u64,
    earlier_converged: bool,
) -> anyhow::Result<Round> {
    let n = cluster.nodes.len();
    let stores: Vec<ItemStore> = cluster.nodes.iter().map(|n| n.items().clone()).collect();
    let before: u64 = stores.iter().map(ItemStore::count).sum();
    let schedule = Schedule::new(rate, n);
    let publishers: Vec<_> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| tokio::spawn(cairn_publisher(node.api.clone(), schedule, round, i)))
        .collect();
    let (mut ids, mut attempted, mut failed, mut last) = (Vec::new(), 0, 0, schedule.t0);
    for p in publishers {
        let p = p.await?;
        ids.extend(p.ids);
        attempted += p.attempted;
        failed += p.failed;
        last = last.max(p.last_done);
    }
    let publish_secs = schedule.secs_until(last);
    *published += ids.len() as u64;
    let ids = Arc::new(ids);
    let denominator = (attempted * n as u64).max(1) as f64;
    // When nothing but this round's items can arrive (no earlier round left
    // items in flight, no publish failed half-way), what the nodes stored
    // since the round began is exactly what they hold of it: read from
    // their counts at once, without taking CPU from them. Otherwise each
    // node is asked about each id, which takes a moment while they work.
    let exact = earlier_converged && failed == 0;
    let stored_since = || stores.iter().map(ItemStore::count).sum::<u64>() - before;
    let quiet_from = Instant::now();
    let (mut early, mut delivered, mut converged) = (None, None, None);
    loop {
        let t = quiet_from.elapsed();
        if converged.is_none() && stores.iter().all(|s| s.count() >= *published) {
            converged = Some(t.as_secs_f64());
        }
        if early.is_none() && t >= CAIRN_EARLY {
            early = Some(stored_since() as f64 / denominator);
        }
        if delivered.is_none() && t >= CAIRN_QUIET {
            delivered = Some(if exact {
                stored_since() as f64 / denominator
            } else {
                held(&stores, ids.clone()).await? as f64 / denominator
            });
        }
        if delivered.is_some() && (converged.is_some() || t >= CAIRN_QUIET + CONVERGE_EXTRA) {
            break;
        }
        // Wake at the counting times exactly, else every 250 ms.
        let next = [CAIRN_EARLY, CAIRN_QUIET]
            .into_iter()
            .filter(|d| *d > t)
            .map(|d| d - t)
            .fold(Duration::from_millis(250), Duration::min);
        tokio::time::sleep(next).await;
    }
    Ok(Round {
        target_rate: rate,
        attempted,
        failed,
        achieved_rate: attempted as f64 / publish_secs,
        delivered: delivered.unwrap_or(0.0),
        delivered_early: early,
        converged_secs: converged,
    })
}
