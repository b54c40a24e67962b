//! MISP feed import: markings, kinds, tags and values from events, and the
//! round trip from the export.

use super::*;
use crate::interop::misp;
use crate::interop::stix::tests::view;

const UUID: &str = "5f1c2b6e-6b1d-4c3e-9f0a-1b2c3d4e5f60";

fn ev(tags: &[&str], attrs: &[(&str, &str)]) -> String {
    serde_json::json!({"Event": {
        "uuid": UUID, "info": "Phishing wave\nsecond line",
        "Tag": tags.iter().map(|t| serde_json::json!({"name": t})).collect::<Vec<_>>(),
        "Attribute": attrs.iter().map(|(t, v)| serde_json::json!({"type": t, "value": v})).collect::<Vec<_>>(),
    }})
    .to_string()
}

#[test]
fn exactly_one_tlp_tag_is_required_and_named_by_uuid() {
    let err = event(UUID, &ev(&["rsit:fraud=\"phishing\""], &[]), false).unwrap_err();
    assert_eq!(err, MispImportError::NoTlp { uuid: UUID.into() });
    assert!(err.to_string().contains(UUID), "{err}");
    let err = event(UUID, &ev(&["tlp:green", "tlp:amber"], &[]), false).unwrap_err();
    assert!(matches!(err, MispImportError::ManyTlp { .. }), "{err:?}");
    assert!(err.to_string().contains(UUID));
    // A tlp: tag that is no marking does not count as one.
    let err = event(UUID, &ev(&["tlp:ex:chr"], &[]), false).unwrap_err();
    assert_eq!(err, MispImportError::NoTlp { uuid: UUID.into() });
    let err = event(UUID, &ev(&["tlp:green", "tlp:ex:chr"], &[]), false).unwrap_err();
    assert!(matches!(err, MispImportError::ManyTlp { .. }), "{err:?}");
    let ok = event(UUID, &ev(&["tlp:white"], &[]), false).unwrap();
    assert_eq!(ok.request.tlp, Tlp::Clear);
    let err = event(UUID, &ev(&["tlp:red"], &[]), false).unwrap_err();
    assert!(matches!(err, MispImportError::RedWithoutRecipients { .. }));
    assert_eq!(
        event(UUID, &ev(&["tlp:red"], &[]), true)
            .unwrap()
            .request
            .tlp,
        Tlp::Red
    );
}

#[test]
fn kinds_are_taken_or_inferred_and_values_become_tags() {
    let vuln = event(
        UUID,
        &ev(&["tlp:green"], &[("vulnerability", "CVE-2026-4242")]),
        false,
    )
    .unwrap();
    assert_eq!(vuln.request.kind, ItemKind::Vulnerability);
    assert_eq!(vuln.request.tags, ["cve:CVE-2026-4242"]);
    let ioc = event(
        UUID,
        &ev(
            &["tlp:green", "rsit:fraud=\"phishing\""],
            &[
                ("ip-src", "2001:db8::1"),
                ("filename|md5", "a.exe|d41d8cd98f00b204e9800998ecf8427e"),
                ("AS", "64500"),
            ],
        ),
        false,
    )
    .unwrap();
    assert_eq!(ioc.request.kind, ItemKind::IndicatorOfCompromise);
    assert_eq!(
        ioc.request.tags,
        [
            "rsit:fraud=\"phishing\"",
            "ioc:ipv6=2001:db8::1",
            "ioc:filename=a.exe",
            "ioc:md5=d41d8cd98f00b204e9800998ecf8427e"
        ]
    );
    assert!(
        ioc.notes.iter().any(|n| n.contains("1 attribute value")),
        "{:?}",
        ioc.notes
    );
    assert_eq!(ioc.request.title, "Phishing wave");
    assert_eq!(ioc.request.body, "Phishing wave\nsecond line");
    let alert = event(
        UUID,
        &ev(&["tlp:clear", "cairn-kind:near-miss"], &[]),
        false,
    )
    .unwrap();
    assert_eq!(alert.request.kind, ItemKind::NearMiss);
    assert!(alert.request.tags.is_empty());
    let plain = event(UUID, &ev(&["tlp:clear", "with space"], &[]), false).unwrap();
    assert_eq!(plain.request.kind, ItemKind::CybersecurityAlert);
    assert!(plain.notes.iter().any(|n| n.contains("with space")));
}

#[test]
fn taxonomy_violations_and_bad_manifests_are_refused() {
    let err = event(
        UUID,
        &ev(&["tlp:green", "nis2:nature-severity=\"extreme\""], &[]),
        false,
    )
    .unwrap_err();
    assert!(matches!(err, MispImportError::Tags { .. }), "{err:?}");
    assert!(
        err.to_string().contains("nis2:nature-severity=\"high\""),
        "{err}"
    );
    let err = event(UUID, &ev(&["tlp:green"], &[]).replace(UUID, "0000"), false).unwrap_err();
    assert!(matches!(err, MispImportError::WrongUuid { .. }), "{err:?}");
    assert_eq!(
        manifest_uuids(&format!("{{\"{UUID}\": {{}}}}")).unwrap(),
        [UUID]
    );
    assert!(matches!(
        manifest_uuids("{\"../../etc/passwd\": {}}"),
        Err(MispImportError::ManifestUuid(_))
    ));
    assert!(manifest_uuids("[]").is_err());
}

#[test]
fn an_exported_event_imports_as_the_same_item() {
    for kind in ItemKind::ALL {
        let v = view(
            3,
            *kind,
            Tlp::Amber,
            &[
                "cve:CVE-2026-1234",
                "ioc:domain=evil.example",
                "rsit:malicious-code",
            ],
        );
        let e = misp::event(&v, &mut vec![]);
        let imported = event(&e.uuid, &e.json, false).unwrap();
        let r = imported.request;
        assert_eq!((r.kind, r.tlp), (*kind, Tlp::Amber));
        assert_eq!(r.title, v.title);
        assert_eq!(r.body, v.body);
        for t in &v.tags {
            assert!(
                r.tags.contains(t) || t.starts_with("cve:"),
                "{t} in {:?}",
                r.tags
            );
        }
        assert!(r
            .tags
            .contains(&"nis2:impact-sectors-impacted=\"health\"".to_string()));
        assert!(imported.notes.is_empty(), "{:?}", imported.notes);
    }
}
