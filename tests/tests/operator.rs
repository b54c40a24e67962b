//! What an operator sees of a real node: `cairn` finds the node from its
//! config; `cairn status` shows each bootstrap address with its last
//! success and last error, and an unreachable one is logged at WARN once,
//! not at every redial; catch-up names its peer by entity name.

use cairn_protocol::control::NodeStatus;
use cairn_tests::bins::{cairn, cairn_ok, s};
use cairn_tests::net::{free_port, loopback};
use cairn_tests::{expect, Community};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

#[test]
fn status_shows_bootstrap_outcomes_and_names_the_sync_peer() {
    let c = Community::create(1);
    let authority = c.start(&c.authority, &[]);
    // A bootstrap entry nobody answers: a real key's PeerId on a free port.
    let ghost_key = c.new_key("ghost");
    let ghost_id = cairn_ok(["key", "show", "--peer-id", s(&ghost_key)]);
    let ghost = format!("{}/p2p/{ghost_id}", loopback(free_port()));
    let member = c.start(&c.members[0], &[authority.addr.clone(), ghost.clone()]);
    expect::all_admitted(&[&authority, &member], DEADLINE);

    // Found through its config alone (no --socket, no data directory).
    let config = s(&c.members[0].config_file);
    let status = || -> Result<NodeStatus, String> {
        let out = Command::new(cairn())
            .args(["--config", config, "status", "--json"])
            .env_remove("CAIRN_SOCKET")
            .env_remove("CAIRN_DATA_DIR")
            .env_remove("CAIRN_CONFIG")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    };
    let st = member.wait("both bootstrap outcomes are known", DEADLINE, || {
        let st = status()?;
        let ok = st
            .bootstrap
            .iter()
            .any(|b| b.address == authority.addr && b.connected && b.last_success.is_some());
        let failed = st.bootstrap.iter().any(|b| {
            b.address == ghost && !b.connected && b.last_error.is_some() && b.last_success.is_none()
        });
        if ok && failed && st.bootstrap.len() == 2 {
            Ok(st)
        } else {
            Err(format!("{:?}", st.bootstrap))
        }
    });
    let error = st
        .bootstrap
        .iter()
        .find_map(|b| b.last_error.clone())
        .unwrap();
    assert!(
        error.contains("127.0.0.1"),
        "the error names the address: {error}"
    );
    let shown = member.cli_ok(["status"]);
    assert!(
        shown.contains(&format!(
            "{ghost} NOT CONNECTED; no dial succeeded yet; last error "
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "{} connected; last dial succeeded",
            authority.addr
        )),
        "{shown}"
    );

    // The node redials every second; the log says it once (per minute).
    member.wait(
        "the log warns of the unreachable bootstrap peer",
        DEADLINE,
        || match member
            .log_text()
            .lines()
            .find(|l| l.contains("cannot reach bootstrap peer"))
        {
            Some(l) if l.contains(" WARN ") && l.contains(&ghost_id) => Ok(()),
            Some(l) => Err(format!("not a WARN naming the peer: {l}")),
            None => Err("no warning yet".into()),
        },
    );
    std::thread::sleep(Duration::from_secs(4));
    let count = member
        .log_text()
        .matches("cannot reach bootstrap peer")
        .count();
    assert_eq!(count, 1, "logged {count} times in a few seconds");

    // Catch-up names the peer as people know it.
    let authority_name = &c.authority.entity_name;
    member.wait("catch-up names the authority", DEADLINE, || {
        let st = status()?;
        match st.sync.peer_name {
            Some(n) if n == *authority_name => Ok(()),
            other => Err(format!("peer_name {other:?}")),
        }
    });
    let out = member.cli(["sync"]);
    assert!(out.status.success(), "{out:?}");
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(
        progress.contains(&format!("reconciling with {authority_name}")) || progress.is_empty(),
        "{progress}"
    );
    assert!(!progress.contains("peer …"), "{progress}");
}
