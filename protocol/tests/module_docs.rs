//! Every source file of the protocol crate opens with a `//!` comment saying
//! what the module is for: this crate is the specification other crates and
//! reviewers read, so no module may be left unexplained.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_source_file_starts_with_a_module_doc_comment() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = rust_files(&src);
    assert!(
        files.iter().any(|f| f.ends_with("lib.rs")) && files.len() > 1,
        "found no sources under {}",
        src.display()
    );
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| {
            let text =
                std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let first = text.strip_prefix('\u{feff}').unwrap_or(&text);
            // A bare `//!` line is not an explanation.
            first
                .lines()
                .next()
                .and_then(|line| line.strip_prefix("//!"))
                .is_none_or(|doc| doc.trim().is_empty())
        })
        .map(|file| file.strip_prefix(&src).unwrap().display().to_string())
        .collect();
    assert!(
        undocumented.is_empty(),
        "these files in protocol/src do not start with a `//!` module doc comment: {undocumented:?}"
    );
}
