//! A minimal JSON-over-HTTP/1.1 client for the CLI, tools and tests (one keep-alive connection).

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// Why a call to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("RPC URL must start with http:// (got {0:?})")]
    NotHttp(String),
    #[error("RPC URL must be http://host:port (got {0:?})")]
    BadUrl(String),
    #[error("cannot connect to the node at http://{authority}: {source}")]
    Connect {
        authority: String,
        source: std::io::Error,
    },
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    #[error("HTTP request: {0}")]
    Request(#[from] hyper::http::Error),
    /// The node answered with another status than 200 (`get_ok`, `post_ok`).
    #[error("node refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

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
    pub fn new(base: &str) -> Result<Self, HttpError> {
        let rest = base
            .trim_end_matches('/')
            .strip_prefix("http://")
            .ok_or_else(|| HttpError::NotHttp(base.to_string()))?;
        if rest.is_empty() || rest.contains('/') {
            return Err(HttpError::BadUrl(base.to_string()));
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

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, HttpError> {
        let sender = match self.sender.take() {
            Some(open) if !open.is_closed() => open,
            _ => {
                let stream = tokio::net::TcpStream::connect(&self.authority)
                    .await
                    .map_err(|source| HttpError::Connect {
                        authority: self.authority.clone(),
                        source,
                    })?;
                let _ = stream.set_nodelay(true);
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                sender
            }
        };
        Ok(self.sender.insert(sender))
    }

    /// Sends a request; returns the status and the JSON body (`Value::String` if not JSON).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), HttpError> {
        let (status, bytes) = self.request_bytes(method, path, body).await?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Ok((status, value))
    }

    /// GET that must answer 200, its body as bytes (for a caller that parses large answers into
    /// types of its own, without a `Value` in between).
    pub async fn get_ok_bytes(&mut self, path: &str) -> Result<Bytes, HttpError> {
        let (status, bytes) = self.request_bytes(Method::GET, path, None).await?;
        if status == 200 {
            return Ok(bytes);
        }
        let v = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        ok(status, v).map(|_| bytes)
    }

    /// Sends a request; returns the status and the body.
    async fn request_bytes(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Bytes), HttpError> {
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
        Ok((status, bytes))
    }

    pub async fn get(&mut self, path: &str) -> Result<(u16, Value), HttpError> {
        self.request(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: &Value) -> Result<(u16, Value), HttpError> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// GET that must answer 200.
    pub async fn get_ok(&mut self, path: &str) -> Result<Value, HttpError> {
        let (status, v) = self.get(path).await?;
        ok(status, v)
    }

    /// POST that must answer 200.
    pub async fn post_ok(&mut self, path: &str, body: &Value) -> Result<Value, HttpError> {
        let (status, v) = self.post(path, body).await?;
        ok(status, v)
    }
}

/// Turns a non-200 answer into an error carrying the node's code and message.
fn ok(status: u16, v: Value) -> Result<Value, HttpError> {
    if status == 200 {
        return Ok(v);
    }
    let code = v
        .pointer("/error/code")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_string();
    let message = v
        .pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    Err(HttpError::Refused {
        status,
        code,
        message,
    })
}
