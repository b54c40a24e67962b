//! Garbage at a running node's two doors: its control socket (not JSON, an
//! over-long line, an unknown op, binary noise) and its libp2p TCP port
//! (random bytes, a truncated handshake). Each control request gets one
//! `{"result":"error",...}` line; the node keeps running, keeps answering
//! `status` and keeps sharing items.

use cairn_protocol::control::MAX_REQUEST_LINE;
use cairn_tests::community::Community;
use cairn_tests::{expect, net, NodeProc};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends `bytes` on a fresh control connection and returns the answer line.
fn control_exchange(node: &NodeProc, bytes: &[u8]) -> String {
    let stream = UnixStream::connect(&node.socket).expect("control socket connects");
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    // Written from another thread: the node may answer and hang up before
    // reading everything, and a blocked write must not hide its answer.
    let data = bytes.to_vec();
    let w = std::thread::spawn(move || {
        let _ = writer.write_all(&data);
        let _ = writer.shutdown(std::net::Shutdown::Write);
    });
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .expect("the node answers");
    w.join().unwrap();
    line
}

/// Asserts `line` is one JSON error response; returns its message.
fn is_error(what: &str, line: &str) -> String {
    assert!(
        line.ends_with('\n'),
        "{what}: answer is not a whole line: {line:?}"
    );
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{what}: answer is not JSON ({e}): {line:?}"));
    assert_eq!(v["result"], "error", "{what}: {v}");
    let message = v["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{what}: an error says why: {v}");
    message
}

fn still_serving(node: &NodeProc, after: &str) {
    let status = node
        .try_status()
        .unwrap_or_else(|e| panic!("status after {after}: {e}\n{}", node.log_tail(40)));
    assert!(!status.entity_name.is_empty());
}

#[test]
fn the_control_socket_answers_garbage_with_errors_and_keeps_serving() {
    let c = Community::create(1);
    let (mut authority, members) = c.start_all();

    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"hello cairnd, please status\n".to_vec()),
        (
            "an unknown op",
            br#"{"op":"format-disk","really":true}"#.to_vec(),
        ),
        ("an op of the wrong type", br#"{"op":42}"#.to_vec()),
        ("a JSON array", b"[1,2,3]\n".to_vec()),
        (
            "a known op with a bad field",
            br#"{"op":"list-items","limit":-1}"#.to_vec(),
        ),
        ("an empty line", b"\n".to_vec()),
        ("binary noise", net::garbage(4096, 7)),
        ("an over-long line", vec![b'{'; MAX_REQUEST_LINE + 1024]),
    ];
    for (what, bytes) in &cases {
        let line = control_exchange(&authority, bytes);
        let message = is_error(what, &line);
        if *what == "an over-long line" {
            assert!(message.contains("over"), "{what}: {message}");
        }
        still_serving(&authority, what);
    }

    // A client that connects and hangs up without a word.
    drop(UnixStream::connect(&authority.socket).unwrap());
    still_serving(&authority, "an empty connection");

    assert!(authority.is_running(), "{}", authority.log_tail(40));
    // Garbage changed nothing: the node still takes part.
    let id = members[0].publish("near-miss", "GREEN", "After the garbage", "Fine.");
    expect::items_everywhere(&[&authority, &members[0]], &BTreeSet::from([id]), DEADLINE);
}

#[test]
fn idle_control_connections_do_not_lock_out_the_operator() {
    let c = Community::create(0);
    let authority = c.start(&c.authority, &[]);
    // More silent clients than the node serves at once (a hung script, a
    // stuck terminal): a status request must still be answered, well within
    // the 30 s `cairn` waits.
    let idle: Vec<UnixStream> = (0..40)
        .map(|_| UnixStream::connect(&authority.socket).unwrap())
        .collect();
    let started = std::time::Instant::now();
    let stream = UnixStream::connect(&authority.socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    (&stream).write_all(b"{\"op\":\"status\"}\n").unwrap();
    let mut line = String::new();
    let answer = BufReader::new(&stream).read_line(&mut line);
    assert!(
        answer.is_ok() && line.contains("\"result\":\"status\""),
        "no status answer within {:.1}s while {} idle control connections are open \
         ({answer:?}, {line:?})",
        started.elapsed().as_secs_f64(),
        idle.len(),
    );
}

#[test]
fn random_bytes_on_the_p2p_port_do_not_hurt_the_node() {
    let c = Community::create(1);
    let (mut authority, members) = c.start_all();
    expect::all_admitted(&[&authority, &members[0]], DEADLINE);
    let port = authority.port();

    let mut payloads: Vec<Vec<u8>> = (1..=20).map(|seed| net::garbage(64 * 1024, seed)).collect();
    // A multistream-select header, then noise where the protocol should be.
    let mut half = b"\x13/multistream/1.0.0\n".to_vec();
    half.extend(net::garbage(1024, 99));
    payloads.push(half);
    // A noise handshake length prefix announcing far more than follows.
    let mut noise = b"\x13/multistream/1.0.0\n\x07/noise\n\xff\xff".to_vec();
    noise.extend(net::garbage(300, 5));
    payloads.push(noise);
    payloads.push(Vec::new());

    let streams: Vec<TcpStream> = payloads
        .iter()
        .map(|p| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).expect("p2p port connects");
            s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            // The node may hang up mid-write; that is its right.
            let _ = s.write_all(p);
            s
        })
        .collect();
    // Whatever the node answers, it does not crash.
    for mut s in streams {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut sink = Vec::new();
        let _ = s.read_to_end(&mut sink);
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(authority.is_running(), "{}", authority.log_tail(40));
    assert!(
        !authority.log_text().contains("panicked"),
        "{}",
        authority.log_tail(40)
    );
    still_serving(&authority, "garbage on the p2p port");
    assert_eq!(
        authority.members().len(),
        1,
        "the real member is still admitted"
    );
    let id = members[0].publish("vulnerability", "AMBER", "After the noise", "Fine.");
    expect::items_everywhere(&[&authority, &members[0]], &BTreeSet::from([id]), DEADLINE);
}
