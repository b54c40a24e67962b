//! Expiry and renewal with real processes: a node whose certificate is
//! about to expire says so in `cairn status` and its log; the issuer renews
//! it offline (`cairn cert renew`), the operator installs it on the running
//! node (`cairn cert install`), connected members see the new certificate
//! at once, and the node restarts with it.

use cairn_tests::community::{CertOptions, Community};
use cairn_tests::{bins, expect, NodeProc};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(20);

#[test]
fn a_certificate_about_to_expire_is_renewed_without_a_restart() {
    let c = Community::create(2);
    // member-1 gets a certificate valid for one day only.
    let spec = &c.members[0];
    std::fs::remove_file(&spec.cert_file).unwrap();
    c.issuer().issue(
        &spec.key_file,
        &spec.cert_file,
        &spec.entity_name,
        ("essential", "health", "DE"),
        "publish,receive",
        CertOptions {
            valid_days: Some(1),
            ..Default::default()
        },
    );
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);

    let status = members[0].status();
    assert!(
        status.warnings.iter().any(|w| w.contains("expires")),
        "{:?}",
        status.warnings
    );
    let shown = members[0].cli_ok(["status"]);
    assert!(
        shown.contains("WARNING") && shown.contains("cairn cert renew"),
        "{shown}"
    );
    members[0].wait("the log warns of the expiry", DEADLINE, || {
        if members[0].log_text().contains("certificate expires at") {
            Ok(())
        } else {
            Err("no warning logged".into())
        }
    });

    // The issuer renews offline; the operator installs it on the running node.
    let renewed = c.path().join("member-1.renewed.cert.json");
    let id = bins::cairn_ok([
        "cert",
        "renew",
        "--community",
        bins::s(&c.community_file),
        "--issuer-key",
        bins::s(&c.issuer_key),
        "--cert",
        bins::s(&spec.cert_file),
        "--out",
        bins::s(&renewed),
    ]);
    let said = members[0].cli_ok(["cert", "install", bins::s(&renewed)]);
    assert!(said.contains(id.trim()), "{said}");
    assert!(members[0].status().warnings.is_empty());
    // Connected members take the renewal without reconnecting.
    for n in [&authority, &members[1]] {
        n.wait("the member shows the renewed certificate", DEADLINE, || {
            let m = n
                .try_members()?
                .into_iter()
                .find(|m| m.member_key.to_string() == spec.public_key);
            match m {
                Some(m) if m.certificate.to_string() == id.trim() && m.connected => Ok(()),
                other => Err(format!("{other:?}")),
            }
        });
    }
    // The file was replaced: a restart keeps the renewal.
    let mut member = members.into_iter().next().unwrap();
    member.restart();
    member.wait("the restarted node presents the renewal", DEADLINE, || {
        let s = member.try_status()?;
        if s.warnings.is_empty() {
            Ok(())
        } else {
            Err(format!("{:?}", s.warnings))
        }
    });
    // A certificate for another entity is not a renewal.
    let other = c.members[1].cert_file.clone();
    let refused = member.cli(["cert", "install", bins::s(&other)]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("another key"));
}
