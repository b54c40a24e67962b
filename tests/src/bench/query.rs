//! Query: filtered item queries against a store of 1,000,000 items, from
//! the query index, against the same queries answered by a full scan (every
//! item read, decoded and matched with `Filter::matches`) in the same run.
//!
//! The store is filled directly through the store API (no node, no
//! verification: this measures finding, not ingesting) with signed items of
//! 20 publishers over the past year: the nine kinds, four markings, one to
//! three tags (an RSIT class, 30% an `ioc:` indicator of their own, 10% one
//! of 5,000 `cve:` ids) and a title and body of 8 and 40 words drawn from
//! a 5,000-word vocabulary with a Zipf-like skew, so some words are in most
//! items and most words in few. Each indexed query runs `RUNS` times (the
//! median counts) and includes reading the page's items; the scan reads and
//! decodes items in answer order until the page is full, once per query.

use super::fixture::{Fixture, Member};
use super::progress;
use super::report::{Report, Row};
use anyhow::{bail, Context as _};
use cairn_protocol::query::{Facts, Filter, Position};
use cairn_protocol::{
    Certificate, Content, Contents, EncodedItem, ItemBody, ItemKind, SignedItem, Timestamp, Tlp,
};
use cairn_store::{ItemStore, Store};
use serde_json::json;
use std::time::Instant;

/// Items in the store.
pub const ITEMS: usize = 1_000_000;
/// Items per page.
pub const PAGE: usize = 100;
/// Runs of each indexed query.
pub const RUNS: usize = 20;
/// Goal: a filtered query answers within this.
pub const GOAL_MS: f64 = 50.0;
const PUBLISHERS: usize = 20;
const VOCABULARY: usize = 5_000;
/// Items signed and stored at a time.
const CHUNK: usize = 10_000;
const YEAR_MS: u64 = 365 * 86_400_000;

/// Runs the scenario with `items` items (1,000,000 unless told).
pub async fn run(items: usize) -> anyhow::Result<Report> {
    let mut report = Report::new(
        "query",
        "the same query by a full scan of the store (every item read, decoded, matched)",
    );
    let dir = tempfile::tempdir().context("a directory for the store")?;
    let mut fixture = Fixture::new();
    let members: Vec<Member> = (0..PUBLISHERS).map(|_| fixture.member()).collect();
    let now = Timestamp::now().millis();
    let store = Store::open(dir.path(), false).context("opening the store")?;
    let started = Instant::now();
    let bytes_before = dir_bytes(dir.path());
    tokio::task::block_in_place(|| fill(&store.items, &fixture, &members, now, 0..items, items))?;
    let fill_s = started.elapsed().as_secs_f64();
    let stored_disk = dir_bytes(dir.path()).saturating_sub(bytes_before);
    progress(format!(
        "query: {items} items stored in {fill_s:.1} s, {} MB on disk",
        stored_disk / 1_000_000
    ));
    // What the node's indexer thread does behind the writes, here at full
    // speed on one thread.
    let started = Instant::now();
    tokio::task::block_in_place(|| index_everything(&store.items))?;
    let index_s = started.elapsed().as_secs_f64();
    let disk = dir_bytes(dir.path()).saturating_sub(bytes_before);
    progress(format!(
        "query: postings of {items} items written in {index_s:.1} s, {} MB on disk in all",
        disk / 1_000_000
    ));

    let queries = queries(&store.items, &members, now)?;
    let order = tokio::task::block_in_place(|| answer_order(&store.items))?;
    let mut scanned = Vec::new();
    for q in &queries {
        let t = Instant::now();
        let page = tokio::task::block_in_place(|| full_scan(&store.items, &order, q))?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        progress(format!("query: {} by full scan: {ms:.0} ms", q.0));
        scanned.push((page, ms));
    }
    let mut details = Vec::new();
    for ((name, filter, after), (expected, scan_ms)) in queries.iter().zip(&scanned) {
        let mut times = Vec::with_capacity(RUNS);
        let mut answer = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            let found = store.items.find(filter, *after, PAGE)?;
            for p in &found.positions {
                // As the node does: each item of the page is read.
                store.items.get(&p.id)?;
            }
            times.push(t.elapsed());
            answer = found.positions;
        }
        if answer != *expected {
            bail!(
                "query {name}: the index answered {} items, the full scan {} (first {:?} vs {:?})",
                answer.len(),
                expected.len(),
                answer.first(),
                expected.first()
            );
        }
        times.sort();
        let median = times[RUNS / 2].as_secs_f64() * 1000.0;
        report.rows.push(
            Row::new(
                format!("{name} (page of {PAGE})"),
                "ms",
                Some(median),
                Some(*scan_ms),
            )
            .goal(format!("≤ {GOAL_MS} ms"), Some(median <= GOAL_MS)),
        );
        details.push(json!({
            "query": name, "median_ms": median, "max_ms": times[RUNS - 1].as_secs_f64() * 1000.0,
            "results": answer.len(), "scan_ms": scan_ms,
        }));
    }
    let tail = tokio::task::block_in_place(|| {
        unindexed_tail(&store.items, &fixture, &members, now, items, &queries)
    })?;
    report.rows.extend(tail);
    report.notes.push(format!(
        "{items} items stored through the store API in {fill_s:.1} s ({} bytes on disk per item); their query postings written behind in {index_s:.1} s on one thread ({:.0} items/s), {} bytes on disk per item in all",
        stored_disk / items.max(1) as u64,
        items as f64 / index_s.max(1e-9),
        disk / items.max(1) as u64
    ));
    report.notes.push(
        "baseline: items read and decoded in answer order from the cursor until the page is full (the order itself held in memory, not timed)"
            .to_string(),
    );
    report.details = json!({ "items": items, "fill_s": fill_s, "index_s": index_s, "stored_disk_bytes": stored_disk, "disk_bytes": disk, "queries": details });
    Ok(report)
}

/// The word at rank `r` of the vocabulary.
fn word(r: usize) -> String {
    format!("w{r}")
}

/// A Zipf-like draw from `0..n` (rank 0 the most frequent).
fn zipf(x: &mut u64, n: usize) -> usize {
    let u = (next(x) % 1_000_000) as f64 / 1_000_000.0;
    // Inverse of a power law with exponent about 1: u^3 favours low ranks.
    ((u * u * u) * n as f64) as usize % n
}

fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

const RSIT: &[&str] = &[
    "rsit:malicious-code",
    "rsit:malicious-code-c2",
    "rsit:information-gathering",
    "rsit:intrusion-attempts",
    "rsit:intrusions",
    "rsit:availability",
    "rsit:fraud",
    "rsit:vulnerable",
];

/// The body of item `i`, created within the year before `now`.
fn body(f: &Fixture, m: &Member, i: usize, n: usize, now: u64) -> ItemBody {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let title: Vec<String> = (0..8).map(|_| word(zipf(&mut x, VOCABULARY))).collect();
    let text: Vec<String> = (0..40).map(|_| word(zipf(&mut x, VOCABULARY))).collect();
    let mut tags = vec![RSIT[next(&mut x) as usize % RSIT.len()].to_string()];
    if next(&mut x) % 10 < 3 {
        tags.push(format!(
            "ioc:ipv4-addr=10.{}.{}.{}",
            i >> 16 & 255,
            i >> 8 & 255,
            i & 255
        ));
    }
    if next(&mut x).is_multiple_of(10) {
        tags.push(format!("cve:CVE-2026-{}", next(&mut x) % 5_000));
    }
    // Spread over the year, oldest first, as items would have arrived.
    let created = now - YEAR_MS + (i as u64 * YEAR_MS / n.max(1) as u64);
    ItemBody {
        community: f.community.id,
        kind: ItemKind::ALL[next(&mut x) as usize % ItemKind::ALL.len()],
        tlp: [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict][next(&mut x) as usize % 4],
        content: Content::Open(Contents {
            title: title.join(" "),
            body: text.join(" "),
            payload: None,
            tags,
        }),
        created: Timestamp(created),
        publisher: m.certificate_id,
    }
}

/// Writes every pending posting.
fn index_everything(store: &ItemStore) -> anyhow::Result<()> {
    while store.index_pending(4_096)? > 0 {}
    Ok(())
}

/// Items stored while the indexer is behind: queries read them directly.
const TAIL: usize = 10_000;

/// Two queries again after `TAIL` newer items were stored and not yet
/// indexed, against the same queries once they are.
fn unindexed_tail(
    store: &ItemStore,
    f: &Fixture,
    members: &[Member],
    now: u64,
    n: usize,
    queries: &[Query],
) -> anyhow::Result<Vec<Row>> {
    fill(store, f, members, now, n..n + TAIL, n)?;
    let timed = |(_, filter, after): &Query| -> anyhow::Result<(f64, Vec<Position>)> {
        let mut times = Vec::with_capacity(RUNS);
        let mut answer = Vec::new();
        for _ in 0..RUNS {
            let t = Instant::now();
            answer = store.find(filter, *after, PAGE)?.positions;
            times.push(t.elapsed());
        }
        times.sort();
        Ok((times[RUNS / 2].as_secs_f64() * 1000.0, answer))
    };
    let picked: Vec<&Query> = queries
        .iter()
        .filter(|q| q.0 == "a text word" || q.0 == "kind + TLP")
        .collect();
    let behind: Vec<(f64, Vec<Position>)> =
        picked.iter().map(|q| timed(q)).collect::<Result<_, _>>()?;
    index_everything(store)?;
    let mut rows = Vec::new();
    for (q, (ms, answer)) in picked.iter().zip(behind) {
        let (indexed_ms, expected) = timed(q)?;
        if answer != expected {
            bail!(
                "query {}: answered differently before and after indexing the tail",
                q.0
            );
        }
        rows.push(
            Row::new(
                format!("{}, {TAIL} newest items not yet indexed", q.0),
                "ms",
                Some(ms),
                Some(indexed_ms),
            )
            .goal(format!("≤ {GOAL_MS} ms"), Some(ms <= GOAL_MS)),
        );
    }
    Ok(rows)
}

/// Signs (on every core) and stores the items numbered `range` of a store
/// of `n` spread over the year, a chunk at a time.
fn fill(
    store: &ItemStore,
    f: &Fixture,
    members: &[Member],
    now: u64,
    range: std::ops::Range<usize>,
    n: usize,
) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    for start in range.clone().step_by(CHUNK) {
        let end = (start + CHUNK).min(range.end);
        let per = (end - start).div_ceil(threads);
        let signed: Vec<(EncodedItem, &Certificate)> = std::thread::scope(|s| {
            let handles: Vec<_> = (start..end)
                .step_by(per)
                .map(|from| {
                    s.spawn(move || {
                        (from..(from + per).min(end))
                            .map(|i| {
                                let m = &members[i % members.len()];
                                let item =
                                    SignedItem::sign(body(f, m, i, n, now), &m.key, &m.certificate)
                                        .expect("benchmark items are well-formed");
                                (EncodedItem::new(item).expect("encodes"), &m.certificate)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("no panic"))
                .collect()
        });
        // In batches of the size the ingest worker stores under load.
        for part in signed.chunks(512) {
            let batch: Vec<(&EncodedItem, &Certificate)> =
                part.iter().map(|(i, c)| (i, *c)).collect();
            store.insert_batch(&batch)?;
        }
        if start.is_multiple_of(100_000) {
            progress(format!("query: {end} of {n} items stored"));
        }
    }
    store.flush()?;
    Ok(())
}

type Query = (&'static str, Filter, Option<Position>);

/// The queries timed: each names what it asks.
fn queries(store: &ItemStore, members: &[Member], now: u64) -> anyhow::Result<Vec<Query>> {
    let kind_tlp = Filter {
        kinds: vec![ItemKind::Vulnerability],
        tlps: vec![Tlp::Amber],
        ..Filter::default()
    };
    let tag_prefix = Filter {
        tag_prefixes: vec!["rsit:malicious-code".into()],
        ..Filter::default()
    };
    let cve_prefix = Filter {
        tag_prefixes: vec!["cve:".into()],
        ..Filter::default()
    };
    let publisher_time = Filter {
        publishers: Some(vec![members[3].certificate_id]),
        since: Some(now - 60 * 86_400_000),
        until: Some(now - 30 * 86_400_000),
        ..Filter::default()
    };
    // A word of middling frequency (rank 500 of 5,000).
    let text = Filter {
        words: vec![word(500)],
        ..Filter::default()
    };
    let text_and_kind = Filter {
        words: vec![word(2_000)],
        kinds: vec![ItemKind::IndicatorOfCompromise],
        ..Filter::default()
    };
    // A deep page: after the 500,000th item of the whole answer order.
    let all = Filter::default();
    let mut deep = None;
    let mut skipped = 0;
    while skipped < store.count() as usize / 2 {
        let found = store.find(&all, deep, 10_000)?;
        skipped += found.positions.len();
        deep = found.positions.last().copied();
        if !found.more {
            break;
        }
    }
    Ok(vec![
        ("kind + TLP", kind_tlp, None),
        ("tag prefix rsit:malicious-code (2 tags)", tag_prefix, None),
        ("tag prefix cve: (5,000 tags)", cve_prefix, None),
        ("publisher + 30-day range", publisher_time, None),
        ("a text word", text, None),
        ("a text word + kind", text_and_kind, None),
        ("newest (what `items list` shows)", all.clone(), None),
        ("newest, page after the middle item", all, deep),
    ])
}

/// The store's items in answer order, as a scanning node would hold them
/// in memory (not timed).
fn answer_order(store: &ItemStore) -> anyhow::Result<Vec<Position>> {
    let mut order: Vec<Position> = store
        .index()?
        .into_iter()
        .map(|(created, id)| Position { created, id })
        .collect();
    order.sort_unstable();
    Ok(order)
}

/// A query's page by scanning: items read and decoded in answer order
/// from the cursor on, until the page is full.
fn full_scan(
    store: &ItemStore,
    order: &[Position],
    query: &Query,
) -> anyhow::Result<Vec<Position>> {
    let (_, filter, after) = query;
    let start = after.map_or(0, |a| order.partition_point(|p| *p <= a));
    let mut page = Vec::new();
    for at in &order[start..] {
        let Some((item, _)) = store.get(&at.id)? else {
            continue;
        };
        if filter.matches(&Facts::of(&item.body, None)) {
            page.push(*at);
            if page.len() == PAGE {
                break;
            }
        }
    }
    Ok(page)
}

/// Bytes in the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(e.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
