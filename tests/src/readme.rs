//! The README's real-node section as a script: its fenced shell blocks,
//! each tagged with the machine it runs on (```` ```sh on=authority ````),
//! in order, so `tests/tests/readme.rs` can run exactly what the README
//! tells an operator to run.
//!
//! Conventions the README states and this parser relies on:
//! - only blocks tagged `on=MACHINE` run; untagged blocks (installing,
//!   completions, commands that run forever) are for reading;
//! - the blocks from the first `on=entity` block to the last one are what
//!   each entity does (with the issuer's part in between), so the test runs
//!   them once per entity;
//! - `NAME=$(…)` lines hand a value to the parties that come next (the
//!   public keys the issuer needs); the test carries them to later blocks;
//! - a `cairnd run --config …` line starts the node (in the foreground for
//!   the operator; the test starts it in the background).

/// One tagged block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The machine it runs on: `authority`, `issuer`, `entity`.
    pub on: String,
    /// Its text, lines joined with `\n`.
    pub text: String,
}

/// The section as the test runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Blocks before the entity part, run once.
    pub before: Vec<Block>,
    /// The entity part, run once per entity.
    pub per_entity: Vec<Block>,
    /// Blocks after it, run once.
    pub after: Vec<Block>,
}

/// The command that starts a node, as the README must write it.
pub const RUN_LINE: &str = r#"cairnd run --config "$CAIRN_ETC/cairn.toml""#;

/// The tagged blocks of the section under the heading `heading` (up to the
/// next heading of the same or a higher level).
pub fn blocks(readme: &str, heading: &str) -> Vec<Block> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut inside = false;
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for line in readme.lines() {
        if current.is_none() {
            let hashes = line.chars().take_while(|c| *c == '#').count();
            if line.trim_end() == heading {
                inside = true;
                continue;
            }
            if inside && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
                break;
            }
        }
        if !inside {
            continue;
        }
        let trimmed = line.trim_start();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split_whitespace();
                    let tag = (words.next() == Some("sh"))
                        .then(|| words.find_map(|w| w.strip_prefix("on=")))
                        .flatten();
                    current = Some(Block {
                        on: tag.unwrap_or("").to_string(),
                        text: String::new(),
                    });
                }
            }
            Some(b) => {
                if trimmed.starts_with("```") {
                    let b = current.take().expect("inside a block");
                    if !b.on.is_empty() {
                        out.push(b);
                    }
                } else {
                    // Blocks inside list items are indented: taken off, so
                    // heredoc bodies are the operator's file as written.
                    b.text.push_str(trimmed);
                    b.text.push('\n');
                }
            }
        }
    }
    out
}

/// Splits tagged blocks into the part before the entities, the entity
/// part and the rest.
pub fn section(blocks: Vec<Block>) -> Section {
    let first = blocks.iter().position(|b| b.on == "entity");
    let last = blocks.iter().rposition(|b| b.on == "entity");
    match (first, last) {
        (Some(f), Some(l)) => Section {
            before: blocks[..f].to_vec(),
            per_entity: blocks[f..=l].to_vec(),
            after: blocks[l + 1..].to_vec(),
        },
        _ => Section {
            before: blocks,
            per_entity: Vec::new(),
            after: Vec::new(),
        },
    }
}

/// The names a block assigns (`NAME=…` at the start of a line, with or
/// without `export`): the values it hands on.
pub fn assigned(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        let line = line.strip_prefix("export ").unwrap_or(line);
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if !name.is_empty() && line[name.len()..].starts_with('=') && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// A block's text cut at each [`RUN_LINE`]: the shell parts, and whether a
/// node starts after each.
pub fn split_at_runs(text: &str) -> Vec<(String, bool)> {
    let mut parts = Vec::new();
    let mut shell = String::new();
    for line in text.lines() {
        if line.trim() == RUN_LINE {
            parts.push((std::mem::take(&mut shell), true));
        } else {
            shell.push_str(line);
            shell.push('\n');
        }
    }
    if !shell.trim().is_empty() {
        parts.push((shell, false));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "# T\n\n## Running a real node\n\n1. **A**:\n   ```sh on=authority\n   KEY=$(cairn key gen --out k)\n   cairnd run --config \"$CAIRN_ETC/cairn.toml\"\n   ```\n```sh\ncargo install\n```\n```sh on=entity\nexport CAIRN_CONFIG=x\n```\n```sh on=issuer\ncairn cert issue\n```\n```sh on=entity\ncairn join\n```\n```sh on=authority\ncairn register list\n```\n### Sub\n```sh on=authority\nsub\n```\n## Next\n```sh on=authority\nnot this\n```\n";

    #[test]
    fn tagged_blocks_of_the_section_in_order() {
        let b = blocks(DOC, "## Running a real node");
        let on: Vec<&str> = b.iter().map(|b| b.on.as_str()).collect();
        assert_eq!(
            on,
            [
                "authority",
                "entity",
                "issuer",
                "entity",
                "authority",
                "authority"
            ]
        );
        assert_eq!(
            b[0].text,
            "KEY=$(cairn key gen --out k)\n".to_string() + RUN_LINE + "\n"
        );
        let s = section(b);
        assert_eq!(s.before.len(), 1);
        assert_eq!(s.per_entity.len(), 3);
        assert_eq!(s.after.len(), 2);
        assert_eq!(s.after[1].text, "sub\n");
        assert_eq!(assigned(&s.before[0].text), ["KEY"]);
        assert_eq!(assigned(&s.per_entity[0].text), ["CAIRN_CONFIG"]);
        assert_eq!(
            split_at_runs(&s.before[0].text),
            vec![("KEY=$(cairn key gen --out k)\n".to_string(), true)]
        );
    }
}
