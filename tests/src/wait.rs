//! Waiting with deadlines. Multi-process tests cannot know when gossip has
//! arrived, so every expectation about another process is polled every
//! 100 ms until a deadline, and a miss fails with what was awaited, what was
//! last seen and the end of each involved node's log.

use crate::node::NodeProc;
use std::time::{Duration, Instant};

/// How often a condition is checked.
pub const POLL: Duration = Duration::from_millis(100);

/// Lines of each node log shown when a wait fails.
pub const LOG_TAIL: usize = 40;

/// Polls `check` until it returns `Ok` or `timeout` passes. `Err(seen)`
/// describes the state that was not yet good enough; on timeout the test
/// panics naming `what`, the last `seen` and the tail of each node's log.
pub fn until<T>(
    what: &str,
    timeout: Duration,
    nodes: &[&NodeProc],
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let start = Instant::now();
    loop {
        let seen = match check() {
            Ok(v) => return v,
            Err(seen) => seen,
        };
        if start.elapsed() >= timeout {
            panic!(
                "timed out after {:.1}s waiting until {what}\nlast seen: {seen}\n{}",
                timeout.as_secs_f64(),
                logs(nodes)
            );
        }
        std::thread::sleep(POLL);
    }
}

/// The tails of the nodes' logs, for failure messages.
pub fn logs(nodes: &[&NodeProc]) -> String {
    nodes
        .iter()
        .map(|n| {
            format!(
                "--- last {LOG_TAIL} lines of {} ({}) ---\n{}",
                n.name,
                n.log.display(),
                n.log_tail(LOG_TAIL)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
