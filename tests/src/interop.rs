//! The reference tools the interoperability tests run as judges (OASIS
//! stix2-validator and taxii2-client, MISP's pymisp, …), from the virtual
//! environment `tests/interop/setup.sh` builds. The first call runs the
//! script, which installs the pinned versions if they are not there yet and
//! returns at once if they are: a test never skips for want of a tool, it
//! installs it (or fails saying why).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The setup script, in this crate's directory.
pub fn setup_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/setup.sh")
}

/// The virtual environment, set up on first use.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let out = Command::new("bash")
            .arg(setup_script())
            .output()
            .expect("bash runs");
        if !out.status.success() {
            panic!(
                "{} failed ({}): {}",
                setup_script().display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        PathBuf::from(path)
    })
}

/// A program of the venv (`stix2_validator`, `python`, …). Panics, naming
/// the package, when setup.sh could not install it.
pub fn tool(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    if !path.exists() {
        let skipped = std::fs::read_to_string(venv().join("skipped.txt")).unwrap_or_default();
        panic!(
            "{} is missing from the interop venv {} (packages setup.sh could not install: {}); \
             remove the venv and run {} to see why",
            name,
            venv().display(),
            skipped.trim(),
            setup_script().display()
        );
    }
    path
}

/// A file shipped inside an installed Python package, e.g.
/// (`stix2validator`, `schemas-2.1/examples/threat-reports/apt1.json`).
pub fn package_file(package: &str, relative: &str) -> PathBuf {
    let out = python(&[
        "-c",
        &format!("import {package}, os; print(os.path.dirname({package}.__file__))"),
    ]);
    assert!(
        out.status.success(),
        "python cannot import {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = Path::new(String::from_utf8_lossy(&out.stdout).trim()).join(relative);
    assert!(path.is_file(), "{} is not in {package}", path.display());
    path
}

/// Runs the venv's Python.
pub fn python(args: &[&str]) -> Output {
    Command::new(tool("python"))
        .args(args)
        .output()
        .expect("the venv's python runs")
}

/// What stix2-validator said of a file.
#[derive(Debug)]
pub struct Validation {
    pub valid: bool,
    /// The validator's report, for failure messages.
    pub report: String,
}

impl Validation {
    /// The `[X]` and `[!]` lines (errors, and warnings in lax mode), with the
    /// file-specific object ids kept: what a test compares.
    pub fn findings(&self) -> Vec<String> {
        self.report
            .lines()
            .map(str::trim)
            .filter(|l| {
                l.starts_with("[X] ") && !l.starts_with("[X] STIX JSON") || l.starts_with("[!] ")
            })
            .map(|l| l[4..].to_string())
            .collect()
    }
}

/// OASIS stix2-validator on `file` as STIX 2.1; `strict` treats every
/// best-practice warning as an error.
pub fn stix2_validate(file: &Path, strict: bool) -> Validation {
    let mut cmd = Command::new(tool("stix2_validator"));
    cmd.args(["--version", "2.1"]);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.arg(file).output().expect("stix2_validator runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Validation {
        valid: out.status.success(),
        report,
    }
}
