//! medallion 3.0.0, the OASIS reference TAXII 2.1 server, with its memory
//! backend: the baseline of `cairn-bench taxii`. It runs from the interop
//! venv once `tests/interop/setup.sh --bench` has installed it
//! (`tests/interop/bench-requirements.txt`); [`find`] says how when it is
//! missing. It listens on 127.0.0.1 only.

use super::http::Server;
use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The collection the baseline serves (any UUID; fixed so runs compare).
pub const COLLECTION: &str = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
/// Largest page medallion returns (its `taxii.max_page_size`), the same as
/// Cairn's.
pub const MAX_PAGE: usize = 1000;
const USER: &str = "bench";
const PASSWORD: &str = "bench-password";
/// Longest wait for medallion to answer its discovery URL.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// The interop venv's `medallion` program, or why there is none.
pub fn find() -> Result<PathBuf, String> {
    let venv = match std::env::var_os("CAIRN_INTEROP_VENV") {
        Some(v) => PathBuf::from(v),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from("/tmp/.cache"));
            cache.join("cairn/interop-venv")
        }
    };
    let program = venv.join("bin/medallion");
    if program.is_file() {
        Ok(program)
    } else {
        Err(format!(
            "medallion is not installed in {} (the baseline is skipped): run \
             `tests/interop/setup.sh --bench` to install medallion 3.0.0 there",
            venv.display()
        ))
    }
}

/// A running medallion and its server description.
pub struct Medallion {
    child: Child,
    pub server: Server,
}

impl Drop for Medallion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program` in `dir` holding `objects` (added at `date_added`), and
/// waits until it answers.
pub async fn start(
    program: &Path,
    dir: &Path,
    objects: &[serde_json::Value],
    date_added: &str,
) -> anyhow::Result<Medallion> {
    // medallion takes a port, not a listener: ask the kernel for a free one.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let manifest: Vec<serde_json::Value> = objects
        .iter()
        .map(|o| {
            serde_json::json!({
                "id": o["id"],
                "date_added": date_added,
                "version": o.get("modified").or_else(|| o.get("created")).cloned()
                    .unwrap_or_else(|| date_added.into()),
                "media_type": "application/stix+json;version=2.1",
            })
        })
        .collect();
    let data = serde_json::json!({
        "/discovery": {
            "title": "cairn-bench baseline",
            "default": format!("{base}/api1/"),
            "api_roots": [format!("{base}/api1/")],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 104_857_600,
            },
            "status": [],
            "collections": [{
                "id": COLLECTION,
                "title": "bench",
                "can_read": true,
                "can_write": true,
                "media_types": ["application/stix+json;version=2.1"],
                "objects": objects,
                "manifest": manifest,
            }],
        },
    });
    let data_file = dir.join("medallion-data.json");
    std::fs::write(&data_file, serde_json::to_vec(&data)?)?;
    let config = serde_json::json!({
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": data_file,
        },
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": MAX_PAGE},
    });
    let config_file = dir.join("medallion.json");
    std::fs::write(&config_file, serde_json::to_vec(&config)?)?;
    let log = std::fs::File::create(dir.join("medallion.log"))?;
    let child = Command::new(program)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg(&config_file)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let addr = format!("127.0.0.1:{port}").parse()?;
    let mut server = Server::new(addr, "/api1/", USER, PASSWORD);
    server.collection = COLLECTION.to_string();
    let mut m = Medallion { child, server };
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if m.server.get("/taxii2/").await.is_ok() {
            return Ok(m);
        }
        if let Some(status) = m.child.try_wait()? {
            bail!(
                "medallion exited ({status}) before answering; see {}",
                dir.join("medallion.log").display()
            );
        }
        if Instant::now() > deadline {
            bail!(
                "medallion did not answer within {} s",
                START_DEADLINE.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
