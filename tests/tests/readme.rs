//! The README's "Running a real node" section, followed literally: its
//! tagged shell blocks run in order with the real `cairn` and `cairnd`
//! (the authority's key and certificate first, then two entities whose
//! only bootstrap peer is the authority), each machine a directory of its
//! own and the variables the README documents set the way it says. Then the
//! authority is killed and items must still flow between the entities, so
//! the README cannot drift from what works.

use cairn_tests::bins::target_dir;
use cairn_tests::readme::{assigned, blocks, section, split_at_runs, Block};
use cairn_tests::{expect, NodeProc};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// The entities the test plays: name, entity type, sector (the README's
/// ENTITY_NAME, ENTITY_TYPE, SECTOR).
const ENTITIES: [(&str, &str, &str); 2] = [
    ("St. Example Hospital", "essential", "health"),
    ("Example Grid Operator", "essential", "energy"),
];

/// One machine of the story: its directory and the README's variables.
struct Machine {
    name: String,
    dir: PathBuf,
}

impl Machine {
    fn new(root: &Path, name: &str) -> Machine {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        Machine {
            name: name.into(),
            dir,
        }
    }

    /// CAIRN_ETC, CAIRN_DATA and LISTEN as the README defines them, here.
    fn vars(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "CAIRN_ETC".into(),
                self.dir.join("etc").display().to_string(),
            ),
            (
                "CAIRN_DATA".into(),
                self.dir.join("data").display().to_string(),
            ),
            // Port 0: the system picks a free port; the test reads it back.
            ("LISTEN".into(), "/ip4/127.0.0.1/tcp/0".into()),
        ])
    }
}

/// Runs the README's blocks and keeps the values they hand on.
struct Story {
    /// Where the parties hand files to each other (the working directory of
    /// every block: the issuer's desk, the authority's inbox, ...).
    desk: PathBuf,
    /// Values handed on by `NAME=$(…)` lines, and the test's own.
    shared: BTreeMap<String, String>,
    nodes: Vec<NodeProc>,
}

impl Story {
    fn run(&mut self, machine: &Machine, block: &Block, extra: &BTreeMap<String, String>) {
        for (shell, starts_node) in split_at_runs(&block.text) {
            self.shell(machine, block, &shell, extra);
            if starts_node {
                let config = machine.dir.join("etc").join("cairn.toml");
                self.nodes
                    .push(NodeProc::start(&machine.name, &machine.dir, &config));
            }
        }
    }

    fn shell(
        &mut self,
        machine: &Machine,
        block: &Block,
        text: &str,
        extra: &BTreeMap<String, String>,
    ) {
        if text.trim().is_empty() {
            return;
        }
        let names = assigned(text);
        let out_file = self.desk.join(".handed-on");
        let mut script = String::from("set -euo pipefail\n");
        script.push_str(text);
        for n in &names {
            script.push_str(&format!(
                "printf '%s=%s\\n' {n} \"${n}\" >> '{}'\n",
                out_file.display()
            ));
        }
        let _ = std::fs::remove_file(&out_file);
        let path = format!(
            "{}:{}",
            target_dir().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&self.desk)
            .env_remove("CAIRN_SOCKET")
            .env_remove("CAIRN_DATA_DIR")
            .env_remove("CAIRN_CONFIG")
            .envs(&self.shared)
            .envs(machine.vars())
            .envs(extra)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "README block on {} ({}) failed: {}\n--- block ---\n{text}--- stdout ---\n{}--- stderr ---\n{}",
            machine.name,
            block.on,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !names.is_empty() {
            let handed = std::fs::read_to_string(&out_file).unwrap();
            for line in handed.lines() {
                let (k, v) = line.split_once('=').unwrap();
                assert!(
                    !v.is_empty(),
                    "the README's {k} is empty on {}",
                    machine.name
                );
                self.shared.insert(k.into(), v.into());
            }
        }
    }
}

#[test]
fn the_real_node_section_works_as_written_and_survives_the_authority() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let s = section(blocks(&readme, "## Running a real node"));
    assert!(
        s.before.iter().any(|b| b.on == "authority") && s.before.iter().any(|b| b.on == "issuer"),
        "the authority and the issuer come first: {:?}",
        s.before
    );
    assert!(
        !s.per_entity.is_empty(),
        "the section has the entities' part"
    );

    let root = tempfile::Builder::new()
        .prefix("cairn-readme-")
        .tempdir()
        .unwrap();
    let desk = root.path().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    let authority = Machine::new(root.path(), "authority");
    let issuer = Machine::new(root.path(), "issuer");
    let entities: Vec<Machine> = (1..=ENTITIES.len())
        .map(|i| Machine::new(root.path(), &format!("entity-{i}")))
        .collect();
    let machine = |on: &str, entity: Option<usize>| -> &Machine {
        match (on, entity) {
            ("authority", _) => &authority,
            ("issuer", _) => &issuer,
            ("entity", Some(i)) => &entities[i],
            other => panic!("README block for an unknown machine: {other:?}"),
        }
    };
    let mut story = Story {
        desk,
        shared: BTreeMap::new(),
        nodes: Vec::new(),
    };

    for b in &s.before {
        story.run(machine(&b.on, None), b, &BTreeMap::new());
    }
    assert_eq!(
        story.nodes.len(),
        1,
        "the authority's node runs before any entity's"
    );
    // The entities reach the authority at the address it listens on (the
    // README's AUTHORITY_ADDR; an operator knows it, the test asks).
    let addr = story.nodes[0].addr.clone();
    let authority_addr = addr.split("/p2p/").next().unwrap().to_string();
    story.shared.insert("AUTHORITY_ADDR".into(), authority_addr);

    for (i, (name, ty, sector)) in ENTITIES.iter().enumerate() {
        let extra = BTreeMap::from([
            ("ENTITY_NAME".to_string(), name.to_string()),
            ("ENTITY_TYPE".to_string(), ty.to_string()),
            ("SECTOR".to_string(), sector.to_string()),
        ]);
        for b in &s.per_entity {
            story.run(machine(&b.on, Some(i)), b, &extra);
        }
    }
    for b in &s.after {
        story.run(machine(&b.on, None), b, &BTreeMap::new());
    }
    assert_eq!(story.nodes.len(), 3, "the authority and two entities run");

    let mut nodes = story.nodes;
    let (auth, rest) = nodes.split_first_mut().unwrap();
    let (e1, e2) = (&rest[0], &rest[1]);
    // Both joined: the authority's register holds them.
    auth.wait("both entities' joins are registered", DEADLINE, || {
        let r = auth.try_register()?;
        (r.len() == 2)
            .then_some(())
            .ok_or(format!("{} entries", r.len()))
    });
    // A star around the authority became a mesh: the entities admitted
    // each other, though neither names the other.
    expect::all_admitted(&[&*auth, e1, e2], DEADLINE);
    // What each published per the README reached the other.
    let published: BTreeSet<String> = [e1, e2]
        .iter()
        .flat_map(|n| n.items())
        .map(|i| i.id.to_string())
        .collect();
    assert!(published.len() >= 2, "{published:?}");
    expect::items_everywhere(&[&*auth, e1, e2], &published, DEADLINE);

    // The authority goes down; the entities keep sharing.
    auth.kill9();
    let id = e1.publish(
        "cybersecurity-alert",
        "GREEN",
        "Shared while the authority is down",
        "Still flowing.",
    );
    expect::items_everywhere(&[e1, e2], &BTreeSet::from([id]), DEADLINE);
}
