//! The web view of a live authority node in a real headless Chromium
//! (Debian's package, installed by tests/web/chromium.sh when missing),
//! driven by Playwright for Python (pinned in the interop venv) through
//! tests/web/driver.py: log in, filter to one kind and one TLP, open an
//! item and download its payload (the same bytes), see an item whose title
//! is markup shown as text (its script never runs), see a sealed item this
//! node is not a recipient of as "not in the audience" with its payload
//! refused, and watch a new member's join appear on the register page
//! without a reload. Screenshots go to target/test-artifacts/web/ (the path is printed).

use cairn_tests::community::Community;
use cairn_tests::{bins, expect, interop, until, NodeProc};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(60);
const XSS_TITLE: &str =
    "<script>window.cairnXss=1</script><img src=x onerror=\"window.cairnXss=2\"> & \"quotes\"";

/// The system's Chromium, installed by the setup script if need be.
fn chromium() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/chromium.sh");
    let out = Command::new("bash").arg(&script).output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `cairn publish … --json` on `node`; the new item's id.
fn publish(node: &NodeProc, args: &[&str]) -> String {
    let mut all = vec!["publish", "--json"];
    all.extend_from_slice(args);
    let v: serde_json::Value = node.json(&all);
    v["id"].as_str().expect("publish prints the id").to_string()
}

/// `cairn web user NAME`: the generated password and the entry it printed.
fn generated_user(dir: &Path, name: &str) -> (String, String) {
    cairn_tests::http_user::generated("web", &[name], Some(dir))
}

/// `target/test-artifacts/web`, beside the profile directories.
fn artifacts() -> PathBuf {
    let profile = bins::target_dir();
    let target = profile.parent().unwrap_or(&profile);
    target.join("test-artifacts").join("web")
}

#[test]
fn an_analyst_filters_opens_downloads_and_watches_the_register_in_chromium() {
    let python = interop::tool("python");
    let chromium = chromium();
    let c = Community::create(3);
    let (password, entry) = generated_user(c.path(), "analyst");
    let web = format!("\n[web]\nenabled = true\nlisten = \"127.0.0.1:0\"\n{entry}");
    let authority = c.start_with(&c.authority, &[], &web);
    let publisher = c.start(&c.members[0], std::slice::from_ref(&authority.addr));
    let recipient = c.start(
        &c.members[1],
        &[authority.addr.clone(), publisher.addr.clone()],
    );
    expect::all_admitted(&[&authority, &publisher, &recipient], DEADLINE);
    publisher.cli_ok(["join"]);

    // Three kinds at three markings; the target and two more at
    // vulnerability/AMBER; the markup title; a sealed item for the
    // recipient only (the authority relays it but cannot read it).
    let dir = c.path();
    let payload_file = dir.join("payload.bin");
    let payload: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&payload_file, &payload).unwrap();
    let mut total = 0;
    for kind in ["vulnerability", "cyber-threat", "indicator-of-compromise"] {
        for tlp in ["CLEAR", "GREEN", "AMBER"] {
            if (kind, tlp) != ("vulnerability", "AMBER") {
                publish(
                    &publisher,
                    &[
                        "--kind",
                        kind,
                        "--tlp",
                        tlp,
                        "--title",
                        &format!("{kind} at {tlp}"),
                        "--body",
                        "filler",
                    ],
                );
                total += 1;
            }
        }
    }
    for n in 0..2 {
        let title = format!("Another VPN advisory {n}");
        publish(
            &publisher,
            &[
                "--kind",
                "vulnerability",
                "--tlp",
                "AMBER",
                "--title",
                &title,
                "--body",
                "more",
            ],
        );
    }
    let target_title = "VPN gateway pre-auth RCE";
    let target_body = "Patch the gateway; the attached file lists affected builds.";
    let target = publish(
        &publisher,
        &[
            "--kind",
            "vulnerability",
            "--tlp",
            "AMBER",
            "--title",
            target_title,
            "--body",
            target_body,
            "--tag",
            "cve:CVE-2026-0001",
            "--payload",
            payload_file.to_str().unwrap(),
            "--media-type",
            "application/octet-stream",
        ],
    );
    let xss = publish(
        &publisher,
        &[
            "--kind",
            "near-miss",
            "--tlp",
            "GREEN",
            "--title",
            XSS_TITLE,
            "--body",
            "<b>bold?</b>",
        ],
    );
    let sealed_payload = dir.join("sealed.txt");
    std::fs::write(&sealed_payload, "SEALED-PAYLOAD-SECRET").unwrap();
    let sealed_title = "Sealed title only the recipient reads";
    let sealed = publish(
        &publisher,
        &[
            "--kind",
            "cyber-threat",
            "--tlp",
            "AMBER+STRICT",
            "--title",
            sealed_title,
            "--body",
            "sealed body",
            "--to",
            &c.members[1].entity_name,
            "--payload",
            sealed_payload.to_str().unwrap(),
            "--media-type",
            "text/plain",
        ],
    );
    total += 2 + 3;
    until(
        "the authority holds every item",
        DEADLINE,
        &[&authority],
        || match authority.items().len() {
            n if n == total => Ok(()),
            n => Err(format!("{n} of {total} items")),
        },
    );
    until(
        "the publisher's join is registered",
        DEADLINE,
        &[&authority],
        || match authority.register().len() {
            1 => Ok(()),
            n => Err(format!("{n} entries")),
        },
    );

    // The member that joins while the register page is open.
    let joining = c.start(&c.members[2], std::slice::from_ref(&authority.addr));
    expect::all_admitted(&[&authority, &joining], DEADLINE);

    let url = authority
        .status()
        .web
        .expect("the node reports its web view URL");
    let plan = json!({
        "url": url,
        "user": "analyst",
        "password": password,
        "chromium": chromium,
        "artifacts": artifacts(),
        "total": total,
        "matching": 3,
        "target": {
            "id": target, "kind": "vulnerability", "tlp": "AMBER", "title": target_title,
            "body": target_body, "payload_file": payload_file, "word": "gateway",
        },
        "xss": { "id": xss, "title": XSS_TITLE },
        "sealed": { "id": sealed, "title": sealed_title, "payload_text": "SEALED-PAYLOAD-SECRET" },
        "join": [bins::cairn(), "--socket", joining.socket, "join"],
        "joining": c.members[2].entity_name,
    });
    let plan_file = dir.join("web-plan.json");
    std::fs::write(&plan_file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("web/driver.py");
    let out = Command::new(python)
        .arg(driver)
        .arg(&plan_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser test failed ({}):\n{stdout}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        cairn_tests::wait::logs(&[&authority])
    );
    assert!(stdout.contains("every check passed"), "{stdout}");
    // The register the page showed is the register the CLI shows.
    let register = authority.register();
    assert_eq!(register.len(), 2);
    assert_eq!(register[1].entity_name, c.members[2].entity_name);
    println!("screenshots in {}", artifacts().display());
}
