//! Prometheus `/metrics` of live nodes, scraped and parsed by the Prometheus
//! project's own OpenMetrics parser (prometheus_client, pinned in the
//! interop venv): the exposition is valid, and the counters moved with what
//! the test did — every item a member published is counted as stored on
//! the publisher and on the authority, gossip and catch-up traffic shows,
//! the member's join is in the authority's register size and its outbox is
//! empty, connections are counted, a user is needed when configured, and
//! forged items sent by a rogue member are counted as refused for their
//! signature.

use cairn_tests::community::Community;
use cairn_tests::rogue::{RogueArgs, RogueProc};
use cairn_tests::{expect, interop, until, NodeProc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);
const PUBLISHED: usize = 12;

/// Scrapes `url` with the parser; its JSON answer, or why it failed.
fn scrape(url: &str, login: Option<(&str, &str)>) -> Result<Value, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/metrics_scrape.py");
    let mut cmd = Command::new(interop::tool("python"));
    cmd.arg(script).arg(url);
    if let Some((user, password)) = login {
        cmd.args([user, password]);
    }
    let out = cmd.output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
}

/// The value of sample `name` with exactly these labels (0 when absent).
fn value(m: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    m["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s[0] == name
                && s[1].as_object().unwrap().len() == labels.len()
                && labels.iter().all(|(k, v)| s[1][*k] == *v)
        })
        .map(|s| s[2].as_f64().unwrap())
        .unwrap_or(0.0)
}

/// `cairn metrics user NAME`: the generated password and the entry it printed.
fn generated_user(dir: &Path, name: &str) -> (String, String) {
    cairn_tests::http_user::generated("metrics", &[name], Some(dir))
}

#[test]
fn metrics_count_what_a_live_community_did_and_parse_as_openmetrics() {
    interop::tool("python");
    let c = Community::create(2);
    let (password, entry) = generated_user(c.path(), "prometheus");
    let metrics = "\n[metrics]\nenabled = true\nlisten = \"127.0.0.1:0\"\n";
    let authority = c.start_with(&c.authority, &[], metrics);
    let member_section = format!("{metrics}{entry}");
    let member = c.start_with(
        &c.members[0],
        std::slice::from_ref(&authority.addr),
        &member_section,
    );
    expect::all_admitted(&[&authority, &member], DEADLINE);
    member.cli_ok(["join"]);

    let kinds = ["vulnerability", "cyber-threat", "near-miss"];
    let ids: BTreeSet<String> = (0..PUBLISHED)
        .map(|i| {
            member.publish(
                kinds[i % kinds.len()],
                "GREEN",
                &format!("metrics item {i}"),
                "counted",
            )
        })
        .collect();
    expect::items_everywhere(&[&authority, &member], &ids, DEADLINE);
    until(
        "the join registered",
        DEADLINE,
        &[&authority, &member],
        || match authority.register().len() {
            1 => Ok(()),
            n => Err(format!("{n} register entries")),
        },
    );

    let url = |n: &NodeProc| {
        let u = n
            .status()
            .metrics
            .expect("the node reports its metrics URL");
        assert!(
            u.starts_with("http://127.0.0.1:") && u.ends_with("/metrics"),
            "{u}"
        );
        u
    };
    let (a_url, m_url) = (url(&authority), url(&member));

    // A member with users configured: no scrape without them.
    let refused = scrape(&m_url, None).unwrap_err();
    assert!(refused.contains("401"), "{refused}");
    assert!(scrape(&m_url, Some(("prometheus", "wrong"))).is_err());

    let m = scrape(&m_url, Some(("prometheus", &password))).unwrap();
    assert!(
        m["content_type"]
            .as_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
        "{m}"
    );
    assert_eq!(m["families"]["cairn_items_stored"], "counter", "{m}");
    assert_eq!(m["families"]["cairn_ingest_verify_seconds"], "histogram");
    assert_eq!(
        value(&m, "cairn_items_stored_total", &[]),
        PUBLISHED as f64,
        "the publisher stored each of its items once: {m}"
    );
    assert_eq!(value(&m, "cairn_items_held", &[]), PUBLISHED as f64);
    assert!(value(&m, "cairn_gossip_messages_total", &[("direction", "sent")]) >= 1.0);
    assert!(value(&m, "cairn_ingest_store_seconds_count", &[]) >= 1.0);
    assert_eq!(value(&m, "cairn_members_connected", &[]), 1.0, "{m}");
    assert_eq!(value(&m, "cairn_outbox_pending", &[]), 0.0);
    assert_eq!(value(&m, "cairn_outbox_oldest_age_seconds", &[]), 0.0);
    // The query index is written behind the store: it catches up.
    until(
        "the member's query index caught up",
        Duration::from_secs(20),
        &[&member],
        || {
            let m = scrape(&m_url, Some(("prometheus", &password)))?;
            match value(&m, "cairn_query_index_behind", &[]) {
                0.0 => Ok(()),
                behind => Err(format!("{behind} store batches not indexed yet")),
            }
        },
    );
    assert!(
        !m["families"]
            .as_object()
            .unwrap()
            .contains_key("cairn_register_entries"),
        "only the authority keeps a register"
    );

    // The authority, loopback without users: anyone on the machine.
    let a = scrape(&a_url, None).unwrap();
    assert_eq!(
        value(&a, "cairn_items_stored_total", &[]),
        PUBLISHED as f64,
        "the authority stored every published item once: {a}"
    );
    let by_gossip = value(
        &a,
        "cairn_gossip_messages_total",
        &[("direction", "received")],
    );
    let by_catchup = value(&a, "cairn_catchup_items_total", &[("direction", "fetched")]);
    assert!(
        by_gossip + by_catchup >= PUBLISHED as f64,
        "every item arrived by gossip or catch-up: {by_gossip} + {by_catchup}"
    );
    assert!(
        value(&a, "cairn_gossip_bytes_total", &[("direction", "received")]) > 0.0
            || by_catchup > 0.0
    );
    assert!(value(&a, "cairn_ingest_verify_seconds_count", &[]) >= 1.0);
    assert_eq!(value(&a, "cairn_register_entries", &[]), 1.0, "{a}");
    assert_eq!(value(&a, "cairn_members_connected", &[]), 1.0);
    assert_eq!(value(&a, "cairn_members_admitted", &[]), 1.0);

    // Catch-up moves bytes both ways and counts them: ask for a session.
    member.cli_ok(["sync"]);
    let m = scrape(&m_url, Some(("prometheus", &password))).unwrap();
    assert!(
        value(&m, "cairn_catchup_bytes_total", &[("direction", "sent")]) > 0.0,
        "{m}"
    );
    assert!(value(&m, "cairn_catchup_sessions", &[]) >= 1.0, "{m}");

    // A member's key sends forged gossip (bad signatures, titles changed
    // after signing): the authority refuses each, for its signature.
    let forger = RogueArgs {
        community: &c.community_file,
        key: &c.members[1].key_file,
        cert: &c.members[1].cert_file,
        bootstrap: vec![authority.addr.clone()],
        mode: "forged",
        count: 2,
        linger_secs: 1.5,
        created_ms: None,
        extra: vec![],
    };
    let mut rogue = RogueProc::spawn(c.path(), "forger", &forger);
    rogue.finish(DEADLINE);
    until(
        "both forgeries are counted",
        DEADLINE,
        &[&authority],
        || {
            let a = scrape(&a_url, None)?;
            match value(&a, "cairn_items_rejected_total", &[("reason", "signature")]) {
                2.0 => Ok(a),
                n => Err(format!("{n} counted\n{}", rogue.describe())),
            }
        },
    );
    let a = scrape(&a_url, None).unwrap();
    assert_eq!(value(&a, "cairn_items_stored_total", &[]), PUBLISHED as f64);
}
