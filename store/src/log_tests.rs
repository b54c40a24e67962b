//! Tests of [`RecordLog`]: round trips, crash recovery, and refusing damage.

use super::*;
use std::fs;

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::new();
    push_frame(&mut buf, payload).unwrap();
    buf
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

fn records(path: &Path) -> Vec<Vec<u8>> {
    RecordLog::open(path).unwrap().1
}

#[test]
fn records_round_trip_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let (mut log, found) = RecordLog::open(&path).unwrap();
    assert!(found.is_empty());
    log.append(b"one").unwrap();
    log.append(b"two").unwrap();
    log.append_batch(&[b"three".to_vec(), b"four".to_vec()])
        .unwrap();
    log.append_batch::<&[u8]>(&[]).unwrap();
    drop(log);
    assert_eq!(
        records(&path),
        vec![
            b"one".to_vec(),
            b"two".to_vec(),
            b"three".to_vec(),
            b"four".to_vec()
        ]
    );
}

#[test]
fn torn_tails_are_cut_off_and_appends_continue_after_them() {
    let tails: Vec<Vec<u8>> = vec![
        vec![5, 0, 0], // half a header
        frame(b"a record that was being written")[..20].to_vec(),
        vec![0; 4096],                                // zero-filled after a crash
        b"\xde\xad\xbe\xef garbage garbage".to_vec(), // nonsense
        {
            let mut f = frame(b"bit rot");
            *f.last_mut().unwrap() ^= 1;
            f
        },
    ];
    for (i, tail) in tails.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        let (mut log, _) = RecordLog::open(&path).unwrap();
        log.append(b"kept").unwrap();
        drop(log);
        let good_len = fs::metadata(&path).unwrap().len();
        append_raw(&path, tail);

        let (mut log, found) = RecordLog::open(&path).unwrap();
        assert_eq!(found, vec![b"kept".to_vec()], "tail {i}");
        assert_eq!(fs::metadata(&path).unwrap().len(), good_len, "tail {i}");
        log.append(b"after").unwrap();
        drop(log);
        assert_eq!(
            records(&path),
            vec![b"kept".to_vec(), b"after".to_vec()],
            "tail {i}"
        );
    }
}

#[test]
fn damage_followed_by_valid_records_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let first = frame(b"first");
    let mut bad = frame(b"second");
    bad[HEADER] ^= 0xff;
    let mut bytes = first.clone();
    bytes.extend_from_slice(&bad);
    bytes.extend_from_slice(&frame(b"third"));
    fs::write(&path, &bytes).unwrap();

    let err = RecordLog::open(&path).unwrap_err();
    match &err {
        StoreError::LogCorrupt { offset, .. } => assert_eq!(*offset, first.len() as u64),
        other => panic!("expected LogCorrupt, got {other:?}"),
    }
    assert!(err.to_string().contains("restore the file"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes, "nothing may be truncated");
}

#[test]
fn a_damaged_length_field_in_the_middle_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let mut bytes = frame(b"first");
    let mut bad = frame(b"second");
    bad[3] = 0x7f; // length now far beyond the limit
    bytes.extend_from_slice(&bad);
    bytes.extend_from_slice(&frame(b"third"));
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        RecordLog::open(&path),
        Err(StoreError::LogCorrupt { .. })
    ));
}

#[test]
fn many_appends_survive_repeated_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let payload = |i: usize| vec![(i % 251) as u8 + 1; 1 + i % 300];
    let mut expected = Vec::new();
    for round in 0..4 {
        let (mut log, found) = RecordLog::open(&path).unwrap();
        assert_eq!(found, expected, "round {round}");
        for i in 0..250 {
            let p = payload(round * 250 + i);
            log.append(&p).unwrap();
            expected.push(p);
        }
    }
    assert_eq!(records(&path).len(), 1000);
}

#[test]
fn empty_and_oversized_records_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _) = RecordLog::open(&dir.path().join("a.log")).unwrap();
    assert!(matches!(
        log.append(b""),
        Err(StoreError::RecordSize { size: 0, .. })
    ));
    assert!(matches!(
        log.append(&vec![1; MAX_RECORD + 1]),
        Err(StoreError::RecordSize { .. })
    ));
    log.append(&vec![1; MAX_RECORD]).unwrap();
    drop(log);
    assert_eq!(records(&dir.path().join("a.log"))[0].len(), MAX_RECORD);
}

#[test]
fn a_log_has_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    let (log, _) = RecordLog::open(&path).unwrap();
    assert!(matches!(
        RecordLog::open(&path),
        Err(StoreError::InUse { .. })
    ));
    drop(log);
    // Opening waits briefly for a lock on its way out (another test in this
    // process may be forking a child that shares our descriptor until it
    // execs), so this holds even then.
    RecordLog::open(&path).expect("the log is free once its writer closed");
}

/// Record `i` of the crash test: its index, then filler, sized so a kill
/// often lands inside a write.
fn crash_record(i: u64) -> Vec<u8> {
    let size = (512 << 10) + (i as usize * 7919) % (1 << 20);
    let mut r = vec![(i % 251) as u8; size];
    r[..8].copy_from_slice(&i.to_le_bytes());
    r
}

const CRASH_CHILD: &str = "CAIRN_STORE_CRASH_CHILD";

#[test]
fn a_writer_killed_with_sigkill_leaves_a_readable_log() {
    if let Some(path) = std::env::var_os(CRASH_CHILD) {
        // Child: append until killed.
        let (mut log, found) = RecordLog::open(Path::new(&path)).unwrap();
        for i in found.len() as u64.. {
            log.append(&crash_record(i)).unwrap();
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.log");
    let mut seen = 0;
    for round in 0..3 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "log::tests::a_writer_killed_with_sigkill_leaves_a_readable_log",
                "--exact",
                "--test-threads=1",
            ])
            .env(CRASH_CHILD, &path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let grown = |p: &Path| fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let before = grown(&path);
        while grown(&path) < before + (4 << 20) {
            assert!(start.elapsed().as_secs() < 30, "the child wrote nothing");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let found = records(&path);
        assert!(found.len() > seen, "round {round}: no progress");
        for (i, r) in found.iter().enumerate() {
            assert_eq!(r, &crash_record(i as u64), "round {round}, record {i}");
        }
        seen = found.len();
    }
}
