//! One member key, two running nodes: a second `cairnd` started with a
//! member's key and certificate (its own data directory and port) is
//! admitted like the first, as the key is valid, but the node both connect
//! to logs a warning (once a minute, not once a second) and `cairn
//! members` flags the key as in use by two nodes. When the copy stops, the
//! flag goes.

use cairn_tests::{expect, Community};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const WARNING: &str = "is in use by 2 nodes at once";

#[test]
fn a_second_node_with_a_members_key_is_reported_on_the_node_it_reaches() {
    let c = Community::create(1);
    let authority = c.start(&c.authority, &[]);
    let member = c.start(&c.members[0], std::slice::from_ref(&authority.addr));
    expect::all_admitted(&[&authority, &member], DEADLINE);
    let entity = c.members[0].entity_name.clone();
    assert!(
        authority
            .members()
            .iter()
            .all(|m| m.key_in_use_from.is_empty()),
        "one node per key so far"
    );

    // The same key and certificate, its own data directory and config.
    let mut copy_spec = c.members[0].clone();
    copy_spec.name = "member-1-copy".into();
    copy_spec.dir = c.path().join("member-1-copy");
    std::fs::create_dir_all(&copy_spec.dir).unwrap();
    copy_spec.data_dir = copy_spec.dir.join("data");
    copy_spec.config_file = copy_spec.dir.join("cairn.toml");
    let mut copy = c.start(&copy_spec, std::slice::from_ref(&authority.addr));

    let from = authority.wait("the members view flags the key", DEADLINE, || {
        let members = authority.try_members()?;
        let m = members
            .iter()
            .find(|m| m.entity_name == entity)
            .ok_or("the member is not listed")?;
        if m.key_in_use_from.len() == 2 {
            Ok(m.key_in_use_from.clone())
        } else {
            Err(format!("key_in_use_from = {:?}", m.key_in_use_from))
        }
    });
    assert!(
        from.iter().all(|a| a.starts_with("/ip4/127.0.0.1/tcp/")),
        "{from:?}"
    );
    assert_ne!(from[0], from[1]);
    let shown = authority.cli_ok(["members"]);
    assert!(shown.contains("yes, 2 NODES"), "{shown}");
    assert!(
        shown.contains(&format!(
            "WARNING: the key of {entity} is in use by 2 nodes at once"
        )),
        "{shown}"
    );
    authority.wait("the log warns of the key in use twice", DEADLINE, || {
        let log = authority.log_text();
        match log.lines().find(|l| l.contains(WARNING)) {
            Some(l) if l.contains(" WARN ") && l.contains(&entity) => Ok(()),
            Some(l) => Err(format!("not a WARN naming the entity: {l}")),
            None => Err("no warning yet".into()),
        }
    });
    // The nodes redial and tick every second; the warning is rate-limited.
    std::thread::sleep(Duration::from_secs(4));
    let count = authority.log_text().matches(WARNING).count();
    assert_eq!(count, 1, "logged {count} times in a few seconds");

    copy.kill9();
    authority.wait("the flag goes when the copy stops", DEADLINE, || {
        let members = authority.try_members()?;
        match members.iter().find(|m| m.entity_name == entity) {
            Some(m) if m.key_in_use_from.is_empty() => Ok(()),
            Some(m) => Err(format!("still {:?}", m.key_in_use_from)),
            None => Err("the member is gone".into()),
        }
    });
}
