//! The hyper server loop and the per-request pipeline: route, admin auth, body limit, timeout,
//! concurrency limit, handler, metrics.

use super::admin;
use super::error::ApiError;
use super::routes::{self, Route};
use crate::client::Client;
use aitbc_primitives::{Pair, StateMachine};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How long shutdown waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// RPC settings (CLI flags).
#[derive(Debug, Clone)]
pub struct RpcConfig {
    pub addr: SocketAddr,
    pub max_body: usize,
    pub timeout: Duration,
    pub max_concurrent: usize,
    pub admin_token: Option<String>,
    pub chain_name: String,
}

pub(super) struct RpcContext<S: StateMachine> {
    pub client: Arc<Client<S>>,
    pub config: RpcConfig,
    pub sudo: Option<Pair>,
    permits: Semaphore,
}

/// A running server.
#[derive(Debug)]
pub struct RpcHandle {
    pub local_addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds and serves until `shutdown` turns true.
pub async fn serve<S: StateMachine>(
    client: Arc<Client<S>>,
    config: RpcConfig,
    sudo: Option<Pair>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<RpcHandle> {
    let listener = TcpListener::bind(config.addr).await?;
    let local_addr = listener.local_addr()?;
    let permits = Semaphore::new(config.max_concurrent);
    let ctx = Arc::new(RpcContext {
        client,
        config,
        sudo,
        permits,
    });
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(target: "rpc", error = %e, "accept failed");
                        continue;
                    }
                },
                _ = shutdown.changed() => break,
            };
            let _ = stream.set_nodelay(true);
            let ctx = ctx.clone();
            let mut stop = shutdown.clone();
            // Reap finished connections so the set does not grow.
            while connections.try_join_next().is_some() {}
            connections.spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let ctx = ctx.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(ctx, req, peer).await) }
                });
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), svc);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => {}
                    _ = stop.changed() => {
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                    }
                }
            });
        }
        // Let in-flight requests finish (bounded), so the client is released on shutdown.
        let drain = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
            connections.abort_all();
        }
    });
    Ok(RpcHandle { local_addr, task })
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    json_response(e.status, &e.body())
}

async fn handle<S: StateMachine>(
    ctx: Arc<RpcContext<S>>,
    req: Request<Incoming>,
    _peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let path = req.uri().path().to_string();
    let (name, resp) = match routes::route(req.method(), &path) {
        Err(e) => ("unknown", error_response(&e)),
        Ok(route) => {
            let name = routes::name(&route);
            let resp = match ctx.permits.try_acquire() {
                Err(_) => error_response(&ApiError::new(
                    503,
                    "overloaded",
                    "too many concurrent requests",
                )),
                Ok(_permit) => {
                    match tokio::time::timeout(ctx.config.timeout, dispatch(&ctx, route, req)).await
                    {
                        Ok(r) => r,
                        Err(_) => {
                            error_response(&ApiError::new(408, "timeout", "request timed out"))
                        }
                    }
                }
            };
            (name, resp)
        }
    };
    let status = resp.status().as_u16();
    ctx.client
        .metrics()
        .rpc_request(name, status, started.elapsed());
    tracing::trace!(target: "rpc", route = name, status, "request");
    resp
}

async fn dispatch<S: StateMachine>(
    ctx: &RpcContext<S>,
    route: Route<'_>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    match route {
        Route::Metrics => {
            let mut resp = Response::new(Full::new(Bytes::from(ctx.client.metrics().render())));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            resp
        }
        Route::Get(r) => match routes::get(ctx, &r) {
            Ok(v) => json_response(200, &v),
            Err(e) => error_response(&e),
        },
        Route::Post(r) => {
            if r.is_admin() {
                let auth = req
                    .headers()
                    .get(hyper::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok());
                if let Err(e) = admin::authorize(auth, ctx.config.admin_token.as_deref()) {
                    return error_response(&e);
                }
            }
            let body = match read_json(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            match routes::post(ctx, r, &body) {
                Ok(v) => json_response(200, &v),
                Err(e) => error_response(&e),
            }
        }
    }
}

/// Reads a JSON body of at most `max` bytes: a declared or actual larger body is 413 without
/// reading it all.
async fn read_json(req: Request<Incoming>, max: usize) -> Result<serde_json::Value, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            "body_too_large",
            format!("request body exceeds {max} bytes"),
        )
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let bytes = Limited::new(req.into_body(), max)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large()
            } else {
                ApiError::bad_request("body_read_error", e.to_string())
            }
        })?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("malformed JSON: {e}")))
}
