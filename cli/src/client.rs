//! The client end of the node's control socket: one JSON request line out,
//! JSON response lines back, with errors an operator can act on.

use anyhow::{anyhow, bail, Context, Result};
use cairn_protocol::control::{ControlRequest, ControlResponse};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a one-shot request may take before the node is deemed stuck.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the local node listens.
pub struct Client {
    socket: PathBuf,
    /// How the socket was found (`--config`, the default, ...), for errors.
    origin: Option<String>,
}

impl Client {
    /// A client of `socket` (tests; `cairn` itself uses [`Client::located`]).
    #[cfg(test)]
    pub fn new(socket: PathBuf) -> Self {
        Client {
            socket,
            origin: None,
        }
    }

    /// A client of the socket found as `origin` says (see `locate`).
    pub fn located(socket: PathBuf, origin: String) -> Self {
        Client {
            socket,
            origin: Some(origin),
        }
    }

    /// Sends `request` and returns the node's one answer. A
    /// [`ControlResponse::Error`] becomes an error carrying its message.
    pub fn request(&self, request: &ControlRequest) -> Result<ControlResponse> {
        let mut lines = self.open(request, Some(TIMEOUT))?;
        match lines.next_response()? {
            Some(response) => Ok(response),
            None => bail!(
                "cairnd at {} closed the connection without answering: see its log",
                self.socket.display()
            ),
        }
    }

    /// Sends `request` and hands every answer to `each` until the node
    /// closes the stream (an error: a watch is meant to last) or `each` fails.
    pub fn stream(
        &self,
        request: &ControlRequest,
        mut each: impl FnMut(ControlResponse) -> Result<()>,
    ) -> Result<()> {
        let mut lines = self.open(request, None)?;
        while let Some(response) = lines.next_response()? {
            each(response)?;
        }
        bail!(
            "cairnd at {} ended the stream: it may have stopped",
            self.socket.display()
        )
    }

    /// Sends `request` and hands every answer to `each` until `each` says it
    /// has seen the last one (returns false); the node ending the stream
    /// before that is an error.
    pub fn stream_until(
        &self,
        request: &ControlRequest,
        mut each: impl FnMut(ControlResponse) -> Result<bool>,
    ) -> Result<()> {
        let mut lines = self.open(request, None)?;
        while let Some(response) = lines.next_response()? {
            if !each(response)? {
                return Ok(());
            }
        }
        bail!(
            "cairnd at {} ended the stream early: it may have stopped",
            self.socket.display()
        )
    }

    fn open(&self, request: &ControlRequest, timeout: Option<Duration>) -> Result<Lines<'_>> {
        let mut stream = UnixStream::connect(&self.socket)
            .map_err(|e| connect_error(&self.socket, e, self.origin.as_deref()))?;
        stream.set_read_timeout(timeout)?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        let mut line = serde_json::to_string(request).context("cannot encode the request")?;
        line.push('\n');
        // Rebuilt as a plain message: a broken pipe here means the node died
        // mid-request, not that our stdout was closed (see failure::report).
        stream
            .write_all(line.as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| {
                anyhow!(
                    "cannot send the request to {}: {e} (did cairnd stop?)",
                    self.socket.display()
                )
            })?;
        Ok(Lines {
            socket: &self.socket,
            reader: BufReader::new(stream),
        })
    }
}

/// Response lines from one connection.
struct Lines<'a> {
    socket: &'a Path,
    reader: BufReader<UnixStream>,
}

impl Lines<'_> {
    /// The next response, or `None` once the node has closed the connection.
    fn next_response(&mut self) -> Result<Option<ControlResponse>> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => anyhow!(
                "cairnd at {} did not answer within {} s: it may be overloaded or stuck, see its log",
                self.socket.display(),
                TIMEOUT.as_secs()
            ),
            _ => anyhow!("cannot read the answer from {}: {e}", self.socket.display()),
        })?;
        if n == 0 {
            return Ok(None);
        }
        let response: ControlResponse = serde_json::from_str(line.trim_end()).map_err(|e| {
            anyhow!(
                "cairnd at {} sent an answer this cairn does not understand ({e}): are cairn and cairnd the same version?",
                self.socket.display()
            )
        })?;
        match response {
            ControlResponse::Error { message } => Err(anyhow!(message)),
            other => Ok(Some(other)),
        }
    }
}

/// Why the socket could not be reached, with what to do about it, and how
/// the socket was found when that is known.
fn connect_error(socket: &Path, e: std::io::Error, origin: Option<&str>) -> anyhow::Error {
    let at = match origin {
        Some(how) => format!("{} ({how})", socket.display()),
        None => socket.display().to_string(),
    };
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::ConnectionRefused => anyhow!(
            "no cairnd is listening on {at}: start it with 'cairnd run --config ...', or name the node with --config, --data-dir or --socket"
        ),
        ErrorKind::PermissionDenied => anyhow!(
            "permission denied on {at}: the socket belongs to another user; run cairn as the user cairnd runs as"
        ),
        _ => anyhow!("cannot connect to cairnd at {at}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A node that reads one request and answers with `lines`.
    fn fake_node(
        dir: &Path,
        lines: &'static [&'static str],
    ) -> (PathBuf, std::thread::JoinHandle<String>) {
        let path = dir.join("cairnd.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut stream = reader.into_inner();
            for l in lines {
                writeln!(stream, "{l}").unwrap();
            }
            request
        });
        (path, handle)
    }

    #[test]
    fn a_missing_socket_says_how_to_start_the_node() {
        let dir = tempfile::tempdir().unwrap();
        let err = Client::new(dir.path().join("none.sock"))
            .request(&ControlRequest::Status)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("no cairnd is listening on "), "{err}");
        assert!(err.contains("cairnd run --config"), "{err}");
    }

    #[test]
    fn a_foreign_socket_is_named_as_such() {
        let e = std::io::Error::from(ErrorKind::PermissionDenied);
        let msg = connect_error(Path::new("/run/cairn/cairnd.sock"), e, None).to_string();
        assert!(msg.contains("/run/cairn/cairnd.sock"), "{msg}");
        assert!(msg.contains("belongs to another user"), "{msg}");
        let e = std::io::Error::from(ErrorKind::NotFound);
        let how = "in data_dir of /etc/cairn/cairn.toml (the default config)";
        let msg = connect_error(Path::new("/var/lib/cairn/cairnd.sock"), e, Some(how)).to_string();
        assert!(
            msg.starts_with(&format!(
                "no cairnd is listening on /var/lib/cairn/cairnd.sock ({how}): "
            )),
            "{msg}"
        );
    }

    #[test]
    fn requests_are_one_json_line_and_errors_carry_the_message() {
        let dir = tempfile::tempdir().unwrap();
        let (path, node) = fake_node(
            dir.path(),
            &[r#"{"result":"error","message":"no such item"}"#],
        );
        let err = Client::new(path)
            .request(&ControlRequest::Members)
            .unwrap_err();
        assert_eq!(err.to_string(), "no such item");
        assert_eq!(node.join().unwrap(), "{\"op\":\"members\"}\n");
    }

    #[test]
    fn streams_deliver_every_line_then_report_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _node) = fake_node(
            dir.path(),
            &[
                r#"{"result":"register","entries":[]}"#,
                r#"{"result":"register","entries":[]}"#,
            ],
        );
        let mut seen = 0;
        let err = Client::new(path)
            .stream(&ControlRequest::RegisterWatch, |_| {
                seen += 1;
                Ok(())
            })
            .unwrap_err();
        assert_eq!(seen, 2);
        assert!(err.to_string().contains("ended the stream"), "{err}");
    }

    #[test]
    fn garbage_answers_point_at_a_version_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _node) = fake_node(dir.path(), &["{\"result\":\"teapot\"}"]);
        let err = Client::new(path)
            .request(&ControlRequest::Status)
            .unwrap_err();
        assert!(err.to_string().contains("same version"), "{err}");
    }
}
