//! Catch-up: a new member fetching a community's history.
//!
//! Node A holds N (100,000) items of 1 KiB, written straight into its store
//! before it starts. Node B starts empty, bootstrapped to A; the figure is
//! the time from B's start until B has stored all N (verified, like any
//! item). The baseline copies the same bytes (each item's codec encoding,
//! concatenated) over one loopback TCP connection from one thread to another.

use super::fixture::{data_dir, dial_addr, fill_store, Fixture, Member};
use super::progress;
use super::report::{Report, Row};
use anyhow::{bail, Context as _};
use cairn_daemon::ingest::Verifier;
use cairn_daemon::node::{self, RunningNode};
use cairn_daemon::sync::answer::answer_fetch;
use cairn_protocol::wire::Response;
use cairn_protocol::{codec, Certificate, EncodedItem, ItemId, SignedItem, Timestamp};
use cairn_store::{ItemStore, Store};
use serde_json::json;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Members whose items A holds.
pub const PUBLISHERS: usize = 4;
/// Longest wait for B to hold everything.
pub const DEADLINE: Duration = Duration::from_secs(120);
/// Goal: Cairn's time at most this multiple of the baseline's.
pub const GOAL_RATIO: f64 = 2.0;
/// Goal: Cairn's time under this.
pub const GOAL_SECS: f64 = 5.0;
/// Baseline repetitions (the median is reported).
pub const BASELINE_RUNS: usize = 3;

/// Runs the scenario with `items` items on A.
pub async fn run(items: usize) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "catchup",
        "raw loopback TCP copy of the same encoded items (std, thread to thread)",
    );
    let mut fixture = Fixture::new();
    let publishers: Vec<Member> = (0..PUBLISHERS).map(|_| fixture.member()).collect();
    let a_member = fixture.member();
    let b_member = fixture.member();
    let root = tempfile::Builder::new()
        .prefix("cairn-bench-catchup-")
        .tempdir()?;
    let (a_dir, b_dir) = (root.path().join("a"), root.path().join("b"));
    std::fs::create_dir_all(&a_dir)?;
    std::fs::create_dir_all(&b_dir)?;

    progress(format!("catchup: signing and storing {items} items on A"));
    let prepared = Instant::now();
    let (signed, bytes) = tokio::task::block_in_place(|| -> anyhow::Result<_> {
        let signed = fixture.sign_items(&publishers, 0, items);
        fill_store(&data_dir(&a_dir), &signed)?;
        let mut bytes = Vec::with_capacity(items * 1200);
        for (item, _) in &signed {
            bytes.extend_from_slice(&codec::encode(item)?);
        }
        Ok((signed, bytes))
    })?;
    let prepare_secs = prepared.elapsed().as_secs_f64();

    let a_started = Instant::now();
    let a = node::start(fixture.settings(&a_member, &a_dir, vec![]))
        .await
        .context("starting A")?;
    let a_start_secs = a_started.elapsed().as_secs_f64();
    let a_addr = dial_addr(&a).await?;

    progress("catchup: starting B");
    let t0 = Instant::now();
    let b = match node::start(fixture.settings(&b_member, &b_dir, vec![a_addr])).await {
        Ok(b) => b,
        Err(e) => {
            a.stop().await;
            return Err(e).context("starting B");
        }
    };
    let outcome = watch_catchup(&b, items as u64, t0).await;
    b.stop().await;
    a.stop().await;
    let phases = outcome?;
    let cairn_secs = phases.done.as_secs_f64();
    let many_secs =
        super::catchup_many::from_three(&mut fixture, &a_member, &a_dir, root.path(), items)
            .await?;

    progress("catchup: raw TCP baseline");
    let mut runs: Vec<f64> = Vec::with_capacity(BASELINE_RUNS);
    for _ in 0..BASELINE_RUNS {
        runs.push(tokio::task::block_in_place(|| raw_tcp(&bytes))?.as_secs_f64());
    }
    let mut sorted = runs.clone();
    sorted.sort_by(f64::total_cmp);
    let base_secs = sorted[sorted.len() / 2];

    progress("catchup: where the time goes (each stage alone)");
    let stages = tokio::task::block_in_place(|| stages(&fixture, &data_dir(&a_dir), &signed))?;
    drop(signed);

    let n = items as f64;
    let mb = bytes.len() as f64 / 1e6;
    let met = cairn_secs <= GOAL_RATIO * base_secs && cairn_secs < GOAL_SECS;
    report.rows.push(
        Row::new(
            format!("time to hold all {items} items"),
            "s",
            Some(cairn_secs),
            Some(base_secs),
        )
        .goal(
            format!("<= {GOAL_RATIO}x baseline and < {GOAL_SECS} s"),
            Some(met),
        ),
    );
    report.rows.push(Row::new(
        format!(
            "time to hold all {items} items held by {} members",
            super::catchup_many::HOLDERS
        ),
        "s",
        Some(many_secs),
        Some(base_secs),
    ));
    report.rows.push(Row::new(
        "throughput",
        "items/s",
        Some(n / cairn_secs),
        Some(n / base_secs),
    ));
    report.rows.push(Row::new(
        "throughput",
        "MB/s",
        Some(mb / cairn_secs),
        Some(mb / base_secs),
    ));
    report.notes.push(format!(
        "{items} items, {:.1} MB encoded; B admitted A after {:.3} s, first item stored at {:.3} s",
        mb,
        phases.admitted.map_or(f64::NAN, |d| d.as_secs_f64()),
        phases.first.map_or(f64::NAN, |d| d.as_secs_f64()),
    ));
    report.notes.push(format!(
        "stages alone, items/s: A answers fetches {:.0}, wire encode+decode {:.0}, B verifies {:.0} \
         (all cores), B stores {:.0}; one after the other {:.0}",
        stages.answer, stages.wire, stages.verify, stages.store, stages.serial()
    ));
    let verify_secs = n / stages.verify;
    report.notes.push(format!(
        "against strict verification of the same items on all cores ({verify_secs:.2} s): \
         from one member {:.2}x, from {} members at once {:.2}x",
        cairn_secs / verify_secs,
        super::catchup_many::HOLDERS,
        many_secs / verify_secs,
    ));
    report.details = json!({
        "items": items,
        "stages_items_per_s": {
            "a_answer_fetch": stages.answer,
            "wire_encode_decode": stages.wire,
            "b_verify": stages.verify,
            "b_store": stages.store,
            "serial": stages.serial(),
        },
        "encoded_bytes": bytes.len(),
        "prepare_secs": prepare_secs,
        "a_start_secs": a_start_secs,
        "b_admitted_secs": phases.admitted.map(|d| d.as_secs_f64()),
        "b_first_item_secs": phases.first.map(|d| d.as_secs_f64()),
        "b_all_items_secs": cairn_secs,
        "b_all_items_from_three_secs": many_secs,
        "b_progress": phases.progress,
        "baseline_runs_secs": runs,
    });
    Ok(report)
}

/// Throughput of each catch-up stage measured alone, in the daemon's sizes:
/// A's `answer_fetch` over its store (1024 ids per request), encoding and
/// decoding the responses with the codec and decoding each item in them
/// (one thread), B's `Verifier` (all cores) and B's `insert_batch` (no
/// flush: catch-up is not durable per batch).
pub struct Stages {
    pub answer: f64,
    pub wire: f64,
    pub verify: f64,
    pub store: f64,
}

impl Stages {
    /// Items/s if the stages ran one after the other.
    pub fn serial(&self) -> f64 {
        1.0 / (1.0 / self.answer + 1.0 / self.wire + 1.0 / self.verify + 1.0 / self.store)
    }
}

/// Ids per fetch request, as the daemon's sync uses.
const FETCH_BATCH: usize = 1024;

fn stages(
    fixture: &Fixture,
    a_data: &std::path::Path,
    signed: &[(SignedItem, Certificate)],
) -> anyhow::Result<Stages> {
    let n = signed.len() as f64;
    let ids: Vec<ItemId> = signed.iter().map(|(i, _)| i.id()).collect();
    let a = Store::open(a_data, false)?;
    let started = Instant::now();
    let mut responses = Vec::new();
    for chunk in ids.chunks(FETCH_BATCH) {
        let mut wanted = chunk.to_vec();
        while !wanted.is_empty() {
            let response = answer_fetch(&a.items, &wanted);
            let Response::Items { items, .. } = &response else {
                bail!("A refused a fetch");
            };
            if items.is_empty() {
                bail!("A is missing items");
            }
            let got: HashSet<ItemId> = items
                .iter()
                .map(|b| ItemId(cairn_protocol::hash::sha256(&[&b.0])))
                .collect();
            wanted.retain(|id| !got.contains(id));
            responses.push(response);
        }
    }
    let answer = n / started.elapsed().as_secs_f64();
    drop(a);
    let started = Instant::now();
    let mut encoded = Vec::with_capacity(signed.len());
    for r in &responses {
        let frame = codec::encode(r)?;
        let Response::Items { items, .. } = codec::decode(&frame)? else {
            bail!("a response changed kind on the wire");
        };
        for raw in items {
            encoded.push(EncodedItem::decode(raw.0)?);
        }
    }
    let wire = n / started.elapsed().as_secs_f64();
    drop(responses);
    let signed: Vec<(EncodedItem, Certificate)> = encoded
        .into_iter()
        .zip(signed.iter().map(|(_, c)| c.clone()))
        .collect();
    let mut verifier = Verifier::new(fixture.community.clone());
    let started = Instant::now();
    for chunk in signed.chunks(FETCH_BATCH) {
        if verifier
            .verify_batch(chunk, &vec![false; chunk.len()], Timestamp::now())
            .iter()
            .any(Result::is_err)
        {
            bail!("the verifier refused a benchmark item");
        }
    }
    let verify = n / started.elapsed().as_secs_f64();
    let dir = tempfile::Builder::new()
        .prefix("cairn-bench-store-")
        .tempdir()?;
    let b = ItemStore::open(&dir.path().join("items.sled"))?;
    let started = Instant::now();
    for chunk in signed.chunks(FETCH_BATCH) {
        let batch: Vec<(&EncodedItem, &Certificate)> = chunk.iter().map(|(i, c)| (i, c)).collect();
        b.insert_batch(&batch)?;
    }
    let store = n / started.elapsed().as_secs_f64();
    Ok(Stages {
        answer,
        wire,
        verify,
        store,
    })
}

/// When B reached each milestone, from its start.
pub(super) struct Phases {
    admitted: Option<Duration>,
    first: Option<Duration>,
    pub(super) done: Duration,
    /// (seconds, items held) about every 0.5 s.
    progress: Vec<(f64, u64)>,
}

pub(super) async fn watch_catchup(
    b: &RunningNode,
    items: u64,
    t0: Instant,
) -> anyhow::Result<Phases> {
    let mut phases = Phases {
        admitted: None,
        first: None,
        done: Duration::ZERO,
        progress: Vec::new(),
    };
    let mut next_sample = Duration::ZERO;
    loop {
        let held = b.items().count();
        let now = t0.elapsed();
        if phases.admitted.is_none() && !super::fixture::admitted(b).await.is_empty() {
            phases.admitted = Some(t0.elapsed());
        }
        if phases.first.is_none() && held > 0 {
            phases.first = Some(now);
        }
        if now >= next_sample {
            phases.progress.push((now.as_secs_f64(), held));
            next_sample += Duration::from_millis(500);
        }
        if held >= items {
            phases.done = now;
            phases.progress.push((now.as_secs_f64(), held));
            return Ok(phases);
        }
        if now > DEADLINE {
            bail!(
                "B holds {held} of {items} items after {} s",
                DEADLINE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends `bytes` over loopback TCP from one thread and reads them all in
/// another; the time from connecting to the last byte read.
pub fn raw_tcp(bytes: &[u8]) -> anyhow::Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let started = Instant::now();
    let read = std::thread::scope(|scope| -> anyhow::Result<usize> {
        let writer = scope.spawn(move || -> std::io::Result<()> {
            let mut conn = TcpStream::connect(addr)?;
            conn.set_nodelay(true)?;
            conn.write_all(bytes)?;
            conn.flush()
        });
        let (mut conn, _) = listener.accept()?;
        conn.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0;
        while got < bytes.len() {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        writer
            .join()
            .map_err(|_| anyhow::anyhow!("the writer thread panicked"))??;
        Ok(got)
    })?;
    let elapsed = started.elapsed();
    if read != bytes.len() {
        bail!("read {read} of {} bytes", bytes.len());
    }
    Ok(elapsed)
}
