//! # aitbc-rpc
//!
//! The RPC server over any state machine: the core REST routes, JSON-RPC 2.0 at `POST /rpc`,
//! websocket subscriptions at `GET /rpc/ws`, Prometheus metrics and the admin guard; a chain
//! adds its own routes and methods through an [`RpcExtension`] (AITBC's, with the OpenAPI
//! document of every route, are in `aitbc-runtime-rpc`).
//!
//! # Pipeline
//! Connections first: one client IP (IPv6 per /64) holds at most `--rpc-max-connections-per-ip`
//! open TCP connections (256; loopback too; 0 = off); one more is closed at accept, unread.
//! Every request then passes one `tower` stack (outermost first; [`layers`], one file each):
//!
//! 1. **observe**: matches the route (once) in the [`routes::Router`], records
//!    `substrate_rpc_requests_total{method,status}` and the latency histogram, logs (`rpc` target;
//!    one `rpc::access` line per request with `--rpc-access-log`);
//! 2. **rate limit**: a token bucket per client IP (IPv6 per /64), `--rpc-rate-limit` requests per
//!    second with a burst of one second's worth; 429 `rate_limited` with `Retry-After`. Off by
//!    default, and loopback clients are exempt unless `--rpc-rate-limit-loopback`;
//! 3. **body limit**: a declared `Content-Length` above `--rpc-max-body` is 413 `body_too_large` at
//!    once, before any of the body is read; a chunked body is cut off at the cap (413 too);
//! 4. **admin guard**: `/admin/*` needs `Authorization: Bearer TOKEN` (constant-time compare; 401),
//!    is 401 `admin_disabled` when the node has no token, and 403 `admin_not_allowed` when the RPC binds a
//!    non-loopback address unless `--rpc-admin-external`;
//! 5. **timeout**: `--rpc-timeout` for the whole request including reading its body: 408
//!    `timeout` and the connection is closed (a client trickling a byte a second is cut off).
//!    Headers must arrive within the same time (at most 10 s), which also closes idle keep-alive
//!    connections;
//! 6. **concurrency**: at most `--rpc-max-concurrent` requests in flight; more get 503 `overloaded`
//!    at once (load shedding, no queue);
//! 7. the handler (`handler.rs`: [`methods`], [`jsonrpc`], [`ws`], or the chain's
//!    [`RpcExtension`]).
//!
//! Errors are `{"error":{"code":"snake_case","message":"…"}}` ([`error::ApiError`], built into
//! responses by [`response`]) with the HTTP status the route documents. [`context::RpcContext`]
//! is what every handler shares. [`http_client`] (the `aitbc-http-client` crate, re-exported)
//! is the small client the CLI and the mock coordinator use to call a node.

pub mod config;
pub mod context;
pub mod error;
mod handler;
pub use aitbc_http_client as http_client;
pub mod jsonrpc;
mod layers;
pub mod methods;
pub mod p2p;
pub mod proofs;
pub mod response;
pub mod routes;
mod server;
pub mod ws;

pub use config::{defaults, RpcConfig};
pub use context::{Answer, Args, NoExtension, RpcContext, RpcExtension};
pub use server::{serve, RpcHandle};

/// The request handlers without the HTTP server around them, for the node's fuzz harness: the
/// `POST /rpc` body and the bodies of the JSON routes, answered against a client with the
/// default configuration and no network.
#[cfg(feature = "fuzzing")]
pub struct Detached<S: aitbc_primitives::StateMachine> {
    ctx: std::sync::Arc<RpcContext<S>>,
    /// Runs the routes' async handlers.
    runtime: tokio::runtime::Runtime,
}

#[cfg(feature = "fuzzing")]
impl<S: aitbc_primitives::StateMachine> Detached<S> {
    /// With one admission worker, serving `extension`'s routes beside the core ones.
    pub fn new(
        client: std::sync::Arc<aitbc_client::Client<S>>,
        extension: std::sync::Arc<dyn RpcExtension<S>>,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        let admission = aitbc_client::Admission::start(client.clone(), 1)?;
        let ctx = RpcContext::new(
            client,
            admission,
            RpcConfig::default(),
            None,
            extension,
            tokio::sync::watch::channel(false).1,
        );
        Ok(Detached {
            ctx: std::sync::Arc::new(ctx),
            runtime,
        })
    }

    /// The answer to a `POST /rpc` body (`None`: 204, nothing to answer).
    pub fn jsonrpc(&self, body: &[u8]) -> Option<serde_json::Value> {
        jsonrpc::handle(&self.ctx, body)
    }

    /// The answer of every POST route that takes a JSON body (submit, fee estimate, the
    /// chain's) to `body`, with the route's name.
    pub fn json_routes(
        &self,
        body: &[u8],
    ) -> Vec<(&'static str, Result<serde_json::Value, error::ApiError>)> {
        use routes::{Handler, Verb};
        self.ctx
            .router
            .routes()
            .filter(|r| {
                r.method == Verb::Post
                    && matches!(
                        r.handler,
                        Handler::SendTx
                            | Handler::EstimateFee
                            | Handler::ReadProof
                            | Handler::Chain
                    )
            })
            .map(|r| {
                let answer = handler::json_body_route(&self.ctx, r, body);
                (r.name, self.runtime.block_on(answer))
            })
            .collect()
    }
}
