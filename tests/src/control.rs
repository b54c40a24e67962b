//! Speaking a node's control protocol directly, for volume: publishing
//! thousands of items through `cairn publish` would spend the test's time
//! starting processes. This is the same JSON-lines protocol the CLI speaks.

use cairn_protocol::control::{ControlRequest, ControlResponse, PublishRequest};
use cairn_protocol::{ItemKind, Tlp};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One request, one response.
pub fn request(socket: &Path, req: &ControlRequest) -> Result<ControlResponse, String> {
    let mut stream = UnixStream::connect(socket).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut line = serde_json::to_vec(req).map_err(|e| e.to_string())?;
    line.push(b'\n');
    stream.write_all(&line).map_err(|e| format!("write: {e}"))?;
    let mut answer = String::new();
    BufReader::new(stream)
        .read_line(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    serde_json::from_str(&answer).map_err(|e| format!("bad answer {answer:?}: {e}"))
}

/// A 1 KiB item titled `title`.
pub fn item(title: String) -> PublishRequest {
    PublishRequest {
        kind: ItemKind::IndicatorOfCompromise,
        tlp: Tlp::Green,
        title,
        body: "x".repeat(1024),
        payload: None,
        tags: vec!["load".into()],
        audience: Default::default(),
    }
}

/// Publishes one item; its id if the node acknowledged it.
pub fn publish(socket: &Path, title: String) -> Result<String, String> {
    match request(socket, &ControlRequest::Publish(item(title)))? {
        ControlResponse::Published {
            id, stored: true, ..
        } => Ok(id.to_string()),
        other => Err(format!("{other:?}")),
    }
}

/// Publishes `n` items titled `{prefix}-{i}` over `concurrency` connections
/// at a time; returns the acknowledged ids (panics on any refusal).
pub fn publish_many(socket: &Path, prefix: &str, n: usize, concurrency: usize) -> Vec<String> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                s.spawn(|| {
                    let mut ids = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return ids;
                        }
                        match publish(socket, format!("{prefix}-{i}")) {
                            Ok(id) => ids.push(id),
                            Err(e) => panic!("publishing {prefix}-{i} failed: {e}"),
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

/// Publishes as fast as `concurrency` connections allow until `duration`
/// passes or `stop` is set; returns the ids the node acknowledged. Errors
/// (a node killed under it, say) end that connection's loop: what was not
/// acknowledged was never promised.
pub fn publish_until(
    socket: &Path,
    prefix: &str,
    duration: Duration,
    concurrency: usize,
    stop: &AtomicBool,
) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                s.spawn(|| {
                    let mut ids = Vec::new();
                    while t0.elapsed() < duration && !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        match publish(socket, format!("{prefix}-{i}")) {
                            Ok(id) => ids.push(id),
                            Err(_) => break,
                        }
                    }
                    ids
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}
