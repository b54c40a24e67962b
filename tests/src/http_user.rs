//! Logins for the node's HTTP interfaces, made the way an operator makes
//! them: `cairn taxii|misp-feed|web|metrics user NAME …` prints a generated
//! password (as a comment) and the `[[…users]]` lines for `cairn.toml`.

use std::path::Path;
use std::process::Command;

/// Runs `cairn <section> user ARGS` (in `dir` when given: the CLI reads the
/// node's config there); the generated password and everything printed.
pub fn generated(section: &str, args: &[&str], dir: Option<&Path>) -> (String, String) {
    let mut cmd = Command::new(crate::bins::cairn());
    cmd.args([section, "user"]).args(args);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let out = cmd.output().expect("cairn runs");
    assert!(
        out.status.success(),
        "cairn {section} user: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8 output");
    let password = text
        .lines()
        .nth(1)
        .expect("the password line")
        .trim_start_matches("#   ")
        .to_string();
    (password, text)
}
