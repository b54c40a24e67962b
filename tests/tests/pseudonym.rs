//! Accountable pseudonyms with real processes: a member publishes under a
//! pseudonym (its node connects with its named certificate and signs the
//! item with the pseudonym's own key); every node verifies and shows the
//! item without the entity's name; only the authority's node reveals the
//! entity, and the reveal is in its register (list and watch) before it is
//! shown. A pseudonymous certificate the issuer did not sign is refused
//! like any other certificate.

use cairn_protocol::control::{ItemView, RegisterKind, RegisterView};
use cairn_protocol::ParticipationKind;
use cairn_tests::community::{CertOptions, Community, Issuer};
use cairn_tests::honest::{forged_community, Honest, DEADLINE};
use cairn_tests::{bins, expect, NodeProc};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `cairn register watch --json` on `node`, its lines on a channel.
fn watch_register(node: &NodeProc) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut watch = Command::new(bins::cairn())
        .arg("--socket")
        .arg(&node.socket)
        .args(["register", "watch", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cairn register watch starts");
    let stdout = watch.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (watch, lines)
}

#[test]
fn a_pseudonymous_item_verifies_everywhere_without_a_name_and_only_the_authority_reveals_it() {
    let c = Community::create(2);
    let member = &c.members[0];
    let (table, _, pseudonym_cert) =
        c.pseudonym(&member.dir, &member.cert_file, &["--disclose-sector"]);
    let authority = c.start(&c.authority, &[]);
    let m1 = c.start_with(member, std::slice::from_ref(&authority.addr), &table);
    let m2 = c.start(&c.members[1], &[authority.addr.clone(), m1.addr.clone()]);
    let nodes = [&authority, &m1, &m2];
    expect::all_admitted(&nodes, DEADLINE);

    // Published under the pseudonym, and one item under the member's name.
    let published: serde_json::Value = m1.json(&[
        "publish",
        "--kind",
        "near-miss",
        "--tlp",
        "AMBER",
        "--title",
        "Phishing wave against hospital HR departments",
        "--body",
        "Lures impersonate the payroll provider.",
        "--as-pseudonym",
        "--json",
    ]);
    let id = published["id"].as_str().unwrap().to_string();
    let named = m1.publish("near-miss", "GREEN", "Named item", "Under our name.");
    expect::items_everywhere(
        &nodes,
        &BTreeSet::from([id.clone(), named.clone()]),
        DEADLINE,
    );

    let pseudonym: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pseudonym_cert).unwrap()).unwrap();
    let pseudonym_id = pseudonym["body"]["subject"]["Pseudonym"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown_as = format!("a certified member (pseudonym {pseudonym_id}, health)");
    for n in nodes {
        let item: ItemView = n.json(&["items", "show", &id, "--json"]);
        assert!(item.verified, "{}: {item:?}", n.name);
        assert_eq!(item.publisher_name, shown_as, "{}", n.name);
        let text = n.cli_ok(["items", "show", &id]);
        let list = n.cli_ok(["items", "list"]);
        for out in [&text, &list] {
            assert!(out.contains(&shown_as), "{}: {out}", n.name);
        }
        assert!(!text.contains(&member.entity_name), "{}: {text}", n.name);
        // The member's named item still carries its name.
        let named_item: ItemView = n.json(&["items", "show", &named, "--json"]);
        assert_eq!(named_item.publisher_name, member.entity_name);
    }

    // Refused plainly: on a member's node, and for an item under a name.
    let err = m2
        .try_cli(["reveal", &id, "--reason", "curiosity"])
        .unwrap_err();
    assert!(err.contains("not the community's authority"), "{err}");
    let err = authority
        .try_cli(["reveal", &named, "--reason", "Case 2026/17"])
        .unwrap_err();
    assert!(err.contains("no pseudonym to reveal"), "{err}");
    assert!(authority.register().is_empty(), "refusals leave no entry");

    // The authority reveals: the entity, its named certificate, the entry.
    let (mut watch, lines) = watch_register(&authority);
    let revealed: RegisterView = authority.json(&[
        "reveal",
        &id[..12],
        "--reason",
        "Case 2026/17 (NIS2 Art. 32(4))",
        "--json",
    ]);
    assert_eq!(revealed.kind, RegisterKind::Reveal);
    assert_eq!(revealed.entity_name, member.entity_name);
    assert_eq!(revealed.member_key.to_string(), member.public_key);
    let r = revealed.reveal.clone().expect("what was revealed");
    assert_eq!(r.item.to_string(), id);
    assert_eq!(r.pseudonym.to_string(), pseudonym_id);
    assert_eq!(r.reason, "Case 2026/17 (NIS2 Art. 32(4))");
    let named_cert: serde_json::Value = serde_json::from_str(&bins::cairn_ok([
        "cert",
        "show",
        bins::s(&member.cert_file),
        "--json",
    ]))
    .unwrap();
    assert_eq!(r.named_certificate.to_string(), named_cert["id"]);
    let human = authority.cli_ok(["reveal", &id, "--reason", "Case 2026/18"]);
    assert!(human.contains(&member.entity_name), "{human}");

    // Registered: two reveals, in the list and in the live watch.
    let line = lines
        .recv_timeout(Duration::from_secs(20))
        .expect("the watch shows the reveal");
    let watched: RegisterView = serde_json::from_str(&line).unwrap();
    assert_eq!(watched, revealed);
    let register = authority.register();
    assert_eq!(register.len(), 2, "{register:?}");
    assert!(register.iter().all(|e| e.kind == RegisterKind::Reveal));
    assert_eq!(register[0], revealed);
    let listed = authority.cli_ok(["register", "list"]);
    assert!(
        listed.contains("reveal") && listed.contains(&pseudonym_id),
        "{listed}"
    );

    // Participation still registers in sequence after reveals.
    m1.cli_ok(["join"]);
    let joined = authority.wait("the join is registered", DEADLINE, || {
        let r = authority.try_register()?;
        r.get(2).cloned().ok_or_else(|| format!("{r:?}"))
    });
    assert_eq!(
        (joined.kind, joined.sequence),
        (RegisterKind::from(ParticipationKind::Joined), Some(1))
    );
    let watched: RegisterView = loop {
        let line = lines
            .recv_timeout(Duration::from_secs(20))
            .expect("the watch shows the join");
        if line.contains("\"joined\"") {
            break serde_json::from_str(&line).unwrap();
        }
    };
    assert_eq!(watched.index, 2);
    let _ = watch.kill();
    let _ = watch.wait();
    // Revoking the member's named certificate revokes its pseudonym too
    // (the issuer's ledger links them): nodes mark the pseudonymous item.
    let file = c.path().join("member-1.revocation.json");
    c.issuer().revoke(&member.cert_file, "misbehaviour", &file);
    let revocation: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let revoked = revocation["Issued"]["body"]["certificates"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(revoked, 2, "the named and the pseudonymous certificate");
    authority.cli_ok(["revocation", "publish", bins::s(&file)]);
    for n in [&authority, &m2] {
        n.wait("the pseudonymous item is marked revoked", DEADLINE, || {
            let item: ItemView = n.try_json(&["items", "show", &id, "--json"])?;
            match item.publisher_revoked {
                Some(_) => Ok(()),
                None => Err(format!("{item:?}")),
            }
        });
    }

    // Nobody but the authority learnt the name: the members' logs and the
    // authority's log do not carry it beside the pseudonym.
    for n in [&m1, &m2] {
        assert!(
            n.log_text()
                .lines()
                .all(|l| !l.contains(&pseudonym_id) || !l.contains(&member.entity_name)),
            "{} logged the pseudonym with the name",
            n.name
        );
    }
}

#[test]
fn a_pseudonymous_certificate_not_signed_by_the_issuer_is_refused_like_any_other() {
    let h = Honest::start();
    let c = &h.c;
    // A member in good standing under its name...
    let (rogue_key, rogue_cert) = h.rogue_member("Rogue Named", CertOptions::default());
    // ...with a pseudonymous certificate that looks right in every way but
    // one: a key that is not the community's issuer signed it.
    let dir = c.path().join("rogue-pseudonym");
    std::fs::create_dir_all(&dir).unwrap();
    let (_, pseudonym_key, pseudonym_cert) = c.pseudonym(&dir, &rogue_cert, &[]);
    let rogue_issuer = c.new_key("rogue-issuer");
    let forged = forged_community(c, &rogue_issuer);
    let rogue_issuer_public: cairn_protocol::PublicKey =
        bins::cairn_ok(["key", "show", bins::s(&rogue_issuer)])
            .parse()
            .unwrap();
    Issuer {
        community_file: &forged,
        issuer_key: &rogue_issuer,
    }
    .resign(&pseudonym_cert, |b| b.issuer = rogue_issuer_public);

    let rogue = h.rogue_with(
        "rogue-pseudonym",
        &rogue_key,
        &rogue_cert,
        "valid",
        3,
        &[
            "--item-key",
            bins::s(&pseudonym_key),
            "--item-cert",
            bins::s(&pseudonym_cert),
        ],
    );
    assert_eq!(
        rogue.lines("published ").len(),
        3,
        "the rogue was admitted under its name and sent its items\n{}",
        rogue.describe()
    );
    cairn_tests::until(
        "a node says why it rejected the items",
        DEADLINE,
        &h.nodes(),
        || {
            let why = h.nodes().into_iter().any(|n| {
                n.log_text().lines().any(|l| {
                    l.contains("gossip rejected") && l.contains("not an issuer of this community")
                })
            });
            if why {
                Ok(())
            } else {
                Err("no rejection logged yet".to_string())
            }
        },
    );
    h.honest_round("After the forged pseudonym");
    h.assert_nothing_stored("ROGUE", &rogue);
}
