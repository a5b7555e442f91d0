//! REST routing from one table: [`ROUTES`] (the core routes, for any state machine) followed by
//! the chain extension's routes ([`crate::extension`]). A [`Router`] holds both; the outermost
//! layer matches each request once and tags it with its route, which metrics and logs name and
//! the handler dispatches on. Handlers call [`crate::methods`] (shared with JSON-RPC).

use crate::context::RpcContext;
use crate::error::ApiError;
use crate::extension::{Answer, Args};
use crate::jsonrpc;
use crate::layers::RequestInfo;
use crate::methods;
use crate::p2p;
use crate::response::{
    bytes_response, error_response, json_response, too_large, LimitedRequest, Resp,
};
use crate::ws;
use aitbc_primitives::StateMachine;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use serde_json::Value;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// An HTTP method the RPC serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
}

impl Verb {
    /// Lowercase, as OpenAPI writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
        }
    }

    pub fn of(method: &hyper::Method) -> Option<Verb> {
        match *method {
            hyper::Method::GET => Some(Verb::Get),
            hyper::Method::POST => Some(Verb::Post),
            _ => None,
        }
    }
}

/// What a route does: a core handler, or one of the chain extension's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    Head,
    Block,
    BlockEvents,
    Tx,
    Balance,
    Health,
    Metrics,
    Peers,
    Equivocations,
    Websocket,
    JsonRpc,
    SendTx,
    EstimateFee,
    PeersAdd,
    /// Answered by the chain's [`crate::extension::RpcExtension`] (a POST route gets its JSON
    /// body).
    Chain,
}

/// One route: method, path template (OpenAPI syntax, `{param}` matches one non-empty segment),
/// the name used in metrics and logs, and whether it is an admin route.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: Verb,
    pub path: &'static str,
    pub name: &'static str,
    pub admin: bool,
    pub handler: Handler,
}

pub const fn route(method: Verb, path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method,
        path,
        name,
        admin: false,
        handler: h,
    }
}

pub const fn admin_route(path: &'static str, name: &'static str, h: Handler) -> RouteSpec {
    RouteSpec {
        method: Verb::Post,
        path,
        name,
        admin: true,
        handler: h,
    }
}

use Verb::{Get, Post};

/// The core routes: the same for every state machine.
pub static ROUTES: &[RouteSpec] = &[
    route(Get, "/rpc/getHead", "getHead", Handler::Head),
    route(
        Get,
        "/rpc/getBlock/{heightOrHash}",
        "getBlock",
        Handler::Block,
    ),
    route(
        Get,
        "/rpc/getBlockEvents/{heightOrHash}",
        "getBlockEvents",
        Handler::BlockEvents,
    ),
    route(Get, "/rpc/getTx/{txHash}", "getTx", Handler::Tx),
    route(
        Get,
        "/rpc/getBalance/{address}",
        "getBalance",
        Handler::Balance,
    ),
    route(Get, "/health", "health", Handler::Health),
    route(Get, "/metrics", "metrics", Handler::Metrics),
    route(Get, "/rpc/metrics", "metrics", Handler::Metrics),
    route(Get, "/p2p/peers", "peers", Handler::Peers),
    route(
        Get,
        "/rpc/getEquivocations",
        "getEquivocations",
        Handler::Equivocations,
    ),
    route(Get, "/rpc/ws", "websocket", Handler::Websocket),
    route(Post, "/rpc", "jsonrpc", Handler::JsonRpc),
    route(Post, "/rpc/sendTx", "sendTx", Handler::SendTx),
    route(
        Post,
        "/rpc/estimateFee",
        "estimateFee",
        Handler::EstimateFee,
    ),
    admin_route("/admin/peers/add", "peersAdd", Handler::PeersAdd),
];

/// The routes a server answers: the core table, then the chain's.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<&'static RouteSpec>,
}

impl Router {
    /// The core routes followed by `chain`'s.
    pub fn new(chain: &'static [RouteSpec]) -> Self {
        Router {
            routes: ROUTES.iter().chain(chain).collect(),
        }
    }

    /// Every route, in matching order.
    pub fn routes(&self) -> impl Iterator<Item = &'static RouteSpec> + '_ {
        self.routes.iter().copied()
    }

    /// Routes a method and path; `Err` is 404 `unknown_route` or 405 `method_not_allowed`.
    pub fn resolve(
        &self,
        method: &hyper::Method,
        path: &str,
    ) -> Result<&'static RouteSpec, ApiError> {
        let path = normalize(path);
        let verb = Verb::of(method);
        let mut path_known = false;
        for r in self.routes() {
            if matches(r.path, path) {
                if Some(r.method) == verb {
                    return Ok(r);
                }
                path_known = true;
            }
        }
        Err(if path_known {
            ApiError::new(
                405,
                "method_not_allowed",
                format!("{method} is not allowed on {path}"),
            )
        } else {
            ApiError::new(404, "unknown_route", format!("no route {path}"))
        })
    }
}

/// Does `path` match the template `pattern`?
fn matches(pattern: &str, path: &str) -> bool {
    let (mut p, mut s) = (pattern.split('/'), path.split('/'));
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a.starts_with('{') => {
                if b.is_empty() {
                    return false;
                }
            }
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The values of `pattern`'s `{params}` in `path` (which matches it), in order.
pub fn params<'a>(pattern: &str, path: &'a str) -> [&'a str; 2] {
    let mut out = [""; 2];
    let found = pattern
        .split('/')
        .zip(normalize(path).split('/'))
        .filter(|(p, _)| p.starts_with('{'))
        .map(|(_, v)| v);
    for (slot, v) in out.iter_mut().zip(found) {
        *slot = v;
    }
    out
}

/// A path without its trailing slashes (`/` stays `/`).
fn normalize(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/"
    } else {
        trimmed
    }
}

/// The innermost service: answers a routed request.
pub(crate) struct RpcService<S: StateMachine> {
    ctx: Arc<RpcContext<S>>,
}

impl<S: StateMachine> Clone for RpcService<S> {
    fn clone(&self) -> Self {
        RpcService {
            ctx: self.ctx.clone(),
        }
    }
}

impl<S: StateMachine> RpcService<S> {
    pub fn new(ctx: Arc<RpcContext<S>>) -> Self {
        RpcService { ctx }
    }
}

impl<S: StateMachine> tower::Service<LimitedRequest> for RpcService<S> {
    type Response = Resp;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Resp, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: LimitedRequest) -> Self::Future {
        let ctx = self.ctx.clone();
        Box::pin(async move { Ok(handle(&ctx, req).await) })
    }
}

fn answer(r: Result<Value, ApiError>) -> Resp {
    match r {
        Ok(v) => json_response(200, &v),
        Err(e) => error_response(&e),
    }
}

async fn handle<S: StateMachine>(ctx: &Arc<RpcContext<S>>, req: LimitedRequest) -> Resp {
    // The outermost layer matched the route, once.
    let route = match req
        .extensions()
        .get::<RequestInfo>()
        .map(|i| i.route.clone())
    {
        Some(Ok(r)) => r,
        Some(Err(e)) => return error_response(&e),
        None => return error_response(&ApiError::internal("request reached the router unrouted")),
    };
    let c = &*ctx.client;
    let [a, _] = params(route.path, req.uri().path());
    match route.handler {
        Handler::Head => answer(methods::get_head(c)),
        // A block's JSON can be large: built off the async workers.
        Handler::Block => {
            let (ctx, id) = (ctx.clone(), a.to_string());
            answer(blocking(move || methods::get_block(&ctx.client, &id)).await)
        }
        // Every outcome of a block: as large as the block, built off the async workers.
        Handler::BlockEvents => {
            let (ctx, id) = (ctx.clone(), a.to_string());
            answer(blocking(move || methods::get_block_events(&ctx.client, &id)).await)
        }
        Handler::Tx => answer(methods::get_tx(c, a)),
        Handler::Balance => answer(methods::get_balance(c, a)),
        Handler::Health => answer(methods::health(
            c,
            &ctx.config.chain_name,
            ctx.network.as_ref(),
        )),
        Handler::Peers => answer(p2p::peers(ctx.network.as_ref())),
        Handler::Equivocations => answer(p2p::equivocations(c)),
        Handler::Metrics => bytes_response(
            200,
            "text/plain; version=0.0.4",
            Bytes::from(c.metrics().render()),
        ),
        Handler::Websocket => ws::upgrade(ctx, req),
        Handler::JsonRpc => {
            let bytes = match read_body(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            // A batch may hold many calls: run it off the async workers.
            let ctx = ctx.clone();
            match blocking(move || Ok(jsonrpc::handle(&ctx, &bytes))).await {
                Ok(Some(v)) => json_response(200, &v),
                Ok(None) => {
                    let mut resp = bytes_response(200, "application/json", Bytes::new());
                    *resp.status_mut() = hyper::StatusCode::NO_CONTENT;
                    resp
                }
                Err(e) => error_response(&e),
            }
        }
        Handler::SendTx | Handler::EstimateFee | Handler::PeersAdd => {
            let bytes = match read_body(req, ctx.config.max_body).await {
                Ok(b) => b,
                Err(e) => return error_response(&e),
            };
            answer(json_body_route(ctx, route, &bytes).await)
        }
        Handler::Chain => {
            let path = req.uri().path().to_string();
            let body = match route.method {
                Verb::Post => match read_body(req, ctx.config.max_body).await {
                    Ok(b) => Some(b),
                    Err(e) => return error_response(&e),
                },
                Verb::Get => None,
            };
            match body {
                Some(bytes) => answer(json_body_route(ctx, route, &bytes).await),
                None => {
                    let ctx = ctx.clone();
                    let answered = blocking(move || {
                        let params = params(route.path, &path);
                        let args = Args { params, body: None };
                        ctx.extension.call(&ctx, route, args)
                    });
                    answer(settle(answered.await).await)
                }
            }
        }
    }
}

/// Answers a route that takes a JSON body once its body is read: `bytes` must be JSON (else
/// 400 `invalid_json`), then the route's method runs.
pub(crate) async fn json_body_route<S: StateMachine>(
    ctx: &Arc<RpcContext<S>>,
    route: &'static RouteSpec,
    bytes: &[u8],
) -> Result<Value, ApiError> {
    let body = parse_json(bytes)?;
    let c = &*ctx.client;
    match route.handler {
        Handler::SendTx => methods::tx_answer(methods::queue_tx(&ctx.admission, &body)?.await),
        Handler::EstimateFee => methods::estimate_fee(c, &body),
        Handler::PeersAdd => p2p::add_peer(ctx.network.as_ref(), &body).await,
        Handler::Chain => {
            let ctx = ctx.clone();
            let answered = blocking(move || {
                let args = Args {
                    params: ["", ""],
                    body: Some(&body),
                };
                ctx.extension.call(&ctx, route, args)
            });
            settle(answered.await).await
        }
        other => Err(ApiError::internal(format!(
            "{other:?} is not a JSON body route"
        ))),
    }
}

/// A handler's answer, once a queued transaction's admission decided.
async fn settle(answer: Result<Answer, ApiError>) -> Result<Value, ApiError> {
    match answer? {
        Answer::Value(v) => Ok(v),
        Answer::Queued(rx) => methods::tx_answer(rx.await),
    }
}

/// Runs `f` on the blocking pool, so heavy work does not stall the async workers (which also
/// drive slot timers and other connections).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(format!("request task failed: {e}"))))
}

/// Reads a body of at most `max` bytes (the body limit layer wrapped it): more is 413.
async fn read_body(req: LimitedRequest, max: usize) -> Result<Bytes, ApiError> {
    req.into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                too_large(max)
            } else {
                ApiError::bad_request("body_read_error", e.to_string())
            }
        })
}

/// A request body as JSON: 400 `invalid_json` when it is not.
fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("invalid_json", format!("malformed JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::Method;

    static CHAIN: &[RouteSpec] = &[
        route(Get, "/rpc/getJob/{client}/{id}", "getJob", Handler::Chain),
        route(Get, "/rpc/getHead", "shadowed", Handler::Chain),
    ];

    #[test]
    fn table_routes_and_params() {
        let router = Router::new(CHAIN);
        let resolve = |m: &Method, p: &str| router.resolve(m, p);
        let r = resolve(&Method::GET, "/rpc/getJob/ait1xyz/7").unwrap();
        assert_eq!(r.name, "getJob");
        assert_eq!(params(r.path, "/rpc/getJob/ait1xyz/7/"), ["ait1xyz", "7"]);
        // A chain route never shadows a core one.
        assert_eq!(
            resolve(&Method::GET, "/rpc/getHead/").unwrap().name,
            "getHead"
        );
        assert_eq!(resolve(&Method::POST, "/rpc").unwrap().name, "jsonrpc");
        assert_eq!(
            resolve(&Method::GET, "/rpc/getBlock/").unwrap_err().status,
            404
        );
        assert_eq!(
            resolve(&Method::GET, "/rpc/sendTx").unwrap_err().status,
            405
        );
        assert_eq!(resolve(&Method::DELETE, "/health").unwrap_err().status, 405);
        assert_eq!(resolve(&Method::GET, "/nope").unwrap_err().status, 404);
        assert_eq!(resolve(&Method::GET, "/").unwrap_err().status, 404);
        assert!(resolve(&Method::POST, "/admin/peers/add").unwrap().admin);
        assert_eq!(
            Router::new(&[])
                .resolve(&Method::GET, "/rpc/getJob/a/1")
                .unwrap_err()
                .status,
            404
        );
    }

    #[test]
    fn routes_are_unique() {
        for (i, a) in ROUTES.iter().enumerate() {
            for b in &ROUTES[i + 1..] {
                assert!(
                    (a.method, a.path) != (b.method, b.path),
                    "duplicate {}",
                    a.path
                );
            }
        }
    }
}
