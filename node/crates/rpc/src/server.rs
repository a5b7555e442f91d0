//! The accept loop: one hyper HTTP/1.1 connection per socket (with upgrades, for websockets),
//! serving the `tower` stack built in [`stack`]. Shutdown stops accepting, lets in-flight requests
//! finish (bounded), and waits for websocket sessions to close.

use crate::config::RpcConfig;
use crate::context::RpcContext;
use crate::context::RpcExtension;
use crate::handler::RpcService;
use crate::layers::{
    AdminGuardLayer, AdminPolicy, BodyLimitLayer, ConnectionLimiter, JsonErrorLayer, ObserveLayer,
    RateLimitLayer, RateLimiter,
};
use crate::response::Resp;
use aitbc_client::{Admission, Client};
use aitbc_primitives::StateMachine;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::ServiceBuilder;

/// How long shutdown waits for in-flight requests and websocket sessions.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The longest a client may take to send a request's headers (or stay idle between requests).
const MAX_HEADER_READ: Duration = Duration::from_secs(10);

/// A running server.
#[derive(Debug)]
pub struct RpcHandle {
    pub local_addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// The per-connection parts of the stack that do not change between connections.
struct Shared<S: StateMachine> {
    ctx: Arc<RpcContext<S>>,
    limiter: Option<Arc<RateLimiter>>,
    admin: Arc<AdminPolicy>,
    permits: Arc<Semaphore>,
}

/// The service stack for one connection from `peer` (see the module docs of [`super`]).
fn stack<S: StateMachine>(
    shared: &Shared<S>,
    peer: SocketAddr,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Resp,
    Error = Infallible,
    Future = impl Send + 'static,
> + Clone
       + Send
       + 'static {
    let config = &shared.ctx.config;
    ServiceBuilder::new()
        .layer(ObserveLayer::new(
            shared.ctx.clone(),
            peer,
            config.access_log,
        ))
        .layer(RateLimitLayer::new(shared.limiter.clone()))
        .layer(BodyLimitLayer::new(config.max_body))
        .layer(AdminGuardLayer::new(shared.admin.clone()))
        .layer(JsonErrorLayer)
        .timeout(config.timeout)
        .load_shed()
        .layer(GlobalConcurrencyLimitLayer::with_semaphore(
            shared.permits.clone(),
        ))
        .service(RpcService::new(shared.ctx.clone()))
}

/// Binds and serves until `shutdown` turns true.
pub async fn serve<S: StateMachine>(
    client: Arc<Client<S>>,
    config: RpcConfig,
    network: Option<aitbc_network::NetworkHandle>,
    extension: Arc<dyn RpcExtension<S>>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<RpcHandle> {
    let listener = TcpListener::bind(config.addr).await?;
    let local_addr = listener.local_addr()?;
    let admin = Arc::new(AdminPolicy::new(&config, local_addr));
    if config.admin_token.is_some() && !admin.allowed() {
        tracing::warn!(
            target: "rpc",
            addr = %local_addr,
            "admin routes refused: the RPC binds a non-loopback address (pass --rpc-admin-external to serve them)"
        );
    }
    let limiter = (config.rate_limit > 0).then(|| {
        Arc::new(RateLimiter::new(
            config.rate_limit,
            config.rate_limit_loopback,
        ))
    });
    let header_timeout = config.timeout.min(MAX_HEADER_READ);
    let per_ip = ConnectionLimiter::new(config.max_connections_per_ip);
    let shared = Shared {
        permits: Arc::new(Semaphore::new(
            config.max_concurrent.clamp(1, Semaphore::MAX_PERMITS),
        )),
        ctx: Arc::new(RpcContext::new(
            client.clone(),
            Admission::start(
                client,
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )?,
            config,
            network,
            extension,
            shutdown.clone(),
        )),
        limiter,
        admin,
    };
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let (stream, peer) = tokio::select! {
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(target: "rpc", error = %e, "accept failed");
                        // E.g. out of file descriptors: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = shutdown.changed() => break,
            };
            let Some(place) = per_ip.try_acquire(peer.ip()) else {
                tracing::debug!(target: "rpc", %peer, "connection refused: too many from this IP");
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let svc = TowerToHyperService::new(stack(&shared, peer));
            let mut stop = shutdown.clone();
            // Reap finished connections so the set does not grow.
            while connections.try_join_next().is_some() {}
            connections.spawn(async move {
                let _place = place;
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), svc)
                    .with_upgrades();
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
        drop(listener);
        // Let in-flight requests finish (bounded), so the client is released on shutdown.
        let drain = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
            connections.abort_all();
        }
        // Websocket sessions watch the same signal; each holds a permit until it has ended.
        let ws_permits = shared.ctx.ws_permits.clone();
        let all = u32::try_from(
            shared
                .ctx
                .config
                .ws_max_connections
                .min(Semaphore::MAX_PERMITS),
        )
        .unwrap_or(u32::MAX);
        if tokio::time::timeout(SHUTDOWN_GRACE, ws_permits.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!(target: "rpc", "websocket sessions did not close in time");
        }
        drop(shared);
    });
    Ok(RpcHandle { local_addr, task })
}
