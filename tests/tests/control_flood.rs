//! The owner's CLI gets an answer while the control socket is flooded with
//! idle connections (a stuck script, a leaking tool): connections that send
//! no request line are closed after 5 s, and past 128 waiting ones the
//! oldest is closed at once, so a thousand idle connections cannot keep
//! `cairn status` waiting (before: 32 slots, each held 5 s, minutes).

use cairn_tests::community::Community;
use cairn_tests::NodeProc;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Generous against a loaded machine; the defect took minutes.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[test]
fn a_thousand_idle_control_connections_do_not_lock_the_cli_out() {
    let c = Community::create(1);
    let (authority, _members) = c.start_all();
    let idle: Vec<UnixStream> = (0..1000)
        .map(|_| UnixStream::connect(&authority.socket).expect("connects"))
        .collect();
    for round in 0..3 {
        let t0 = Instant::now();
        let status = authority.try_status();
        let took = t0.elapsed();
        assert!(status.is_ok(), "round {round}: {status:?}");
        assert!(
            took < ANSWER_WITHIN,
            "round {round}: cairn status took {took:?} behind 1000 idle connections"
        );
        eprintln!("round {round}: cairn status answered in {took:?}");
    }
    drop(idle);
    assert_node_alive(&authority);
}

fn assert_node_alive(node: &NodeProc) {
    assert!(node.try_status().is_ok(), "{}", node.log_tail(20));
}
