//! Crashes with SIGKILL: the authority dies while members are joining and
//! comes back on the same address; a member dies while publishing and comes
//! back; a node dies while `cairn publish` is still sending. Nothing
//! acknowledged may be lost, nothing registered twice, and nothing that was
//! not acknowledged may be reported as done.

use cairn_protocol::ParticipationKind;
use cairn_tests::community::Community;
use cairn_tests::{bins, expect, net, until, NodeProc};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(20);
/// Members retry with backoff capped at 30 s; allow one full cap and slack.
const RECEIPT_DEADLINE: Duration = Duration::from_secs(40);

#[test]
fn the_authority_killed_during_joins_registers_every_member_exactly_once() {
    let mut c = Community::create(4);
    // A fixed port: members redial the same address after the restart.
    c.authority.listen = net::loopback(net::free_port());
    let (mut authority, members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }

    let (joins, killed_after_registration) = std::thread::scope(|s| {
        let handles: Vec<_> = members
            .iter()
            .map(|m| s.spawn(move || m.cli(["join", "--json"])))
            .collect();
        // Kill right after the first registration, or after 100 ms.
        let t0 = Instant::now();
        let mut registered = false;
        while t0.elapsed() < Duration::from_millis(100) && !registered {
            registered = authority.log_text().contains("participation registered");
            std::thread::sleep(Duration::from_millis(5));
        }
        authority.kill9();
        authority.restart();
        let outputs: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (outputs, registered)
    });
    eprintln!("authority killed after the first registration: {killed_after_registration}");
    for (m, out) in members.iter().zip(&joins) {
        assert!(
            out.status.success(),
            "`cairn join` on {} failed: {}",
            m.name,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    let receipts: Vec<u64> = until(
        "every member's join has a receipt",
        RECEIPT_DEADLINE,
        &all,
        || {
            let mut indexes = Vec::new();
            for m in &members {
                let p = m.try_participation()?;
                match p.as_slice() {
                    [e] if e.kind == ParticipationKind::Joined => match e.register_index {
                        Some(i) => indexes.push(i),
                        None => return Err(format!("{} has no receipt yet", m.name)),
                    },
                    _ => return Err(format!("{}: {p:?}", m.name)),
                }
            }
            Ok(indexes)
        },
    );

    let register = authority.register();
    assert_eq!(
        register.len(),
        4,
        "exactly one entry per member: {register:#?}"
    );
    assert!(register.iter().all(|e| e.kind == ParticipationKind::Joined));
    let keys: BTreeSet<String> = register.iter().map(|e| e.member_key.to_string()).collect();
    let expected: BTreeSet<String> = c.members.iter().map(|m| m.public_key.clone()).collect();
    assert_eq!(keys, expected, "no member twice, none missing");
    for (i, e) in register.iter().enumerate() {
        assert_eq!(e.index, i as u64, "indexes are dense");
    }
    let mut sorted = receipts.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![0, 1, 2, 3], "each receipt names its own entry");
    for (m, index) in members.iter().zip(&receipts) {
        let event = &m.participation()[0];
        assert_eq!(
            register[*index as usize].event_id,
            Some(event.event_id),
            "{}",
            m.name
        );
    }
}

#[test]
fn a_member_killed_while_publishing_keeps_every_acknowledged_item() {
    let mut c = Community::create(2);
    // A fixed port, as in a deployment: the other member redials it.
    c.members[0].listen = net::loopback(net::free_port());
    let (authority, mut members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, DEADLINE);
    }

    // The victim first receives three items over gossip.
    let received: BTreeSet<String> = (0..3)
        .map(|i| {
            members[1].publish(
                "cyber-threat",
                "GREEN",
                &format!("Received {i}"),
                "From peer.",
            )
        })
        .collect();
    expect::items_everywhere(&[&members[0]], &received, DEADLINE);

    // Then it publishes a stream through the CLI and is killed mid-stream.
    let socket = members[0].socket.clone();
    let (tx, rx) = mpsc::channel();
    let stream = std::thread::spawn(move || publish_stream(socket, 200, tx));
    let mut acknowledged = BTreeSet::new();
    while acknowledged.len() < 5 {
        let id = rx
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("the publish stream stalled\n{}", members[0].log_tail(40)));
        acknowledged.insert(id);
    }
    members[0].kill9();
    acknowledged.extend(rx.iter());
    let stopped_by = stream.join().unwrap();
    assert!(
        stopped_by.is_some(),
        "the stream should be cut short by the kill, yet all 200 publishes succeeded"
    );

    members[0].restart();
    let victim = &members[0];
    let mut expected = received.clone();
    expected.extend(acknowledged.iter().cloned());
    let items = victim.items();
    let held: BTreeSet<String> = items.iter().map(|i| i.id.to_string()).collect();
    let lost: Vec<&String> = expected.difference(&held).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged or received items lost across kill -9: {lost:?}\n{}",
        lost.len(),
        victim.log_tail(40)
    );
    assert!(
        items.iter().all(|i| i.verified),
        "every item still verifies"
    );
    assert_eq!(victim.status().items, items.len() as u64);
    let log = victim.log_text();
    let after_restart = log.rsplit("=== cairn-tests: start #2").next().unwrap();
    assert!(
        !after_restart.contains("ERROR"),
        "errors after reopening the store:\n{after_restart}"
    );

    // And it takes part again: items flow both ways.
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);
    let fresh = BTreeSet::from([
        members[0].publish("near-miss", "CLEAR", "After the restart", "Back."),
        members[1].publish("near-miss", "CLEAR", "Welcome back", "Hello."),
    ]);
    expect::items_everywhere(&all, &fresh, DEADLINE);
}

/// `cairn publish` on a node that dies before answering must fail: a
/// script relies on the exit status to know whether the item was stored.
#[test]
fn a_publish_cut_off_by_a_crash_is_not_reported_as_success() {
    let c = Community::create(1);
    let (_authority, mut members) = c.start_all();
    // Big enough that cairn is still writing the request when the node dies.
    let payload = c.path().join("payload.bin");
    std::fs::write(&payload, net::garbage(500 * 1024, 3)).unwrap();
    members[0].freeze();
    let publish = Command::new(bins::cairn())
        .arg("--socket")
        .arg(&members[0].socket)
        .args(["publish", "--kind", "vulnerability", "--tlp", "AMBER"])
        .args(["--title", "Cut off", "--body", "Never answered."])
        .args(["--media-type", "application/octet-stream", "--payload"])
        .arg(&payload)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cairn runs");
    std::thread::sleep(Duration::from_millis(500));
    members[0].kill9();
    let out = publish.wait_with_output().expect("cairn finishes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "`cairn publish` exited 0 although cairnd died before answering \
         (stdout {stdout:?}, stderr {stderr:?})"
    );
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

/// Publishes up to `n` items through `cairn --socket socket`, sending each
/// acknowledged id; returns the first failure (the kill), if any.
fn publish_stream(socket: PathBuf, n: usize, acks: mpsc::Sender<String>) -> Option<String> {
    for i in 0..n {
        let out = Command::new(bins::cairn())
            .arg("--socket")
            .arg(&socket)
            .args([
                "publish",
                "--kind",
                "indicator-of-compromise",
                "--tlp",
                "AMBER",
            ])
            .args([
                "--title",
                &format!("Stream item {i}"),
                "--body",
                "Streamed.",
            ])
            .arg("--json")
            .output()
            .expect("cairn runs");
        if !out.status.success() {
            return Some(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        // Exit 0 without an answer is a cut-off publish misreported as a
        // success (see `a_publish_cut_off_by_a_crash_is_not_reported_as_success`);
        // here it only means: not acknowledged.
        if out.stdout.is_empty() {
            return Some("cairn exited 0 without printing the item id".into());
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("publish JSON");
        let _ = acks.send(v["id"].as_str().expect("an id").to_string());
    }
    None
}
