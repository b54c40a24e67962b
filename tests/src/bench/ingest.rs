//! Ingest: durable, verified items per second into one node.
//!
//! 50,000 pre-signed 1 KiB items from a few members, as encoded bytes, go
//! the way catch-up takes them: several concurrent tasks each decode a batch
//! of 512 (on all cores) and submit it to the node's ingest worker
//! (`Ingest::submit(batch, durable = true)`), which checks each item's
//! certificate and signature and has the batch on disk before it answers.
//! The baseline is the machine's ed25519 ceiling: the same items' signatures
//! checked with strict verification on every core, with the keys decoded and
//! the signed bytes prepared beforehand. Both are measured twice; the best of
//! each counts.

use super::fixture::{Fixture, Member};
use super::progress;
use super::report::{Report, Row};
use anyhow::{bail, Context as _};
use cairn_daemon::ingest::{par_map, Verifier};
use cairn_daemon::node;
use cairn_protocol::signing::{signing_input, DOMAIN_ITEM};
use cairn_protocol::{codec, Certificate, EncodedItem, PreparedKey, Signature, Timestamp};
use cairn_store::ItemStore;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Items submitted.
pub const ITEMS: usize = 50_000;
/// Items per submission.
pub const BATCH: usize = 512;
/// Concurrent submitting tasks. 8 x 512 items in flight is about what one
/// catch-up session keeps in flight (6 fetches of up to ~700 items), and
/// more than one worker batch, so verifying one batch can overlap storing
/// the previous one as it does in a node.
pub const TASKS: usize = 8;
/// Members whose items are submitted.
pub const PUBLISHERS: usize = 4;
/// Runs of each side.
pub const RUNS: usize = 2;
/// Goal: Cairn at least this fraction of the ceiling.
pub const GOAL: f64 = 0.7;
/// Longest one Cairn run may take.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Encoded items, each with its publisher's certificate.
type Batch = Vec<(Vec<u8>, Certificate)>;

/// Runs the scenario.
pub async fn run() -> anyhow::Result<Report> {
    let mut report = Report::new(
        "ingest",
        "ed25519 verify_strict ceiling on all cores (same items, keys decoded and signed bytes prepared)",
    );
    let mut fixture = Fixture::new();
    let publishers: Vec<Member> = (0..PUBLISHERS).map(|_| fixture.member()).collect();
    progress(format!("ingest: signing {ITEMS} items"));
    let signed = tokio::task::block_in_place(|| fixture.sign_items(&publishers, 0, ITEMS));
    let prepared: Vec<(PreparedKey, Vec<u8>, Signature)> = signed
        .iter()
        .map(|(item, cert)| {
            Ok((
                cert.body.member_key.prepare()?,
                signing_input(DOMAIN_ITEM, &item.body)?,
                item.signature,
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let encoded: Vec<(Vec<u8>, Certificate)> = signed
        .into_iter()
        .map(|(item, cert)| Ok((codec::encode(&item)?, cert)))
        .collect::<anyhow::Result<_>>()?;
    let batches: Vec<Batch> = encoded.chunks(BATCH).map(<[_]>::to_vec).collect();

    let mut ceiling = Vec::with_capacity(RUNS);
    let mut cairn = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        progress(format!("ingest run {}: ed25519 ceiling", run + 1));
        ceiling.push(tokio::task::block_in_place(|| verify_ceiling(&prepared))?);
        progress(format!("ingest run {}: Cairn", run + 1));
        let node_member = fixture.member();
        cairn.push(cairn_run(&fixture, &node_member, batches.clone()).await?);
    }
    progress("ingest: where the time goes (verifier alone, store alone)");
    let stages = tokio::task::block_in_place(|| stages(&fixture, &batches))?;
    let best = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (c, b) = (best(&cairn), best(&ceiling));
    report.rows.push(
        Row::new("durable verified items/s", "items/s", Some(c), Some(b)).goal(
            format!(">= {:.0}% of ceiling", GOAL * 100.0),
            Some(c >= GOAL * b),
        ),
    );
    report.notes.push(format!(
        "{ITEMS} items from {PUBLISHERS} members, decoded and submitted in batches of {BATCH} from {TASKS} tasks; best of {RUNS} runs each"
    ));
    report.notes.push(format!(
        "stages alone: Verifier::verify_batch {:.0} items/s (all cores), insert_batch + flush {:.0} items/s; \
         run one after the other they allow {:.0} items/s",
        stages.verify, stages.store, stages.serial()
    ));
    report.details = json!({
        "items": ITEMS,
        "verifier_alone_items_per_s": stages.verify,
        "store_alone_items_per_s": stages.store,
        "serial_pipeline_items_per_s": stages.serial(),
        "cairn_runs_items_per_s": cairn,
        "ceiling_runs_items_per_s": ceiling,
        "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
    });
    Ok(report)
}

/// Throughput of the ingest worker's two stages measured apart, in the
/// worker's batch size: the daemon's `Verifier` (on all cores) and the
/// store's `insert_batch` followed by a flush (one thread), on items decoded
/// beforehand.
pub struct Stages {
    pub verify: f64,
    pub store: f64,
}

impl Stages {
    /// Items/s if every batch is verified, then stored, one after the other.
    pub fn serial(&self) -> f64 {
        1.0 / (1.0 / self.verify + 1.0 / self.store)
    }
}

/// The worker's largest batch.
const WORKER_BATCH: usize = 2048;

fn stages(fixture: &Fixture, batches: &[Batch]) -> anyhow::Result<Stages> {
    let items: Vec<(EncodedItem, Certificate)> = batches
        .iter()
        .flatten()
        .map(|(bytes, cert)| Ok((EncodedItem::decode(bytes.clone())?, cert.clone())))
        .collect::<anyhow::Result<_>>()?;
    let mut verifier = Verifier::new(fixture.community.clone());
    let started = Instant::now();
    for chunk in items.chunks(WORKER_BATCH) {
        let results = verifier.verify_batch(chunk, &vec![false; chunk.len()], Timestamp::now());
        if results.iter().any(Result::is_err) {
            bail!("the verifier refused a benchmark item");
        }
    }
    let verify = items.len() as f64 / started.elapsed().as_secs_f64();
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-store-")
        .tempdir()?;
    let store = ItemStore::open(&dir.path().join("items.sled"))?;
    let started = Instant::now();
    for chunk in items.chunks(WORKER_BATCH) {
        let batch: Vec<(&EncodedItem, &Certificate)> = chunk.iter().map(|(i, c)| (i, c)).collect();
        store.insert_batch(&batch)?;
        store.flush()?;
    }
    let store_rate = items.len() as f64 / started.elapsed().as_secs_f64();
    Ok(Stages {
        verify,
        store: store_rate,
    })
}

/// Verifies every prepared signature on all cores; items/s.
pub fn verify_ceiling(prepared: &[(PreparedKey, Vec<u8>, Signature)]) -> anyhow::Result<f64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = prepared.len().div_ceil(threads).max(1);
    let started = Instant::now();
    let ok: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter(|(key, message, sig)| key.verify(message, sig).is_ok())
                        .count()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("verification does not panic"))
            .sum()
    });
    let secs = started.elapsed().as_secs_f64();
    if ok != prepared.len() {
        bail!("only {ok} of {} signatures verified", prepared.len());
    }
    Ok(ok as f64 / secs)
}

/// Submits `batches` to a fresh node; durable verified items/s.
async fn cairn_run(fixture: &Fixture, member: &Member, batches: Vec<Batch>) -> anyhow::Result<f64> {
    let total: usize = batches.iter().map(Vec::len).sum();
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-ingest-")
        .tempdir()?;
    let node = node::start(fixture.settings(member, dir.path(), vec![]))
        .await
        .context("starting the node")?;
    let queue = Arc::new(Mutex::new(VecDeque::from(batches)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let ingest = node.ingest().clone();
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut stored = 0usize;
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some(batch) = next else {
                        return Ok::<_, anyhow::Error>(stored);
                    };
                    let decoded = tokio::task::spawn_blocking(move || {
                        par_map(&batch, |(bytes, cert)| {
                            Ok((EncodedItem::decode(bytes.clone())?, cert.clone()))
                        })
                        .into_iter()
                        .collect::<anyhow::Result<Vec<_>>>()
                    })
                    .await??;
                    let results = ingest.submit(decoded, true).await?;
                    stored += results.iter().filter(|r| matches!(r, Ok(true))).count();
                }
            })
        })
        .collect();
    let outcome = tokio::time::timeout(DEADLINE, futures::future::join_all(tasks)).await;
    let secs = started.elapsed().as_secs_f64();
    node.stop().await;
    let mut stored = 0;
    for r in outcome.map_err(|_| anyhow::anyhow!("ingest took over {} s", DEADLINE.as_secs()))? {
        stored += r??;
    }
    if stored != total {
        bail!("stored {stored} of {total} items");
    }
    Ok(total as f64 / secs)
}
