//! The authority's operator watches membership changes live: `cairn register
//! watch` prints the register, then each join and withdrawal as it lands.

use cairn_protocol::control::{RegisterKind, RegisterView};
use cairn_tests::community::Community;
use cairn_tests::{bins, expect, NodeProc};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn register_watch_streams_joins_and_withdrawals_as_they_happen() {
    let c = Community::create(2);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, Duration::from_secs(20));

    let mut watch = Command::new(bins::cairn())
        .arg("--socket")
        .arg(&authority.socket)
        .args(["register", "watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cairn register watch starts");
    let stdout = watch.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || -> RegisterView {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a register line within 20 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a register entry: {line}: {e}"))
    };

    members[0].cli_ok(["join"]);
    let first = next();
    assert_eq!((first.index, first.kind), (0, RegisterKind::Joined));
    assert_eq!(first.entity_name, c.members[0].entity_name);

    members[1].cli_ok(["join"]);
    members[0].cli_ok(["withdraw"]);
    let second = next();
    let third = next();
    assert_eq!((second.index, second.kind), (1, RegisterKind::Joined));
    assert_eq!(second.entity_name, c.members[1].entity_name);
    assert_eq!(
        (third.index, third.kind),
        (2, RegisterKind::WithdrawalEffective)
    );
    assert_eq!(third.entity_name, c.members[0].entity_name);

    let _ = watch.kill();
    let _ = watch.wait();
    // The node keeps serving after the watcher went away.
    assert_eq!(authority.register().len(), 3);
}
