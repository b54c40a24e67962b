//! The issuer's offline flow through the real binary, and the one-line
//! errors for bad input that never needs a node.

mod common;

use common::{arg, cairn, ok, one_line_error};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The arguments of `cairn cert issue` with the files named in `dir`, the
/// entity name, then `extra` flags.
fn cert_issue(
    dir: &Path,
    issuer_key: &str,
    member_key: &str,
    entity: &str,
    out: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args = vec![
        "cert".to_string(),
        "issue".into(),
        "--community".into(),
        arg(dir, "community.json"),
        "--issuer-key".into(),
        arg(dir, issuer_key),
        "--member-key".into(),
        arg(dir, member_key),
        "--entity-name".into(),
        entity.into(),
        "--out".into(),
        arg(dir, out),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Keys for an issuer, an authority and a member, a community, and the
/// member's certificate, in `dir`.
fn issue_all(dir: &Path) -> (String, String) {
    let issuer = ok(&["key", "gen", "--out", &arg(dir, "issuer.key")]);
    let authority = ok(&["key", "gen", "--out", &arg(dir, "authority.key")]);
    let member = ok(&["key", "gen", "--out", &arg(dir, "member.key")]);
    for k in [&issuer, &authority, &member] {
        assert_eq!(k.trim().len(), 64, "{k}");
    }
    assert_eq!(ok(&["key", "show", &arg(dir, "member.key")]), member);
    let mode = std::fs::metadata(dir.join("member.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The issuer gets the authority's two public keys as hex, as it would
    // by mail.
    let authority_encryption = ok(&["key", "show", "--encryption", &arg(dir, "authority.key")]);
    assert_eq!(authority_encryption.trim().len(), 64);
    assert_ne!(authority_encryption, authority);
    let id = ok(&[
        "community",
        "create",
        "--name",
        "Health ISAC DE",
        "--issuer-key",
        &arg(dir, "issuer.key"),
        "--authority-key",
        authority.trim(),
        "--authority-encryption-key",
        authority_encryption.trim(),
        "--out",
        &arg(dir, "community.json"),
    ]);
    assert_eq!(id.trim().len(), 32, "{id}");

    let args = cert_issue(
        dir,
        "issuer.key",
        "member.key",
        "St. Example Hospital",
        "member.cert",
        &[
            "--entity-type",
            "essential",
            "--sector",
            "Health",
            "--member-state",
            "de",
            "--roles",
            "publish,receive",
        ],
    );
    let cert_id = ok(&refs(&args));
    assert_eq!(cert_id.trim().len(), 64, "{cert_id}");
    (member.trim().to_string(), cert_id.trim().to_string())
}

#[test]
fn the_issuer_flow_produces_a_certificate_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (member, cert_id) = issue_all(d);

    let shown = ok(&[
        "cert",
        "show",
        &arg(d, "member.cert"),
        "--community",
        &arg(d, "community.json"),
    ]);
    assert!(
        shown.contains(&format!("certificate   {cert_id}\n")),
        "{shown}"
    );
    assert!(
        shown.contains("entity        St. Example Hospital\n"),
        "{shown}"
    );
    assert!(shown.contains("member state  DE\n"), "{shown}");
    assert!(
        shown.contains("roles         publish, receive\n"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!("member key    {member}\n")),
        "{shown}"
    );
    assert!(
        shown.contains("verifies      yes, against community 'Health ISAC DE'"),
        "{shown}"
    );

    let unchecked = ok(&["cert", "show", &arg(d, "member.cert")]);
    assert!(
        unchecked.contains("not checked: pass --community FILE"),
        "{unchecked}"
    );

    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "cert",
        "show",
        &arg(d, "member.cert"),
        "--community",
        &arg(d, "community.json"),
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["id"], cert_id.as_str());
    assert_eq!(json["verification"]["valid"], true);
    assert_eq!(
        json["certificate"]["body"]["subject"]["Entity"]["sector"],
        "health"
    );
}

#[test]
fn an_authority_certificate_can_start_later_and_then_does_not_verify_yet() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    issue_all(d);
    let args = cert_issue(
        d,
        "issuer.key",
        "authority.key",
        "BSI",
        "authority.cert",
        &[
            "--entity-type",
            "competent-authority",
            "--sector",
            "public-administration",
            "--member-state",
            "DE",
            "--roles",
            "authority,receive",
            "--serial",
            "7",
            "--valid-days",
            "30",
            "--not-before",
            "2999-01-01T00:00:00Z",
        ],
    );
    ok(&refs(&args));
    // A certificate that does not verify is shown in full, and the command
    // fails, so scripts cannot take it for a good one.
    let out = cairn(&[
        "cert",
        "show",
        &arg(d, "authority.cert"),
        "--community",
        &arg(d, "community.json"),
    ]);
    assert!(
        !out.status.success(),
        "a failed verification exits non-zero"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not verify"), "{stderr}");
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("valid from    2999-01-01T00:00:00Z\n"),
        "{shown}"
    );
    assert!(
        shown.contains("valid until   2999-01-31T00:00:00Z\n"),
        "{shown}"
    );
    assert!(shown.contains("serial        7\n"), "{shown}");
    assert!(
        shown.contains("verifies      NO, against community 'Health ISAC DE'"),
        "{shown}"
    );
    assert!(shown.contains("not valid before"), "{shown}");
}

#[test]
fn bad_issuer_input_fails_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    issue_all(d);
    let issue = |extra: &[&str]| {
        cairn(&refs(&cert_issue(
            d,
            "issuer.key",
            "member.key",
            "Stadtwerke",
            "new.cert",
            extra,
        )))
    };
    let good = [
        "--entity-type",
        "important",
        "--sector",
        "energy",
        "--member-state",
        "AT",
        "--roles",
        "receive",
    ];

    let line = one_line_error(
        &issue(&[
            "--entity-type",
            "important",
            "--sector",
            "bakery",
            "--member-state",
            "AT",
            "--roles",
            "receive",
        ]),
        "unknown sector 'bakery': expected one of energy, transport",
    );
    assert!(line.contains("research"), "{line}");
    one_line_error(
        &issue(&[
            "--entity-type",
            "big",
            "--sector",
            "energy",
            "--member-state",
            "AT",
            "--roles",
            "receive",
        ]),
        "unknown entity type 'big'",
    );
    one_line_error(
        &issue(&[
            "--entity-type",
            "important",
            "--sector",
            "energy",
            "--member-state",
            "US",
            "--roles",
            "receive",
        ]),
        "'US' is not an EU Member State code",
    );
    one_line_error(
        &issue(&[
            "--entity-type",
            "important",
            "--sector",
            "energy",
            "--member-state",
            "AT",
            "--roles",
            "receive",
            "--not-before",
            "tomorrow",
        ]),
        "is not an RFC 3339 time",
    );
    let missing = cairn(&[
        "community",
        "create",
        "--name",
        "X",
        "--issuer-key",
        &arg(d, "nope.key"),
        "--authority-key",
        &arg(d, "authority.key"),
        "--out",
        &arg(d, "c2.json"),
    ]);
    one_line_error(&missing, &format!("cannot read {}", arg(d, "nope.key")));

    std::fs::set_permissions(d.join("issuer.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    one_line_error(&issue(&good), "chmod 600");
    std::fs::set_permissions(d.join("issuer.key"), std::fs::Permissions::from_mode(0o600)).unwrap();

    let out = cairn(&["key", "gen", "--out", &arg(d, "member.key")]);
    one_line_error(&out, "already exists");

    ok(&["key", "gen", "--out", &arg(d, "rogue.key")]);
    let rogue = cairn(&refs(&cert_issue(
        d,
        "rogue.key",
        "member.key",
        "X",
        "r.cert",
        &[
            "--entity-type",
            "csirt",
            "--sector",
            "energy",
            "--member-state",
            "FR",
            "--roles",
            "receive",
        ],
    )));
    one_line_error(&rogue, "is not an issuer key of community 'Health ISAC DE'");
    assert!(!d.join("r.cert").exists() && !d.join("new.cert").exists());

    let usage = issue(&["--sector", "energy"]);
    assert_eq!(usage.status.code(), Some(2));
    one_line_error(&usage, "required arguments were not provided");
}
