//! The plain gossipsub side of a burst round: the same schedule, then a
//! short quiet period and a count of what each node received.

use super::{seq, Round, Schedule, PLAIN_QUIET};
use crate::bench::plain::{payload, PlainCluster};
use std::sync::atomic::Ordering;
use std::time::Instant;

pub(super) async fn plain_round(
    cluster: &PlainCluster,
    rate: u32,
    round: usize,
    frame: usize,
) -> anyhow::Result<Round> {
    let n = cluster.nodes.len();
    let schedule = Schedule::new(rate, n);
    let errors_before: u64 = cluster
        .nodes
        .iter()
        .map(|p| p.record.publish_errors.load(Ordering::Relaxed))
        .sum();
    let publishers: Vec<_> = cluster
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let publisher = node.publisher();
            tokio::spawn(async move {
                let mut k = 0u64;
                let mut last = schedule.t0;
                while let Some(at) = schedule.at(i, k) {
                    tokio::time::sleep_until(at.into()).await;
                    let key = seq(round, i, k);
                    if publisher.publish(key, payload(key, frame)).await.is_err() {
                        break;
                    }
                    last = Instant::now();
                    k += 1;
                }
                (k, last)
            })
        })
        .collect();
    let (mut attempted, mut last) = (0u64, schedule.t0);
    for p in publishers {
        let (k, at) = p.await?;
        attempted += k;
        last = last.max(at);
    }
    let publish_secs = schedule.secs_until(last);
    tokio::time::sleep(PLAIN_QUIET).await;
    let errors_after: u64 = cluster
        .nodes
        .iter()
        .map(|p| p.record.publish_errors.load(Ordering::Relaxed))
        .sum();
    let held: usize = cluster
        .nodes
        .iter()
        .map(|p| p.record.keys(|k| (k >> 40) as usize == round).len())
        .sum();
    Ok(Round {
        target_rate: rate,
        attempted,
        failed: errors_after - errors_before,
        achieved_rate: attempted as f64 / publish_secs,
        delivered: held as f64 / (attempted * n as u64).max(1) as f64,
        delivered_early: None,
        converged_secs: None,
    })
}
