//! The TAXII client side of `cairn-bench taxii`: one HTTP/1.1 request per
//! connection (medallion's server closes every connection; Cairn is asked
//! the same way so both pay the same connection cost), over hyper's client.

use anyhow::{bail, Context as _};
use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{HeaderMap, Method, Request};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;

/// The TAXII 2.1 media type, sent as Accept and Content-Type.
pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";

/// A TAXII server: its address, API root path and credentials.
#[derive(Clone, Debug)]
pub struct Server {
    pub addr: SocketAddr,
    /// `/cairn/`, `/api1/`, …
    pub api_root: String,
    authorization: String,
    /// Filled in by [`Server::find_collection`].
    pub collection: String,
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("the TAXII answer is not JSON")
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

impl Server {
    pub fn new(addr: SocketAddr, api_root: &str, user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        Server {
            addr,
            api_root: api_root.to_string(),
            authorization: format!("Basic {token}"),
            collection: String::new(),
        }
    }

    /// One request; the body, if any, is sent as a TAXII envelope.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Answer> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        stream.set_nodelay(true)?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.addr.to_string())
            .header(ACCEPT, MEDIA_TYPE)
            .header(AUTHORIZATION, &self.authorization);
        if body.is_some() {
            request = request.header(CONTENT_TYPE, MEDIA_TYPE);
        }
        let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        driver.abort();
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// GET `path`, which must answer 200.
    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        let a = self.request(Method::GET, path, None).await?;
        if a.status != 200 {
            bail!(
                "GET {path} answered {}: {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            );
        }
        Ok(a)
    }

    /// The first collection of the API root, remembered for later calls.
    pub async fn find_collection(&mut self) -> anyhow::Result<()> {
        let path = format!("{}collections/", self.api_root);
        let v = self.get(&path).await?.json()?;
        self.collection = v["collections"][0]["id"]
            .as_str()
            .with_context(|| format!("GET {path} lists no collection: {v}"))?
            .to_string();
        Ok(())
    }

    /// The objects path of the collection, with `query` appended.
    pub fn objects_path(&self, query: &str) -> String {
        let path = format!("{}collections/{}/objects/", self.api_root, self.collection);
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    }

    /// POSTs `objects` as one envelope; the answer must be 202 with no
    /// failure.
    pub async fn post(&self, objects: &[serde_json::Value]) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&serde_json::json!({ "objects": objects }))?;
        let a = self
            .request(Method::POST, &self.objects_path(""), Some(body))
            .await?;
        let status = a.json().unwrap_or_default();
        if a.status != 202 || status["failure_count"].as_u64().unwrap_or(0) > 0 {
            bail!(
                "POST of {} objects answered {}: {}",
                objects.len(),
                a.status,
                String::from_utf8_lossy(&a.body)
            );
        }
        Ok(())
    }

    /// Every object of the collection, page by page (`limit` each), and
    /// the `date_added` of the last one.
    pub async fn pull_all(
        &self,
        limit: usize,
    ) -> anyhow::Result<(Vec<serde_json::Value>, Option<String>)> {
        let mut objects = Vec::new();
        let mut last_added = None;
        let mut next: Option<String> = None;
        loop {
            let query = match &next {
                Some(n) => format!("limit={limit}&next={n}"),
                None => format!("limit={limit}"),
            };
            let a = self.get(&self.objects_path(&query)).await?;
            if let Some(l) = a.header("x-taxii-date-added-last") {
                last_added = Some(l);
            }
            let mut v = a.json()?;
            if let Some(list) = v["objects"].as_array_mut() {
                objects.append(list);
            }
            next = match (v["more"].as_bool(), v["next"].as_str()) {
                (Some(true), Some(n)) => Some(n.to_string()),
                (Some(true), None) => bail!("a page says more but gives no next"),
                _ => return Ok((objects, last_added)),
            };
        }
    }
}
