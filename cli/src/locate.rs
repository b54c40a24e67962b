//! Which node `cairn` talks to: the control socket, found from what the
//! operator gave, in this order (the first that is set wins):
//!
//! 1. `--socket PATH`, then `--data-dir DIR` (its `cairnd.sock`), then
//!    `--config FILE` (the socket that node's `cairn.toml` names), on the
//!    command line;
//! 2. the same from the environment: `CAIRN_SOCKET`, `CAIRN_DATA_DIR`,
//!    `CAIRN_CONFIG`;
//! 3. `/etc/cairn/cairn.toml`, the packaged node's config, if it exists;
//! 4. `/var/lib/cairn/cairnd.sock`.
//!
//! What the command line says beats the environment, so a variable left in
//! a shell profile never overrides a flag typed now. A config names the
//! socket as `cairnd` finds it: `control_socket`, else
//! `<data_dir>/cairnd.sock`, relative paths taken from the file's directory.

use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// The config a packaged node runs from (`deploy/cairnd.service`).
pub const DEFAULT_CONFIG: &str = "/etc/cairn/cairn.toml";
/// The data directory a packaged node uses.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/cairn";

/// The precedence, for `--help`.
pub const HELP: &str = "\
Finding the node (the first that is set wins):
  1. --socket, --data-dir, --config on the command line, in this order
  2. CAIRN_SOCKET, CAIRN_DATA_DIR, CAIRN_CONFIG in the environment, in this order
  3. /etc/cairn/cairn.toml, if it exists
  4. /var/lib/cairn/cairnd.sock
A config names its node's socket as cairnd reads it: control_socket, or
data_dir/cairnd.sock.";

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
}

/// What the operator gave for each way of naming the node.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub socket: Option<(PathBuf, Source)>,
    pub data_dir: Option<(PathBuf, Source)>,
    pub config: Option<(PathBuf, Source)>,
}

/// The control socket, and how it was found (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub socket: PathBuf,
    pub origin: String,
}

impl Given {
    /// The socket by the precedence above; `default_config` and
    /// `default_data_dir` are steps 3 and 4 (parameters for tests).
    pub fn locate(&self, default_config: &Path, default_data_dir: &Path) -> Result<Located> {
        for source in [Source::Flag, Source::Env] {
            let pick = |v: &Option<(PathBuf, Source)>| {
                v.as_ref()
                    .filter(|(_, s)| *s == source)
                    .map(|(p, _)| p.clone())
            };
            let (socket_name, dir_name, config_name) = match source {
                Source::Flag => ("--socket", "--data-dir", "--config"),
                Source::Env => ("CAIRN_SOCKET", "CAIRN_DATA_DIR", "CAIRN_CONFIG"),
            };
            if let Some(socket) = pick(&self.socket) {
                return Ok(Located {
                    socket,
                    origin: format!("given by {socket_name}"),
                });
            }
            if let Some(dir) = pick(&self.data_dir) {
                return Ok(Located {
                    socket: dir.join("cairnd.sock"),
                    origin: format!("in the data directory given by {dir_name}"),
                });
            }
            if let Some(config) = pick(&self.config) {
                return from_config(&config, &format!("given by {config_name}"));
            }
        }
        match std::fs::metadata(default_config) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Located {
                socket: default_data_dir.join("cairnd.sock"),
                origin: format!(
                    "the default; no {} exists, and no --config, --data-dir or --socket was given",
                    default_config.display()
                ),
            }),
            _ => from_config(default_config, "the default config"),
        }
    }
}

/// The socket the config at `path` names. `how` says why this config was
/// read, so an error can say which file was meant and what is missing.
pub fn from_config(path: &Path, how: &str) -> Result<Located> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::PermissionDenied => {
                ": run cairn as the user cairnd runs as, or pass --socket"
            }
            _ => "",
        };
        anyhow!("cannot read config {shown} ({how}): {e}{hint}")
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', " ");
        match line {
            Some(n) => anyhow!("config {shown} ({how}) is invalid: line {n}: {message}"),
            None => anyhow!("config {shown} ({how}) is invalid: {message}"),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let path_of = |key: &str| -> Result<Option<PathBuf>> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(base.join(s))),
            Some(_) => Err(anyhow!(
                "config {shown} ({how}): {key} must be a path in quotes"
            )),
        }
    };
    if let Some(socket) = path_of("control_socket")? {
        return Ok(Located {
            socket,
            origin: format!("control_socket in {shown} ({how})"),
        });
    }
    match path_of("data_dir")? {
        Some(dir) => Ok(Located {
            socket: dir.join("cairnd.sock"),
            origin: format!("in data_dir of {shown} ({how})"),
        }),
        None => Err(anyhow!(
            "config {shown} ({how}) sets neither data_dir nor control_socket: cannot tell where its node's control socket is"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(
        socket: Option<Source>,
        data_dir: Option<Source>,
        config: Option<(&Path, Source)>,
    ) -> Given {
        Given {
            socket: socket.map(|s| ("/s/cairnd.sock".into(), s)),
            data_dir: data_dir.map(|s| ("/d".into(), s)),
            config: config.map(|(p, s)| (p.into(), s)),
        }
    }

    #[test]
    fn flags_beat_the_environment_and_socket_beats_data_dir_beats_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cairn.toml");
        std::fs::write(&config, "data_dir = \"data\"\nkey_file = \"k\"\n").unwrap();
        let none = dir.path().join("absent.toml");
        let locate = |g: Given| g.locate(&none, Path::new("/var/lib/cairn")).unwrap().socket;
        let in_config = dir.path().join("data/cairnd.sock");
        use Source::{Env, Flag};
        assert_eq!(
            locate(given(Some(Flag), Some(Flag), Some((&config, Flag)))),
            PathBuf::from("/s/cairnd.sock")
        );
        assert_eq!(
            locate(given(None, Some(Flag), Some((&config, Flag)))),
            PathBuf::from("/d/cairnd.sock")
        );
        assert_eq!(locate(given(None, None, Some((&config, Flag)))), in_config);
        // A variable left in the environment never beats a flag.
        assert_eq!(
            locate(given(Some(Env), Some(Env), Some((&config, Flag)))),
            in_config
        );
        assert_eq!(
            locate(given(None, Some(Env), Some((&config, Env)))),
            PathBuf::from("/d/cairnd.sock")
        );
        assert_eq!(locate(given(None, None, Some((&config, Env)))), in_config);
        assert_eq!(
            locate(Given::default()),
            PathBuf::from("/var/lib/cairn/cairnd.sock")
        );
        // The default config, where it exists, comes before the default dir.
        let found = Given::default()
            .locate(&config, Path::new("/var/lib/cairn"))
            .unwrap();
        assert_eq!(found.socket, in_config);
        assert!(found.origin.contains("the default config"), "{found:?}");
    }

    #[test]
    fn a_config_names_its_socket_as_cairnd_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cairn.toml");
        std::fs::write(
            &config,
            "data_dir = \"/srv/cairn\"\ncontrol_socket = \"run/c.sock\"\n[limits]\nban_secs = 1\n",
        )
        .unwrap();
        let l = from_config(&config, "given by --config").unwrap();
        assert_eq!(l.socket, dir.path().join("run/c.sock"));
        std::fs::write(&config, "data_dir = \"/srv/cairn\"\n").unwrap();
        let l = from_config(&config, "given by --config").unwrap();
        assert_eq!(l.socket, PathBuf::from("/srv/cairn/cairnd.sock"));
        assert!(l.origin.contains(&config.display().to_string()), "{l:?}");
    }

    #[test]
    fn errors_say_which_config_was_read_and_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cairn.toml");
        let shown = config.display().to_string();
        let err = from_config(&config, "given by CAIRN_CONFIG")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "cannot read config {shown} (given by CAIRN_CONFIG): "
            )),
            "{err}"
        );
        std::fs::write(&config, "key_file = \"k\"\n").unwrap();
        let err = from_config(&config, "given by --config")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&shown) && err.contains("sets neither data_dir nor control_socket"),
            "{err}"
        );
        std::fs::write(&config, "key_file = \"k\"\ndata_dir = [\n").unwrap();
        let err = from_config(&config, "given by --config")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is invalid: line "), "{err}");
        assert!(
            !err.ends_with(": "),
            "the parser's message comes through: {err}"
        );
        std::fs::write(&config, "data_dir = 7\n").unwrap();
        let err = from_config(&config, "given by --config")
            .unwrap_err()
            .to_string();
        assert!(err.contains("data_dir must be a path"), "{err}");
    }
}
