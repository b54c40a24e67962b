//! `cairn items payload` with a real node: what `cairn publish --payload`
//! attached comes back byte for byte, to a file or through a pipe, and an
//! unknown id or an item without a payload fails with a clear message.

use cairn_tests::bins::s;
use cairn_tests::Community;

#[test]
fn a_published_payload_reads_back_exactly() {
    let c = Community::create(1);
    let node = c.start(&c.members[0], &[]);
    let dir = c.path();
    // Every byte value, so nothing is lost to text handling on the way.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let file = dir.join("sample.bin");
    std::fs::write(&file, &bytes).unwrap();
    let v: serde_json::Value = node.json(&[
        "publish",
        "--kind",
        "indicator-of-compromise",
        "--tlp",
        "amber",
        "--title",
        "Dropper sample",
        "--body",
        "The sample, zipped.",
        "--payload",
        s(&file),
        "--media-type",
        "application/octet-stream",
        "--json",
    ]);
    let id = v["id"].as_str().unwrap().to_string();

    let out = dir.join("back.bin");
    assert_eq!(node.cli_ok(["items", "payload", &id, "--out", s(&out)]), "");
    assert_eq!(std::fs::read(&out).unwrap(), bytes);
    // The short id `items list` shows works too; stdout here is a pipe.
    let piped = node.cli(["items", "payload", &id[..12]]);
    assert!(piped.status.success(), "{piped:?}");
    assert_eq!(piped.stdout, bytes);
    // An existing file is left alone.
    let again = node.try_cli(["items", "payload", &id, "--out", s(&out)]);
    assert!(again.unwrap_err().contains("already exists"));

    let unknown = node
        .try_cli(["items", "payload", &"ab".repeat(32)])
        .unwrap_err();
    assert!(unknown.contains("no item abab"), "{unknown}");
    let plain = node.publish("vulnerability", "green", "Patch", "Apply the fix.");
    let none = node.try_cli(["items", "payload", &plain]).unwrap_err();
    assert!(none.contains("has no payload"), "{none}");
}
