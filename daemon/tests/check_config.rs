//! `cairnd check --config` through the real binary: a good configuration is
//! confirmed, and each broken one fails with a non-zero exit and a single
//! `error:` line naming the problem, before anything is opened.
//!
//! Being an integration test of this package, it also makes `cargo test`
//! build `cairnd`, which the multi-process tests in `tests/` run.

use cairn_protocol::{
    Certificate, CertificateBody, Community, CommunityId, EntityType, Role, SecretKey, Sector,
    Timestamp,
};
use cairn_store::files;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A community with one member's key, certificate and config on disk.
struct Setup {
    dir: tempfile::TempDir,
    config: PathBuf,
}

fn setup(authority_is_member: bool) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let issuer = SecretKey::generate();
    let member = SecretKey::generate();
    let authority = if authority_is_member {
        member.clone()
    } else {
        SecretKey::generate()
    };
    let community = Community {
        id: CommunityId::generate(),
        name: "Check ISAC".into(),
        issuers: vec![issuer.public()],
        authority: authority.public(),
        authority_encryption: cairn_protocol::EncryptionSecretKey::derive_from(&authority).public(),
        max_validity_days: 366,
    };
    let now = Timestamp::now();
    let body = CertificateBody {
        community: community.id,
        serial: 1,
        issuer: issuer.public(),
        member_key: member.public(),
        encryption_key: cairn_protocol::EncryptionSecretKey::derive_from(&member).public(),
        subject: cairn_protocol::Subject::Entity(cairn_protocol::Entity {
            name: "Check Hospital".into(),
            entity_type: EntityType::Essential,
            sector: Sector::Health,
            member_state: "DE".parse().unwrap(),
        }),
        roles: vec![Role::Publish, Role::Receive],
        not_before: now.minus_millis(60_000),
        not_after: now.plus_days(30),
    };
    let cert = Certificate::issue(body, &issuer).unwrap();
    files::write_community(&dir.path().join("community.json"), &community).unwrap();
    files::write_secret_key(&dir.path().join("node.key"), &member).unwrap();
    files::write_certificate(&dir.path().join("node.cert.json"), &cert).unwrap();
    let config = dir.path().join("cairn.toml");
    write_config(&config, "");
    Setup { dir, config }
}

/// A config naming the files [`setup`] wrote, plus `extra` lines.
fn write_config(path: &Path, extra: &str) {
    let text = format!(
        "data_dir = \"data\"\nkey_file = \"node.key\"\ncertificate_file = \"node.cert.json\"\n\
         community_file = \"community.json\"\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\n{extra}"
    );
    std::fs::write(path, text).unwrap();
}

/// Runs `cairnd check --config path`: (success, stdout, stderr).
fn check(path: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cairnd"))
        .args(["check", "--config"])
        .arg(path)
        .env_remove("CAIRN_LOG")
        .output()
        .expect("cairnd runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts a failed check with one `error:` line containing every `needle`.
fn fails_with(path: &Path, needles: &[&str]) -> String {
    let (ok, stdout, stderr) = check(path);
    assert!(!ok, "check passed but should fail; stdout: {stdout}");
    assert!(
        stderr.starts_with("error: ") && stderr.ends_with('\n') && stderr.lines().count() == 1,
        "expected exactly one `error:` line on stderr, got:\n{stderr}"
    );
    for n in needles {
        assert!(stderr.contains(n), "stderr lacks {n:?}: {stderr}");
    }
    stderr
}

#[test]
fn a_good_config_is_confirmed() {
    let s = setup(false);
    let (ok, stdout, stderr) = check(&s.config);
    assert!(ok, "stderr: {stderr}");
    assert!(
        stdout.contains("OK") && stdout.contains("Check Hospital") && stdout.contains("Check ISAC"),
        "{stdout}"
    );
    assert!(
        !s.dir.path().join("data").exists(),
        "check must not create the data directory"
    );
}

#[test]
fn a_missing_config_file_fails() {
    let s = setup(false);
    let missing = s.dir.path().join("nowhere.toml");
    let err = fails_with(&missing, &["nowhere.toml"]);
    // The OS reason once, not repeated by the error's cause chain.
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
}

#[test]
fn a_key_others_can_read_fails() {
    let s = setup(false);
    let key = s.dir.path().join("node.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    fails_with(&s.config, &["node.key", "chmod 600"]);
}

#[test]
fn an_unknown_config_key_fails() {
    let s = setup(false);
    write_config(&s.config, "listen_port = 7400\n");
    fails_with(&s.config, &["listen_port"]);
}

#[test]
fn a_bootstrap_address_without_a_peer_id_fails() {
    let s = setup(false);
    write_config(&s.config, "bootstrap = [\"/ip4/127.0.0.1/tcp/7400\"]\n");
    fails_with(&s.config, &["/ip4/127.0.0.1/tcp/7400", "/p2p/"]);
}

#[test]
fn authority_without_the_authority_key_fails() {
    let s = setup(false);
    write_config(&s.config, "authority = true\n");
    fails_with(&s.config, &["authority"]);
    // The same files pass when the key is the community's authority key.
    let s = setup(true);
    write_config(&s.config, "authority = true\n");
    let (ok, _, stderr) = check(&s.config);
    assert!(ok, "{stderr}");
}

/// Starts `cairnd run` with `args` before the subcommand, reads its stderr
/// until it has logged a few lines, and stops it.
fn first_log_lines(setup: &Setup, args: &[&str]) -> String {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairnd"))
        .args(args)
        .arg("run")
        .arg("--config")
        .arg(&setup.config)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = child.kill();
    let _ = child.wait();
    let mut text = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn logs_carry_no_colour_codes_off_a_terminal_and_come_as_json_when_asked() {
    let s = setup(false);
    let text = first_log_lines(&s, &[]);
    assert!(text.contains("listening on"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a piped log: {text:?}"
    );

    let s = setup(false);
    let json = first_log_lines(&s, &["--log-format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert!(!lines.is_empty(), "nothing logged");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v.get("level").is_some() && v.get("fields").is_some(),
            "{line}"
        );
    }
}

#[test]
fn a_second_node_on_a_taken_port_refuses_to_start() {
    // A free port, then two nodes (each with its own key and data
    // directory) asked to listen on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("listen = [\"/ip4/127.0.0.1/tcp/{port}\"]\n");
    let first = setup(false);
    let second = setup(false);
    for s in [&first, &second] {
        let text = std::fs::read_to_string(&s.config).unwrap();
        let text = text.replace("listen = [\"/ip4/127.0.0.1/tcp/0\"]\n", &listen);
        std::fs::write(&s.config, text).unwrap();
    }
    let mut running = Command::new(env!("CARGO_BIN_EXE_cairnd"))
        .args(["run", "--config"])
        .arg(&first.config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Until the first node listens.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first node never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cairnd"))
        .args(["run", "--config"])
        .arg(&second.config)
        .output()
        .unwrap();
    let _ = running.kill();
    let _ = running.wait();
    assert!(
        !out.status.success(),
        "the second node started on a taken port"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another cairnd"), "{stderr}");
}
