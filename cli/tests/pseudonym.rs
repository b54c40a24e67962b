//! Issuing accountable pseudonyms through the real binary: the issuer's
//! tool refuses any escrow it has not seen open to the member under the
//! authority's key, records every certificate in its ledger, and revokes a
//! member's pseudonyms with its named certificate.

mod common;

use common::{arg, cairn, ok};
use std::path::Path;

/// An issuer, an authority, a member with its named certificate and a key
/// for its pseudonym, and the community file, in `dir`.
fn setup(dir: &Path) {
    for k in ["issuer", "authority", "member", "pseudonym", "other"] {
        ok(&["key", "gen", "--out", &arg(dir, &format!("{k}.key"))]);
    }
    ok(&[
        "community",
        "create",
        "--name",
        "Health ISAC DE",
        "--issuer-key",
        &arg(dir, "issuer.key"),
        "--authority-key",
        &arg(dir, "authority.key"),
        "--out",
        &arg(dir, "community.json"),
    ]);
    for (key, name) in [
        ("member", "St. Example Hospital"),
        ("other", "Other Clinic"),
    ] {
        ok(&[
            "cert",
            "issue",
            "--community",
            &arg(dir, "community.json"),
            "--issuer-key",
            &arg(dir, "issuer.key"),
            "--member-key",
            &arg(dir, &format!("{key}.key")),
            "--entity-name",
            name,
            "--entity-type",
            "essential",
            "--sector",
            "health",
            "--member-state",
            "DE",
            "--roles",
            "publish,receive",
            "--valid-days",
            "60",
            "--out",
            &arg(dir, &format!("{key}.cert")),
        ]);
    }
}

/// `cairn cert pseudonym` for the member's pseudonym key, with `extra`.
fn pseudonym_args(dir: &Path, out: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "cert",
        "pseudonym",
        "--community",
        &arg(dir, "community.json"),
        "--issuer-key",
        &arg(dir, "issuer.key"),
        "--named-cert",
        &arg(dir, "member.cert"),
        "--pseudonym-key",
        &arg(dir, "pseudonym.key"),
        "--out",
        &arg(dir, out),
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(args: &[String]) -> std::process::Output {
    cairn(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn run_ok(args: &[String]) -> String {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Asserts a refusal whose one error line contains `needle`, and that no
/// certificate was written.
fn refused(dir: &Path, args: &[String], needle: &str) {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected a refusal: {args:?}");
    assert!(stderr.contains(needle), "{needle:?} not in {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!dir.join("refused.cert").exists());
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_issuer_with_the_authority_key_issues_a_pseudonym_that_verifies_and_shows_no_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let id = run_ok(&pseudonym_args(
        d,
        "pseudonym.cert",
        &[
            "--authority-key",
            &arg(d, "authority.key"),
            "--disclose-sector",
            "--valid-days",
            "30",
        ],
    ));
    assert_eq!(id.trim().len(), 64, "{id}");
    let shown = ok(&[
        "cert",
        "show",
        &arg(d, "pseudonym.cert"),
        "--community",
        &arg(d, "community.json"),
    ]);
    assert!(
        shown.contains("entity        a certified member (pseudonym "),
        "{shown}"
    );
    assert!(shown.contains(", health)\n"), "{shown}");
    assert!(shown.contains("member state  (not disclosed)\n"), "{shown}");
    assert!(shown.contains("roles         publish\n"), "{shown}");
    assert!(shown.contains("verifies      yes"), "{shown}");
    assert!(!shown.contains("St. Example Hospital"), "{shown}");
    // The certificate file itself names nobody.
    let text = std::fs::read_to_string(d.join("pseudonym.cert")).unwrap();
    assert!(!text.contains("Hospital"), "{text}");
    // Its validity ends no later than the named certificate's.
    let p = json(&d.join("pseudonym.cert"));
    let n = json(&d.join("member.cert"));
    assert!(p["body"]["not_after"].as_u64() <= n["body"]["not_after"].as_u64());
    // Recorded in the issuer's ledger, owner-only, beside the named one.
    let ledger = d.join("issuer.key.ledger");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&ledger).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&ledger)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "two named certificates and the pseudonym");
    assert_eq!(lines[2]["certificate"], p);
    assert_eq!(
        lines[2]["beside"]["member_key"], n["body"]["member_key"],
        "{:?}",
        lines[2]
    );
}

#[test]
fn an_escrow_that_would_not_open_to_the_member_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);

    // A key that is not the authority's cannot vouch for the escrow.
    refused(
        d,
        &pseudonym_args(
            d,
            "refused.cert",
            &["--authority-key", &arg(d, "issuer.key")],
        ),
        "not the community's authority key",
    );

    // A community file whose authority encryption key is not the
    // authority's: an escrow sealed to it would never open.
    let mut community = json(&d.join("community.json"));
    let stray = ok(&["key", "show", "--encryption", &arg(d, "other.key")]);
    community["authority_encryption"] = stray.trim().into();
    std::fs::write(d.join("wrong-community.json"), community.to_string()).unwrap();
    let mut args = pseudonym_args(
        d,
        "refused.cert",
        &["--authority-key", &arg(d, "authority.key")],
    );
    args[3] = arg(d, "wrong-community.json");
    refused(d, &args, "authority encryption key");

    // Neither the authority's key nor its escrow: nothing to check with.
    refused(
        d,
        &pseudonym_args(d, "refused.cert", &[]),
        "--authority-key",
    );

    // The authority's escrow for another member is not this member's.
    ok(&[
        "cert",
        "escrow",
        "--community",
        &arg(d, "community.json"),
        "--authority-key",
        &arg(d, "authority.key"),
        "--named-cert",
        &arg(d, "other.cert"),
        "--pseudonym-key",
        &arg(d, "pseudonym.key"),
        "--out",
        &arg(d, "other.escrow"),
    ]);
    refused(
        d,
        &pseudonym_args(d, "refused.cert", &["--escrow", &arg(d, "other.escrow")]),
        "named certificate",
    );
    // Altered after the authority signed it: refused too.
    let mut escrow = json(&d.join("other.escrow"));
    let member_cert_id = ok(&["cert", "show", &arg(d, "member.cert"), "--json"]);
    let member_cert_id: serde_json::Value = serde_json::from_str(&member_cert_id).unwrap();
    escrow["body"]["named_certificate"] = member_cert_id["id"].clone();
    std::fs::write(d.join("altered.escrow"), escrow.to_string()).unwrap();
    refused(
        d,
        &pseudonym_args(d, "refused.cert", &["--escrow", &arg(d, "altered.escrow")]),
        "signature does not verify",
    );
    // Only the authority makes escrows.
    let out = cairn(&[
        "cert",
        "escrow",
        "--community",
        &arg(d, "community.json"),
        "--authority-key",
        &arg(d, "issuer.key"),
        "--named-cert",
        &arg(d, "member.cert"),
        "--pseudonym-key",
        &arg(d, "pseudonym.key"),
        "--out",
        &arg(d, "refused.escrow"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not the community's authority key"));

    // The other rules: its own key, within the named validity.
    let mut args = pseudonym_args(
        d,
        "refused.cert",
        &["--authority-key", &arg(d, "authority.key")],
    );
    args[9] = arg(d, "member.key");
    refused(d, &args, "separate key");
    refused(
        d,
        &pseudonym_args(
            d,
            "refused.cert",
            &[
                "--authority-key",
                &arg(d, "authority.key"),
                "--valid-days",
                "61",
            ],
        ),
        "outlive the named certificate",
    );
    // Nothing refused reached the ledger.
    let ledger = std::fs::read_to_string(d.join("issuer.key.ledger")).unwrap();
    assert_eq!(ledger.lines().count(), 2, "{ledger}");
}

#[test]
fn the_authority_escrows_for_an_issuer_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let pseudonym_key = ok(&["key", "show", &arg(d, "pseudonym.key")]);
    let pseudonym = ok(&[
        "cert",
        "escrow",
        "--community",
        &arg(d, "community.json"),
        "--authority-key",
        &arg(d, "authority.key"),
        "--named-cert",
        &arg(d, "member.cert"),
        "--pseudonym-key",
        pseudonym_key.trim(),
        "--out",
        &arg(d, "member.escrow"),
    ]);
    assert_eq!(pseudonym.trim().len(), 16, "{pseudonym}");
    // The issuer gets the pseudonym's public keys as hex, and the escrow.
    let signing = ok(&["key", "show", &arg(d, "pseudonym.key")]);
    let encryption = ok(&["key", "show", "--encryption", &arg(d, "pseudonym.key")]);
    let mut args = pseudonym_args(
        d,
        "pseudonym.cert",
        &[
            "--escrow",
            &arg(d, "member.escrow"),
            "--pseudonym-encryption-key",
            encryption.trim(),
            "--disclose-member-state",
        ],
    );
    args[9] = signing.trim().to_string();
    run_ok(&args);
    let p = json(&d.join("pseudonym.cert"));
    assert_eq!(
        p["body"]["subject"]["Pseudonym"]["id"],
        pseudonym.trim(),
        "the authority's pseudonym and escrow are used"
    );
    assert_eq!(p["body"]["subject"]["Pseudonym"]["member_state"], "DE");
    assert!(p["body"]["subject"]["Pseudonym"]["sector"].is_null());
}

#[test]
fn revoking_a_named_certificate_revokes_its_pseudonyms_and_renewals_refuse_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d);
    let pseudonym_id = run_ok(&pseudonym_args(
        d,
        "pseudonym.cert",
        &["--authority-key", &arg(d, "authority.key")],
    ));
    // A renewal of the named certificate is recorded; a pseudonym is not
    // renewed (it could not be checked against its member).
    ok(&[
        "cert",
        "renew",
        "--community",
        &arg(d, "community.json"),
        "--issuer-key",
        &arg(d, "issuer.key"),
        "--cert",
        &arg(d, "member.cert"),
        "--out",
        &arg(d, "member-renewed.cert"),
    ]);
    let out = cairn(&[
        "cert",
        "renew",
        "--community",
        &arg(d, "community.json"),
        "--issuer-key",
        &arg(d, "issuer.key"),
        "--cert",
        &arg(d, "pseudonym.cert"),
        "--out",
        &arg(d, "pseudonym-renewed.cert"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cairn cert pseudonym"));

    // Revoking the renewed named certificate reaches the pseudonym issued
    // beside its predecessor: the same member key.
    let revoke = |cert: &str, out: &str| {
        cairn(&[
            "cert",
            "revoke",
            "--community",
            &arg(d, "community.json"),
            "--issuer-key",
            &arg(d, "issuer.key"),
            "--cert",
            &arg(d, cert),
            "--reason",
            "withdrawn",
            "--out",
            &arg(d, out),
        ])
    };
    let done = revoke("member-renewed.cert", "member.revocation");
    assert!(done.status.success());
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert_eq!(stdout.trim().len(), 64, "only the id on stdout: {stdout}");
    assert!(
        String::from_utf8_lossy(&done.stderr).contains(pseudonym_id.trim()),
        "the issuer is told which pseudonyms go with it"
    );
    let r = json(&d.join("member.revocation"));
    let named: Vec<&str> = r["Issued"]["body"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(named.len(), 2, "{r}");
    assert!(named.contains(&pseudonym_id.trim()), "{r}");

    // Another member's revocation names only its own certificate.
    let other = revoke("other.cert", "other.revocation");
    assert!(other.status.success());
    let r = json(&d.join("other.revocation"));
    assert_eq!(
        r["Issued"]["body"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Without a ledger, the issuer is warned, not silently short.
    std::fs::rename(d.join("issuer.key.ledger"), d.join("moved.ledger")).unwrap();
    let warned = revoke("member.cert", "again.revocation");
    assert!(warned.status.success());
    assert!(String::from_utf8_lossy(&warned.stderr).contains("no issuer's ledger"));
}
