//! A scratch directory per fuzzing process, for targets that exercise the
//! store's readers through real files (locks, truncation and all) rather
//! than a copy of their parsing.
//!
//! It lives under `$TMPDIR` (the smoke script points that at a tmpfs when it
//! can, since the store fsyncs on open) and is emptied before every input.
//! libFuzzer exits without running destructors, so the directory of a
//! finished run stays behind: `fuzz/smoke.sh` removes its own.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// An empty directory for this input.
pub fn dir() -> &'static Path {
    let dir = DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("cairn-fuzz-")
            .tempdir()
            .expect("a scratch directory")
            .keep()
    });
    for entry in std::fs::read_dir(dir).expect("the scratch directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("scratch is removable");
        } else {
            std::fs::remove_file(&path).expect("scratch is removable");
        }
    }
    dir
}
