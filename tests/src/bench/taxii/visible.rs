//! Time to visible: probes published while a poller watches a TAXII
//! server for them (the second measurement of `cairn-bench taxii`).

use super::http::Server;
use super::{POLL_INTERVAL, PROBES, PROBE_SPACING, VISIBLE_DEADLINE};
use crate::bench::fixture::{self, Fixture};
use crate::bench::report::ms;
use anyhow::bail;
use cairn_daemon::node::RunningNode;
use cairn_protocol::control::{ControlRequest, ControlResponse};
use cairn_protocol::interop::stix::marking_id;
use cairn_protocol::Tlp;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a probe is published.
pub enum Probe<'a> {
    /// An item published on this node.
    Cairn(&'a RunningNode),
    /// A report POSTed to this server.
    Medallion(&'a Server),
}

fn probe_name(n: usize) -> String {
    format!("cairn-bench-probe-{n:06}")
}

impl Probe<'_> {
    async fn publish(&self, n: usize) -> anyhow::Result<()> {
        match self {
            Probe::Cairn(node) => {
                let request = Fixture::publish_request(n as u64, probe_name(n));
                match node.api.handle(ControlRequest::Publish(request)).await {
                    ControlResponse::Published { .. } => Ok(()),
                    other => bail!("publishing probe {n} failed: {other:?}"),
                }
            }
            Probe::Medallion(server) => {
                let now = cairn_protocol::Timestamp::now().to_rfc3339_millis();
                server
                    .post(&[json!({
                        "type": "report",
                        "spec_version": "2.1",
                        "id": format!("report--00000002-0000-4000-8000-{n:012}"),
                        "created": now,
                        "modified": now,
                        "published": now,
                        "name": probe_name(n),
                        "description": fixture::filler(n as u64, fixture::BODY_BYTES),
                        "report_types": ["threat-report"],
                        "object_refs": ["identity--00000003-0000-4000-8000-000000000000"],
                        "object_marking_refs": [marking_id(Tlp::Green)],
                    })])
                    .await
            }
        }
    }
}

/// Publishes the probes while a poller watches `server`: each probe's
/// latency in ms, sorted (an unseen one with the time waited for it), and
/// how many went unseen.
pub async fn visible(
    server: &Server,
    after: String,
    probe: &Probe<'_>,
) -> anyhow::Result<(Vec<f64>, usize)> {
    let published: Arc<Mutex<HashMap<usize, Instant>>> = Default::default();
    let seen: Arc<Mutex<HashMap<usize, Duration>>> = Default::default();
    let mut poller = {
        let (server, published, seen) = (server.clone(), published.clone(), seen.clone());
        tokio::spawn(async move {
            let mut after = after;
            loop {
                let path = server.objects_path(&format!("added_after={after}"));
                if let Ok(a) = server.request(hyper::Method::GET, &path, None).await {
                    let now = Instant::now();
                    if let Some(last) = a.header("x-taxii-date-added-last") {
                        after = last;
                    }
                    let text = String::from_utf8_lossy(&a.body);
                    let published = published.lock().expect("no poisoning");
                    let mut seen = seen.lock().expect("no poisoning");
                    for (n, at) in published.iter() {
                        if !seen.contains_key(n) && text.contains(&probe_name(*n)) {
                            seen.insert(*n, now - *at);
                        }
                    }
                    if seen.len() == PROBES {
                        return;
                    }
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        })
    };
    for n in 0..PROBES {
        published
            .lock()
            .expect("no poisoning")
            .insert(n, Instant::now());
        probe.publish(n).await?;
        tokio::time::sleep(PROBE_SPACING).await;
    }
    let _ = tokio::time::timeout(VISIBLE_DEADLINE, &mut poller).await;
    poller.abort();
    let end = Instant::now();
    let seen = seen.lock().expect("no poisoning");
    let published = published.lock().expect("no poisoning");
    let mut unseen = 0;
    let mut out: Vec<f64> = published
        .iter()
        .map(|(n, at)| match seen.get(n) {
            Some(d) => ms(*d),
            None => {
                unseen += 1;
                ms(end - *at)
            }
        })
        .collect();
    out.sort_by(f64::total_cmp);
    Ok((out, unseen))
}
