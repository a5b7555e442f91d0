//! A minimal JSON-over-HTTP/1.1 client for the CLI, tools and tests (one keep-alive connection).

use anyhow::{anyhow, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A JSON client bound to one node (`http://host:port`).
pub struct HttpClient {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    bearer: Option<String>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpClient({})", self.authority)
    }
}

impl HttpClient {
    /// `base`: `http://host:port` (a trailing slash is fine).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let rest = base
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("RPC URL must start with http:// (got {base:?})"))?;
        if rest.is_empty() || rest.contains('/') {
            return Err(anyhow!("RPC URL must be http://host:port (got {base:?})"));
        }
        Ok(HttpClient {
            authority: rest.to_string(),
            sender: None,
            bearer: None,
        })
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.authority)
    }

    /// Sends `Authorization: Bearer TOKEN` with every request.
    pub fn with_bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_string());
        self
    }

    async fn connect(&mut self) -> anyhow::Result<&mut SendRequest<Full<Bytes>>> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .with_context(|| {
                    format!("cannot connect to the node at http://{}", self.authority)
                })?;
            let _ = stream.set_nodelay(true);
            let (sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            self.sender = Some(sender);
        }
        self.sender.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// Sends a request; returns the status and the JSON body (`Value::String` if not JSON).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let authority = self.authority.clone();
        let bearer = self.bearer.clone();
        let sender = self.connect().await?;
        sender.ready().await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, authority);
        if let Some(t) = bearer {
            req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(hyper::header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let resp = sender.send_request(req.body(body)?).await?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Ok((status, value))
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<(u16, Value)> {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// GET that must answer 200.
    pub async fn get_ok(&mut self, path: &str) -> anyhow::Result<Value> {
        let (status, v) = self.get(path).await?;
        ok(status, v)
    }

    /// POST that must answer 200.
    pub async fn post_ok(&mut self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let (status, v) = self.post(path, body).await?;
        ok(status, v)
    }
}

/// Turns a non-200 answer into an error carrying the node's code and message.
fn ok(status: u16, v: Value) -> anyhow::Result<Value> {
    if status == 200 {
        return Ok(v);
    }
    let code = v
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    Err(anyhow!("node refused ({status} {code}): {message}"))
}
