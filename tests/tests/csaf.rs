//! CSAF 2.0 export with real nodes, judged by the `csaf` package (the OASIS
//! CSAF 2.0 JSON schema and the mandatory tests of section 6.1, run as
//! `csaf validate --spec-version v20 --preset mandatory`; installed by
//! tests/interop/setup.sh): a vulnerability item with a CVE and products
//! exports as a valid security advisory, the same bytes twice; CLEAR is
//! written WHITE and AMBER+STRICT as AMBER with the exact label in the
//! distribution text; every refusal (other kind, no CVE, no product, above
//! the export's maximum, RED not named, sealed and unreadable) says why and
//! writes nothing.

use cairn_tests::community::Community;
use cairn_tests::{expect, interop, NodeProc};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

const CPE: &str = "cpe:2.3:a:example:infusion_pump_firmware:4.2.1:*:*:*:*:*:*:*";
const PURL: &str = "purl:pkg:pypi/example-pump-agent@1.0.3";

fn publish(node: &NodeProc, kind: &str, tlp: &str, title: &str, tags: &[&str], to: &str) -> String {
    let mut args = vec![
        "publish",
        "--kind",
        kind,
        "--tlp",
        tlp,
        "--title",
        title,
        "--body",
        "Heap overflow in the pump's firmware update parser.\nUpdate to 4.2.2.",
        "--json",
    ];
    for t in tags {
        args.extend(["--tag", t]);
    }
    if !to.is_empty() {
        args.extend(["--to", to]);
    }
    let v: Value = node.json(&args);
    v["id"]
        .as_str()
        .expect("publish --json names the id")
        .to_string()
}

/// `cairn export csaf` on `node`: the written document, or the error text.
fn export(node: &NodeProc, item: &str, out: &Path, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec!["export", "csaf", item, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    node.try_cli(&args)?;
    Ok(serde_json::from_slice(&std::fs::read(out).unwrap()).expect("the advisory is JSON"))
}

/// What `csaf validate` said: passed, and its report.
fn validate(file: &Path) -> (bool, String) {
    let out = Command::new(interop::tool("csaf"))
        .args(["validate", "--spec-version", "v20", "--preset", "mandatory"])
        .arg("--no-network")
        .arg(file)
        .output()
        .expect("csaf runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), report)
}

fn assert_valid(file: &Path) {
    let (ok, report) = validate(file);
    assert!(ok, "csaf validate rejects {}:\n{report}", file.display());
    // The mandatory tests ran, not the schema alone.
    assert!(report.contains("6.1.27"), "{report}");
}

fn refused(node: &NodeProc, item: &str, out: &Path, extra: &[&str], why: &str) {
    let err = export(node, item, out, extra).expect_err("the export is refused");
    assert!(err.contains(why), "expected {why:?} in: {err}");
    assert!(!out.exists(), "a refused export wrote {}", out.display());
}

#[test]
fn vulnerability_items_export_as_valid_csaf_advisories_and_the_rest_is_refused() {
    interop::tool("csaf");
    let c = Community::create(2);
    let (authority, members) = c.start_all();
    let all: Vec<&NodeProc> = std::iter::once(&authority).chain(&members).collect();
    expect::all_admitted(&all, DEADLINE);
    let reader = c.members[1].entity_name.clone();
    let m0 = &members[0];
    let products = [
        "cve:CVE-2026-31337",
        CPE,
        PURL,
        "product:Example_Pump_Hub_2",
    ];

    let clear = publish(
        m0,
        "vulnerability",
        "CLEAR",
        "Pump firmware overflow",
        &products,
        "",
    );
    let strict = publish(
        m0,
        "vulnerability",
        "AMBER+STRICT",
        "Pump strict",
        &products,
        "",
    );
    let red = publish(m0, "vulnerability", "RED", "Pump red", &products, &reader);
    let near_miss = publish(m0, "near-miss", "GREEN", "A near miss", &products, "");
    let no_cve = publish(m0, "vulnerability", "GREEN", "No CVE", &[CPE], "");
    let no_product = publish(
        m0,
        "vulnerability",
        "GREEN",
        "No product",
        &["cve:CVE-2026-10001"],
        "",
    );
    let ids: BTreeSet<String> = [&clear, &strict, &red, &near_miss, &no_cve, &no_product]
        .into_iter()
        .cloned()
        .collect();
    expect::items_everywhere(&all, &ids, DEADLINE);
    let dir = c.path().to_path_buf();
    let file = |name: &str| -> PathBuf { dir.join(name) };

    // CLEAR: valid, written WHITE, the same bytes on a second export and on
    // another node.
    let doc = export(m0, &clear, &file("clear.json"), &[]).unwrap();
    assert_valid(&file("clear.json"));
    let d = &doc["document"];
    assert_eq!(d["category"], "csaf_security_advisory");
    assert_eq!(d["distribution"]["tlp"]["label"], "WHITE");
    assert!(d["distribution"]["text"]
        .as_str()
        .unwrap()
        .contains("TLP:CLEAR"));
    assert_eq!(d["tracking"]["id"], format!("CAIRN-{clear}"));
    assert_eq!(d["publisher"]["name"], c.members[0].entity_name);
    // Member 1 is an essential entity: a user of the product.
    assert_eq!(d["publisher"]["category"], "user");
    assert_eq!(doc["vulnerabilities"][0]["cve"], "CVE-2026-31337");
    let helpers: Vec<&Value> = doc["product_tree"]["full_product_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["product_identification_helper"])
        .collect();
    assert_eq!(helpers[0]["cpe"], CPE);
    assert_eq!(helpers[1]["purl"], PURL.trim_start_matches("purl:"));
    export(m0, &clear, &file("clear-again.json"), &[]).unwrap();
    export(&members[1], &clear, &file("clear-m2.json"), &[]).unwrap();
    let bytes = std::fs::read(file("clear.json")).unwrap();
    assert_eq!(bytes, std::fs::read(file("clear-again.json")).unwrap());
    assert_eq!(bytes, std::fs::read(file("clear-m2.json")).unwrap());

    // The judge can fail: a vulnerability naming a product the tree does
    // not define breaks mandatory test 6.1.1.
    let mut broken = doc.clone();
    broken["vulnerabilities"][0]["product_status"]["known_affected"] =
        serde_json::json!(["CSAFPID-9999"]);
    std::fs::write(file("broken.json"), broken.to_string()).unwrap();
    let (ok, report) = validate(&file("broken.json"));
    assert!(!ok && report.contains("6.1.1"), "{report}");

    // AMBER+STRICT: only when named, written AMBER with the exact label in
    // the distribution text.
    refused(m0, &strict, &file("strict-default.json"), &[], "--max-tlp");
    let doc = export(
        m0,
        &strict,
        &file("strict.json"),
        &[
            "--max-tlp",
            "AMBER+STRICT",
            "--namespace",
            "https://member1.example",
        ],
    )
    .unwrap();
    assert_valid(&file("strict.json"));
    let dist = &doc["document"]["distribution"];
    assert_eq!(dist["tlp"]["label"], "AMBER");
    assert!(
        dist["text"].as_str().unwrap().contains("TLP:AMBER+STRICT"),
        "{dist}"
    );
    assert_eq!(
        doc["document"]["publisher"]["namespace"],
        "https://member1.example"
    );

    // RED: the operator must name it, and only a named recipient can.
    let m1 = &members[1];
    refused(m1, &red, &file("red-default.json"), &[], "--max-tlp");
    let doc = export(m1, &red, &file("red.json"), &["--max-tlp", "RED"]).unwrap();
    assert_valid(&file("red.json"));
    assert_eq!(doc["document"]["distribution"]["tlp"]["label"], "RED");
    refused(
        &authority,
        &red,
        &file("red-authority.json"),
        &["--max-tlp", "RED"],
        "sealed to an audience this node is not in",
    );

    // Not an advisory: each refusal says what is missing.
    refused(m0, &near_miss, &file("nm.json"), &[], "not a vulnerability");
    refused(m0, &no_cve, &file("nocve.json"), &[], "names no CVE");
    refused(
        m0,
        &no_product,
        &file("noprod.json"),
        &[],
        "names no affected product",
    );
    refused(m0, &"0".repeat(64), &file("none.json"), &[], "no item");
}
