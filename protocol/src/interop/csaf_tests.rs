//! CSAF export tests: the mapping of a vulnerability item, determinism, the
//! TLP 1.0 labels, publisher categories and every refusal.

use super::*;
use crate::control::AudienceView;
use crate::interop::stix::tests::view;

fn tags(t: &[&str]) -> Vec<String> {
    t.iter().map(|s| s.to_string()).collect()
}

const CPE: &str = "cpe:2.3:a:example:infusion_pump_firmware:4.2.1:*:*:*:*:*:*:*";

fn vuln(tlp: Tlp, t: &[&str]) -> ItemView {
    view(3, ItemKind::Vulnerability, tlp, t)
}

fn all() -> ExportPolicy {
    ExportPolicy { max_tlp: Tlp::Red }
}

#[test]
fn a_vulnerability_becomes_an_advisory_with_products_and_cves() {
    let v = vuln(
        Tlp::Green,
        &[
            "cve:CVE-2026-1234",
            CPE,
            "purl:pkg:npm/lodash@4.17.20",
            "product:Example_Gateway_3",
            "cve:cve-2026-99999",
            "rsit:vulnerable-system",
        ],
    );
    let doc = advisory(&v, &ExportPolicy::default(), &Options::default()).unwrap();
    let d = &doc["document"];
    assert_eq!(d["category"], "csaf_security_advisory");
    assert_eq!(d["csaf_version"], "2.0");
    assert_eq!(d["title"], v.title);
    assert_eq!(d["tracking"]["id"], format!("CAIRN-{}", v.id));
    assert_eq!(d["tracking"]["version"], "1");
    assert_eq!(d["tracking"]["status"], "final");
    let created = v.created.to_rfc3339_millis();
    assert_eq!(d["tracking"]["initial_release_date"], created);
    assert_eq!(d["tracking"]["revision_history"][0]["date"], created);
    assert_eq!(d["tracking"]["revision_history"][0]["number"], "1");
    assert_eq!(d["publisher"]["name"], "St. Example Hospital");
    assert_eq!(d["publisher"]["category"], "user");
    assert_eq!(
        d["publisher"]["namespace"],
        format!("urn:cairn:certificate:{}", v.publisher)
    );
    assert_eq!(d["notes"][0]["text"], v.body);
    let products = doc["product_tree"]["full_product_names"]
        .as_array()
        .unwrap();
    assert_eq!(products.len(), 3);
    assert_eq!(products[0]["product_id"], "CSAFPID-0001");
    assert_eq!(products[0]["name"], "example infusion pump firmware 4.2.1");
    assert_eq!(products[0]["product_identification_helper"]["cpe"], CPE);
    assert_eq!(products[1]["name"], "lodash 4.17.20");
    assert_eq!(
        products[1]["product_identification_helper"]["purl"],
        "pkg:npm/lodash@4.17.20"
    );
    assert_eq!(products[2]["name"], "Example Gateway 3");
    assert!(products[2].get("product_identification_helper").is_none());
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    let cves: Vec<&str> = vulns.iter().map(|v| v["cve"].as_str().unwrap()).collect();
    assert_eq!(cves, ["CVE-2026-1234", "CVE-2026-99999"]);
    for vuln in vulns {
        assert_eq!(
            vuln["product_status"]["known_affected"],
            json!(["CSAFPID-0001", "CSAFPID-0002", "CSAFPID-0003"])
        );
        assert_eq!(vuln["notes"][0]["text"], v.body);
    }
}

#[test]
fn the_same_item_gives_the_same_bytes() {
    let v = vuln(Tlp::Clear, &["cve:CVE-2026-1234", "product:Pump"]);
    let a = advisory(&v, &all(), &Options::default()).unwrap();
    let b = advisory(&v.clone(), &all(), &Options::default()).unwrap();
    assert_eq!(a.to_string(), b.to_string());
    let other = advisory(
        &view(
            4,
            ItemKind::Vulnerability,
            Tlp::Clear,
            &["cve:CVE-2026-1234", "product:Pump"],
        ),
        &all(),
        &Options::default(),
    )
    .unwrap();
    assert_ne!(
        a["document"]["tracking"]["id"],
        other["document"]["tracking"]["id"]
    );
}

#[test]
fn tlp_2_markings_are_written_as_tlp_1_labels_with_the_exact_label_in_the_text() {
    let expect = [
        (Tlp::Clear, "WHITE"),
        (Tlp::Green, "GREEN"),
        (Tlp::Amber, "AMBER"),
        (Tlp::AmberStrict, "AMBER"),
        (Tlp::Red, "RED"),
    ];
    for (tlp, label) in expect {
        let mut v = vuln(tlp, &["cve:CVE-2026-1234", "product:Pump"]);
        if tlp == Tlp::Red {
            v.audience = Some(AudienceView {
                selectors: vec!["A".into()],
                recipients: vec!["A".into()],
                readable: true,
                unreadable_reason: None,
                sealed_size: 1,
            });
        }
        let doc = advisory(&v, &all(), &Options::default()).unwrap();
        let dist = &doc["document"]["distribution"];
        assert_eq!(dist["tlp"]["label"], label, "{tlp:?}");
        let text = dist["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("{} (TLP 2.0)", tlp.label())),
            "{text}"
        );
    }
    let strict = distribution_text(Tlp::AmberStrict);
    assert!(strict.contains("TLP:AMBER+STRICT"), "{strict}");
    assert!(distribution_text(Tlp::Clear).contains("CLEAR"));
}

#[test]
fn publisher_category_follows_the_entity_type_and_pseudonyms_stay_unnamed() {
    use EntityType::*;
    assert_eq!(publisher_category(Some(Csirt)), "coordinator");
    assert_eq!(publisher_category(Some(CompetentAuthority)), "coordinator");
    assert_eq!(publisher_category(Some(Supplier)), "vendor");
    assert_eq!(publisher_category(Some(Important)), "user");
    assert_eq!(publisher_category(None), "other");
    let mut v = vuln(Tlp::Green, &["cve:CVE-2026-1234", "product:Pump"]);
    v.publisher_entity_type = None;
    v.publisher_name = "a certified member (pseudonym 0a1b2c3d4e5f6071, health, DE)".into();
    let doc = advisory(&v, &all(), &Options::default()).unwrap();
    assert_eq!(doc["document"]["publisher"]["category"], "other");
    assert_eq!(doc["document"]["publisher"]["name"], v.publisher_name);
    let named = advisory(
        &v,
        &all(),
        &Options {
            namespace: Some("https://csirt.example".into()),
        },
    )
    .unwrap();
    assert_eq!(
        named["document"]["publisher"]["namespace"],
        "https://csirt.example"
    );
}

#[test]
fn everything_but_a_vulnerability_with_a_cve_and_a_product_is_refused_with_the_reason() {
    let p = ExportPolicy::default();
    let o = Options::default();
    let near_miss = view(
        2,
        ItemKind::NearMiss,
        Tlp::Green,
        &["cve:CVE-2026-1234", "product:X"],
    );
    assert_eq!(
        advisory(&near_miss, &p, &o),
        Err(Refusal::NotAVulnerability(ItemKind::NearMiss))
    );
    assert_eq!(
        advisory(&vuln(Tlp::Green, &["product:X"]), &p, &o),
        Err(Refusal::NoCve)
    );
    assert_eq!(
        advisory(&vuln(Tlp::Green, &["cve:CVE-2026-1234"]), &p, &o),
        Err(Refusal::NoProduct)
    );
    assert_eq!(
        advisory(&vuln(Tlp::Green, &["cve:2026-1", "product:X"]), &p, &o),
        Err(Refusal::BadCve("cve:2026-1".into()))
    );
    for bad in [
        "cpe:2.3:a:vendor",
        "purl:npm/lodash",
        "purl:pkg:npm",
        "product:_",
    ] {
        let got = advisory(&vuln(Tlp::Green, &["cve:CVE-2026-1234", bad]), &p, &o);
        assert!(
            matches!(&got, Err(Refusal::BadProduct { tag, .. }) if tag == bad),
            "{bad}: {got:?}"
        );
    }
    // The export rule comes first: RED needs the operator's consent and
    // this node among the recipients; sealed items need to be readable.
    let red = vuln(Tlp::Red, &["cve:CVE-2026-1234", "product:X"]);
    assert_eq!(
        advisory(&red, &p, &o),
        Err(Refusal::Withheld(Withheld::AboveMaxTlp))
    );
    assert_eq!(
        advisory(&red, &all(), &o),
        Err(Refusal::Withheld(Withheld::RedNotRecipient))
    );
    let mut sealed = vuln(Tlp::Amber, &["cve:CVE-2026-1234", "product:X"]);
    sealed.audience = Some(AudienceView {
        selectors: vec!["B".into()],
        recipients: vec!["B".into()],
        readable: false,
        unreadable_reason: None,
        sealed_size: 1,
    });
    assert_eq!(
        advisory(&sealed, &all(), &o),
        Err(Refusal::Withheld(Withheld::NotInAudience))
    );
    let amber = vuln(Tlp::Amber, &["cve:CVE-2026-1234", "product:X"]);
    let why = advisory(&amber, &p, &o).unwrap_err().to_string();
    assert!(why.contains("--max-tlp"), "{why}");
}

#[test]
fn cpe_22_uris_and_prefixed_cpes_are_products() {
    let got = products(&tags(&[
        "cpe:/a:example:pump:4.2",
        "cpe:cpe:2.3:o:example:os:1.0:*:*:*:*:*:*:*",
        "cpe:2.3:a:ex\\:ample:tool:*:*:*:*:*:*:*:*",
    ]))
    .unwrap();
    assert_eq!(got[0].cpe.as_deref(), Some("cpe:/a:example:pump:4.2"));
    assert_eq!(got[0].name, "example pump 4.2");
    assert_eq!(
        got[1].cpe.as_deref(),
        Some("cpe:2.3:o:example:os:1.0:*:*:*:*:*:*:*")
    );
    assert_eq!(got[2].name, "ex:ample tool");
}
