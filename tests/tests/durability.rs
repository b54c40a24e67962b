//! Durability under SIGKILL: a publishing node and a receiving node are
//! killed mid-stream and restarted. Every item a publish acknowledged must
//! still be on the publisher, and eventually everywhere; stores reopen.

use cairn_tests::community::Community;
use cairn_tests::{control, expect, until, NodeProc};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);

fn held(n: &NodeProc) -> Result<BTreeSet<String>, String> {
    Ok(n.try_items()?
        .into_iter()
        .map(|i| i.id.to_string())
        .collect())
}

#[test]
fn killing_publisher_and_receiver_mid_stream_loses_no_acknowledged_item() {
    let c = Community::create(3);
    let (authority, mut members) = c.start_all();
    {
        let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
        expect::all_admitted(&all, Duration::from_secs(20));
    }
    let mut acknowledged = BTreeSet::new();
    for round in 0..3 {
        let stop = AtomicBool::new(false);
        let socket = members[0].socket.clone();
        let ids = std::thread::scope(|s| {
            let publisher = s.spawn(|| {
                control::publish_until(
                    &socket,
                    &format!("round-{round}"),
                    Duration::from_secs(30),
                    4,
                    &stop,
                )
            });
            std::thread::sleep(Duration::from_millis(700 + 300 * round));
            // Kill the receiver mid-stream, then the publisher.
            members[1].kill9();
            std::thread::sleep(Duration::from_millis(300));
            members[0].kill9();
            stop.store(true, Ordering::Relaxed);
            publisher.join().unwrap()
        });
        assert!(
            !ids.is_empty(),
            "round {round}: nothing was acknowledged before the kill"
        );
        acknowledged.extend(ids);

        // Both restart from whatever kill -9 left on disk.
        members[0].restart();
        let on_publisher = held(&members[0]).expect("publisher answers after restart");
        let lost: Vec<_> = acknowledged.difference(&on_publisher).collect();
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged items missing on the restarted publisher: {lost:?}",
            lost.len()
        );
        members[1].restart();
        members[1].status();
    }
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    until(
        "every node holds every acknowledged item",
        DEADLINE,
        &all,
        || {
            for n in &all {
                let h = held(n)?;
                let missing = acknowledged.difference(&h).count();
                if missing > 0 {
                    return Err(format!(
                        "{} lacks {missing} of {}",
                        n.name,
                        acknowledged.len()
                    ));
                }
            }
            Ok(())
        },
    );
    expect::items_everywhere(&all, &acknowledged, Duration::from_secs(30));
}
